#!/usr/bin/env python3
# smtpd's sender and recipient policy through real sessions: blocked
# senders with wildcards, which senders a logged-in user may use, a
# domain's require_smtp_auth with and without smtp_auth_local_deliveries,
# disabled domains and users, a full mailbox (Maildir++ maildirsize) with
# both smtp_over_quota answers, catch-all on and off, domain aliases,
# postmaster, the list address, per-domain recipient and size limits,
# VRFY, a message accepted into the spool, and smtpd refusing to start
# with a bad list.
import base64
import os
import re
import signal
import socket
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, diag, done         # noqa: E402
from tern import wait_for                    # noqa: E402
import authmaps                              # noqa: E402
import cdbw                                  # noqa: E402
import smtp                                  # noqa: E402

ANON, WHITE, BYPASS = "127.0.0.1", "127.0.0.2", "127.0.0.4"
PW = {"alice@local.example": "Alice-pw1", "carol@auth.example": "Carol-pw2",
      "dave@small.example": "Dave-pw3", "spammer@local.example": "Spam-pw4"}

inst = smtp.instance(conf={
    "smtp_auth_without_tls": "yes",
    "smtp_vrfy": "yes",
    "smtp_whitelist": WHITE,
    "smtp_auth_bypass": BYPASS,
    "smtp_max_bad_recipients": "0",
    "smtp_blocked_senders": "spammer@local.example *.spam.example "
                            "blocked.example bad*@remote.example",
})
FOLDER = inst.path("folders", "local.example")


def owner():
    if os.geteuid() != 0:
        return None
    import pwd
    pw = pwd.getpwnam(inst.conf["mail_user"])
    return (pw.pw_uid, pw.pw_gid)


def user(quota=0, disabled=0):
    return {"name": "", "quota": str(quota), "disabled": str(disabled)}


def write_maps():
    base = {"disabled": "0", "require_smtp_auth": "0",
            "enable_catchalls": "0", "catchall": "", "list_address": "",
            "max_message_size": "0", "max_recipients": "0"}

    def dom(**kw):
        d = dict(base)
        d.update(kw)
        return d
    authmaps.write_maps(
        inst.path("state", "maps"),
        domains={"local.example": dom(folder_path=FOLDER,
                                      list_address="lists"),
                 "alias.example": "local.example",
                 "auth.example": dom(require_smtp_auth="1"),
                 "off.example": dom(disabled="1"),
                 "small.example": dom(max_recipients="3",
                                      max_message_size="2000"),
                 "catch.example": dom(enable_catchalls="1",
                                      catchall="bob@catch.example"),
                 "nocatch.example": dom()},
        users={"alice@local.example": user(),
               "bob@local.example": user(disabled=1),
               "full@local.example": user(quota=1000),
               "near@local.example": user(quota=1000),
               "spammer@local.example": user(),
               "carol@auth.example": user(),
               "dave@small.example": user(),
               "bob@catch.example": user(),
               "eve@off.example": user()},
        passwd={u: authmaps.hash_password(p, "$6$") for u, p in PW.items()},
        cram={}, owner=owner())
    cdbw.write(inst.path("state", "maps", "aliases.cdb"),
               [(b"sales@local.example", b"alice@local.example\n"
                 b"x@remote.example\n"),
                (b"team@local.example", b"carol@auth.example\n")])
    for name, text in (("full", "1000S\n600 3\n400 2\n"),
                       ("near", "1000S\n900 3\n")):
        os.makedirs(os.path.join(FOLDER, name), exist_ok=True)
        with open(os.path.join(FOLDER, name, "maildirsize"), "w") as f:
            f.write(text)


class Client(smtp.Client):
    """smtp.Client from a chosen loopback source address."""

    def __init__(self, port, src, timeout=20):
        self.s = socket.create_connection(("127.0.0.1", port),
                                          timeout=timeout,
                                          source_address=(src, 0))
        self.f = self.s.makefile("rb")
        self.greeting = self.reply()


def session(src=ANON, login=None, service="smtp"):
    c = Client(inst.port(service), src)
    code, lines = c.cmd("EHLO client.test")
    assert code == 250, (code, lines)
    if login is not None:
        cred = base64.b64encode(("\0%s\0%s" % (login, PW[login])).encode())
        code, lines = c.cmd("AUTH PLAIN " + cred.decode())
        assert code == 235, (code, lines)
    return c


def text(code, lines):
    return "ok" if code == 250 else "%d %s" % (code, lines[-1])


def mail(c, sender, params=""):
    c.cmd("RSET")
    return text(*c.cmd("MAIL FROM:<%s>%s" % (sender, params)))


def rcpt(c, to):
    return text(*c.cmd("RCPT TO:<%s>" % to))


def tx(c, sender, to):
    r = mail(c, sender)
    return r if r != "ok" else rcpt(c, to)


