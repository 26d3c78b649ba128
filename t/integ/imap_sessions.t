#!/usr/bin/env python3
# Two sessions on one mailbox see each other's flag changes and expunges
# (and no EXPUNGE during FETCH); IDLE is told of a delivery written into
# new/ and of an expunge; the grammar's corners on a raw socket (literals
# split across packets, LITERAL+, huge literals refused before they are
# read, malformed sequence sets, NUL, over-long lines, too many bad
# commands); a 50,000-message folder (SELECT time printed); kill -9 of
# imapd in the middle of an APPEND leaves no partial message, and in the
# middle of an EXPUNGE a consistent folder (same UIDVALIDITY and UIDs).
import os
import signal
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done, diag      # noqa: E402
from tern import wait_for                # noqa: E402
import imap                              # noqa: E402

inst = imap.instance(conf={"imap_max_literal": "100k",
                           "imap_max_bad_commands": "5"})


def raw_login(port):
    r = imap.Raw(port)
    r.cmd('LOGIN alice@example.com "%s"' % imap.PW, "l")
    return r


with inst:
    inst.start()
    port = inst.port("imap")
    for i in range(3):
        imap.deliver(inst, "Subject: m%d\n\nbody %d\n" % (i, i))
    a = raw_login(port)
    b = raw_login(port)
    is_(a.cmd("SELECT INBOX")[-1][:4], "a OK", "A selects")
    b.cmd("SELECT INBOX")
    b.cmd("STORE 2 +FLAGS.SILENT (\\Flagged)")
    got = a.cmd("NOOP")
    ok(any("2 FETCH (FLAGS (\\Flagged" in x for x in got),
       "A sees B's flag change at NOOP: %r" % got)
    b.cmd("STORE 1 +FLAGS.SILENT (\\Deleted)")
    b.cmd("EXPUNGE")
    got = a.cmd("FETCH 1:* FLAGS")
    ok(not any("EXPUNGE" in x for x in got), "no EXPUNGE during FETCH")
    got = a.cmd("NOOP")
    ok("* 1 EXPUNGE" in got, "A gets the EXPUNGE at NOOP: %r" % got)
    ok(any(x.startswith("* 1 FETCH") or x == "a OK NOOP completed"
           for x in got), "then carries on")

    # IDLE
    a.send("i IDLE\r\n")
    is_(a.line(), "+ idling", "IDLE continuation")
    t0 = time.monotonic()
    imap.deliver(inst, "Subject: pushed\n\nnew mail\n")
    ln = a.line()
    ok(ln == "* 3 EXISTS", "new mail pushed in IDLE: %r" % ln)
    diag("pushed after %.3f s" % (time.monotonic() - t0))
    a.line()                                    # RECENT
    b.cmd("STORE 1 +FLAGS.SILENT (\\Seen)")
    ln = a.line()
    ok("FETCH (FLAGS" in ln and "\\Seen" in ln,
       "flag change pushed in IDLE: %r" % ln)
    a.send("DONE\r\n")
    is_(a.line(), "i OK IDLE terminated", "DONE ends IDLE")

    # grammar corners
    r = raw_login(port)
    r.send("x1 LOGOUT")         # nothing yet: no CRLF
    r.send("\r\n")
    ok(r.line().startswith("* BYE"), "command split across packets")
    r.close()
    r = raw_login(port)
    r.send("c1 CREATE {4}\r\n")
    is_(r.line()[:1], "+", "continuation for a synchronizing literal")
    r.send("Ab")
    r.send("cd\r\n")
    is_(r.line(), "c1 OK CREATE completed", "literal split across packets")
    is_(r.cmd("CREATE {4+}\r\nEfgh", "c2")[-1], "c2 OK CREATE completed",
        "LITERAL+ needs no continuation")
    got = r.cmd("APPEND INBOX {999999}", "c3")
    is_(got[-1], "c3 NO [TOOBIG] Literal too big",
        "huge literal refused before it is read")
    is_(r.cmd("NOOP", "c4")[-1], "c4 OK NOOP completed",
        "and the session goes on")
    r.cmd("SELECT INBOX", "s")
    for bad in ("0", "1:", "a", "1,,2", "4294967296"):
        got = r.cmd("FETCH %s FLAGS" % bad, "q")
        ok(got[-1].startswith("q BAD"), "sequence set %r: BAD" % bad)
    r.close()
    r = raw_login(port)
    r.send("n1 NOOP\0\r\n")
    ok(r.line().startswith("n1 BAD"), "NUL in a command: BAD")
    r.send("n2 " + "x" * 70000 + "\r\n")
    ok(r.line().startswith("* BYE"), "over-long line: BYE")
    ok(r.closed(), "and closed")
    r = imap.Raw(port)
    for i in range(5):
        r.send("b%d FROB\r\n" % i)
    lines = [r.line() for _ in range(6)]
    ok(lines[-1].startswith("* BYE"), "too many bad commands: BYE")
    r.close()
    r = imap.Raw(port)
    r.send("h APPEND INBOX {200000+}\r\n")
    ok(r.line().startswith("* BYE [TOOBIG]"), "huge LITERAL+: BYE")
    ok(r.closed(), "connection closed, nothing read")

    # 50,000 messages
    big = os.path.join(imap.maildir(inst), ".Big")
    for sub in ("", "/cur", "/new", "/tmp"):
        os.mkdir(big + sub)
        imap.chown(inst, big + sub)
    t0 = time.time()
    for i in range(50000):
        n = os.path.join(big, "cur", "%d.M%dP1Q%d.test,S=20,W=21:2,S"
                         % (1700000000 + i, i, i))
        with open(n, "w") as f:
            f.write("Subject: x\n\nbody\n")
    diag("created 50,000 files in %.1f s" % (time.time() - t0))
    r = raw_login(port)
    t0 = time.monotonic()
    got = r.cmd("SELECT Big", "s1")
    t1 = time.monotonic() - t0
    ok("* 50000 EXISTS" in got, "SELECT of 50,000 messages")
    diag("first SELECT (index built): %.3f s" % t1)
    r.cmd("CLOSE", "c")
    t0 = time.monotonic()
    got = r.cmd("SELECT Big", "s2")
    diag("second SELECT (index read): %.3f s" % (time.monotonic() - t0))
    t0 = time.monotonic()
    r.send("f FETCH 1:* FLAGS\r\n")
    n = 0
    while True:
        ln = r.line()
        if ln.startswith("f "):
            break
        n += 1
    is_(n, 50000, "FETCH 1:* FLAGS: 50,000 answers")
    diag("FETCH 1:* FLAGS: %.3f s" % (time.monotonic() - t0))
    r.close()

    # kill -9 during APPEND
    r = raw_login(port)
    r.send("k APPEND INBOX {50000}\r\n")
    r.line()
    r.send("Subject: half\r\n\r\n" + "x" * 1000)
    pids = [int(p) for p in inst.status()["imap"]["pids"].split(",") if p]
    for p in pids:
        os.kill(p, signal.SIGKILL)
    wait_for(lambda: inst.status()["imap"]["pids"] not in ("",) and
             all(int(p) not in pids for p in
                 inst.status()["imap"]["pids"].split(",") if p),
             what="imapd restarted")
    c = imap.login(inst)
    typ, data = c.select("INBOX")
    typ, data = c.search(None, 'SUBJECT "half"')
    is_(data[0], b"", "no partial message after kill -9")
    c.logout()

    # kill -9 during EXPUNGE of 20,000 of Big's messages: whatever was
    # unlinked is gone, the rest keep their UIDs, UIDVALIDITY stays.
    def imapd_pids():
        return [int(p) for p in inst.status()["imap"]["pids"].split(",")
                if p]
    r = raw_login(port)
    got = r.cmd("SELECT Big", "s3")
    uv = [ln for ln in got if "UIDVALIDITY" in ln][0].split()[3].rstrip("]")
    r.cmd("STORE 1:20000 +FLAGS.SILENT (\\Deleted)", "d")
    before = set(os.listdir(os.path.join(big, "cur")))
    pids = imapd_pids()
    r.send("x EXPUNGE\r\n")
    # kill once the unlinking has begun (bounded: it ends by itself)
    wait_for(lambda: len(os.listdir(os.path.join(big, "cur"))) <
             len(before), what="the EXPUNGE to start")
    for p in pids:
        os.kill(p, signal.SIGKILL)
    r.close()
    wait_for(lambda: imapd_pids() and
             all(p not in pids for p in imapd_pids()),
             what="imapd restarted")
    left = set(os.listdir(os.path.join(big, "cur")))
    diag("EXPUNGE killed with %d of 20,000 files unlinked" %
         (len(before) - len(left)))
    r = raw_login(port)
    got = r.cmd("SELECT Big", "s4")
    ok("* %d EXISTS" % len(left) in got, "after the crash: as many "
       "messages as files (%d)" % len(left))
    ok(any("UIDVALIDITY %s]" % uv in ln for ln in got),
       "UIDVALIDITY unchanged")
    res = r.cmd("UID FETCH 20001:* (UID)", "u")
    uids = sorted(int(ln.split("UID ")[1].rstrip(")")) for ln in res
                  if ln.startswith("* ") and "FETCH (UID " in ln)
    is_(uids, list(range(20001, 50001)), "the 30,000 kept their UIDs")
    res = r.cmd("SEARCH DELETED", "sd")
    n_del = len(res[0].split()) - 2
    is_(n_del, len(left) - 30000, "the unexpunged ones still \\Deleted")
    r.close()
done()
