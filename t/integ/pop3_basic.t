#!/usr/bin/env python3
# pop3d with Python's poplib: every command in every state (RFC 1939,
# CAPA of RFC 2449), the errors (wrong state, bad numbers, DELE twice,
# RETR of a deleted message, TOP 0, LIST and UIDL with and without an
# argument), sizes with CRLF, dot-stuffing, RSET then QUIT keeping
# everything, QUIT deleting, AUTH PLAIN both ways, logins through a
# domain alias and a domain with its own folder_path, and a user who has
# no maildir yet.
import base64
import os
import poplib
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
import pop3                             # noqa: E402


def err(fn, *a):
    """The -ERR line fn raised, or None when it succeeded."""
    try:
        fn(*a)
    except poplib.error_proto as e:
        return e.args[0].decode()
    return None


def b64(s):
    return base64.b64encode(s.encode()).decode()


inst = pop3.instance(conf={"pop_max_bad_commands": "100"})
with inst:
    inst.start()
    box = pop3.Maildir(inst, "alice@example.com")
    msgs = [pop3.message(i) for i in range(1, 4)]
    msgs.append(b"Subject: dots\n\n.leading dot\n..two\n.\nend\n")
    msgs.append(b"Subject: no final newline\n\nlast line")
    for m in msgs:
        box.add(m)

    # AUTHORIZATION state.
    p = pop3.connect(inst)
    ok(p.getwelcome().startswith(b"+OK"), "greeting: %r" % p.getwelcome())
    caps = p.capa()
    for c in ("TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING",
              "USER", "SASL", "STLS", "IMPLEMENTATION", "EXPIRE"):
        ok(c in caps, "CAPA before login lists %s" % c)
    is_(caps.get("SASL"), ["PLAIN"], "SASL PLAIN offered")
    is_(caps.get("EXPIRE"), ["NEVER"], "EXPIRE NEVER by default")
    ok("LOGIN-DELAY" not in caps, "no LOGIN-DELAY when not configured")
    for cmd in ("STAT", "LIST", "UIDL", "RETR 1", "DELE 1", "NOOP", "RSET",
                "TOP 1 0"):
        e = err(p._shortcmd, cmd)
        ok(e is not None and e.startswith("-ERR"),
           "%s before login: %s" % (cmd, e))
    ok(err(p._shortcmd, "PASS x") is not None, "PASS without USER refused")
    e = err(p.user, "alice@example.com")
    ok(e is None, "USER accepted")
    e = err(p.pass_, "wrong password")
    ok(e is not None and e.startswith("-ERR [AUTH]"),
       "wrong password: " + str(e))
    e = err(p.user, "nobody@example.com")
    e = err(p.pass_, "whatever")
    ok(e is not None and e.startswith("-ERR [AUTH]"),
       "unknown user: " + str(e))
    p.user("alice@example.com")
    resp = p.pass_(pop3.USERS["alice@example.com"])
    ok(resp.startswith(b"+OK"), "logged in: %r" % resp)

    # TRANSACTION state.
    caps = p.capa()
    ok("USER" not in caps and "STLS" not in caps and "SASL" not in caps,
       "CAPA after login drops USER, SASL and STLS")
    ok("TOP" in caps and "UIDL" in caps, "and keeps TOP and UIDL")
    sizes = [pop3.crlf_size(m) for m in msgs]
    # A message without a final newline is counted as its bytes: the
    # CRLF RETR adds before "." is the terminator's.
    is_(p.stat(), (5, sum(sizes)), "STAT counts and CRLF sizes")
    resp, lines, _ = p.list()
    is_([ln.decode() for ln in lines],
        ["%d %d" % (i + 1, s) for i, s in enumerate(sizes)],
        "LIST without argument")
    is_(p.list(2), b"+OK 2 %d" % sizes[1], "LIST 2")
    resp, ulines, _ = p.uidl()
    uids = [ln.split()[1].decode() for ln in ulines]
    is_(len(set(uids)), 5, "UIDL: five different ids")
    files = box.files("cur")
    ok(all(any(f.startswith(u + ":") for f in files) for u in uids),
       "UIDLs are the maildir base names")
    ok(all(1 <= len(u) <= 70 and all(0x21 <= ord(c) <= 0x7e for c in u)
           for u in uids), "UIDLs fit RFC 1939")
    is_(p.uidl(3), ("+OK 3 " + uids[2]).encode(), "UIDL 3")
    is_(box.files("new"), [], "new/ emptied at login")
    ok(all(f.endswith(":2,") for f in files), "moved to cur/ with :2,")

    resp, lines, octets = p.retr(1)
    ok(resp.startswith(b"+OK"), "RETR 1: %r" % resp)
    is_(b"\n".join(lines) + b"\n", msgs[0], "RETR 1 content")
    resp, lines, octets = p.retr(4)
    is_(lines, [b"Subject: dots", b"", b".leading dot", b"..two", b".",
                b"end"], "dot-stuffing undone by the client")
    resp, lines, octets = p.retr(5)
    is_(lines[-1], b"last line", "a message without a final newline")
    resp, lines, _ = p.top(1, 0)
    is_(lines, msgs[0].split(b"\n\n")[0].split(b"\n") + [b""],
        "TOP 1 0: header and the empty line")
    resp, lines, _ = p.top(2, 2)
    is_(lines[-2:], [b"line 0 of message 2", b"line 1 of message 2"],
        "TOP 2 2: two body lines")
    resp, lines, _ = p.top(3, 100)
    is_(b"\n".join(lines) + b"\n", msgs[2], "TOP with more lines than "
        "the body: the whole message")
    ok(err(p.top, 1, "x") is not None, "TOP with a bad line count")
    ok(err(p._shortcmd, "TOP 1") is not None, "TOP without a line count")

    # Errors in TRANSACTION.
    for cmd, what in (("RETR 9", "RETR of a message that is not there"),
                      ("RETR 0", "RETR 0"), ("RETR x", "RETR x"),
                      ("RETR -1", "RETR -1"), ("LIST 99", "LIST 99"),
                      ("UIDL 6", "UIDL 6"), ("DELE 6", "DELE 6"),
                      ("USER bob", "USER after login"),
                      ("PASS x", "PASS after login"),
                      ("STLS", "STLS after login"),
                      ("XYZZY", "unknown command")):
        e = err(p._shortcmd, cmd)
        ok(e is not None and e.startswith("-ERR"), "%s: %s" % (what, e))
    ok(p.dele(2).startswith(b"+OK"), "DELE 2")
    e = err(p.dele, 2)
    ok(e is not None and "deleted" in e, "DELE 2 twice: " + str(e))
    ok(err(p.retr, 2) is not None, "RETR of a deleted message")
    ok(err(p.top, 2, 0) is not None, "TOP of a deleted message")
    ok(err(p.list, 2) is not None, "LIST of a deleted message")
    is_(p.stat(), (4, sum(sizes) - sizes[1]), "STAT leaves it out")
    resp, lines, _ = p.list()
    ok(not any(ln.startswith(b"2 ") for ln in lines),
       "LIST leaves it out")
    ok(p.noop().startswith(b"+OK"), "NOOP")
    ok(p.rset().startswith(b"+OK"), "RSET")
    is_(p.stat(), (5, sum(sizes)), "RSET brought it back")
    p.dele(2)
    p.rset()
    ok(p.quit().startswith(b"+OK"), "QUIT after RSET")
    is_(len(box.files("cur")), 5, "RSET then QUIT keeps everything")
    seen = [f for f in box.files("cur") if f.endswith(":2,S")]
    is_(len(seen), 3, "the three messages retrieved are Seen: %r" % seen)

    # UIDLs are the same in the next session; DELE + QUIT removes.
    p = pop3.login(inst)
    is_([ln.split()[1].decode() for ln in p.uidl()[1]], uids,
        "same UIDLs next session")
    p.dele(1)
    p.dele(3)
    resp = p.quit()
    ok(resp.startswith(b"+OK") and b"2 messages deleted" in resp,
       "QUIT reports the deletions: %r" % resp)
    is_(len(box.files("cur")), 3, "two files removed")
    p = pop3.login(inst)
    is_([ln.split()[1].decode() for ln in p.uidl()[1]],
        [uids[1], uids[3], uids[4]], "renumbered, ids kept")
    p.quit()

    # QUIT in AUTHORIZATION deletes nothing and says goodbye.
    p = pop3.connect(inst)
    ok(p.quit().startswith(b"+OK"), "QUIT before login")

    # AUTH PLAIN: initial response, continuation, cancel, no mechanism.
    c = pop3.Raw(inst.port("pop3"))
    r = c.cmd("AUTH")
    ok(r.startswith("+OK"), "AUTH alone lists mechanisms")
    is_(c.multi(), ["PLAIN"], "PLAIN")
    is_(c.cmd("AUTH CRAM-MD5")[:4], "-ERR", "unknown mechanism refused")
    is_(c.cmd("AUTH PLAIN")[:1], "+", "AUTH PLAIN continuation")
    is_(c.cmd("*"), "-ERR Authentication cancelled", "cancelled")
    r = c.cmd("AUTH PLAIN " + b64("\0alice@example.com\0wrong"))
    ok(r.startswith("-ERR [AUTH]"), "AUTH PLAIN wrong password: " + r)
    c.cmd("AUTH PLAIN")
    r = c.cmd(b64("\0alice@example.com\0" +
                  pop3.USERS["alice@example.com"]))
    ok(r.startswith("+OK"), "AUTH PLAIN by continuation: " + r)
    is_(c.cmd("STAT"), "+OK 3 %d" % (sizes[1] + sizes[3] + sizes[4]),
        "STAT after AUTH PLAIN")
    c.cmd("QUIT")
    c.close()
    c = pop3.Raw(inst.port("pop3"))
    r = c.cmd("AUTH PLAIN " + b64("\0bob@example.net\0" +
                                  pop3.USERS["bob@example.com"]))
    ok(r.startswith("+OK") and "0 messages" in r,
       "login through a domain alias, no maildir yet: " + r)
    ok(os.path.isdir(inst.path("mail", "example.com", "bob", "cur")),
       "bob's maildir created at his first login")
    c.cmd("QUIT")
    c.close()

    # A domain with its own folder_path; upper-case login.
    carol = pop3.Maildir(inst, "carol@folder.example")
    carol.add(pop3.message(1))
    p = pop3.login(inst, "Carol@Folder.Example",
                   pop3.USERS["carol@folder.example"])
    is_(p.stat()[0], 1, "folder_path domain: the message is there")
    p.quit()
    log = inst.log("pop")
    ok("logged in as alice@example.com" in log, "logins logged")
    ok(pop3.USERS["alice@example.com"] not in log and
       pop3.USERS["alice@example.com"] not in inst.log("auth"),
       "no password in the logs")
done()
