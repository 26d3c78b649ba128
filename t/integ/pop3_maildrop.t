#!/usr/bin/env python3
# pop3d and the Maildir under it: one POP3 session per maildrop ([IN-USE]
# for a second, across workers), mail delivered during a session not
# shown until the next, a flag change by another reader (IMAP) in the
# middle of a session, a message expunged behind our back, kill -9
# between DELE and QUIT deleting nothing, UIDLs stable across a restart,
# sizes without W= (counted once, cached) and with CRLF on disk, a large
# message streamed intact, maildirsize kept up to date, and a mailbox of
# 100,000 messages listed in full.
import os
import signal
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, diag, done          # noqa: E402
from tern import wait_for, pid_alive          # noqa: E402
import pop3                                   # noqa: E402

inst = pop3.instance(workers=2)
with inst:
    inst.start()
    box = pop3.Maildir(inst, "alice@example.com")
    first = [box.add(pop3.message(i)) for i in range(1, 4)]

    # One session at a time, whichever worker or port serves it.
    a = pop3.login(inst)
    is_(a.stat()[0], 3, "first session: 3 messages")
    for svc in ("pop3", "pop3", "pop3s"):
        c = pop3.connect(inst, svc)
        c.user("alice@example.com")
        try:
            c.pass_(pop3.USERS["alice@example.com"])
            ok(False, "second session on %s refused" % svc)
        except Exception as e:
            ok(str(e).startswith("b'-ERR [IN-USE]"),
               "second session on %s: %s" % (svc, e))
        c.quit()
    b = pop3.login(inst, "bob@example.com")
    ok(b.stat() == (0, 0), "another user is not blocked")
    b.quit()

    # Delivered during the session: not listed now.
    late = box.add(pop3.message(4))
    is_(a.stat()[0], 3, "a message delivered meanwhile is not listed")
    ok(late in box.files("new"), "it stays in new/")

    # Another reader renames a file (IMAP sets a flag): still readable,
    # and DELE + QUIT removes it under its new name.
    cur = box.files("cur")
    os.rename(os.path.join(box.path, "cur", cur[0]),
              os.path.join(box.path, "cur", cur[0] + "F"))
    resp, lines, _ = a.retr(1)
    is_(b"\n".join(lines) + b"\n", pop3.message(1),
        "RETR of a file renamed meanwhile")
    # And one expunged behind our back.
    os.unlink(os.path.join(box.path, "cur", cur[2]))
    try:
        a.retr(3)
        ok(False, "RETR of a message expunged elsewhere")
    except Exception as e:
        ok("removed" in str(e), "RETR of a message expunged elsewhere: "
           "%s" % e)
    a.dele(1)
    a.dele(3)
    ok(a.quit().startswith(b"+OK"), "QUIT")
    left = box.all()
    is_(len(left), 2, "the renamed and the expunged one are gone: %r" %
        left)
    ok(any(f.startswith(cur[1]) for f in left), "message 2 kept")
    ok(any(f.startswith(late) for f in left), "the late one kept")
    ok(any(f.startswith(cur[0].split(":")[0]) for f in
           box.files("cur")) is False, "renamed file removed")

    # The next session shows the late message.
    a = pop3.login(inst)
    is_(a.stat()[0], 2, "next session: the late message is listed")
    uids = [ln.split()[1] for ln in a.uidl()[1]]
    a.quit()

    # kill -9 between DELE and QUIT: nothing deleted, lock gone.
    before = sorted(box.all())
    c = pop3.Raw(inst.port("pop3"))
    ok(c.login().startswith("+OK"), "logged in for the crash")
    is_(c.cmd("DELE 1")[:3], "+OK", "DELE 1")
    is_(c.cmd("DELE 2")[:3], "+OK", "DELE 2")
    pids = [int(p) for p in inst.status()["pop3"]["pids"].split(",") if p]
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    wait_for(lambda: not any(pid_alive(p) for p in pids),
             what="pop3d workers to die")
    ok(c.closed(), "connection gone with the process")
    wait_for(lambda: (lambda st: st["state"] == "running" and
                      all(int(p) not in pids for p in
                          st["pids"].split(",") if p))(
                              inst.status()["pop3"]),
             timeout=30, what="pop3d restarted")
    is_(sorted(box.all()), before, "nothing deleted by the crash")
    a = pop3.login(inst)
    is_(a.stat()[0], 2, "the lock died with the process")
    a.quit()

    # UIDLs survive a restart of the whole server.
    inst.stop()
    inst.start()
    a = pop3.login(inst, service="pop3s")
    is_([ln.split()[1] for ln in a.uidl()[1]], uids,
        "UIDLs stable across a restart")
    a.quit()

    # Sizes: no W= (counted, then cached), CRLF on disk, a long name.
    bob = pop3.Maildir(inst, "bob@example.com")
    plain = pop3.message(7, 20)
    crlf = pop3.message(8).replace(b"\n", b"\r\n")
    bob.add(plain, sub="cur", flags="", wsize=False)
    bob.add(crlf, sub="cur", flags="", wsize=False)
    longname = "1700001000.M1P1Q1." + "h" * 80 + ",S=%d" % len(plain)
    bob.add(plain, sub="cur", flags="", name=longname)
    b = pop3.login(inst, "bob@example.com")
    resp, lines, _ = b.list()
    is_([int(ln.split()[1]) for ln in lines],
        [pop3.crlf_size(plain), len(crlf), pop3.crlf_size(plain)],
        "sizes without W=, with CRLF on disk")
    resp, lines, _ = b.retr(2)
    is_(b"\r\n".join(lines) + b"\r\n", crlf, "CRLF on disk sent as it is")
    u = b.uidl(3).split()[2].decode()
    ok(len(u) == 40 and all(ch in "0123456789abcdef" for ch in u),
       "an over-long base name gets a hashed UIDL: " + u)
    b.quit()
    cache = open(os.path.join(bob.path, "tern-pop3.sizes")).read()
    is_(len(cache.splitlines()), 3, "sizes cached for the names without "
        "W=")
    b = pop3.login(inst, "bob@example.com")
    is_(b.uidl(3).split()[2].decode(), u, "hashed UIDL is stable")
    is_(b.list()[1][0].split()[1], b"%d" % pop3.crlf_size(plain),
        "cached size used")
    b.quit()

    # A large message streams through the watermarks intact; Seen set.
    big = b"".join(b"%07d %s\n" % (i, b"x" * (i % 200)) for i in
                   range(60000))
    big = b"Subject: big\n\n" + big + b".\n..\n"
    name = bob.add(big, when=1800000000)
    b = pop3.login(inst, "bob@example.com")
    n = b.stat()[0]
    resp, lines, octets = b.retr(n)
    ok(b"\n".join(lines) + b"\n" == big,
       "a %d-byte message arrives intact" % len(big))
    is_(resp, b"+OK %d octets" % pop3.crlf_size(big), "RETR says its size")
    # maildirsize notes a removal.
    with open(os.path.join(bob.path, "maildirsize"), "w") as f:
        f.write("0S\n%d 4\n" % (len(plain) * 2 + len(crlf) + len(big)))
    if bob.owner:
        os.chown(os.path.join(bob.path, "maildirsize"), *bob.owner)
    b.dele(n)
    b.quit()
    ok(os.path.isfile(os.path.join(bob.path, "cur", name + ":2,S")) is False
       and not any(f.startswith(name) for f in bob.all()), "big one gone")
    sizes = open(os.path.join(bob.path, "maildirsize")).read().splitlines()
    is_(sizes[-1], "-%d -1" % len(big), "maildirsize notes the removal")

    # 100,000 messages: one scan, LIST and UIDL streamed in full.
    carol = pop3.Maildir(inst, "carol@folder.example")
    t0 = time.monotonic()
    d = os.path.join(carol.path, "cur")
    data = b"Subject: s\n\nx\n"
    for i in range(100000):
        n = "%d.M%dP1Q%d.host,S=%d,W=%d:2," % (1600000000 + i, i, i,
                                              len(data), len(data) + 3)
        fd = os.open(os.path.join(d, n), os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, data)
        os.close(fd)
    if carol.owner:
        for n in os.listdir(d):
            os.chown(os.path.join(d, n), *carol.owner)
    diag("wrote 100,000 files in %.1f s" % (time.monotonic() - t0))
    c = pop3.Raw(inst.port("pop3"), timeout=120)
    t0 = time.monotonic()
    r = c.login("carol@folder.example")
    t1 = time.monotonic()
    ok(r.startswith("+OK Logged in, 100000 messages"), r)
    diag("login with 100,000 messages: %.2f s" % (t1 - t0))
    is_(c.cmd("STAT"), "+OK 100000 %d" % (100000 * (len(data) + 3)),
        "STAT")
    c.send("UIDL\r\n")
    c.line()
    u = c.multi()
    is_(len(u), 100000, "UIDL lists 100,000")
    is_(u[-1], "100000 1600099999.M99999P1Q99999.host,S=14,W=17",
        "in delivery order")
    c.send("LIST\r\n")
    c.line()
    is_(len(c.multi()), 100000, "LIST lists 100,000")
    is_(c.cmd("RETR 50000")[:3], "+OK", "RETR in the middle")
    is_(c.multi(), ["Subject: s", "", "x"], "right message")
    c.cmd("QUIT")
    c.close()
done()
