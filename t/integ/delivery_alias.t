#!/usr/bin/env python3
# Every alias shape through the local delivery agent: one target, many,
# nested, remote, mixed, across domains and domain aliases; catch-all on
# and off; a nested target that fails is requeued alone; loops (a map
# with a cycle, a chain too deep, a message that came back) end in 5.4.6;
# a user reached twice in one job gets one copy.
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
from tern import wait_for              # noqa: E402
import cdb                             # noqa: E402
import cdbw                            # noqa: E402
import dtest                           # noqa: E402
import smtp                            # noqa: E402

chain = "".join("c%d: c%d\n" % (i, i + 1) for i in range(21)) + "c21: alice\n"
d = dtest.DInst(domains={
    "example.com": {
        "conf": {"domain_aliases": "example.net"},
        "users": ["alice *", "bob *", "off * disabled=yes"],
        "aliases": "one: alice\n"
                   "many: alice, bob\n"
                   "outer: inner\n"
                   "inner: alice, bob\n"
                   "ext: friend@remote.test\n"
                   "mixed: alice, friend@remote.test, Other@Far.test, inner\n"
                   "cross: carol@other.test\n"
                   "viadomainalias: bob@example.net\n"
                   "tooff: off\n"
                   "halfoff: alice, off\n" + chain,
    },
    "other.test": {
        "conf": {"enable_catchalls": "yes", "catchall": "carol"},
        "users": ["carol *"],
    },
})


def count(addr):
    return len(d.new(addr))


