#!/usr/bin/env python3
# pop3d's limits and policies: pop_max_bad_commands, pop_max_connections,
# pop_command_timeout (at its 10 s minimum), the delay after a failed
# login and the failure in the auth daemon's log with the client's ip,
# the auth daemon down (-ERR [SYS/TEMP]), LOGIN-DELAY and EXPIRE as
# configured (CAPA and enforcement), and a drain that closes idle
# sessions but lets a logged-in one finish.
import os
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
from tern import wait_for              # noqa: E402
import pop3                             # noqa: E402

inst = pop3.instance(conf={"pop_max_bad_commands": "3",
                           "pop_max_connections": "3",
                           "pop_command_timeout": "10s",
                           "pop_login_delay": "60",
                           "pop_expire_days": "2"})
with inst:
    inst.start()
    port = inst.port("pop3")

    # Bad commands: the third one ends the session.
    c = pop3.Raw(port)
    is_(c.cmd("FOO")[:4], "-ERR", "first bad command")
    is_(c.cmd("STAT")[:4], "-ERR", "second (wrong state)")
    is_(c.cmd("BAR")[:4], "-ERR", "third")
    is_(c.line(), "-ERR Too many bad commands, closing the connection",
        "then the session is closed")
    ok(c.closed(), "connection closed")

    # Connections: three at once, the fourth refused.
    conns = [pop3.Raw(port) for _ in range(3)]
    ok(all(x.greeting.startswith("+OK") for x in conns), "three served")
    extra = pop3.Raw(port)
    ok(extra.greeting.startswith("-ERR [SYS/TEMP]"),
       "the fourth refused: " + extra.greeting)
    ok(extra.closed(), "and closed")
    conns.pop().close()
    wait_for(lambda: inst.status()["pop3"]["sessions"] <= 2,
             what="a session to end")
    again = pop3.Raw(port)
    ok(again.greeting.startswith("+OK"), "room again after one left")
    again.close()

    # Idle: closed after pop_command_timeout, with a word first.
    t0 = time.monotonic()
    idle = conns[0]
    idle.s.settimeout(30)
    r = idle.line()
    took = time.monotonic() - t0
    ok(r == "-ERR Disconnected for inactivity" and 9 <= took <= 20,
       "idle session closed after %.1f s: %s" % (took, r))
    ok(idle.closed(), "and the connection with it")
    for x in conns[1:]:
        x.close()

    # A failed login: answered after a delay, logged by auth with the ip.
    c = pop3.Raw(port)
    c.cmd("USER alice@example.com")
    t0 = time.monotonic()
    r = c.cmd("PASS not-the-password")
    took = time.monotonic() - t0
    ok(r == "-ERR [AUTH] Authentication failed" and took >= 0.9,
       "failed login answered after %.2f s: %s" % (took, r))
    wait_for(lambda: "service=pop" in inst.log("auth"),
             what="the failure in auth.log")
    line = [ln for ln in inst.log("auth").splitlines()
            if "login failed" in ln and "service=pop" in ln][0]
    ok("ip=127.0.0.1" in line and "alice@example.com" in line,
       "auth logged the failure with the ip: " + line)
    c.close()

    # The auth daemon down: a temporary failure, not a wrong password.
    is_(inst.adminctl("service", "stop", "auth")[0], 0, "auth stopped")
    wait_for(lambda: inst.status()["auth"]["state"] == "stopped",
             what="auth to stop")
    c = pop3.Raw(port)
    c.cmd("USER alice@example.com")
    r = c.cmd("PASS " + pop3.USERS["alice@example.com"])
    ok(r.startswith("-ERR [SYS/TEMP]"), "auth down: " + r)
    c.close()
    inst.adminctl("service", "start", "auth")
    wait_for(lambda: inst.status()["auth"]["state"] == "running",
             what="auth to start")

    # LOGIN-DELAY: advertised and enforced.
    p = pop3.connect(inst)
    is_(p.capa().get("LOGIN-DELAY"), ["60"], "CAPA LOGIN-DELAY 60")
    is_(p.capa().get("EXPIRE"), ["2"], "CAPA EXPIRE 2")
    p.user("alice@example.com")
    wait_for(lambda: inst.status()["auth"]["state"] == "running")
    ok(p.pass_(pop3.USERS["alice@example.com"]).startswith(b"+OK"),
       "first login")
    p.quit()
    c = pop3.Raw(port)
    r = c.login()
    ok(r.startswith("-ERR [LOGIN-DELAY]"), "second login too soon: " + r)
    c.close()

    # EXPIRE: a retrieved (Seen) message older than 2 days goes at login.
    box = pop3.Maildir(inst, "bob@example.com")
    now = int(time.time())
    old_seen = box.add(pop3.message(1), sub="cur", flags="S",
                       when=now - 3 * 86400)
    old_unseen = box.add(pop3.message(2), sub="cur", flags="",
                         when=now - 3 * 86400)
    new_seen = box.add(pop3.message(3), sub="cur", flags="FS",
                       when=now - 3600)
    p = pop3.login(inst, "bob@example.com")
    is_(p.stat()[0], 2, "the old Seen message expired")
    p.quit()
    names = box.files("cur")
    ok(not any(n.startswith(old_seen) for n in names) and
       any(n.startswith(old_unseen) for n in names) and
       any(n.startswith(new_seen) for n in names),
       "only that one: %r" % names)
    ok("expired 1 message" in inst.log("pop"), "expiry logged")

    # Drain: an idle session is told and closed, a logged-in one ends
    # its work (QUIT deletes) before pop3d exits.
    idle = pop3.Raw(port)
    busy = pop3.Raw(port)
    ok(busy.login("carol@folder.example").startswith("+OK"), "carol in")
    inst.signal(15)
    r = idle.line()
    ok(r.startswith("-ERR [SYS/TEMP]"), "idle session told: " + r)
    is_(busy.cmd("STAT"), "+OK 0 0", "a logged-in session goes on")
    ok(busy.cmd("QUIT").startswith("+OK"), "and quits normally")
    inst.proc.wait(timeout=30)
    is_(inst.proc.returncode, 0, "master exited cleanly")
done()