def reloads():
    log = inst.log("smtp")
    return (len(re.findall(r" smtp: reloaded", log)),
            len(re.findall(r" submission: reloaded", log)))


def reconfigure(**keys):
    before = reloads()
    inst.conf.update(keys)
    inst.write_conf()
    inst.signal(signal.SIGHUP)
    wait_for(lambda: all(a > b for a, b in zip(reloads(), before)),
             what="smtpd to reload")


def test_blocked_senders():
    c = session()
    blocked = ["spammer@local.example", "SPAMMER@Local.Example",
               "spammer@alias.example", "x@a.spam.example",
               "x@deep.sub.spam.example", "anyone@blocked.example",
               "bad@remote.example", "BadGuy@Remote.Example"]
    for s in blocked:
        r = mail(c, s)
        ok(r.startswith("554 5.7.1 ") and r.endswith(
            ": Sender address blocked"), "blocked sender <%s>: %s" % (s, r))
    for s in ("x@spam.example", "goodguy@remote.example",
              "anyone@sub.blocked.example", "alice@local.example", ""):
        is_(mail(c, s), "ok", "not blocked: <%s>" % s)
    c.close()
    c = session(login="spammer@local.example")
    is_(mail(c, "spammer@local.example"),
        "554 5.7.1 <spammer@local.example>: Sender address blocked",
        "a blocked user cannot send even after logging in")
    c.close()


def test_ownership():
    c = session(login="alice@local.example")
    for s, why in (("alice@local.example", "its own address"),
                   ("Alice@LOCAL.example", "its own address, any case"),
                   ("alice@alias.example", "its own address via the domain alias"),
                   ("sales@local.example", "an alias that delivers to it"),
                   ("", "the null sender")):
        is_(mail(c, s), "ok", "logged-in alice may send as %s" % why)
    for s, why in (("team@local.example", "an alias for someone else"),
                   ("bob@local.example", "another user"),
                   ("carol@auth.example", "a user of another domain"),
                   ("alice@remote.example", "a remote address")):
        is_(mail(c, s), "553 5.7.1 Sender address not owned by user "
            "<alice@local.example>", "... but not as %s" % why)
    c.close()
    c = session(BYPASS)
    is_(mail(c, "carol@auth.example"), "ok",
        "smtp_auth_bypass (no login): any sender")
    c.close()


def test_require_auth():
    c = session()
    is_(tx(c, "carol@auth.example", "alice@local.example"), "ok",
        "require_smtp_auth: a local recipient without login is taken")
    is_(tx(c, "carol@auth.example", "x@remote.example"),
        "530 5.7.0 Authentication required",
        "... mail leaving needs a login")
    c.close()
    c = session(login="carol@auth.example")
    is_(tx(c, "carol@auth.example", "x@remote.example"), "ok",
        "... which carol has")
    c.close()
    reconfigure(smtp_auth_local_deliveries="yes")
    c = session()
    is_(mail(c, "carol@auth.example"), "530 5.7.0 Authentication required",
        "smtp_auth_local_deliveries: refused at MAIL, local or not")
    is_(tx(c, "alice@local.example", "carol@auth.example"), "ok",
        "... mail from other domains to it is not")
    c.close()
    for who, src in (("whitelisted", WHITE), ("bypass", BYPASS)):
        c = session(src)
        is_(tx(c, "carol@auth.example", "alice@local.example"), "ok",
            "... a %s client is exempt" % who)
        c.close()
    c = session(login="carol@auth.example")
    is_(tx(c, "carol@auth.example", "alice@local.example"), "ok",
        "... and so is carol once logged in")
    c.close()
    reconfigure(smtp_auth_local_deliveries="no")


def test_disabled():
    c = session()
    is_(tx(c, "x@remote.example", "eve@off.example"),
        "550 5.2.1 <eve@off.example>: Mailbox unavailable (domain "
        "disabled)", "recipient in a disabled domain")
    is_(tx(c, "x@remote.example", "postmaster@off.example")[:9],
        "550 5.2.1", "... even postmaster")
    is_(mail(c, "eve@off.example"),
        "550 5.7.1 <eve@off.example>: Sender domain is disabled",
        "sender in a disabled domain")
    is_(tx(c, "x@remote.example", "bob@local.example"),
        "550 5.2.1 <bob@local.example>: Mailbox unavailable (account "
        "disabled)", "disabled user")
    c.close()


