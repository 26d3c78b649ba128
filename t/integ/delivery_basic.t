#!/usr/bin/env python3
# The local delivery agent, fed jobs by djobsend (no queue): the mailbox
# made on first delivery with the right modes, Return-Path and
# Delivered-To on top, LF line ends, S= and W=; domain aliases, case,
# folder_path, postmaster routing, unknown and disabled recipients, an
# unreadable message, a malformed frame, SIGHUP and a prompt stop.
import os
import pwd
import signal
import stat
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done, diag    # noqa: E402
from tern import wait_for              # noqa: E402
import dtest                           # noqa: E402
import ipc                             # noqa: E402

d = dtest.DInst(domains={
    "example.com": {
        "conf": {"domain_admin": "boss", "domain_aliases": "example.net"},
        "users": ["alice *", "Bob *", "boss *", "off * disabled=yes"],
    },
    "folder.test": {
        "conf": {"folder_path": "{dir}/elsewhere/folder.test"},
        "users": ["carol *"],
    },
    "dark.test": {"conf": {"disabled": "yes"}, "users": ["dave *"]},
}, conf={"postmaster": "boss@example.com"})
d.owned_dir("elsewhere")

with d.inst:
    d.start()
    mail_uid = os.stat(d.path("mail")).st_uid

    # --- first delivery makes the mailbox ---------------------------------
    ok(not os.path.exists(d.mailbox("alice@example.com")),
       "no mailbox before the first delivery")
    body = "Line one.\r\nLine two.\r\n"
    p = d.message("sender@remote.test", ["alice@example.com"],
                  subject="first", body=body)
    is_(d.send(p), [("ok", None, "2.0.0 delivered")], "delivered: ok")
    mb = d.mailbox("alice@example.com")
    for sub in ("", "cur", "new", "tmp"):
        st = os.stat(os.path.join(mb, sub))
        is_(stat.S_IMODE(st.st_mode), 0o700,
            "mailbox %s is mode 0700" % (sub or "itself"))
    ok(os.stat(mb).st_uid == mail_uid, "owned by the mail user")
    files = d.new("alice@example.com")
    is_(len(files), 1, "one message in new/")
    f = os.path.join(mb, "new", files[0])
    is_(stat.S_IMODE(os.stat(f).st_mode), 0o600, "the file is mode 0600")
    is_(os.listdir(os.path.join(mb, "tmp")), [], "nothing left in tmp/")
    data = d.read("alice@example.com")[0]
    lines = data.split(b"\n")
    is_(lines[0], b"Return-Path: <sender@remote.test>", "Return-Path first")
    is_(lines[1], b"Delivered-To: alice@example.com", "Delivered-To second")
    ok(lines[2].startswith(b"Received: from client.test"),
       "then the message as queued")
    ok(b"\r" not in data, "LF line ends in the maildir")
    ok(data.endswith(b"\n\nLine one.\nLine two.\n"), "body intact")
    size = int(files[0].split(",S=")[1].split(",")[0])
    w = int(files[0].split(",W=")[1])
    is_(size, len(data), "S= is the file size")
    is_(w, len(data) + data.count(b"\n"), "W= counts CRLF line ends")
    ok(os.path.exists(os.path.join(mb, "maildirsize")),
       "maildirsize kept from the first delivery")

    # --- null sender, case, domain alias ------------------------------------
    p = d.message("", ["BOB@Example.NET"])
    is_(d.send(p)[0][0], "ok", "bounce-style null sender to a domain alias")
    data = d.read("bob@example.com")[0]
    is_(dtest.header(data, "Return-Path"), ["<>"], "Return-Path: <>")
    is_(dtest.header(data, "Delivered-To"), ["bob@example.com"],
        "Delivered-To names the user in the primary domain, lower case")
    ok(os.path.isdir(d.mailbox("bob@example.com")),
       "mailbox directory is the local part in lower case")

    # --- folder_path ------------------------------------------------------------
    p = d.message("s@remote.test", ["carol@folder.test"])
    is_(d.send(p)[0][0], "ok", "user of a domain with folder_path")
    is_(len(d.new("carol@folder.test",
                  domain_dir=d.path("elsewhere", "folder.test"))), 1,
        "delivered under folder_path")
    ok(not os.path.exists(d.path("mail", "folder.test")),
       "nothing under mail_dir for it")

    # --- postmaster -----------------------------------------------------------
    p = d.message("s@remote.test", ["Postmaster@example.com"])
    is_(d.send(p)[0][0], "ok", "postmaster@ a domain with a domain_admin")
    is_(len(d.new("boss@example.com")), 1, "went to the domain_admin")
    p = d.message("s@remote.test", ["postmaster@folder.test"])
    is_(d.send(p)[0][0], "ok", "postmaster@ a domain without one")
    is_(len(d.new("boss@example.com")), 2,
        "went to the system postmaster (tern.conf postmaster)")
    p = d.message("s@remote.test", ["postmaster"])
    is_(d.send(p)[0][0], "ok", "bare <postmaster>")
    is_(len(d.new("boss@example.com")), 3, "to the system postmaster too")

    # --- unknown, disabled ------------------------------------------------------
    p = d.message("s@remote.test", ["nobody@example.com", "off@example.com",
                                    "dave@dark.test", "alice@example.com"])
    res = d.send(p)
    is_(res[0], ("fail", None, "5.1.1 user unknown"), "unknown user: 5.1.1")
    is_(res[1], ("fail", None, "5.2.1 mailbox disabled"),
        "disabled user: 5.2.1 (delivery_disabled = bounce)")
    is_(res[2][0:2], ("fail", None), "user of a disabled domain: fail")
    ok(res[2][2].startswith("5.2.1"), "with 5.2.1: " + res[2][2])
    is_(res[3][0], "ok", "the other recipient of the job is delivered")
    ok(not os.path.exists(d.mailbox("off@example.com")),
       "no mailbox made for the disabled user")
    log = d.log()
    ok("to=<nobody@example.com> status=fail (5.1.1 user unknown)" in log,
       "one normal line per recipient outcome")
    qid = os.path.basename(p)
    ok(all(ln.split("] ", 1)[1].split(": ", 2)[1].startswith(qid)
           for ln in log.splitlines() if qid in ln),
       "every line about the message starts with its queue id")

    p = d.message("s@remote.test", ["someone@elsewhere.test"])
    is_(d.send(p), [("defer", None, "4.3.5 elsewhere.test is not a local "
                     "domain here")],
        "a recipient in a domain that is not ours: deferred, not forwarded")

    # --- delivery_disabled = defer, after SIGHUP ------------------------------
    d.inst.conf["delivery_disabled"] = "defer"
    d.inst.write_conf()
    d.inst.signal(signal.SIGHUP)
    wait_for(lambda: d.log().count("delivery: reloaded") >= 2,
             what="workers to reload")
    p = d.message("s@remote.test", ["off@example.com", "dave@dark.test"])
    res = d.send(p)
    is_(res[0], ("defer", None, "4.2.1 mailbox disabled"),
        "disabled user with delivery_disabled = defer: 4.2.1")
    ok(res[1][0] == "defer" and res[1][2].startswith("4.2.1"),
       "disabled domain too: " + res[1][2])

    # --- a message that cannot be read -------------------------------------------
    p = d.message("s@remote.test", ["alice@example.com"])
    os.chmod(p, 0)
    if os.geteuid() != 0 or pwd.getpwnam(d.inst.conf["mail_user"]).pw_uid:
        res = d.send(p)
        is_(res, [("defer", None, "4.3.0 cannot read the message")],
            "unreadable spool file: every recipient deferred")
    os.unlink(p)

    # --- several mailboxes in one job: durable together (one batch) ---------
    three = ["alice@example.com", "bob@example.com", "boss@example.com"]
    for rc in (three, three[:2]):
        before = {a: len(d.new(a)) for a in rc}
        p = d.message("s@remote.test", rc, subject="batch %d" % len(rc))
        is_([r[0] for r in d.send(p)], ["ok"] * len(rc),
            "%d recipients in one job: all delivered" % len(rc))
        is_([len(d.new(a)) - before[a] for a in rc], [1] * len(rc),
            "one copy each (%d: %s)" % (len(rc), "syncfs" if len(rc) > 2
                                        else "fsync each"))
        os.unlink(p)
    # One copy that cannot be moved into its new/: the whole job is
    # deferred and no mailbox keeps a copy (a retry makes no duplicate).
    bob_new = os.path.join(d.mailbox("bob@example.com"), "new")
    before = {a: len(d.new(a)) for a in three}
    os.chmod(bob_new, 0o500)
    p = d.message("s@remote.test", three, subject="batch fails")
    got = d.send(p)
    os.chmod(bob_new, 0o700)
    if os.geteuid() == 0 and mail_uid == 0:
        diag("the agent runs as root: a read-only new/ does not stop it")
    else:
        is_([r[0] for r in got], ["defer"] * 3,
            "a copy that cannot be made durable defers every recipient")
        is_([len(d.new(a)) - before[a] for a in three], [0, 0, 0],
            "and no mailbox keeps a copy")
        is_([len(os.listdir(os.path.join(d.mailbox(a), "tmp")))
             for a in three], [0, 0, 0], "nothing left in tmp/ either")
        is_([r[0] for r in d.send(p)], ["ok"] * 3, "the retry delivers")
        is_([len(d.new(a)) - before[a] for a in three], [1, 1, 1],
            "once to each")
    os.unlink(p)

    # --- a malformed frame ----------------------------------------------------
    c = ipc.Conn(d.path("state", "delivery.sock"))
    c.send("deliver", [("id", "X"), ("path", "/nonexistent")])
    ok(c.closed_by_peer(), "a job without its fields closes the connection")
    c.close()
    ok("deliver frame lacks" in d.log(), "and is logged")
    c = ipc.Conn(d.path("state", "delivery.sock"))
    c.send("bogus", [])
    ok(c.closed_by_peer(), "an unknown frame closes the connection")
    c.close()
    c = ipc.Conn(d.path("state", "delivery.sock"))
    c.send("deliver", [("id", "ABC"), ("path", d.path("in", "missing")),
                       ("offset", "0"), ("sender", "a@b.test"),
                       ("attempt", "1"), ("nrcpt", "1"),
                       ("rcpt_0", "alice@example.com")])
    typ, f = c.recv()
    is_((typ, f.get(b"status_0".decode()), f.get("text_0")),
        ("result", b"defer", b"4.3.0 cannot read the message"),
        "a missing spool file: deferred, connection kept")

    # --- stop: an idle connection does not hold the drain -------------------
    rc = d.inst.stop(timeout=20)
    is_(rc, 0, "master stops cleanly with a connection still open")
    ok("drain timeout" not in d.log(), "delivery did not wait for it")
    c.close()
    diag("delivery.log has %d lines" % len(d.log().splitlines()))
done()
