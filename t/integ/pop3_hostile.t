#!/usr/bin/env python3
# pop3d against hostile and broken clients, over raw sockets: over-long
# lines (with and without an end), NUL bytes, bare CR, binary garbage,
# empty lines, pipelined commands in one write, AUTH with bad base64 and
# with a huge payload, a client that vanishes in the middle of a RETR or
# a login, a client that stops reading a long answer, and many
# connections opened and dropped at once.  Every answer is -ERR, never a
# crash: the same pop3d process serves a normal login at the end.
import base64
import os
import socket
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
import pop3                             # noqa: E402

inst = pop3.instance(conf={"pop_max_bad_commands": "50"})
with inst:
    inst.start()
    pid = inst.status()["pop3"]["pids"]
    box = pop3.Maildir(inst, "alice@example.com")
    for i in range(1, 6):
        box.add(pop3.message(i, 5))
    big = b"Subject: big\n\n" + b"y" * 100 + b"\n"
    box.add(big * 1 + b"z" * 2000000 + b"\n")
    port = inst.port("pop3")

    c = pop3.Raw(port)
    ok(c.greeting.startswith("+OK"), "greeting")
    r = c.cmd("NOOP " + "x" * 3000)
    is_(r, "-ERR Line too long", "a 3000-byte line: " + r)
    is_(c.cmd("CAPA")[:3], "+OK", "the next command is read normally")
    c.multi()
    # A megabyte without a line end, then the end: one -ERR.
    c.send(b"A" * (1 << 20))
    is_(c.line(), "-ERR Line too long", "a megabyte with no LF")
    c.send(b"\r\nCAPA\r\n")
    is_(c.line()[:3], "+OK", "after its LF the session goes on")
    c.multi()
    is_(c.cmd("US\0ER alice")[:4], "-ERR", "NUL in a command")
    is_(c.cmd("USER a\rb")[:4], "-ERR", "bare CR in a command")
    is_(c.cmd("")[:4], "-ERR", "an empty line")
    is_(c.cmd("\xff\xfe\x80garbage")[:4], "-ERR", "8-bit garbage")
    is_(c.cmd("LIST")[:4], "-ERR", "LIST before login")
    is_(c.cmd("AUTH PLAIN !!!notbase64")[:11], "-ERR [AUTH]",
        "AUTH PLAIN with bad base64")
    is_(c.cmd("AUTH PLAIN " + base64.b64encode(b"no-nuls").decode())[:4],
        "-ERR", "AUTH PLAIN without NULs")
    huge = base64.b64encode(b"\0alice@example.com\0" + b"p" * 6000)
    is_(c.cmd("AUTH PLAIN " + huge.decode()), "-ERR Line too long",
        "AUTH PLAIN with a huge initial response")
    is_(c.cmd("AUTH PLAIN")[:1], "+", "AUTH PLAIN continuation")
    is_(c.cmd(huge.decode()), "-ERR Line too long",
        "a huge continuation line ends the exchange")
    is_(c.cmd("STAT")[:4], "-ERR", "and leaves us logged out")
    r = c.cmd("AUTH PLAIN " + base64.b64encode(
        b"\0alice@example.com\0" + b"q" * 250).decode())
    is_(r, "-ERR [AUTH] Authentication failed",
        "a long but well-formed AUTH PLAIN is checked")
    c.cmd("QUIT")
    c.close()

    # Pipelining: a whole session in one write, answers in order.
    c = pop3.Raw(port)
    pw = pop3.USERS["alice@example.com"]
    c.send("CAPA\r\nUSER alice@example.com\r\nPASS %s\r\nSTAT\r\nLIST\r\n"
           "UIDL 1\r\nRETR 1\r\nTOP 2 1\r\nDELE 9\r\nNOOP\r\nRSET\r\n"
           "QUIT\r\n" % pw)
    is_(c.line()[:3], "+OK", "CAPA")
    c.multi()
    is_(c.line()[:3], "+OK", "USER")
    is_(c.line()[:3], "+OK", "PASS")
    ok(c.line().startswith("+OK 6 "), "STAT")
    is_(c.line()[:3], "+OK", "LIST")
    is_(len(c.multi()), 6, "LIST lines")
    ok(c.line().startswith("+OK 1 "), "UIDL 1")
    is_(c.line()[:3], "+OK", "RETR 1")
    is_("\n".join(c.multi()) + "\n", pop3.message(1, 5).decode(),
        "RETR 1 content")
    is_(c.line()[:3], "+OK", "TOP 2 1")
    is_(c.multi()[-1], "line 0 of message 2", "TOP 2 1 content")
    is_(c.line(), "-ERR No such message", "DELE 9")
    is_(c.line(), "+OK", "NOOP")
    is_(c.line()[:3], "+OK", "RSET")
    is_(c.line()[:3], "+OK", "QUIT")
    ok(c.closed(), "closed after QUIT")

    # Gone in the middle of a large RETR, and of a login.
    c = pop3.Raw(port)
    c.login()
    c.send("RETR 6\r\n")
    c.line()
    c.f.read(1000)
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                   b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()          # RST with most of the message unsent
    c = pop3.Raw(port)
    c.send("USER alice@example.com\r\nPASS wrong\r\n")
    c.close()
    # A client that stops reading a long answer: others still served.
    slow = pop3.Raw(port)
    slow.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.login()
    slow.send("RETR 6\r\nRETR 6\r\nRETR 6\r\n")
    # Many connections, dropped at once.
    socks = [socket.create_connection(("127.0.0.1", port))
             for _ in range(50)]
    for s in socks:
        s.sendall(b"USER x\r\n")
        s.close()

    p = pop3.connect(inst)
    p.user("bob@example.com")
    ok(p.pass_(pop3.USERS["bob@example.com"]).startswith(b"+OK"),
       "a normal login still works")
    p.quit()
    slow.close()
    is_(inst.status()["pop3"]["pids"], pid, "the same pop3d throughout")
    log = inst.log("pop")
    ok(pw not in log, "no password in the log")
done()
