#!/usr/bin/env python3
# smtpd's limits: max bad commands and max bad recipients end the session
# with 421; the session timeout (idle) and the command timeout (a partial
# command, a stalled DATA) with short configured values; 1,000 concurrent
# connections held and all served, the next one refused with 421.
import os
import resource
import socket
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
from tern import wait_for              # noqa: E402
import smtp                            # noqa: E402

N = 1000
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < N + 200:
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, N + 500), hard))

inst = smtp.instance(conf={"smtp_session_timeout": "10s",
                           "smtp_command_timeout": "5s",
                           "smtp_max_connections": str(N)})

with inst:
    inst.start()
    port = inst.port("smtp")

    # --- max bad commands (8) ----------------------------------------------
    c = smtp.ehlo(port)
    for i in range(7):
        c.cmd("FROB %d" % i)
    is_(c.cmd("FROB 7")[0], 500, "8th bad command still answered")
    is_(c.reply(), (421, ["4.7.0 mx.test.example Too many errors, closing "
                          "connection"]), "then 421")
    ok(c.closed(), "and closed")
    # Sequence and syntax errors count too; good commands do not reset.
    c = smtp.ehlo(port)
    for cmd in ("RCPT TO:<a@example.com>", "DATA", "MAIL FROM:bad",
                "NOOP", "EHLO", "HELP", "VRFY", "FROB", "FROB", "FROB"):
        code, _ = c.cmd(cmd)
    is_(c.reply()[0], 421, "mixed errors reach the limit too")
    c.close()

    # --- max bad recipients (20) -----------------------------------------
    c = smtp.ehlo(port)
    c.cmd("MAIL FROM:<harvest@remote.test>")
    is_(c.cmd("RCPT TO:<alice@example.com>")[0], 250, "a good one")
    codes = [c.cmd("RCPT TO:<guess%d@example.com>" % i)[0]
             for i in range(20)]
    is_(codes, [550] * 20, "20 unknown recipients refused")
    code, lines = c.reply()
    is_((code, lines[0][:5]), (421, "4.7.0"), "then 421")
    ok(c.closed(), "and closed")

    # --- timeouts ---------------------------------------------------------
    t0 = time.monotonic()
    idle = smtp.Client(port)
    partial = smtp.ehlo(port)
    partial.send("MAIL FRO")
    stalled = smtp.ehlo(port)
    stalled.cmd("MAIL FROM:<slow@remote.test>")
    stalled.cmd("RCPT TO:<alice@example.com>")
    stalled.cmd("DATA")
    stalled.send("Subject: slow\r\n\r\nhalf a mes")

    def timed(c):
        c.s.settimeout(40)
        r = c.reply()
        return r, time.monotonic() - t0
    (r, t) = timed(partial)
    ok(r[0] == 421 and r[1][0].startswith("4.4.2 ") and 4 <= t < 9,
       "partial command: 421 after the command timeout (%.1fs)" % t)
    (r, t) = timed(stalled)
    ok(r[0] == 421 and 4 <= t < 9,
       "stalled DATA: 421 after the command timeout (%.1fs)" % t)
    (r, t) = timed(idle)
    ok(r[0] == 421 and 9 <= t < 30,
       "idle: 421 after the session timeout (%.1fs)" % t)
    for c in (idle, partial, stalled):
        ok(c.closed(), "closed after the timeout")
    is_(smtp.spool_tmp(inst), [], "the stalled message left nothing")

    # --- 1,000 concurrent connections ------------------------------------
    wait_for(lambda: int(inst.status()["smtp"]["sessions"]) == 0,
             what="earlier sessions to end")
    conns = []
    t0 = time.monotonic()
    for i in range(N):
        conns.append(smtp.Client(port, timeout=60))
    ok(all(c.greeting[0] == 220 for c in conns),
       "%d connections held, all greeted (%.1fs)" % (N, time.monotonic() - t0))
    extra = smtp.Client(port)
    is_(extra.greeting, (421, ["4.3.2 mx.test.example Too many connections, "
                               "try again later"]), "connection %d: 421" %
        (N + 1))
    ok(extra.closed(), "and closed")
    for i, c in enumerate(conns):
        c.send("EHLO client%d.test\r\n" % i)
    served = 0
    for c in conns:
        code, _ = c.reply()
        served += code == 250
    is_(served, N, "all %d answered EHLO" % N)
    queued = 0
    for c in conns[:50]:
        code, lines = smtp.send_message(c, "many@remote.test",
                                        ["alice@example.com"],
                                        "Subject: many\r\n\r\nx")
        queued += code == 250
    is_(queued, 50, "messages on 50 of them")
    for c in conns:
        c.send("QUIT\r\n")
    bye = sum(c.reply()[0] == 221 for c in conns)
    is_(bye, N, "all said goodbye")
    for c in conns:
        c.close()
    wait_for(lambda: smtp.Client(port).greeting[0] == 220,
             what="a new connection once they are gone")
    ok(True, "new connections welcome again")
done()
