#!/usr/bin/env python3
# smtpd, the plain protocol: greeting names (hostname, hostnames per local
# IP), EHLO contents, HELO, RSET, NOOP, HELP, QUIT, VRFY and EXPN off,
# sequence and syntax errors, MAIL and RCPT parameters (SIZE refused at
# MAIL, DSN kept in the spool, SMTPUTF8), the spool file (envelope,
# Received header, dot-unstuffing), pipelining in one write, the queue
# told, the queue id in the logs, and real clients: smtplib and swaks.
import os
import smtplib
import socket
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, diag, done          # noqa: E402
from tern import free_port, wait_for, BIN    # noqa: E402
import smtp                                  # noqa: E402

ALT = free_port()
services = smtp.smtpd_services(extra={
    "alt": {"program": os.path.join(BIN, "smtpd"),
            "listen": ["tcp", "127.0.0.2:%d" % ALT]}})
inst = smtp.instance(services=services, conf={
    "hostnames": "127.0.0.2=mx2.test.example",
    "smtp_max_bad_commands": "50"})


def codes(c, lines):
    """Send lines in one write, read one reply per line."""
    c.send("".join(ln + "\r\n" for ln in lines))
    return [c.reply() for _ in lines]


with inst:
    inst.start()
    q = smtp.FakeQueue(inst)
    port = inst.port("smtp")

    # --- greeting and EHLO ---------------------------------------------
    c = smtp.Client(port)
    is_(c.greeting, (220, ["mx.test.example ESMTP Tern"]),
        "greeting names the hostname")
    code, lines = c.cmd("EHLO client.test")
    is_(code, 250, "EHLO")
    is_(lines[0], "mx.test.example Hello client.test [127.0.0.1]",
        "EHLO greets the client by its name and address")
    for kw in ("PIPELINING", "SIZE 31457280", "8BITMIME",
               "ENHANCEDSTATUSCODES", "DSN", "SMTPUTF8", "CHUNKING",
               "BINARYMIME", "STARTTLS"):
        ok(kw in lines[1:], "EHLO offers " + kw)
    ok(not any(ln.startswith("AUTH") for ln in lines),
       "no AUTH before TLS")
    is_(c.cmd("EHLO")[0], 501, "EHLO needs a name")
    is_(c.cmd("EHLO two words")[0], 501, "EHLO takes one name")
    is_(c.cmd("HELO client.test"), (250, ["mx.test.example"]), "HELO")
    is_(c.cmd("NOOP"), (250, ["2.0.0 Ok"]), "NOOP")
    code, lines = c.cmd("HELP")
    ok(code == 214 and lines[0].startswith("2.0.0 "), "HELP: %r" % lines)
    is_(c.cmd("VRFY alice@example.com")[0], 252, "VRFY off: 252")
    is_(c.cmd("EXPN staff@example.com"), (502, ["5.5.1 EXPN not available"]),
        "EXPN off: 502")
    is_(c.cmd("QUIT"), (221, ["2.0.0 mx.test.example Bye"]), "QUIT")
    ok(c.closed(), "closed after QUIT")

    # The name for another local address comes from hostnames.
    c = smtp.Client(inst.port("alt"))
    is_(c.greeting[1], ["mx.test.example ESMTP Tern"],
        "second service on 127.0.0.1: hostname")
    c.close()
    s = socket.create_connection(("127.0.0.2", ALT), timeout=10)
    is_(s.makefile("rb").readline(), b"220 mx2.test.example ESMTP Tern\r\n",
        "127.0.0.2 greets as its hostnames entry")
    s.close()

    # --- sequence and syntax errors -----------------------------------
    c = smtp.Client(port)
    is_(c.cmd("MAIL FROM:<a@remote.test>")[0], 503, "MAIL before EHLO")
    c.cmd("EHLO client.test")
    is_(c.cmd("RCPT TO:<alice@example.com>")[0], 503, "RCPT before MAIL")
    is_(c.cmd("DATA")[0], 503, "DATA before MAIL")
    is_(c.cmd("FROB")[1], ["5.5.2 Command unrecognized"], "unknown command")
    is_(c.cmd("MAIL TO:<a@b.test>")[0], 501, "MAIL without FROM:")
    code, lines = c.cmd("MAIL FROM:<a@@remote.test>")
    ok(code == 501 and lines[0].startswith("5.1.7"), "bad sender: %r" % lines)
    is_(c.cmd("MAIL FROM:<a@remote.test> FROB=1")[1],
        ["5.5.4 Unsupported parameter FROB"], "unknown MAIL parameter: 555")
    is_(c.cmd("MAIL FROM:<a@remote.test> SIZE=40000000")[:1], (552,),
        "declared SIZE over the limit refused at MAIL")
    is_(c.cmd("MAIL FROM:<a@remote.test> BODY=9BIT")[0], 501, "bad BODY")
    is_(c.cmd("mail from: <a@remote.test>")[0], 250,
        "lower case, blank after the colon")
    is_(c.cmd("MAIL FROM:<b@remote.test>")[0], 503, "nested MAIL")
    code, lines = c.cmd("RCPT TO:<alice@@example.com>")
    ok(code == 501 and lines[0].startswith("5.1.3"), "bad rcpt: %r" % lines)
    is_(c.cmd("RCPT TO:<alice@example.com> FROB")[0], 555,
        "unknown RCPT parameter")
    is_(c.cmd("RCPT TO:<alice@example.com> NOTIFY=SOMETIMES")[0], 501,
        "bad NOTIFY")
    is_(c.cmd("DATA")[1], ["5.5.1 No valid recipients"],
        "DATA without a recipient")
    code, lines = c.cmd("RCPT TO:<someone@elsewhere.test>")
    ok(code == 554 or code == 550, "relaying refused: %d %r" % (code, lines))
    is_(c.cmd("RCPT TO:<alice@example.com>")[0], 250, "local recipient")
    is_(c.cmd("RSET"), (250, ["2.0.0 Ok"]), "RSET")
    is_(c.cmd("DATA")[0], 503, "RSET forgot the transaction")
    is_(c.cmd("RSET now")[0], 501, "RSET takes no argument")
    c.cmd("QUIT")
    c.close()

    # --- a message, and what the spool keeps ---------------------------
    c = smtp.ehlo(port)
    is_(c.cmd("MAIL FROM:<sender@remote.test> SIZE=200 RET=HDRS "
              "ENVID=abc+2Bdef BODY=8BITMIME")[0], 250, "MAIL with DSN")
    is_(c.cmd("RCPT TO:<alice@example.com> NOTIFY=success,delay "
              "ORCPT=rfc822;alice+40example.com")[0], 250, "RCPT with DSN")
    is_(c.cmd("RCPT TO:<Bob@Example.NET>")[0], 250,
        "RCPT via a domain alias, mixed case")
    is_(c.cmd("DATA")[0], 354, "DATA")
    c.send(b"Subject: one\r\n\r\nline 1\r\n..starts with a dot\r\n"
           b".. also\r\n\xc3\xa9t\xc3\xa9\r\n.\r\n")
    code, lines = c.reply()
    ok(code == 250 and lines[0].startswith("2.0.0 Ok: queued as "),
       "queued: %r" % lines)
    qid = smtp.queued_id(lines)
    m = smtp.spool(inst).get(qid)
    ok(m is not None, "the message is in spool/*/new under its id")
    is_(m.magic, "TERN-SPOOL 1", "spool format")
    is_(m.sender, "sender@remote.test", "sender")
    is_(m.rcpts[0], {"addr": "alice@example.com", "notify": "SUCCESS,DELAY",
                     "orcpt": "rfc822;alice+40example.com"},
        "NOTIFY and ORCPT kept with the recipient")
    is_(m.rcpts[1], {"addr": "Bob@example.net"}, "second recipient")
    for k, v in (("ret", "HDRS"), ("envid", "abc+2Bdef"), ("body", "8BITMIME"),
                 ("size", "200"), ("client", "127.0.0.1"),
                 ("helo", "client.test"), ("auth", ""), ("service", "smtp"),
                 ("smtputf8", "no"), ("tls", "none")):
        is_(m.params.get(k), v, "param %s=%s" % (k, v))
    is_(m.content(), b"Subject: one\r\n\r\nline 1\r\n.starts with a dot\r\n"
        b". also\r\n\xc3\xa9t\xc3\xa9\r\n", "data dot-unstuffed, 8-bit kept")
    hdr = m.headers().split("\r\n")
    is_(hdr[0], "Received: from client.test (unknown [127.0.0.1])",
        "Received: from")
    is_(hdr[1], "\tby mx.test.example (Tern) with ESMTP id " + qid,
        "Received: by, protocol, id")
    ok(hdr[2].startswith("\t; "), "no 'for' with two recipients: "
       + hdr[2])
    wait_for(lambda: any(f.get("id") == qid for f in q.frames),
             what="queue notification")
    f = [f for f in q.frames if f["id"] == qid][0]
    is_(f["type"], "new", "queue told: frame type new")
    is_(f["subspool"], m.path.split("/")[-3], "queue told the subspool")
    log = inst.log("smtp")
    ok(qid + ": queued size=" in log, "the queue id starts the log line")

    # Pipelining: the whole transaction in one write, QUIT behind the dot.
    c = smtp.ehlo(port)
    r = codes(c, ["MAIL FROM:<>", "RCPT TO:<alice@example.com>",
                  "RCPT TO:<nobody@example.com>",
                  "RCPT TO:<bob@example.com>", "DATA"])
    is_([x[0] for x in r], [250, 250, 550, 250, 354],
        "pipelined replies in order (one unknown user)")
    c.send(b"Subject: pipelined\r\n\r\nhi\r\n.\r\nQUIT\r\n")
    code, lines = c.reply()
    is_(code, 250, "message after pipelined commands")
    is_(c.reply()[0], 221, "QUIT behind the data")
    m = smtp.spool(inst)[smtp.queued_id(lines)]
    is_(m.sender, "", "null sender kept empty")
    is_([r["addr"] for r in m.rcpts], ["alice@example.com",
                                       "bob@example.com"],
        "refused recipient left out")
    c.close()

    # Everything in one write, then the client shuts its side (nc -N):
    # every reply still comes, the message is queued.
    c = smtp.Client(port)
    c.send(b"EHLO half.test\r\nMAIL FROM:<h@remote.test>\r\n"
           b"RCPT TO:<alice@example.com>\r\nDATA\r\nSubject: half\r\n\r\n"
           b"x\r\n.\r\nQUIT\r\n")
    c.s.shutdown(socket.SHUT_WR)
    r = [c.reply()[0] for _ in range(6)]
    is_(r, [250, 250, 250, 354, 250, 221], "half-closed client: all replies")
    ok(c.closed(), "then closed")

    # SMTPUTF8.
    c = smtp.ehlo(port)
    is_(c.cmd("MAIL FROM:<j\u00f6rg@remote.test>")[1],
        ["5.6.7 Non-ASCII address needs SMTPUTF8"],
        "UTF-8 address refused without SMTPUTF8")
    is_(c.cmd("MAIL FROM:<j\u00f6rg@b\u00fccher.test> SMTPUTF8")[0], 250,
        "UTF-8 address accepted with SMTPUTF8")
    c.cmd("RCPT TO:<alice@example.com>")
    c.cmd("DATA")
    c.send(b"Subject: utf8\r\n\r\nx\r\n.\r\n")
    code, lines = c.reply()
    m = smtp.spool(inst)[smtp.queued_id(lines)]
    is_(m.sender, "j\u00f6rg@xn--bcher-kva.test", "UTF-8 local part kept, "
        "domain as A-label")
    is_(m.params["smtputf8"], "yes", "smtputf8 noted")
    ok(" with UTF8SMTP id " in m.headers(), "Received says UTF8SMTP")
    c.close()

    # --- real clients --------------------------------------------------
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="py.test")
    refused = s.sendmail("py@remote.test", ["alice@example.com"],
                         "Subject: smtplib\r\n\r\nfrom smtplib\r\n")
    is_(refused, {}, "smtplib sendmail")
    s.quit()
    n = len(smtp.spool(inst))
    p = subprocess.run(["swaks", "--server", "127.0.0.1:%d" % port,
                        "--from", "swaks@remote.test",
                        "--to", "bob@example.com", "--ehlo", "swaks.test",
                        "--header", "Subject: swaks"],
                       capture_output=True, text=True, timeout=60)
    is_(p.returncode, 0, "swaks delivers")
    if p.returncode != 0:
        diag(p.stdout[-2000:])
    msgs = smtp.spool(inst)
    is_(len(msgs), n + 1, "swaks message in the spool")
    ok(any(m.sender == "swaks@remote.test" and
           b"Subject: swaks" in m.body for m in msgs.values()),
       "swaks message content")
    q.stop()
done()
