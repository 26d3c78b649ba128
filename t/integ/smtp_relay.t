#!/usr/bin/env python3
# Relaying through the real smtpd: the open-relay battery from an
# anonymous client (every form refused, nothing spooled), relay syntax
# refused for every client, the whitelist/blacklist at connect, the
# submission service, and every smtp_relay mode x
# smtp_relay_when_authenticated x client (anonymous, whitelisted,
# smtp_auth_bypass, logged in) x sender (local user, local domain,
# remote, null), switched by SIGHUP.  Clients come from different
# loopback addresses (127.0.0.x) so the address lists can tell them apart.
import base64
import os
import re
import signal
import smtplib
import socket
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, diag, done         # noqa: E402
from tern import wait_for                    # noqa: E402
import authmaps                              # noqa: E402
import cdbw                                  # noqa: E402
import smtp                                  # noqa: E402

ANON, WHITE, BLACK, BYPASS = "127.0.0.1", "127.0.0.2", "127.0.0.3", \
    "127.0.0.4"
PW = {"alice@local.example": "Alice-pw1", "boss@local.example": "Boss-pw2"}

inst = smtp.instance(conf={
    "smtp_auth_without_tls": "yes",
    # 127.0.0.2 is in both lists: the whitelist wins.
    "smtp_whitelist": WHITE,
    "smtp_blacklist": "127.0.0.2-127.0.0.3",
    "smtp_auth_bypass": BYPASS,
    "smtp_sender_any": "boss@local.example",
})


def write_maps():
    authmaps.write_maps(
        inst.path("state", "maps"),
        domains={"local.example": {"disabled": "0"},
                 "alias.example": "local.example"},
        users={u: {"name": "", "quota": "0", "disabled": "0"} for u in PW},
        passwd={u: authmaps.hash_password(p, "$6$") for u, p in PW.items()},
        cram={}, owner=smtp_owner())
    cdbw.write(inst.path("state", "maps", "aliases.cdb"),
               [(b"sales@local.example", b"alice@local.example\n")])


def smtp_owner():
    if os.geteuid() != 0:
        return None
    import pwd
    pw = pwd.getpwnam(inst.conf["mail_user"])
    return (pw.pw_uid, pw.pw_gid)


class Client(smtp.Client):
    """smtp.Client from a chosen loopback source address."""

    def __init__(self, port, src, timeout=20):
        self.s = socket.create_connection(("127.0.0.1", port),
                                          timeout=timeout,
                                          source_address=(src, 0))
        self.f = self.s.makefile("rb")
        self.greeting = self.reply()


def session(src, user=None, service="smtp"):
    c = Client(inst.port(service), src)
    code, lines = c.cmd("EHLO client.test")
    assert code == 250, (code, lines)
    if user is not None:
        cred = base64.b64encode(("\0%s\0%s" % (user, PW[user])).encode())
        code, lines = c.cmd("AUTH PLAIN " + cred.decode())
        assert code == 235, (code, lines)
    return c


def attempt(c, sender, rcpt):
    """MAIL + RCPT + RSET: the first refusal "code enh text", or "ok"."""
    try:
        code, lines = c.cmd("MAIL FROM:<%s>" % sender)
        if code != 250:
            return "%d %s" % (code, lines[-1])
        code, lines = c.cmd("RCPT TO:<%s>" % rcpt)
        return "ok" if code == 250 else "%d %s" % (code, lines[-1])
    finally:
        c.cmd("RSET")


def lib_session(src, user=None, service="smtp"):
    """The same through Python's smtplib, as a mail program would."""
    s = smtplib.SMTP("127.0.0.1", inst.port(service), "client.test",
                     timeout=20, source_address=(src, 0))
    s.ehlo()
    if user is not None:
        s.esmtp_features["auth"] = "PLAIN"   # no CRAM-MD5 secrets here
        s.login(user, PW[user])
    return s


def lib_attempt(s, sender, rcpt):
    """attempt() through smtplib."""
    try:
        code, msg = s.mail(sender)
        if code != 250:
            return "%d %s" % (code, msg.decode())
        code, msg = s.rcpt(rcpt)
        return "ok" if code == 250 else "%d %s" % (code, msg.decode())
    finally:
        s.rset()


def reloads():
    log = inst.log("smtp")
    return (len(re.findall(r" smtp: reloaded", log)),
            len(re.findall(r" submission: reloaded", log)))


