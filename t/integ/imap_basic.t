#!/usr/bin/env python3
# imapd through Python's imaplib: greeting and CAPABILITY, LOGIN and
# AUTHENTICATE, special folders at first login, LIST/LSUB/CREATE/DELETE/
# RENAME/SUBSCRIBE/STATUS, APPEND then FETCH round trip (flags, date,
# sections, partial), STORE, SEARCH, COPY/MOVE with UIDPLUS, EXPUNGE,
# CLOSE/UNSELECT, NAMESPACE, ID, ENABLE, QUOTA, STARTTLS and 993.
import imaplib
import os
import ssl
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done, diag          # noqa: E402
import imap                                  # noqa: E402

inst = imap.instance()
MSG = ("From: Bob <bob@example.com>\r\nTo: alice@example.com\r\n"
       "Subject: hello there\r\nDate: Mon, 7 Feb 1994 21:52:25 -0800\r\n"
       "\r\nBody line one\r\nsecond line\r\n")

with inst:
    inst.start()
    port = inst.port("imap")
    c = imaplib.IMAP4("127.0.0.1", port)
    caps = c.capabilities
    for cap in ("IMAP4REV1", "IDLE", "UIDPLUS", "MOVE", "NAMESPACE",
                "SPECIAL-USE", "LITERAL+", "ENABLE", "UNSELECT", "ID",
                "CHILDREN", "QUOTA", "STARTTLS", "AUTH=PLAIN"):
        ok(cap in caps, "capability " + cap)
    try:
        c.login("alice@example.com", "wrong")
        ok(False, "wrong password refused")
    except imaplib.IMAP4.error as e:
        ok("AUTHENTICATIONFAILED" in str(e), "wrong password refused")
    typ, _ = c.login("alice@example.com", imap.PW)
    is_(typ, "OK", "LOGIN")
    typ, data = c.list()
    names = [d.decode() for d in data]
    diag("\n".join(names))
    for f, attr in (("Sent", "\\Sent"), ("Drafts", "\\Drafts"),
                    ("Trash", "\\Trash"), ("Junk", "\\Junk"),
                    ("Archive", "\\Archive")):
        ok(any(n.endswith('"%s"' % f) and attr in n for n in names),
           "special folder %s with %s" % (f, attr))
    ok(any(n.endswith('"INBOX"') for n in names), "INBOX listed")
    typ, data = c.lsub()
    is_(len(data), 6, "six subscriptions at first login")

    # folders
    is_(c.create("Work")[0], "OK", "CREATE Work")
    is_(c.create("Work.Projects")[0], "OK", "CREATE Work.Projects")
    is_(c.create("Work")[0], "NO", "CREATE existing: NO")
    is_(c.create("../evil")[0], "NO", "CREATE with .. refused")
    is_(c.create("a/b")[0], "NO", "CREATE with / refused")
    typ, data = c.list('""', "Work*")
    ok(any(b"\\HasChildren" in d and d.endswith(b'"Work"') for d in data),
       "Work has children")
    typ, data = c.list('""', "%")
    ok(not any(b"Work.Projects" in d for d in data), "% stops at '.'")
    is_(c.rename("Work", "Job")[0], "OK", "RENAME Work Job")
    typ, data = c.list('""', "*")
    ok(any(d.endswith(b'"Job.Projects"') for d in data),
       "children renamed too")
    is_(c.delete("Job")[0], "NO", "DELETE with children refused")
    is_(c.delete("Job.Projects")[0], "OK", "DELETE child")
    is_(c.delete("Job")[0], "OK", "DELETE")
    is_(c.delete("INBOX")[0], "NO", "DELETE INBOX refused")
    is_(c.create("Bl&AOU-b&AOY-r")[0], "OK", "CREATE modified UTF-7 name")
    is_(c.subscribe("Bl&AOU-b&AOY-r")[0], "OK", "SUBSCRIBE")
    typ, data = c.lsub('""', "Bl*")
    is_(len([d for d in data if d]), 1, "LSUB shows it")
    is_(c.unsubscribe("Bl&AOU-b&AOY-r")[0], "OK", "UNSUBSCRIBE")

    # APPEND and FETCH
    typ, data = c.append("INBOX", "(\\Flagged)",
                         imaplib.Time2Internaldate(784273945), MSG.encode())
    is_(typ, "OK", "APPEND")
    ok(b"APPENDUID" in data[0], "APPENDUID given: %r" % data[0])
    is_(c.append("Nope", None, None, MSG.encode())[1][0][:10],
        b"[TRYCREATE", "APPEND to a missing folder: TRYCREATE")
    typ, data = c.status("INBOX", "(MESSAGES UNSEEN UIDNEXT UIDVALIDITY)")
    ok(b"MESSAGES 1" in data[0] and b"UNSEEN 1" in data[0],
       "STATUS: %r" % data[0])
    typ, data = c.select("INBOX")
    is_(data, [b"1"], "SELECT: 1 message")
    typ, data = c.fetch("1", "(FLAGS INTERNALDATE RFC822.SIZE UID)")
    d = data[0]
    ok(b"\\Flagged" in d, "flag from APPEND kept")
    ok(b"RFC822.SIZE %d" % len(MSG) in d, "RFC822.SIZE in CRLF octets")
    ok(b"08-Nov-1994" in d or b"07-Nov-1994" in d or b"1994" in d,
       "INTERNALDATE from APPEND: %r" % d)
    typ, data = c.fetch("1", "(BODY.PEEK[])")
    is_(data[0][1], MSG.encode(), "BODY.PEEK[] gives the message back")
    typ, data = c.fetch("1", "(FLAGS)")
    ok(b"\\Seen" not in data[0], "PEEK does not set \\Seen")
    typ, data = c.fetch("1", "(BODY[HEADER.FIELDS (SUBJECT FROM)])")
    is_(data[0][1], b"From: Bob <bob@example.com>\r\n"
        b"Subject: hello there\r\n\r\n", "HEADER.FIELDS")
    typ, data = c.fetch("1", "(BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT FROM "
                        "DATE)])")
    is_(data[0][1], b"To: alice@example.com\r\n\r\n", "HEADER.FIELDS.NOT")
    typ, data = c.fetch("1", "(BODY.PEEK[TEXT]<5.8>)")
    is_(data[0][1], b"line one", "TEXT partial")
    typ, data = c.fetch("1", "(RFC822.HEADER)")
    ok(data[0][1].endswith(b"\r\n\r\n"), "RFC822.HEADER")
    typ, data = c.fetch("1", "(FLAGS)")
    ok(b"\\Seen" in data[0], "BODY[...] set \\Seen")
    try:
        c.fetch("2", "FLAGS")
        ok(False, "FETCH of a sequence number beyond the last: BAD")
    except imaplib.IMAP4.error as e:
        ok("BAD" in str(e), "FETCH of a sequence number beyond the last: BAD")

    # STORE, SEARCH
    typ, data = c.store("1", "-FLAGS", "(\\Seen)")
    ok(b"\\Seen" not in data[0], "-FLAGS")
    typ, data = c.store("1", "+FLAGS", "(\\Answered \\Draft)")
    ok(b"\\Answered" in data[0] and b"\\Draft" in data[0], "+FLAGS")
    cur = os.listdir(os.path.join(imap.maildir(inst), "cur"))
    ok(any(n.endswith(":2,DFR") for n in cur),
       "flags in the file name: %r" % cur)
    c.append("INBOX", None, None, b"Subject: other\r\nFrom: carol@x\r\n\r\n"
             b"nothing to see\r\n")
    c.noop()
    for crit, want in (("ALL", b"1 2"), ("FLAGGED", b"1"), ("UNFLAGGED",
                       b"2"), ('SUBJECT "HELLO"', b"1"), ("FROM carol",
                       b"2"), ("BODY line", b"1"), ("TEXT nothing", b"2"),
                       ("OR FLAGGED SUBJECT other", b"1 2"),
                       ("NOT (FLAGGED)", b"2"), ("LARGER 50", b"1"),
                       ("SENTON 7-Feb-1994", b"1"), ("UID 1:*", b"1 2"),
                       ("2:*", b"2"), ('HEADER To "alice"', b"1")):
        typ, data = c.search(None, crit)
        is_(data[0], want, "SEARCH " + crit)
    typ, data = c.search("UTF-8", "SUBJECT", "hello")
    is_(data[0], b"1", "SEARCH CHARSET UTF-8")
    typ, data = c.uid("SEARCH", "ALL")
    is_(len(data[0].split()), 2, "UID SEARCH")

    # COPY, MOVE, EXPUNGE
    typ, data = c.copy("1", "Archive")
    ok(typ == "OK" and b"COPYUID" in data[0], "COPY with COPYUID")
    typ, data = c._simple_command("MOVE", "2", "Trash")
    is_(typ, "OK", "MOVE")
    typ, data = c.select("INBOX")
    is_(data, [b"1"], "MOVE took the message out")
    typ, _ = c.status("Trash", "(MESSAGES)")
    c.store("1", "+FLAGS", "\\Deleted")
    typ, data = c.expunge()
    is_(data, [b"1"], "EXPUNGE reports 1")
    typ, data = c.select("Archive", readonly=True)
    is_(data, [b"1"], "EXAMINE Archive: the copy")
    typ, data = c.store("1", "+FLAGS", "\\Seen")
    is_(typ, "NO", "STORE in a read-only folder")
    is_(c.unselect()[0] if hasattr(c, "unselect") else
        c._simple_command("UNSELECT")[0], "OK", "UNSELECT")
    c.select("Trash")
    is_(c.close()[0], "OK", "CLOSE")

    # misc
    typ, data = c.namespace()
    is_(data[0], b'(("" ".")) NIL NIL', "NAMESPACE")
    typ, data = c.xatom("ID", "NIL")
    is_(typ, "OK", "ID")
    typ, data = c.enable("CONDSTORE")
    is_(typ, "OK", "ENABLE CONDSTORE")
    typ, data = c.getquotaroot("INBOX")
    is_(typ, "OK", "GETQUOTAROOT")
    is_(c.logout()[0], "BYE", "LOGOUT")

    # AUTHENTICATE PLAIN (SASL-IR) and STARTTLS, 993
    c = imaplib.IMAP4("127.0.0.1", port)
    c.starttls(smtp_ctx := ssl.create_default_context(
        cafile=inst.path("cert.pem")))
    ok("STARTTLS" not in c.capabilities, "no STARTTLS after STARTTLS")
    is_(c.authenticate("PLAIN", lambda _: "\0alice@example.com\0" + imap.PW)
        [0], "OK", "AUTHENTICATE PLAIN over STARTTLS")
    c.logout()
    c = imaplib.IMAP4_SSL("127.0.0.1", inst.port("imaps"),
                          ssl_context=smtp_ctx)
    is_(c.login("bob@example.com", imap.USERS["bob@example.com"])[0], "OK",
        "LOGIN over 993")
    c.logout()
    ok("login user=alice@example.com" in inst.log("imap"), "login logged")
    ok("Alice-pw1" not in inst.log("imap"), "no password in the log")
done()
