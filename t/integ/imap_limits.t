#!/usr/bin/env python3
# imapd's limits and one semantic corner: RENAME INBOX (RFC 3501 6.3.5:
# INBOX's messages move to the new folder, INBOX stays, empty); SEARCH
# through RFC 2047 encoded words, case folded beyond ASCII; max bad
# commands ending in BYE; imap_max_connections across the service (BYE
# for the next one); an oversized command line and a literal over
# imap_max_literal refused before it is read; the command timeout (a
# short configured value) closing an idle unauthenticated session.
import imaplib
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
from tern import wait_for              # noqa: E402
import imap                            # noqa: E402

inst = imap.instance(conf={"imap_max_connections": "4",
                           "imap_max_literal": "1m",
                           "imap_max_line": "8k",
                           "imap_command_timeout": "10s"})
with inst:
    inst.start()
    port = inst.port("imap")

    # --- RENAME INBOX ---------------------------------------------------
    c = imap.login(inst)
    for i in range(2):
        c.append("INBOX", None, None,
                 ("Subject: m%d\r\n\r\nbody\r\n" % i).encode())
    typ, _ = c.rename("INBOX", "Old")
    is_(typ, "OK", "RENAME INBOX Old")
    typ, data = c.select("Old")
    is_((typ, data[0]), ("OK", b"2"), "Old holds INBOX's two messages")
    typ, data = c.select("INBOX")
    is_((typ, data[0]), ("OK", b"0"), "INBOX stays, empty")

    # --- SEARCH decodes RFC 2047 words in headers -----------------------
    c.select("Old")
    c.append("Old", None, None,
             b"Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?=\r\n"
             b"From: =?UTF-8?B?w4lsb2TDqWU=?= <elo@example.net>\r\n"
             b"\r\nhi\r\n")
    c.noop()
    c.literal = "crème".encode()
    typ, data = c.search("UTF-8", "SUBJECT")
    is_(data[0], b"3", "SUBJECT with a Latin-1 Q word, searched in UTF-8")
    c.literal = "CRÈME".encode()
    typ, data = c.search("UTF-8", "SUBJECT")
    is_(data[0], b"3", "case folded beyond ASCII: CRÈME finds crème")
    c.literal = "ÉLODÉE".encode()
    typ, data = c.search("UTF-8", "FROM")
    is_(data[0], b"3", "and ÉLODÉE finds Élodée")
    c.literal = "lodée".encode()
    typ, data = c.search("UTF-8", "FROM")
    is_(data[0], b"3", "FROM with a UTF-8 B word")
    typ, data = c.search(None, "SUBJECT", '"ISO-8859-1"')
    is_(data[0], b"3", "the raw value still matches too")
    typ, data = c.search(None, "SUBJECT", "cafe")
    is_(data[0], b"", "no false match")

    # BODY and TEXT search the text as read: quoted-printable and base64
    # undone, charsets made UTF-8; attachments are not text.
    import base64
    c.append("Old", None, None, (
        b"Subject: parts\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n"
        b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        b"Un caf=C3=A9 cr=C3=A8me, tr=\r\nes bon\r\n--XX\r\n"
        b"Content-Type: text/html; charset=iso-8859-1\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" +
        base64.encodebytes("<p>Gr\u00fc\u00dfe aus K\u00f6ln</p>".encode(
            "iso-8859-1")).replace(b"\n", b"\r\n") +
        b"--XX\r\nContent-Type: application/octet-stream\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" +
        base64.encodebytes(b"secret attachment words") .replace(
            b"\n", b"\r\n") + b"--XX--\r\n"))
    c.noop()
    for key, what, want in (("BODY", "crème", b"4"),
                            ("BODY", "tres bon", b"4"),
                            ("TEXT", "CAFÉ", b"3 4"),
                            ("BODY", "köln", b"4"),
                            ("BODY", "attachment words", b"")):
        c.literal = what.encode()
        typ, data = c.search("UTF-8", key)
        is_(data[0], want, "SEARCH %s %s in the decoded text" % (key, what))

    # --- a folder whose parent does not exist -----------------------------
    base = imap.maildir(inst)
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(base, ".Proj.2026.Q1", sub))
    for root, dirs, files in os.walk(os.path.join(base, ".Proj.2026.Q1")):
        imap.chown(inst, root)
    imap.chown(inst, os.path.join(base, ".Proj.2026.Q1"))
    typ, data = c.list('""', "%")
    lines = [d.decode() for d in data]
    ok('(\\Noselect \\HasChildren) "." "Proj"' in lines,
       "LIST %%: the missing parent Proj as \\Noselect: %r" %
       [x for x in lines if "Proj" in x])
    typ, data = c.list('""', "Proj*")
    got = sorted(d.decode() for d in data)
    is_(got, sorted(['(\\Noselect \\HasChildren) "." "Proj"',
                     '(\\Noselect \\HasChildren) "." "Proj.2026"',
                     '(\\HasNoChildren) "." "Proj.2026.Q1"']),
        "LIST Proj*: both missing parents once, the folder itself")
    c.logout()

    # --- max bad commands (8) -------------------------------------------
    r = imap.Raw(port)
    lines = []
    try:
        for i in range(8):
            lines += r.cmd("FROB%d" % i, tag="b%d" % i)
        lines.append(r.line())
    except EOFError:
        pass
    ok(any(ln.startswith("* BYE") for ln in lines),
       "eight bad commands: BYE")
    try:
        r.line()
        closed = False
    except (EOFError, OSError):
        closed = True
    ok(closed, "and the connection is closed")
    r.close()

    # --- an oversized command line and literal ---------------------------
    r = imap.Raw(port)
    r.send("x1 NOOP " + "a" * 20000 + "\r\n")
    ln = r.line()
    ok(ln.startswith("x1 BAD") or ln.startswith("* BYE"),
       "a 20 KB line (limit 8k): " + ln[:60])
    r.close()
    r = imap.Raw(port)
    r.cmd("LOGIN alice@example.com %s" % imap.PW, tag="l")
    r.send("x2 APPEND INBOX {5000000}\r\n")
    ln = r.line()
    ok(ln.startswith("x2 NO") or ln.startswith("x2 BAD") or
       ln.startswith("* BYE"),
       "a 5 MB literal (limit 1m) refused before it is sent: " + ln[:60])
    r.close()

    # --- max connections (4) ---------------------------------------------
    wait_for(lambda: int(inst.status()["imap"]["sessions"]) <= 1,
             what="earlier sessions to end")
    held = [imap.Raw(port) for _ in range(3)]
    extra = imap.Raw(port)
    more = imap.Raw(port)
    ok(all(h.greeting.startswith("* OK") for h in held),
       "sessions up to the limit greeted")
    ok(more.greeting.startswith("* BYE") or
       extra.greeting.startswith("* BYE"),
       "past imap_max_connections: BYE (%s)" % more.greeting[:40])
    for h in held + [extra, more]:
        h.close()

    # --- command timeout --------------------------------------------------
    wait_for(lambda: int(inst.status()["imap"]["sessions"]) == 0,
             what="sessions to end")
    r = imap.Raw(port, timeout=30)

    def closed_by_server():
        try:
            ln = r.line()
            return ln.startswith("* BYE") or None
        except EOFError:
            return True
    ok(wait_for(closed_by_server, timeout=25, what="the timeout"),
       "an idle session is closed after imap_command_timeout")
done()
