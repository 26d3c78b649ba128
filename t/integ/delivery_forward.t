#!/usr/bin/env python3
# Per-user forwarding: the users-file keys through adminctl into
# users.cdb; keep a copy or not; remote targets queued as one new message
# for the remote agent (and the queue told); local targets delivered in
# the same job; forwarding_blacklist and the domain's
# forwarding_exclusions; loops between users and messages that come back.
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
from tern import wait_for              # noqa: E402
import cdb                             # noqa: E402
import dtest                           # noqa: E402
import smtp                            # noqa: E402

d = dtest.DInst(domains={
    "example.com": {
        "conf": {"forwarding_exclusions": "medium"},
        "users": [
            "alice *",
            "fk *",
            "fn * forward=friend@remote.test forward_keep=no",
            "fb * forward=x@blocked.test forward_keep=no",
            "fbk * forward=x@blocked.test,ok@remote.test",
            "fl * forward=alice@example.com forward_keep=no",
            "ma * forward=mb@example.com",
            "mb * forward=ma@example.com",
            "la * forward=lb@example.com forward_keep=no",
            "lb * forward=la@example.com forward_keep=no",
        ],
    },
}, conf={"forwarding_blacklist": "blocked.test"})


def count(addr):
    return len(d.new(addr))


def forward_of(res):
    return [m for m in d.queued("forward") if m.id == res[0][1]][0]