with d.inst:
    d.start()
    fq = smtp.FakeQueue(d.inst)

    # --- local shapes -------------------------------------------------------
    p = d.message("s@remote.test", ["one@example.com"])
    is_(d.send(p), [("ok", None, "2.0.0 delivered")], "single target")
    is_(count("alice@example.com"), 1, "alice has it")
    data = d.read("alice@example.com")[0]
    is_(dtest.header(data, "Delivered-To"), ["alice@example.com"],
        "Delivered-To is the final mailbox, not the alias")

    p = d.message("s@remote.test", ["many@example.com"])
    is_(d.send(p), [("ok", None, "2.0.0 delivered to 2 mailboxes")],
        "two targets")
    is_((count("alice@example.com"), count("bob@example.com")), (2, 1),
        "one copy each")

    p = d.message("s@remote.test", ["outer@example.com"])
    is_(d.send(p)[0][0], "ok", "nested alias")
    is_((count("alice@example.com"), count("bob@example.com")), (3, 2),
        "reached both users through two levels")

    p = d.message("s@remote.test", ["many@example.net"])
    is_(d.send(p)[0][0], "ok", "alias addressed in a domain alias")
    p = d.message("s@remote.test", ["viadomainalias@example.com"])
    is_(d.send(p)[0][0], "ok", "alias target in a domain alias")
    is_((count("alice@example.com"), count("bob@example.com")), (4, 4),
        "both delivered to the primary domain's users")

    p = d.message("s@remote.test", ["cross@example.com"])
    is_(d.send(p)[0][0], "ok", "alias to a user of another hosted domain")
    is_(count("carol@other.test"), 1, "carol has it")

    # --- one user twice in one job -------------------------------------------
    p = d.message("s@remote.test", ["many@example.com", "alice@example.com",
                                    "one@example.com"])
    res = d.send(p)
    ok(all(r[0] == "ok" for r in res), "three recipients all ok")
    is_((count("alice@example.com"), count("bob@example.com")), (5, 5),
        "alice got one copy though three recipients lead to her")

    # --- remote and mixed -------------------------------------------------------
    p = d.message("s@remote.test", [("ext@example.com", "FAILURE,DELAY",
                                     None)], subject="to ext")
    res = d.send(p)
    is_(res[0][0], "ok", "alias to a remote address: ok")
    ok(res[0][1] is not None, "with the queue id of the new message")
    fwd = d.queued("forward")
    is_(len(fwd), 1, "one message queued")
    m = fwd[0]
    is_(m.id, res[0][1], "queued_<i> names it")
    is_(m.sender, "s@remote.test", "envelope sender kept (no SRS)")
    is_([r["addr"] for r in m.rcpts], ["friend@remote.test"],
        "the remote target is its recipient")
    is_(m.rcpts[0].get("notify"), "FAILURE,DELAY", "NOTIFY carried over")
    is_(m.rcpts[0].get("orcpt"), "rfc822;ext@example.com",
        "ORCPT names the original recipient")
    is_(m.params.get("parent"), os.path.basename(p), "param parent")
    ok(m.body.startswith(b"Delivered-To: ext@example.com\r\nReceived: "),
       "Delivered-To of the alias on top of the original text")
    ok(b"Subject: to ext\r\n" in m.body, "the original message follows")
    wait_for(lambda: any(f.get("id") == m.id for f in fq.frames),
             what="a 'new' frame for the forward")
    ok(True, "the queue was told (a 'new' frame with its id)")

    p = d.message("s@remote.test", ["mixed@example.com"])
    res = d.send(p)
    is_(res[0][0], "ok", "mixed local, remote and nested")
    ok("delivered to 2 mailboxes, forwarded to 2" in res[0][2],
       "text: " + res[0][2])
    m = [x for x in d.queued("forward") if x.id == res[0][1]][0]
    is_(sorted(r["addr"] for r in m.rcpts),
        ["Other@far.test", "friend@remote.test"],
        "one new message for both remote targets")
    is_((count("alice@example.com"), count("bob@example.com")), (6, 6),
        "and the local ones delivered")

    # --- failures inside an alias --------------------------------------------------
    p = d.message("s@remote.test", ["tooff@example.com"])
    is_(d.send(p), [("fail", None, "5.2.1 mailbox disabled")],
        "alias whose only target is disabled: that failure")
    p = d.message("s@remote.test", ["halfoff@example.com"])
    res = d.send(p)
    is_(res[0][0], "ok", "alias with one good and one disabled target: ok")
    m = [x for x in d.queued("forward") if x.id == res[0][1]][0]
    is_([r["addr"] for r in m.rcpts], ["off@example.com"],
        "the disabled one is requeued alone (to bounce there)")
    is_(count("alice@example.com"), 7, "the good one delivered")

    # --- catch-all on and off ---------------------------------------------------
    p = d.message("s@remote.test", ["whoever@other.test"])
    is_(d.send(p)[0][0], "ok", "catch-all on: unknown local part accepted")
    is_(count("carol@other.test"), 2, "the catch-all got it")
    data = d.read("carol@other.test")[-1]
    is_(dtest.header(data, "Delivered-To"), ["carol@other.test"],
        "Delivered-To: the catch-all's mailbox")
    p = d.message("s@remote.test", ["whoever@example.com"])
    is_(d.send(p), [("fail", None, "5.1.1 user unknown")],
        "catch-all off: 5.1.1")

    # --- loops -------------------------------------------------------------------
    p = d.message("s@remote.test", ["c0@example.com"])
    res = d.send(p)
    is_(res[0][0], "fail", "a chain of 22 aliases: fail")
    ok(res[0][2].startswith("5.4.6") and "20 levels" in res[0][2],
       "5.4.6, too deep: " + res[0][2])

    p = d.message("s@remote.test", ["many@example.com"],
                  headers=["Delivered-To: many@example.com"])
    res = d.send(p)
    is_(res[0][0], "fail", "a message that was delivered here before")
    ok(res[0][2].startswith("5.4.6 mail loop"), "5.4.6 mail loop")

    # A cycle in the maps (rebuild refuses one; a map from elsewhere may
    # still have it): written into aliases.cdb behind adminctl's back.
    amap = d.path("state", "maps", "aliases.cdb")
    items = list(cdb.CDB(amap).items())
    items += [(b"loop1@example.com", b"loop2@example.com\n"),
              (b"loop2@example.com", b"alice@example.com\nloop1@example.com\n")]
    cdbw.write(amap, items)
    before = count("alice@example.com")
    p = d.message("s@remote.test", ["loop1@example.com"])
    res = d.send(p)
    is_(res[0][0], "ok", "an alias cycle with a user on the way")
    m = [x for x in d.queued("forward") if x.id == res[0][1]][0]
    is_([r["addr"] for r in m.rcpts], ["loop1@example.com"],
        "the address that closes the cycle is requeued, to bounce alone")
    is_(count("alice@example.com"), before + 1, "alice delivered once")
    ok(b"Delivered-To: loop2@example.com\r\n" in m.body and
       b"Delivered-To: loop1@example.com\r\n" in m.body,
       "the requeued copy carries the path it took")
    # ... and when that copy comes back to be delivered, it fails at once.
    q = d.path("in", m.id)
    os.rename(m.path, q)
    res = d.send(q)
    is_(res, [("fail", None, "5.4.6 mail loop: already delivered to "
               "loop1@example.com")], "the requeued copy fails as a loop")
    fq.stop()
done()
