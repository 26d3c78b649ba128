#!/usr/bin/env python3
# FETCH with lib/mime behind it: ENVELOPE, BODY and BODYSTRUCTURE against
# the golden files of t/data/mime (APPENDed with CRLF, and written into
# the maildir as they are, LF), every section form (part numbers, nested
# through message/rfc822, HEADER, HEADER.FIELDS (.NOT), TEXT, MIME),
# partials, sections that do not exist, \Seen and .PEEK, UID FETCH, the
# macros, a second FETCH served from the cache, malformed sections (BAD).
# Answers are read raw: imaplib is too loose to check them octet by octet.
import glob
import imaplib
import os
import re
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done, diag          # noqa: E402
import imap                                  # noqa: E402

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "mime")
EMLS = sorted(glob.glob(os.path.join(DATA, "*.eml")))


def crlf(b):
    return b.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def golden(name):
    """(BODYSTRUCTURE, BODY, ENVELOPE) values of t/data/mime/name."""
    with open(os.path.join(DATA, name + ".bodystructure"), "rb") as f:
        bs = f.read()
    with open(os.path.join(DATA, name + ".envelope"), "rb") as f:
        env = f.read().rstrip(b"\n")
    k = bs.index(b"\nBODY (")
    return (bs[:k][len(b"BODYSTRUCTURE "):],
            bs[k + 1:].rstrip(b"\n")[len(b"BODY "):],
            env[len(b"ENVELOPE "):])


def fetch(r, what, tag="a"):
    """{seq: items} of a FETCH (or UID FETCH) and the tagged line."""
    res, t = r.responses(what, tag)
    got = {}
    for x in res:
        if b" FETCH " in x:
            n, items = imap.fetch_items(x)
            got[n] = items
    return got, t


# Plain text, encoded-word subject, group address, 8-bit subject.
PLAIN = ("From: =?utf-8?q?J=C3=B6rg?= <jorg@example.com>\r\n"
         "To: undisclosed-recipients:;\r\n"
         "Cc: Team: ann@example.com, \"B. B\" <bb@example.com>;\r\n"
         "Subject: =?utf-8?B?SGVsbG8gd8O2cmxk?=\r\n"
         "Date: Mon, 1 Jan 2024 09:00:00 +0000\r\n"
         "Message-ID: <p1@example.com>\r\n"
         "\r\n"
         "Hello\r\nworld\r\n").encode()
PLAIN_ENV = (b'("Mon, 1 Jan 2024 09:00:00 +0000" "=?utf-8?B?SGVsbG8gd8O2cmxk?="'
             b' (("=?utf-8?q?J=C3=B6rg?=" NIL "jorg" "example.com"))'
             b' (("=?utf-8?q?J=C3=B6rg?=" NIL "jorg" "example.com"))'
             b' (("=?utf-8?q?J=C3=B6rg?=" NIL "jorg" "example.com"))'
             b' ((NIL NIL "undisclosed-recipients" NIL)(NIL NIL NIL NIL))'
             b' ((NIL NIL "Team" NIL)(NIL NIL "ann" "example.com")'
             b'("B. B" NIL "bb" "example.com")(NIL NIL NIL NIL))'
             b' NIL NIL "<p1@example.com>")')
EIGHT = ("From: x@example.com\r\nSubject: Grüße\r\n\r\nok\r\n").encode()

# LF only, written straight into the maildir: text, base64 attachment
# with an RFC 2231 file name, message/rfc822 as part 3.
MIXED = b"""Received: from a.example.com
 by b.example.com; Mon, 1 Jan 2024 10:00:00 +0000
From: a@example.com
To: b@example.com
Subject: mixed
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="XX"

preamble
--XX
Content-Type: text/plain; charset=us-ascii

Hello there.
--XX
Content-Type: application/octet-stream; name="f.bin"
Content-Transfer-Encoding: base64
Content-Disposition: attachment; filename*=utf-8''na%C3%AFve.bin

AAECAw==
--XX
Content-Type: message/rfc822

From: c@example.com
Subject: inner
Received: x

Inner body line 1
Inner body line 2
--XX--
"""
INNER_HDR = b"From: c@example.com\r\nSubject: inner\r\nReceived: x\r\n\r\n"
INNER_TEXT = b"Inner body line 1\r\nInner body line 2"
INNER_ENV = (b'(NIL "inner" ((NIL NIL "c" "example.com")) ((NIL NIL "c" '
             b'"example.com")) ((NIL NIL "c" "example.com")) NIL NIL NIL '
             b'NIL NIL)')