with d.inst:
    # --- adminctl: the keys, checked and compiled ------------------------------
    rc, out, err = d.inst.adminctl(
        "user", "set", "fk@example.com",
        "forward=friend@remote.test, Other@Far.Test", "--no-reload")
    is_(rc, 0, "adminctl user set forward=... " + err.strip())
    d.rebuild()
    rec = cdb.CDB(d.path("state", "maps", "users.cdb")).get(
        b"fk@example.com").decode()
    ok("forward=friend@remote.test,Other@far.test\nforward_keep=1\n" in rec,
       "users.cdb: targets normalised, forward_keep=1 by default")
    rec = cdb.CDB(d.path("state", "maps", "users.cdb")).get(
        b"fn@example.com").decode()
    ok("forward_keep=0" in rec, "forward_keep=no compiles to 0")
    rec = cdb.CDB(d.path("state", "maps", "users.cdb")).get(
        b"alice@example.com").decode()
    ok("forward" not in rec and "autoreply" not in rec,
       "a user without them has no such lines")
    for bad, why in (("forward=not an address", "forward"),
                     ("forward=a@b.test,,c@d.test", None),
                     ("forward_keep=perhaps", "forward_keep"),
                     ("forward=" + ",".join("u%d@x.test" % i
                                            for i in range(21)), "20")):
        rc, out, err = d.inst.adminctl("user", "set", "alice@example.com",
                                       bad, "--no-reload")
        if why is None:
            is_(rc, 0, "'%s': empty items are skipped" % bad[:30])
        else:
            ok(rc != 0 and why in err, "'%s' refused: %s" % (bad[:30],
                                                             err.strip()))
    d.inst.adminctl("user", "set", "alice@example.com", "forward=",
                    "--no-reload")
    d.rebuild()

    d.start()
    fq = smtp.FakeQueue(d.inst)

    # --- keep a copy, and forward -----------------------------------------------
    p = d.message("s@remote.test", ["fk@example.com"], subject="fwd me")
    res = d.send(p)
    is_(res[0][0], "ok", "forwarding user with keep: ok")
    is_(count("fk@example.com"), 1, "a local copy kept")
    m = forward_of(res)
    is_(sorted(r["addr"] for r in m.rcpts),
        ["Other@far.test", "friend@remote.test"],
        "one queued message for both remote targets")
    is_(m.sender, "s@remote.test", "the original envelope sender")
    is_(m.params.get("kind"), "forward", "param kind=forward")
    is_(dtest.header(m.body.replace(b"\r\n", b"\n"), "Delivered-To"),
        ["fk@example.com"], "Delivered-To of the forwarding user on top")
    ok(b"Subject: fwd me\r\n" in m.body, "the original text, CRLF")
    wait_for(lambda: any(f.get("id") == m.id for f in fq.frames),
             what="the queue to be told")
    ok(True, "the queue got a 'new' frame for it")

    # --- no copy -------------------------------------------------------------------
    p = d.message("s@remote.test", ["fn@example.com"])
    res = d.send(p)
    is_(res[0][0], "ok", "forward_keep = no: ok")
    ok("delivered to 0 mailboxes, forwarded to 1" in res[0][2], res[0][2])
    is_(count("fn@example.com"), 0, "no local copy")
    is_([r["addr"] for r in forward_of(res).rcpts], ["friend@remote.test"],
        "forwarded")

    # --- blacklist ---------------------------------------------------------------
    p = d.message("s@remote.test", ["fb@example.com"])
    res = d.send(p)
    is_(res, [("ok", None, "2.0.0 delivered")],
        "every target blacklisted and no copy wanted: kept here instead")
    is_(count("fb@example.com"), 1, "the local copy")
    ok("<x@blocked.test>: not forwarded: forwarding_blacklist" in d.log(),
       "the dropped target is logged")
    p = d.message("s@remote.test", ["fbk@example.com"])
    res = d.send(p)
    is_([r["addr"] for r in forward_of(res).rcpts], ["ok@remote.test"],
        "a blacklisted target is left out, the others go")

    # --- a local target ------------------------------------------------------------
    p = d.message("s@remote.test", ["fl@example.com"])
    res = d.send(p)
    is_(res, [("ok", None, "2.0.0 delivered")],
        "forward to a local user: delivered in the same job")
    is_((count("fl@example.com"), count("alice@example.com")), (0, 1),
        "alice has it, fl (no copy) does not")
    is_(len(d.queued("forward")), 3, "nothing queued for a local target")

    # --- loops --------------------------------------------------------------------------
    p = d.message("s@remote.test", ["ma@example.com"])
    res = d.send(p)
    is_(res[0][0], "ok", "two users forwarding to each other, keeping copies")
    is_((count("ma@example.com"), count("mb@example.com")), (1, 1),
        "one copy each, and no bounce")
    is_(res[0][1], None, "nothing queued")
    p = d.message("s@remote.test", ["la@example.com"])
    res = d.send(p)
    is_(res[0][0], "fail", "two users forwarding to each other, no copies")
    ok(res[0][2].startswith("5.4.6"), "a loop: " + res[0][2])
    is_((count("la@example.com"), count("lb@example.com")), (0, 0),
        "nothing delivered")
    # The forwarded copy of fk coming back from outside:
    q = d.path("in", m.id)
    os.rename(m.path, q)
    head, body = open(q, "rb").read().split(b"\n\n", 1)
    lines = [ln for ln in head.split(b"\n") if not ln.startswith(b"rcpt ")]
    lines.insert(4, b"rcpt fk@example.com")
    open(q, "wb").write(b"\n".join(lines) + b"\n\n" + body)
    res = d.send(q)
    is_(res, [("fail", None, "5.4.6 mail loop: already delivered to "
               "fk@example.com")], "a forward that comes back is a loop")
    is_(count("fk@example.com"), 1, "and no second copy")

    # --- forwarding_exclusions -------------------------------------------------------
    p = d.message("s@remote.test", ["fn@example.com"],
                  headers=["X-Spam-Level: high"])
    res = d.send(p)
    is_(res, [("ok", None, "2.0.0 delivered")],
        "spam at the exclusion level: not forwarded, kept here")
    is_(count("fn@example.com"), 1, "the local copy")
    p = d.message("s@remote.test", ["fn@example.com"],
                  headers=["X-Spam-Level: low"])
    res = d.send(p)
    ok(res[0][1] is not None and count("fn@example.com") == 1,
       "below the level: forwarded as usual")
    fq.stop()
done()