def reconfigure(**keys):
    """Change tern.conf, SIGHUP master, wait until both smtpd services
    have reloaded (the policy reloads right after that log line, before
    the process takes another event)."""
    before = reloads()
    inst.conf.update(keys)
    inst.write_conf()
    inst.signal(signal.SIGHUP)
    wait_for(lambda: all(a > b for a, b in zip(reloads(), before)),
             what="smtpd to reload")


# The classic relay tests (the hosts are ours, the tricks are old).
BATTERY = [
    "user%remote.example@local.example",
    "remote.example!user@local.example",
    '"user@remote.example"@local.example',
    '"user%remote.example"@local.example',
    "@local.example:user@remote.example",
    "@local.example,@alias.example:user@remote.example",
    "user@remote.example@local.example",
    "user@[192.0.2.1]",
    "user@[127.0.0.1]",
    "user@[IPv6:::1]",
    "USER@REMOTE.EXAMPLE",
    "user@remote.example.",
    "user@local.example.remote.example",
    "user@remote.example%local.example",
    "user%remote.example@alias.example",
    "alice%remote.example@local.example",
    "postmaster%remote.example@local.example",
    "user%remote.example",
    "remote.example!user",
    "user@local.example.",
    '"alice"@remote.example',
]


def test_battery():
    # One session per form: refusals count against smtp_max_bad_recipients
    # and syntax errors against smtp_max_bad_commands.
    leaks, data = [], []
    for sender in ("", "x@remote.example", "alice@local.example"):
        for rcpt in BATTERY:
            c = session(ANON)
            code, lines = c.cmd("MAIL FROM:<%s>" % sender)
            assert code == 250, (sender, code, lines)
            code, lines = c.cmd("RCPT TO:<%s>" % rcpt)
            if not 500 <= code < 600:
                leaks.append((sender, rcpt, code, lines))
            code, lines = c.cmd("DATA")
            if code not in (503, 554):
                data.append((sender, rcpt, code, lines))
                c.send("Subject: relay test\r\n\r\nx\r\n.\r\n")
                c.reply()
            c.cmd("QUIT")
            c.close()
    is_(leaks, [], "open-relay battery: all %d forms x 3 senders refused "
        "with 5xx" % len(BATTERY))
    for sender, rcpt, code, lines in leaks:
        diag("<%s> -> <%s>: %d %s" % (sender, rcpt, code, lines))
    is_(data, [], "... and DATA is refused after each (no recipient)")
    is_(smtp.spool_files(inst) + smtp.spool_tmp(inst), [],
        "nothing reached the spool")

    # The same one by one, with the exact replies for a few.
    c = session(ANON)
    is_(attempt(c, "", "user%remote.example@local.example"),
        "550 5.7.1 <user%remote.example@local.example>: Relay syntax not "
        "allowed", "percent hack: 550 5.7.1")
    is_(attempt(c, "", "@local.example:user@remote.example"),
        "554 5.7.1 <user@remote.example>: Relaying denied",
        "source route: the real destination is judged")
    is_(attempt(c, "", "user@[127.0.0.1]"),
        "554 5.7.1 <user@[127.0.0.1]>: Relaying denied",
        "an address literal, even ours, is not a local domain")
    ok(attempt(c, "", "user@remote.example@local.example")
       .startswith("501 5.1.3"), "two @: a syntax error")
    c.close()

    # Relay syntax is refused for everyone, even when relaying is allowed.
    for who, c in (("logged-in", session(ANON, "alice@local.example")),
                   ("whitelisted", session(WHITE)),
                   ("bypass", session(BYPASS))):
        r = [attempt(c, "alice@local.example", a) for a in
             ("user%remote.example@local.example",
              "remote.example!user@local.example",
              '"user@remote.example"@local.example',
              "a%b@remote.example")]
        ok(all(x.startswith("550 5.7.1") for x in r),
           "relay syntax refused for a %s client: %s" % (who, r[0]))
        is_(attempt(c, "alice@local.example", "user@[192.0.2.1]"), "ok",
            "... who may relay to an address literal")
        c.close()