MIXED_BS = (b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 0 '
            b'NIL NIL NIL NIL)'
            b'("application" "octet-stream" ("name" "f.bin") NIL NIL '
            b'"base64" 8 NIL ("attachment" ("filename*" '
            b'"utf-8\'\'na%C3%AFve.bin")) NIL NIL)'
            b'("message" "rfc822" NIL NIL NIL "7bit" 88 ' + INNER_ENV +
            b' ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 36 1 '
            b'NIL NIL NIL NIL) 5 NIL NIL NIL NIL)'
            b' "mixed" ("boundary" "XX") NIL NIL NIL)')
MIXED_BODY = (b'(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 0)'
              b'("application" "octet-stream" ("name" "f.bin") NIL NIL '
              b'"base64" 8)'
              b'("message" "rfc822" NIL NIL NIL "7bit" 88 ' + INNER_ENV +
              b' ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 36 1)'
              b' 5) "mixed")')

def by_subject(r):
    """{Subject: seq} of the selected folder.  Messages are found by
    subject, not by order: see the UID 0 note in the report."""
    g, t = fetch(r, "FETCH 1:* (BODY.PEEK[HEADER.FIELDS (Subject)])")
    return {imap.unliteral(it["BODY[HEADER.FIELDS (Subject)]"])[9:-4]: n
            for n, it in g.items()}


