#!/usr/bin/env python3
# IMAP keywords ($Forwarded, NonJunk ...): kept as the letters a-z in the
# maildir file names with the folder's tern-keywords naming them; APPEND,
# STORE +/-FLAGS, FLAGS/PERMANENTFLAGS (with \*) announced again when a
# keyword is added, another session seeing them, SEARCH KEYWORD and
# UNKEYWORD, case-insensitive names, COPY into a folder whose table
# differs, bad names answered BAD, the 26-keyword limit answered
# NO [LIMIT], and the MODSEQ moving with them (CONDSTORE).
import imaplib
import os
import re
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done              # noqa: E402
import imap                                # noqa: E402

MSG = b"Subject: kw\r\n\r\nbody\r\n"


def flags_of(c, num="1"):
    typ, data = c.fetch(num, "(FLAGS)")
    m = re.search(rb"FLAGS \(([^)]*)\)", data[0])
    return set(m.group(1).decode().split()) if m else None


def untagged(c, name):
    return [d.decode() for d in c.untagged_responses.pop(name, [])
            if d is not None]


inst = imap.instance(conf={"imap_max_bad_commands": "20"})
with inst:
    inst.start()
    c = imap.login(inst)
    typ, _ = c.select("INBOX")
    perm = " ".join(untagged(c, "OK"))
    ok("PERMANENTFLAGS (" in perm and "\\*" in perm,
       "PERMANENTFLAGS offers \\*: %s" % perm)

    typ, data = c.append("INBOX", "(\\Seen $Forwarded)", None, MSG)
    is_(typ, "OK", "APPEND with a keyword")
    c.noop()
    is_(flags_of(c), {"\\Seen", "$Forwarded"}, "FETCH FLAGS shows it")
    md = imap.maildir(inst)
    with open(os.path.join(md, "tern-keywords")) as f:
        is_(f.read(), "$Forwarded\n", "named in tern-keywords")
    names = os.listdir(os.path.join(md, "cur"))
    ok(len(names) == 1 and names[0].endswith(":2,Sa"),
       "the file name carries the letter: %r" % names)

    c.untagged_responses.clear()
    typ, data = c.store("1", "+FLAGS", "(NonJunk)")
    ok(b"NonJunk" in data[0], "STORE +FLAGS a new keyword: %r" % data[0])
    fl = untagged(c, "FLAGS")
    ok(fl and "NonJunk" in fl[-1] and "$Forwarded" in fl[-1],
       "FLAGS announced again with it: %r" % fl)
    is_(flags_of(c), {"\\Seen", "$Forwarded", "NonJunk"}, "both kept")

    d = imap.login(inst)
    d.select("INBOX")
    fl = untagged(d, "FLAGS")
    ok(fl and "NonJunk" in fl[0], "a second session's FLAGS list has it")
    is_(flags_of(d), {"\\Seen", "$Forwarded", "NonJunk"},
        "and sees the message's keywords")

    typ, data = c.search(None, "KEYWORD", "nonjunk")
    is_(data[0], b"1", "SEARCH KEYWORD, any case")
    typ, data = c.search(None, "UNKEYWORD", "NonJunk")
    is_(data[0], b"", "SEARCH UNKEYWORD")
    typ, data = c.search(None, "KEYWORD", "NeverSeen")
    is_(data[0], b"", "an unknown keyword matches nothing")

    typ, data = c.store("1", "+FLAGS", "(NONJUNK)")
    ok(b"NonJunk" in data[0] and b"NONJUNK" not in data[0],
       "names are case-insensitive; the first spelling stays")
    typ, data = c.fetch("1", "(MODSEQ)")
    before = int(re.search(rb"MODSEQ \((\d+)\)", data[0]).group(1))
    typ, data = c.store("1", "-FLAGS", "(NonJunk)")
    ok(b"NonJunk" not in data[0], "STORE -FLAGS removes it")
    typ, data = c.fetch("1", "(MODSEQ)")
    after = int(re.search(rb"MODSEQ \((\d+)\)", data[0]).group(1))
    ok(after > before, "MODSEQ moves with a keyword (%d > %d)" %
       (after, before))
    names = os.listdir(os.path.join(md, "cur"))
    ok(names[0].endswith(":2,Sa"), "letter gone from the name: %r" % names)
    d.noop()
    is_(flags_of(d), {"\\Seen", "$Forwarded"}, "the other session follows")

    # COPY into a folder whose table already holds another keyword
    c.create("Keep")
    c.append("Keep", "(Other)", None, MSG)
    typ, data = c.copy("1", "Keep")
    is_(typ, "OK", "COPY")
    with open(os.path.join(md, ".Keep", "tern-keywords")) as f:
        is_(f.read(), "Other\n$Forwarded\n", "the target's table grew")
    d.select("Keep")
    is_(flags_of(d, "2"), {"\\Seen", "$Forwarded"},
        "the copy keeps $Forwarded (letter b there)")
    kn = sorted(os.listdir(os.path.join(md, ".Keep", "cur")))
    ok(any(n.endswith(":2,Sb") for n in kn), "as letter b: %r" % kn)

    # bad names
    for bad in ("(bad])", "(\\Unknown)", "(a%b)"):
        try:
            c.store("1", "+FLAGS", bad)
            ok(False, "STORE %s: BAD" % bad)
        except imaplib.IMAP4.error as e:
            ok("BAD" in str(e),
               "STORE %s: BAD" % bad)

    # the limit: 26 per folder
    have = 2                            # $Forwarded, NonJunk
    for i in range(26 - have):
        typ, _ = c.store("1", "+FLAGS.SILENT", "(k%02d)" % i)
    is_(typ, "OK", "keywords up to the 26th")
    typ, data = c.store("1", "+FLAGS", "(OneTooMany)")
    ok(typ == "NO" and b"LIMIT" in data[0], "the 27th: NO [LIMIT] %r" %
       data)
    c.untagged_responses.clear()
    c.select("INBOX")
    perm = " ".join(untagged(c, "OK"))
    ok("PERMANENTFLAGS (" in perm and "\\*" not in perm,
       "a full table: no \\* in PERMANENTFLAGS")
    typ, data = c.store("1", "+FLAGS", "(k03)")
    is_(typ, "OK", "existing keywords still work when full")
    c.untagged_responses.clear()
    c.select("INBOX", readonly=True)
    perm = " ".join(untagged(c, "OK"))
    ok("PERMANENTFLAGS ()" in perm, "EXAMINE: PERMANENTFLAGS ()")

    # a crash mid-append left a torn line: the next keyword starts afresh
    c.create("Torn")
    tk = os.path.join(md, ".Torn", "tern-keywords")
    with open(tk, "w") as f:
        f.write("Alpha\nBro")
    imap.chown(inst, tk)
    is_(c.append("Torn", "(Gamma)", None, MSG)[0], "OK", "APPEND after "
        "a torn line")
    with open(tk) as f:
        is_(f.read(), "Alpha\nBro\nGamma\n", "the torn line kept whole")
    c.select("Torn")
    is_(flags_of(c), {"Gamma"}, "and the message has Gamma")
    c.logout()
    d.logout()
done()