def test_lists():
    c = Client(inst.port("smtp"), BLACK)
    is_((c.greeting[0], c.greeting[1][-1]), (554, "5.7.1 Access denied"),
        "blacklisted client: 554 at connect")
    ok(c.closed(), "... and the connection is closed")
    c.close()
    c = Client(inst.port("submission"), BLACK)
    is_(c.greeting[0], 554, "... on the submission port too")
    c.close()
    c = Client(inst.port("smtp"), WHITE)
    is_(c.greeting[0], 220, "whitelisted inside a blacklisted range: in")
    c.close()
    c = Client(inst.port("smtp"), "127.0.0.5")
    is_(c.greeting[0], 220, "next to the blacklisted range: in")
    c.close()


def test_submission():
    for who, src in (("anonymous", ANON), ("whitelisted", WHITE),
                     ("bypass", BYPASS)):
        c = lib_session(src, service="submission")
        is_(lib_attempt(c, "alice@local.example", "alice@local.example"),
            "530 5.7.0 Authentication required",
            "submission, %s, no login: 530 at MAIL" % who)
        c.quit()
    c = lib_session(ANON, "alice@local.example", service="submission")
    is_(lib_attempt(c, "alice@local.example", "x@remote.example"), "ok",
        "submission after login: relays")
    is_(lib_attempt(c, "boss@local.example", "x@remote.example"),
        "553 5.7.1 Sender address not owned by user <alice@local.example>",
        "... only as itself")
    is_(lib_attempt(c, "sales@local.example", "x@remote.example"), "ok",
        "... or an alias that delivers to it")
    c.quit()


MODES = ["nobody", "local-users", "local-domains", "anyone"]
SENDERS = {"user": "alice@local.example", "domain": "ghost@local.example",
           "remote": "x@remote.example", "null": ""}


def expected(mode, when_auth, who, sender):
    """tern.conf(5), smtp_relay, written out on its own."""
    if who == "white" or mode == "anyone":
        return True
    if who == "anon":
        return False
    if when_auth:
        return True
    return (mode == "local-users" and sender == "user") or \
        (mode == "local-domains" and sender in ("user", "domain"))


def test_matrix():
    wrong, cases, allowed = [], 0, 0
    for mode in MODES:
        for when_auth in (False, True):
            reconfigure(smtp_relay=mode, smtp_relay_when_authenticated=(
                "yes" if when_auth else "no"))
            clients = {"anon": lib_session(ANON),
                       "white": lib_session(WHITE),
                       "bypass": lib_session(BYPASS),
                       # smtp_sender_any: boss may use every sender
                       "login": lib_session(ANON, "boss@local.example")}
            for who, c in clients.items():
                for skind, sender in SENDERS.items():
                    want = expected(mode, when_auth, who, skind)
                    got = lib_attempt(c, sender, "dest@remote.example")
                    local = lib_attempt(c, sender, "alice@alias.example")
                    cases += 1
                    allowed += want
                    good = (got == "ok") if want else (
                        got == "554 5.7.1 <dest@remote.example>: Relaying "
                        "denied")
                    if not good or local != "ok":
                        wrong.append((mode, when_auth, who, skind, got,
                                      local))
                c.quit()
    is_(wrong, [], "relay matrix through smtpd: 4 modes x 2 x 4 clients x "
        "4 senders; local mail always taken")
    for w in wrong:
        diag("%s when_auth=%s %s sender=%s: %s / local %s" % w)
    ok(cases == 128 and 0 < allowed < cases, "... %d cases, %d relayed" %
       (cases, allowed))


def test_bad_reload():
    reconfigure(smtp_relay="local-users",
                smtp_relay_when_authenticated="yes")
    reconfigure(smtp_whitelist="127.0.0.2 not-an-ip", smtp_relay="anyone")
    wait_for(lambda: "smtp_whitelist: 'not-an-ip': not an IP address range" in
             inst.log("smtp"), what="the reload error in the log")
    c = session(ANON)
    is_(attempt(c, "", "x@remote.example"),
        "554 5.7.1 <x@remote.example>: Relaying denied",
        "a bad list on reload: the old settings stay (no open relay)")
    c.close()
    c = Client(inst.port("smtp"), BLACK)
    is_(c.greeting[0], 554, "... the old blacklist too")
    c.close()
    reconfigure(smtp_whitelist=WHITE, smtp_relay="local-users")


with inst:
    write_maps()
    inst.start()
    test_lists()
    test_battery()
    test_submission()
    test_matrix()
    test_bad_reload()
done()
