#!/usr/bin/env python3
# smtpd, the message data: SMTP smuggling (bare LF / bare CR end-of-data
# variants) refused on port 25 and normalised on submission, never ending
# the data early; over-long text and command lines; messages over the
# size limit; hop-count loops; BDAT (chunks, LAST, BINARYMIME, refused
# chunks read and skipped, BDAT after a DATA error); and that nothing
# refused leaves a file behind.
import os
import socket
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
import smtp                            # noqa: E402

inst = smtp.instance(conf={"smtp_max_message_size": "64k",
                           "smtp_max_hops": "3",
                           "smtp_line_tolerance": "0",
                           "smtp_max_bad_commands": "100"})

SMUGGLED = (b"MAIL FROM:<evil@remote.test>\r\nRCPT TO:<bob@example.com>\r\n"
            b"DATA\r\nsmuggled\r\n")
VARIANTS = [b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n", b"\r\n.\r",
            b"\r.\r", b"\n.\r", b"\r.\n", b"\r\n.\r\r\n"]


def begin(c, sender="s@remote.test", params=""):
    """MAIL and one RCPT."""
    assert c.cmd("MAIL FROM:<%s>%s" % (sender, params))[0] == 250
    assert c.cmd("RCPT TO:<alice@example.com>")[0] == 250


def start_data(c, sender="s@remote.test"):
    begin(c, sender)
    code, lines = c.cmd("DATA")
    assert code == 354, (code, lines)


def nothing_left(what):
    is_(smtp.spool_tmp(inst), [], what + ": nothing left in tmp/")


def clean_crlf(b):
    """Every CR is followed by LF and every LF preceded by CR."""
    return b.replace(b"\r\n", b"") .find(b"\r") < 0 and \
        b.replace(b"\r\n", b"").find(b"\n") < 0


def submission_client():
    c = smtp.ehlo(inst.port("submission"))
    c.starttls(smtp.client_ctx(inst))
    c.cmd("EHLO client.test")
    import base64
    code, _ = c.cmd("AUTH PLAIN " + base64.b64encode(
        b"\0alice@example.com\0Alice-pw1").decode())
    assert code == 235, code
    return c