inst = imap.instance({"imap_max_bad_commands": "100"})
with inst:
    inst.start()
    c = imap.login(inst)

    # --- golden files: APPEND (imaplib sends CRLF) and raw LF delivery
    is_(c.create("Golden")[0], "OK", "CREATE Golden")
    appended = []
    for p in EMLS:
        with open(p, "rb") as f:
            data = f.read()
        if not data or re.search(rb"\r(?!\n)", data):
            continue    # APPEND of nothing is refused, imaplib turns a
                        # lone CR into CRLF: these go in GoldenLF only
        typ, _ = c.append("Golden", None, None, data)
        if typ == "OK":
            appended.append(p)
        else:
            ok(False, "APPEND %s" % os.path.basename(p))
    for k, p in enumerate(EMLS):
        with open(p, "rb") as f:
            imap.deliver(inst, f.read(), folder="GoldenLF",
                         name="%d.M%03dP1.test" % (1700000000 + k, k))
    r = imap.Raw(inst.port("imap"))
    r.cmd("LOGIN alice@example.com %s" % imap.PW)
    for folder, emls in (("Golden", appended), ("GoldenLF", EMLS)):
        r.cmd("SELECT %s" % folder)
        # which message is which: by content, not by order (the order
        # of UIDs is the index's business)
        conv = (crlf if folder == "GoldenLF" else    # imaplib makes a
                lambda b: imaplib.MapCRLF.sub(b"\r\n", b))  # lone CR CRLF
        want = {conv(open(p, "rb").read()): p for p in emls}
        g, t = fetch(r, "FETCH 1:* (BODY.PEEK[] RFC822.SIZE)")
        seqs, sizes_ok = {}, True
        for n, it in g.items():
            body = imap.unliteral(it["BODY[]"])
            if body in want:
                seqs[want[body]] = n
            sizes_ok = sizes_ok and \
                it["RFC822.SIZE"] == str(len(body)).encode()
        is_(sorted(seqs), sorted(emls), "%s: BODY.PEEK[] of every message "
            "is the file with CRLF" % folder)
        ok(sizes_ok, "%s: RFC822.SIZE is the size of BODY[]" % folder)
        got, t = fetch(r, "FETCH 1:* (ENVELOPE BODY BODYSTRUCTURE)")
        ok(t.startswith("a OK"), "%s: FETCH 1:* OK" % folder)
        is_(len(got), len(emls), "%s: one answer per message" % folder)
        bad = []
        for p, n in seqs.items():
            name = os.path.basename(p)[:-4]
            bs, body, env = golden(name)
            it = got.get(n, {})
            for item, want in (("BODYSTRUCTURE", bs), ("BODY", body),
                               ("ENVELOPE", env)):
                if it.get(item) != want:
                    bad.append(name + " " + item)
                    diag("%s %s %s\n got: %r\nwant: %r" % (
                        folder, name, item, it.get(item), want))
        is_(bad, [], "%s: ENVELOPE, BODY, BODYSTRUCTURE match the golden "
            "files" % folder)
        again, t = fetch(r, "FETCH 1:* (BODYSTRUCTURE ENVELOPE BODY)")
        is_(again, got, "%s: a second FETCH (cached) answers the same"
            % folder)

    # nested sections of rfc822_attach (multipart inside message/rfc822)
    seq = seqs[os.path.join(DATA, "rfc822_attach.eml")]
    secs = {
        "1": b"See the forwarded message.\r\n",
        "2.1": b"--b3\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
               b"Numbers attached.\r\n--b3\r\nContent-Type: text/html; "
               b"charset=utf-8\r\n\r\n<p>Numbers attached.</p>\r\n--b3--\r\n",
        "2.1.1": b"Numbers attached.",
        "2.1.2": b"<p>Numbers attached.</p>",
        "2.1.2.MIME": b"Content-Type: text/html; charset=utf-8\r\n\r\n",
        "2.1.MIME": b'Content-Type: multipart/alternative; boundary="b3"'
                    b"\r\n\r\n",
        "2.2": b"JVBERi0xLjQK",
        "2.HEADER.FIELDS (Subject)": b"Subject: Quarterly numbers\r\n\r\n",
        "3": b"-- \r\nHeidi",
        "2.3": b"",
        "2.1.3": b"",
    }
    for sec, want in secs.items():
        g, t = fetch(r, "FETCH %d (BODY.PEEK[%s])" % (seq, sec))
        v = g.get(seq, {}).get("BODY[%s]" % sec)
        is_(v is not None and imap.unliteral(v), want,
            "rfc822_attach BODY[%s]" % sec)
    g, t = fetch(r, "FETCH %d (BODY.PEEK[2])" % seq)
    v = imap.unliteral(g[seq]["BODY[2]"])
    ok(v.startswith(b"From: Judy") and v.endswith(b"--b2--\r\n"),
       "BODY[2] of a message/rfc822 part is the whole inner message")
    g, t = fetch(r, "FETCH %d (BODY.PEEK[2.HEADER] BODY.PEEK[2.TEXT])"
                 % seq)
    is_(imap.unliteral(g[seq]["BODY[2.HEADER]"]) +
        imap.unliteral(g[seq]["BODY[2.TEXT]"]), v,
        "BODY[2.HEADER] + BODY[2.TEXT] = BODY[2]")

    # --- INBOX: the constructed messages
    for m in (PLAIN, EIGHT):
        is_(c.append("INBOX", None, None, m)[0], "OK", "APPEND")
    imap.deliver(inst, MIXED, name="1800000000.M1P1.test")
    r.cmd("SELECT INBOX")
    seqof = by_subject(r)
    P, E, M = seqof[b"=?utf-8?B?SGVsbG8gd8O2cmxk?="], \
        seqof["Grüße".encode()], seqof[b"mixed"]
    got, t = fetch(r, "FETCH 1:3 (ENVELOPE BODY BODYSTRUCTURE UID)")
    got[1], got[2], got[3] = got[P], got[E], got[M]
    is_(got[1]["ENVELOPE"], PLAIN_ENV,
        "ENVELOPE: encoded words sent as they are, groups")
    is_(got[1]["BODYSTRUCTURE"], b'("text" "plain" ("charset" "us-ascii") '
        b'NIL NIL "7bit" 14 2 NIL NIL NIL NIL)', "BODYSTRUCTURE plain")
    is_(got[1]["BODY"], b'("text" "plain" ("charset" "us-ascii") '
        b'NIL NIL "7bit" 14 2)', "BODY plain")
    ok(got[2]["ENVELOPE"].startswith(b'(NIL {7}\r\nGr\xc3\xbc\xc3\x9fe '),
       "8-bit subject goes as a literal: %r" % got[2]["ENVELOPE"][:30])
    is_(got[3]["BODYSTRUCTURE"], MIXED_BS, "BODYSTRUCTURE mixed (LF file)")
    is_(got[3]["BODY"], MIXED_BODY, "BODY mixed (LF file)")
    uid3 = int(got[3]["UID"])
    diag("P %d E %d M %d" % (P, E, M))

    def sec(seqno, what, label=None):
        """BODY.PEEK[what]: the octets, None when the answer lacks it."""
        g, t = fetch(r, "FETCH %d (BODY.PEEK[%s)" % (seqno, what))
        v = g.get(seqno, {}).get(label or "BODY[%s" % what)
        return None if v is None else imap.unliteral(v)

    mixed_crlf = crlf(MIXED)
    text = mixed_crlf[mixed_crlf.index(b"\r\n\r\n") + 4:]
    cases = [
        ("1", b"Hello there."),
        ("1.MIME", b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"),
        ("2", b"AAECAw=="),
        ("3", INNER_HDR + INNER_TEXT),
        ("3.HEADER", INNER_HDR),
        ("3.TEXT", INNER_TEXT),
        ("3.1", INNER_TEXT),
        ("3.HEADER.FIELDS.NOT (Received)",
         b"From: c@example.com\r\nSubject: inner\r\n\r\n"),
        ("HEADER.FIELDS (From Subject)",
         b"From: a@example.com\r\nSubject: mixed\r\n\r\n"),
        ("HEADER.FIELDS (\"subject\" FROM)",
         b"From: a@example.com\r\nSubject: mixed\r\n\r\n"),
        ("HEADER.FIELDS.NOT (Received)",
         b"From: a@example.com\r\nTo: b@example.com\r\nSubject: mixed\r\n"
         b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; "
         b"boundary=\"XX\"\r\n\r\n"),
        ("HEADER", mixed_crlf[:mixed_crlf.index(b"\r\n\r\n") + 4]),
        ("TEXT", text),
        ("", mixed_crlf),
        # sections that do not exist: "" as Dovecot sends
        ("4", b""), ("3.2", b""), ("1.HEADER", b""), ("2.TEXT", b""),
        ("1.2", b""), ("9.9.9", b""), ("1.HEADER.FIELDS (From)", b""),
    ]
    for what, want in cases:
        is_(sec(M, what + "]"), want, "BODY.PEEK[%s]" % what)
    for what, label, want in (
            ("TEXT]<0.10>", "BODY[TEXT]<0>", text[:10]),
            ("TEXT]<5.10>", "BODY[TEXT]<5>", text[5:15]),
            ("]<100000.10>", "BODY[]<100000>", b""),
            ("2]<2.100>", "BODY[2]<2>", b"ECAw=="),
            ("2]<8.1>", "BODY[2]<8>", b""),
            ("3.TEXT]<17.4>", "BODY[3.TEXT]<17>", b"\r\nIn")):
        is_(sec(M, what, label), want, "partial BODY.PEEK[%s" % what)
    g, t = fetch(r, "FETCH %d (RFC822.SIZE)" % M)
    is_(int(g[M]["RFC822.SIZE"]), len(mixed_crlf), "RFC822.SIZE counts CRLF")

    # RFC822.HEADER/TEXT are [HEADER] and [TEXT]
    g, t = fetch(r, "FETCH %d (RFC822.HEADER RFC822.TEXT FLAGS)" % M)
    is_(imap.unliteral(g[M]["RFC822.HEADER"]),
        mixed_crlf[:mixed_crlf.index(b"\r\n\r\n") + 4], "RFC822.HEADER")
    is_(imap.unliteral(g[M]["RFC822.TEXT"]), text, "RFC822.TEXT")
    ok(b"\\Seen" in g[M]["FLAGS"], "RFC822.TEXT sets \\Seen")

    # \Seen: .PEEK leaves it, BODY[..] sets it and says so
    g, t = fetch(r, "FETCH %d (BODY.PEEK[1] BODY.PEEK[HEADER])" % P)
    ok("FLAGS" not in g[P], "BODY.PEEK sends no FLAGS")
    g, t = fetch(r, "FETCH %d (FLAGS)" % P)
    ok(b"\\Seen" not in g[P]["FLAGS"], "BODY.PEEK does not set \\Seen")
    g, t = fetch(r, "FETCH %d (BODY[1])" % P)
    is_(imap.unliteral(g[P]["BODY[1]"]), b"Hello\r\nworld\r\n",
        "BODY[1] of a non-multipart message is its body")
    ok(b"\\Seen" in g[P].get("FLAGS", b""), "BODY[1] sets \\Seen, says so")
    g, t = fetch(r, "FETCH %d (FLAGS)" % P)
    ok(b"\\Seen" in g[P]["FLAGS"], "\\Seen kept")

    # UID FETCH
    g, t = fetch(r, "UID FETCH %d (BODY.PEEK[3.HEADER] BODYSTRUCTURE)"
                 % uid3)
    is_(sorted(g), [M], "UID FETCH: one message")
    is_(g[M].get("UID"), str(uid3).encode(), "UID FETCH sends UID")
    is_(imap.unliteral(g[M]["BODY[3.HEADER]"]), INNER_HDR,
        "UID FETCH BODY.PEEK[3.HEADER]")
    is_(g[M]["BODYSTRUCTURE"], MIXED_BS, "UID FETCH BODYSTRUCTURE")
    g, t = fetch(r, "UID FETCH 1:* (BODY.PEEK[1]<0.5>)")
    is_(sorted(g), [1, 2, 3], "UID FETCH 1:* answers every message")
    is_([imap.unliteral(g[k]["BODY[1]<0>"]) for k in (P, E, M)],
        [b"Hello", b"ok\r\n", b"Hello"], "BODY[1]<0.5> of each")

    # macros
    g, t = fetch(r, "FETCH %d ALL" % M)
    is_(sorted(g[M]), ["ENVELOPE", "FLAGS", "INTERNALDATE", "RFC822.SIZE"],
        "ALL")
    is_(g[M]["ENVELOPE"], b'(NIL "mixed" ((NIL NIL "a" "example.com")) '
        b'((NIL NIL "a" "example.com")) ((NIL NIL "a" "example.com")) '
        b'((NIL NIL "b" "example.com")) NIL NIL NIL NIL)', "ALL: ENVELOPE")
    g, t = fetch(r, "FETCH %d FULL" % M)
    is_(g[M].get("BODY"), MIXED_BODY, "FULL has BODY")
    g, t = fetch(r, "FETCH %d FAST" % M)
    ok("ENVELOPE" not in g[M], "FAST has no ENVELOPE")

    # a second BODYSTRUCTURE/ENVELOPE does not read the file: take it
    # away for a moment and the cached answer still comes
    fetch(r, "FETCH %d (ENVELOPE BODYSTRUCTURE)" % M)
    cur = os.path.join(imap.maildir(inst), "cur")
    f = [n for n in os.listdir(cur) if n.startswith("1800000000.")][0]
    os.rename(os.path.join(cur, f), os.path.join(imap.maildir(inst), f))
    g, t = fetch(r, "FETCH %d (BODYSTRUCTURE ENVELOPE)" % M)
    ok(t.startswith("a OK") and g.get(M, {}).get("BODYSTRUCTURE") ==
       MIXED_BS, "cached BODYSTRUCTURE served without the file: %s" % t)
    g, t = fetch(r, "FETCH %d (BODY.PEEK[1])" % M)
    ok(t.startswith("a NO"), "a section does need the file: %s" % t)
    os.rename(os.path.join(imap.maildir(inst), f), os.path.join(cur, f))

    # after an EXPUNGE the cache holds nothing stale
    r.cmd("STORE %d +FLAGS.SILENT (\\Deleted)" % E)
    res, t = r.responses("EXPUNGE")
    ok(t.startswith("a OK"), "EXPUNGE")
    g, t = fetch(r, "FETCH 1:* (BODYSTRUCTURE UID)")
    m2 = [it for it in g.values() if it["UID"] == str(uid3).encode()]
    is_(len(g), 2, "two messages left")
    is_(m2 and m2[0]["BODYSTRUCTURE"], MIXED_BS,
        "after EXPUNGE, the mixed one still answers right")

    # malformed sections and items: BAD
    for what in ("BODY[1.]", "BODY[0]", "BODY[1..2]", "BODY[01]",
                 "BODY[HEADER.FIELDS ()]", "BODY[HEADER.FIELDS]",
                 "BODY[HEADER.FIELDS (From]", "BODY[FOO]", "BODY[MIME]",
                 "BODY[1.FOO]", "BODY[1]<5>", "BODY[]<1.0>",
                 "BODY[TEXT]<-1.5>", "BODY[TEXT]<1.5>x", "BODY[ 1]",
                 "BODY.PEEK", "BODY.PEEK[TEXT", "BODYSTRUCTURE[1]",
                 "ENVELOPE.PEEK", "BODY[TEXT ]"):
        res, t = r.responses("FETCH 1 (%s)" % what)
        ok(t.startswith("a BAD") and not res, "BAD for %s: %s" % (what, t))

    # Header-only reads (FETCH of header sections, SEARCH of header
    # keys read no further than the blank line): a header over the read
    # size, a blank line that falls on the read boundary, a message with
    # no body at all, and one with no blank line.
    c.create("Hdr")
    big = b"".join(b"Received: from relay%d.example by mx.example; "
                   b"Mon, 7 Feb 2022 21:52:25 +0000\n" % k
                   for k in range(300))
    big += b"Subject: big header\n\nthe body\n"
    pad = b"X-Pad: " + b"p" * (8192 - 7 - 1 - len(b"Subject: edge\n")) + \
        b"\nSubject: edge\n"
    edge = pad + b"\nbody after the edge\n"
    nobody = b"Subject: no body\n\n"
    noblank = b"Subject: no blank line\nX-Other: yes\n"
    names = [imap.deliver(inst, m, folder="Hdr")
             for m in (big, edge, nobody, noblank)]
    r.cmd("SELECT Hdr")
    for k, m in enumerate((big, edge, nobody, noblank), 1):
        want = crlf(m.split(b"\n\n", 1)[0] + b"\n\n") if b"\n\n" in m \
            else crlf(m)
        g, t = fetch(r, "FETCH %d (BODY.PEEK[HEADER])" % k)
        is_(imap.unliteral(g[k]["BODY[HEADER]"]), want,
            "header-only FETCH, message %d (%d bytes)" % (k, len(m)))
        g, t = fetch(r, "FETCH %d (BODY.PEEK[HEADER.FIELDS (Subject)] "
                     "BODY.PEEK[TEXT])" % k)
        subj = [ln for ln in crlf(m).split(b"\r\n")
                if ln.startswith(b"Subject:")][0]
        is_(imap.unliteral(g[k]["BODY[HEADER.FIELDS (Subject)]"]),
            subj + b"\r\n\r\n", "HEADER.FIELDS beside TEXT, message %d" % k)
        body = crlf(m)[len(want):] if b"\n\n" in m else b""
        is_(imap.unliteral(g[k]["BODY[TEXT]"]) if body else
            g[k]["BODY[TEXT]"], body if body else b'""',
            "TEXT still whole, message %d" % k)
    res, t = r.responses('SEARCH SUBJECT "edge"')
    ok(res and res[0].split()[2:] == [b"2"], "SEARCH on a header past "
       "8 KB: %r" % res)
    res, t = r.responses('SEARCH SUBJECT "big header"')
    ok(res and res[0].split()[2:] == [b"1"], "SEARCH under 300 Received "
       "lines: %r" % res)
    res, t = r.responses('SEARCH BODY "after the edge"')
    ok(res and res[0].split()[2:] == [b"2"], "SEARCH BODY reads on: %r" %
       res)

    r.cmd("LOGOUT")
    r.close()
    c.logout()
done()
