#!/usr/bin/env python3
# Quoted local parts (RFC 5321 4.1.2) with blanks, '+' and '=' in them
# pass through smtpd into the spool and read back exactly (lib/spool keeps
# such an address as xtext under "senderx"/"rcptx"); a quoted local part
# holding '@' is still refused as relay syntax.
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
import smtp                            # noqa: E402

inst = smtp.instance(conf={"smtp_whitelist": "127.0.0.1"})
with inst:
    inst.start()
    port = inst.port("smtp")
    c = smtp.ehlo(port)
    sender = '"Jo Smith+x=y"@remote.test'
    rcpts = ['"john  smith"@far.example', "plain@far.example",
             '"a+b=c d"@far.example']
    code, lines = smtp.send_message(c, sender, rcpts,
                                    "Subject: quoted\r\n\r\nx")
    is_(code, 250, "accepted: " + " ".join(lines))
    m = smtp.spool(inst).get(smtp.queued_id(lines))
    ok(m is not None, "in the spool")
    if m:
        is_(m.sender, sender, "the sender reads back exactly")
        is_([r["addr"] for r in m.rcpts], rcpts,
            "every recipient reads back exactly")
        raw = open(m.path, "rb").read().split(b"\n\n")[0]
        ok(b"\nrcpt plain@far.example\n" in raw,
           "a plain address is written as before")
        ok(b'\nrcptx "john+20+20smith"@far.example\n' in raw,
           "a quoted one with blanks as xtext")
    c.cmd("MAIL FROM:<s@remote.test>")
    code, _ = c.cmd('RCPT TO:<"x@y"@far.example>')
    is_(code, 550, "a quoted '@' is still relay syntax: 550")
    c.close()
done()