def test_quota():
    c = session()
    is_(tx(c, "x@remote.example", "full@local.example"),
        "452 4.2.2 <full@local.example>: Mailbox full, try again later",
        "mailbox at its quota: 452 4.2.2")
    is_(tx(c, "x@remote.example", "near@local.example"), "ok",
        "below its quota: taken")
    is_(mail(c, "x@remote.example", " SIZE=100"), "ok", "MAIL SIZE=100")
    is_(rcpt(c, "near@local.example"), "ok", "... fits exactly")
    is_(mail(c, "x@remote.example", " SIZE=101"), "ok", "MAIL SIZE=101")
    is_(rcpt(c, "near@local.example")[:9], "452 4.2.2",
        "... one byte too many")
    c.close()
    reconfigure(smtp_over_quota="permanent")
    c = session()
    is_(tx(c, "x@remote.example", "full@local.example"),
        "552 5.2.2 <full@local.example>: Mailbox full",
        "smtp_over_quota = permanent: 552 5.2.2")
    c.close()
    reconfigure(smtp_over_quota="temporary")


def test_recipients():
    c = session()
    is_(mail(c, "x@remote.example"), "ok", "MAIL from a remote sender")
    for to, why in (("alice@local.example", "a user"),
                    ("ALICE@LOCAL.EXAMPLE", "a user in capitals"),
                    ("alice@alias.example", "a user through a domain alias"),
                    ("sales@alias.example", "an alias through it"),
                    ("lists@local.example", "the list_address"),
                    ("postmaster@local.example", "postmaster@ (no user)"),
                    ("PostMaster@alias.example", "postmaster@, any case, via alias"),
                    ("Postmaster", "bare <Postmaster>"),
                    ("anything@catch.example", "a catch-all domain"),
                    ("bob@catch.example", "the catch-all's target")):
        is_(rcpt(c, to), "ok", "RCPT to %s" % why)
    for to in ("nobody@local.example", "nobody@alias.example",
               "anything@nocatch.example"):
        is_(rcpt(c, to), "550 5.1.1 <%s>: User unknown" % to,
            "unknown: <%s>" % to)
    c.close()


def test_limits():
    c = session(login="dave@small.example")
    code, lines = c.cmd("MAIL FROM:<dave@small.example> SIZE=2001")
    is_(text(code, lines), "552 5.3.4 Message size exceeds fixed maximum "
        "message size (2000 bytes)", "SIZE over the domain's "
        "max_message_size")
    is_(mail(c, "dave@small.example", " SIZE=2000"), "ok",
        "SIZE at the domain's limit")
    got = [rcpt(c, "r%d@remote.example" % i) for i in range(3)]
    is_(got, ["ok"] * 3, "three recipients (max_recipients = 3)")
    is_(rcpt(c, "alice@local.example"), "452 4.5.3 Too many recipients",
        "the fourth: 452 4.5.3")
    c.close()
    c = session()
    is_(mail(c, "x@remote.example", " SIZE=2001"), "ok",
        "other senders: the global limit")
    c.close()


def test_vrfy():
    c = session()
    for arg, want in (("alice@local.example", "250 2.1.5 "
                       "<alice@local.example>"),
                      ("sales@alias.example", "250 2.1.5 "
                       "<sales@alias.example>"),
                      ("nobody@local.example", "550 5.1.1 "
                       "<nobody@local.example>: User unknown"),
                      ("bob@local.example", "550 5.2.1 <bob@local.example>: "
                       "Mailbox unavailable (account disabled)"),
                      ("who@catch.example", "252 2.1.5 Cannot VRFY user, "
                       "but will accept message"),
                      ("x@remote.example", "252 2.1.5 Cannot VRFY user, "
                       "but will accept message")):
        code, lines = c.cmd("VRFY " + arg)
        is_("%d %s" % (code, lines[-1]), want, "VRFY %s" % arg)
    c.close()


def test_accepted():
    c = session()
    r = smtp.send_message(c, "x@remote.example",
                          ["alice@alias.example", "sales@local.example",
                           "postmaster@local.example"],
                          "Subject: policy\r\n\r\nhello")
    is_(r[0], 250, "a message to three kinds of local recipient: 250")
    c.close()
    msgs = list(smtp.spool(inst).values())
    ok(len(msgs) == 1 and [x["addr"] for x in msgs[0].rcpts] ==
       ["alice@alias.example", "sales@local.example",
        "postmaster@local.example"], "... spooled with the recipients as "
       "given")


def test_bad_list_at_start():
    bad = smtp.instance(conf={"smtp_blocked_senders": "ok.example user@"})
    with bad:
        bad.start(wait=False)
        wait_for(lambda: "policy: smtp_blocked_senders: 'user@': empty "
                 "domain" in bad.log("smtp"), what="smtpd's start error")
        ok(True, "a bad list: smtpd does not start, and says which item")


with inst:
    write_maps()
    inst.start()
    test_blocked_senders()
    test_ownership()
    test_require_auth()
    test_disabled()
    test_quota()
    test_recipients()
    test_limits()
    test_vrfy()
    test_accepted()
test_bad_list_at_start()
done()