with inst:
    inst.start()
    port = inst.port("smtp")

    # --- smuggling on port 25: refused, one reply, no second message ----
    for v in VARIANTS:
        c = smtp.ehlo(port)
        before = len(smtp.spool(inst))
        start_data(c)
        c.send(b"Subject: s\r\n\r\nbefore" + v + SMUGGLED + b"\r\n.\r\n")
        code, lines = c.reply()
        is_((code, lines), (554, ["5.6.0 Message contains bare CR or LF"]),
            "port 25 refuses %r" % v)
        is_(c.cmd("NOOP")[0], 250, "%r: the next reply is NOOP's: the "
            "smuggled commands were data" % v)
        is_(len(smtp.spool(inst)), before, "%r: nothing queued" % v)
        c.close()
    nothing_left("smuggling refused")

    # The same, one byte per write, so the reader sees the sequences
    # split across reads (a CR at the end of one, its LF in the next).
    for v in VARIANTS + [b""]:
        c = smtp.ehlo(port)
        c.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        before = len(smtp.spool(inst))
        start_data(c)
        for b in b"Subject: s\r\n\r\nbefore" + v + SMUGGLED + b"\r\n.\r\n":
            c.send(bytes([b]))
        code, lines = c.reply()
        is_(code, 554 if v else 250, "byte by byte: %r" % v)
        is_(c.cmd("NOOP")[0], 250, "byte by byte %r: one reply" % v)
        is_(len(smtp.spool(inst)), before + (0 if v else 1),
            "byte by byte %r: queued only without a bare line end" % v)
        c.close()

    # A NUL is no line end: the payload stays one message.
    c = smtp.ehlo(port)
    start_data(c)
    c.send(b"Subject: s\r\n\r\nbefore\r\n\0.\r\n" + SMUGGLED + b".\r\n")
    code, lines = c.reply()
    is_(code, 250, "NUL before the dot is just data")
    m = smtp.spool(inst)[smtp.queued_id(lines)]
    ok(b"\0.\r\nMAIL FROM:<evil" in m.content(), "smuggled text is content")
    is_(c.cmd("NOOP")[0], 250, "one reply for one message")
    c.close()

    # --- submission normalises, and still ends only at CRLF.CRLF --------
    for v in VARIANTS:
        c = submission_client()
        start_data(c, "alice@example.com")
        c.send(b"Subject: n\r\n\r\nbefore" + v + SMUGGLED + b"\r\n.\r\n")
        code, lines = c.reply()
        is_(code, 250, "submission normalises %r" % v)
        m = smtp.spool(inst)[smtp.queued_id(lines)]
        body = m.content()
        ok(clean_crlf(body), "%r: only CRLF line ends stored" % v)
        ok(b"MAIL FROM:<evil@remote.test>\r\n" in body,
           "%r: smuggled commands stored as text of the one message" % v)
        is_(c.cmd("NOOP")[0], 250, "%r: no extra reply" % v)
        c.close()

    # --- line limits (tolerance 0: the RFC's 1000 and 512) -------------
    c = smtp.ehlo(port)
    start_data(c)
    c.send(b"Subject: long\r\n\r\n" + b"x" * 998 + b"\r\n.\r\n")
    is_(c.reply()[0], 250, "998 characters + CRLF: accepted")
    start_data(c)
    c.send(b"Subject: long\r\n\r\n" + b"x" * 999 + b"\r\n.\r\n")
    is_(c.reply(), (554, ["5.6.0 Message has a line longer than 1000 "
                          "bytes"]), "999 + CRLF: refused at the end")
    start_data(c)
    c.send(b"Subject: long\r\n\r\n" + b"y" * 60000 + b"\r\n.\r\nNOOP\r\n")
    is_(c.reply()[0], 554, "a 60 kB line is read to the end and refused")
    is_(c.reply()[0], 250, "and the session goes on")
    is_(c.cmd("NOOP " + "z" * 505)[0], 250, "510-byte command line")
    is_(c.cmd("NOOP " + "z" * 506), (500, ["5.5.2 Line too long"]),
        "511-byte command line refused")
    c.send(b"NOOP " + b"z" * 100000 + b"\r\nNOOP\r\n")
    is_(c.reply()[0], 500, "100 kB command line refused")
    is_(c.reply()[0], 250, "its rest was skipped, not run")
    c.close()
    nothing_left("long lines")

    # --- size -------------------------------------------------------------
    c = smtp.ehlo(port)
    is_(c.cmd("MAIL FROM:<s@remote.test> SIZE=70000")[0], 552,
        "SIZE over 64k refused at MAIL")
    is_(c.cmd("MAIL FROM:<s@remote.test> SIZE=60000")[0], 250,
        "SIZE under the limit")
    c.cmd("RCPT TO:<alice@example.com>")
    c.cmd("DATA")
    c.send(b"Subject: big\r\n\r\n" + (b"a" * 78 + b"\r\n") * 900 +
           b".\r\n")
    code, lines = c.reply()
    ok(code == 552 and lines[0].startswith("5.3.4 "),
       "72 kB message refused: %r" % lines)
    is_(c.cmd("NOOP")[0], 250, "session goes on")
    c.close()
    nothing_left("too big")

    # --- hops ---------------------------------------------------------
    c = smtp.ehlo(port)
    hops = b"".join(b"Received: from hop%d\r\n\tby x; date\r\n" % i
                    for i in range(3))
    start_data(c)
    c.send(hops + b"Subject: 3 hops\r\n\r\nbody\r\n.\r\n")
    is_(c.reply()[0], 250, "3 Received headers: accepted (max 3)")
    start_data(c)
    c.send(hops + b"RECEIVED: from hop4\r\nSubject: 4\r\n\r\nbody\r\n.\r\n")
    code, lines = c.reply()
    ok(code == 554 and lines[0].startswith("5.4.6 "),
       "4 Received headers (any case): a loop, refused: %r" % lines)
    start_data(c)
    c.send(b"Subject: quoted\r\n\r\n" + b"Received: in the body\r\n" * 5 +
           b".\r\n")
    is_(c.reply()[0], 250, "Received lines in the body do not count")
    c.close()
    nothing_left("hops")

    # --- BDAT -----------------------------------------------------------
    c = smtp.ehlo(port)
    begin(c)
    one, two = b"Subject: chunks\r\n\r\nab", b"cd\r\n.\r\nef\r\n"
    c.send(b"BDAT %d\r\n" % len(one) + one +
           b"BDAT %d LAST\r\n" % len(two) + two)
    is_(c.reply(), (250, ["2.0.0 %d octets received" % len(one)]),
        "first chunk")
    code, lines = c.reply()
    is_(code, 250, "BDAT LAST: queued")
    m = smtp.spool(inst)[smtp.queued_id(lines)]
    is_(m.content(), b"Subject: chunks\r\n\r\nabcd\r\n.\r\nef\r\n",
        "chunks joined; no dot handling in BDAT")
    is_(c.cmd("BDAT 0 LAST")[0], 503, "BDAT without a transaction")
    # A refused BDAT still has its chunk read: its bytes are no commands.
    c.send(b"BDAT 14\r\nQUIT\r\nQUIT\r\nQU")
    is_(c.reply()[0], 503, "BDAT before MAIL refused")
    c.send(b"IT\r\n")
    is_(c.reply()[0], 500, "...after skipping exactly its 14 bytes")
    # BINARYMIME: DATA refused, BDAT takes the bytes as they are.
    begin(c, params=" BODY=BINARYMIME")
    is_(c.cmd("DATA")[0], 503, "DATA with BODY=BINARYMIME refused")
    binary = b"Subject: bin\r\n\r\n\x00\x01\n\r.\r\n\xff\r"
    c.send(b"BDAT %d LAST\r\n" % len(binary) + binary)
    code, lines = c.reply()
    is_(code, 250, "BDAT after that DATA error: queued")
    m = smtp.spool(inst)[smtp.queued_id(lines)]
    is_(m.content(), binary, "binary kept byte for byte")
    is_(m.params["body"], "BINARYMIME", "body=BINARYMIME noted")
    # Text BDAT with a bare LF on port 25: refused at that chunk.
    begin(c)
    c.send(b"BDAT 12\r\nSubject: x\n\n")
    is_(c.reply()[0], 554, "bare LF in a BDAT chunk refused")
    c.send(b"BDAT 4 LAST\r\nab\r\n")
    is_(c.reply()[0], 503, "the transaction is gone")
    # Too big, over several chunks.
    begin(c)
    c.send(b"BDAT 40000\r\n" + (b"x" * 78 + b"\r\n") * 500)
    is_(c.reply()[0], 250, "first 40000")
    c.send(b"BDAT 40000 LAST\r\n" + (b"x" * 78 + b"\r\n") * 500)
    is_(c.reply()[0], 552, "second 40000: over 64k")
    # RSET between chunks leaves nothing.
    begin(c)
    c.send(b"BDAT 5\r\nabcde")
    is_(c.reply()[0], 250, "chunk")
    is_(c.cmd("DATA")[0], 503, "DATA after BDAT refused")
    is_(c.cmd("RSET")[0], 250, "RSET between chunks")
    is_(c.cmd("BDAT x")[0], 501, "BDAT without a size")
    ok(c.closed(), "...closes: the chunk's end is unknown")
    nothing_left("BDAT")
done()
