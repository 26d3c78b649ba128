#!/usr/bin/env python3
# smtpd and SMTP AUTH: submission requires a login whatever the domain
# says; AUTH is offered and accepted only inside TLS by default (538
# before); PLAIN (with and without an initial response), LOGIN and
# CRAM-MD5 through smtplib over STARTTLS and over implicit TLS (465);
# wrong passwords, cancelled and malformed exchanges, AUTH twice or in a
# transaction; the Received header says ESMTPSA but names no user unless
# smtp_received_auth_user; smtp_disable_auth_login, VRFY and EXPN on
# after a reload; the auth daemon gone: 454; no password in any log.
import base64
import os
import signal
import smtplib
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
from tern import wait_for              # noqa: E402
import cdbw                            # noqa: E402
import smtp                            # noqa: E402

PW = smtp.USERS["alice@example.com"]
inst = smtp.instance(conf={"smtp_max_bad_commands": "100",
                           "smtp_max_recipients": "100"})
# An alias for EXPN.
cdbw.write(inst.path("state", "maps", "aliases.cdb"),
           [(b"staff@example.com", b"alice@example.com\nbob@example.com\n")])


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def tls_client(port):
    c = smtp.ehlo(port)
    c.starttls(smtp.client_ctx(inst))
    return c


def plain_ir(user="alice@example.com", pw=PW):
    return "AUTH PLAIN " + b64("\0%s\0%s" % (user, pw))


def smtplib_sub(port, implicit=False):
    if implicit:
        s = smtplib.SMTP_SSL("127.0.0.1", port, local_hostname="py.test",
                             context=smtp.client_ctx(inst))
    else:
        s = smtplib.SMTP("127.0.0.1", port, local_hostname="py.test")
        s.starttls(context=smtp.client_ctx(inst))
    s.ehlo()
    s.user, s.password = "alice@example.com", PW
    return s


def mech_works(port, mech, implicit=False, ir=True):
    s = smtplib_sub(port, implicit)
    fn = {"PLAIN": s.auth_plain, "LOGIN": s.auth_login,
          "CRAM-MD5": s.auth_cram_md5}[mech]
    code, _ = s.auth(mech, fn, initial_response_ok=ir)
    refused = s.sendmail("alice@example.com", ["bob@example.com"],
                         "Subject: %s\r\n\r\nvia %s\r\n" % (mech, mech))
    s.quit()
    return code == 235 and refused == {}


with inst:
    inst.start()
    sub, sub465, mx = (inst.port("submission"), inst.port("smtps"),
                       inst.port("smtp"))

    # --- before TLS -------------------------------------------------------
    c = smtp.Client(sub)
    code, lines = c.cmd("EHLO client.test")
    ok("STARTTLS" in lines and not any(x.startswith("AUTH") for x in lines),
       "submission in clear offers STARTTLS, not AUTH")
    is_(c.cmd("MAIL FROM:<alice@example.com>"),
        (530, ["5.7.0 Authentication required"]), "submission: MAIL needs "
        "a login")
    is_(c.cmd(plain_ir())[:1], (538,), "AUTH refused without TLS: 538")
    c.close()

    # --- STARTTLS, then each mechanism --------------------------------------
    c = tls_client(sub)
    code, lines = c.cmd("EHLO client.test")
    ok("AUTH PLAIN LOGIN CRAM-MD5" in lines, "AUTH offered inside TLS")
    ok("STARTTLS" not in lines, "no STARTTLS inside TLS")
    is_(c.cmd("MAIL FROM:<alice@example.com>")[0], 530,
        "still no MAIL before AUTH")
    is_(c.cmd("AUTH FROB")[:1], (504,), "unknown mechanism")
    is_(c.cmd("AUTH PLAIN")[:1], (334,), "PLAIN without initial response")
    is_(c.cmd("*"), (501, ["5.0.0 Authentication cancelled"]), "* cancels")
    c.cmd("AUTH LOGIN")
    is_(c.cmd("not base64!")[:1], (501,), "bad base64: 501")
    is_(c.cmd(plain_ir(pw="wrong"))[1],
        ["5.7.8 Authentication credentials invalid"], "wrong password: 535")
    is_(c.cmd(plain_ir())[1], ["2.7.0 Authentication successful"], "PLAIN")
    is_(c.cmd(plain_ir())[:1], (503,), "AUTH twice")
    c.cmd("MAIL FROM:<alice@example.com>")
    c.close()
    c = tls_client(sub)
    c.cmd("EHLO client.test")
    c.cmd(plain_ir())
    c.cmd("MAIL FROM:<alice@example.com>")
    is_(c.cmd(plain_ir())[:1], (503,), "AUTH inside a transaction")
    c.close()

    ok(mech_works(sub, "PLAIN"), "smtplib PLAIN over STARTTLS (587)")
    ok(mech_works(sub, "PLAIN", ir=False), "PLAIN with an empty 334")
    ok(mech_works(sub, "LOGIN"), "smtplib LOGIN over STARTTLS")
    ok(mech_works(sub, "CRAM-MD5"), "smtplib CRAM-MD5 over STARTTLS")
    ok(mech_works(sub465, "PLAIN", implicit=True), "PLAIN over 465")
    ok(mech_works(sub465, "LOGIN", implicit=True), "LOGIN over 465")
    ok(mech_works(sub465, "CRAM-MD5", implicit=True), "CRAM-MD5 over 465")
    s = smtplib_sub(sub)
    try:
        s.login("alice@example.com", "nope")
        ok(False, "smtplib: wrong password refused")
    except smtplib.SMTPAuthenticationError as e:
        is_(e.smtp_code, 535, "smtplib: wrong password refused")
    s.close()

    # smtp_max_recipients (1000 by default, 100 here): 452 beyond it.
    c = tls_client(sub)
    c.cmd("EHLO client.test")
    c.cmd(plain_ir())
    c.cmd("MAIL FROM:<alice@example.com>")
    codes = [c.cmd("RCPT TO:<r%d@remote.test>" % i)[0] for i in range(100)]
    is_(codes, [250] * 100, "100 recipients (logged in: may relay)")
    is_(c.cmd("RCPT TO:<r100@remote.test>"),
        (452, ["4.5.3 Too many recipients"]), "the 101st: 452 4.5.3")
    c.close()

    # Port 25 after STARTTLS offers AUTH too; a login there is recorded.
    c = tls_client(mx)
    code, lines = c.cmd("EHLO client.test")
    ok("AUTH PLAIN LOGIN CRAM-MD5" in lines, "port 25 offers AUTH in TLS")
    c.close()

    # --- what the spool says ------------------------------------------------
    s = smtplib_sub(sub)
    s.login("alice@example.com", PW)
    s.sendmail("alice@example.com", ["bob@example.com"], "Subject: r\r\n\r\nx")
    s.quit()
    m = [m for m in smtp.spool(inst).values()
         if b"Subject: r\r\n" in m.body][0]
    hdr = m.headers()
    ok(" with ESMTPSA id " in hdr, "Received: ESMTPSA")
    ok("alice" not in hdr, "Received names no user by default")
    is_(m.params["auth"], "alice@example.com", "envelope: auth=user")
    is_(m.params["service"], "submission", "envelope: service")
    log = inst.log("smtp")
    ok(PW not in log and b64("\0alice@example.com\0" + PW) not in log,
       "no password or AUTH payload in the log")
    ok("logged in as alice@example.com" in log, "the login is logged")

    # --- reload: LOGIN off, user in Received, VRFY and EXPN on ---------
    inst.conf.update({"smtp_disable_auth_login": "yes",
                      "smtp_received_auth_user": "yes",
                      "smtp_vrfy": "yes", "smtp_expn": "yes"})
    inst.write_conf()
    inst.signal(signal.SIGHUP)

    def reloaded():
        c = tls_client(sub)
        lines = c.cmd("EHLO client.test")[1]
        c.close()
        return "AUTH PLAIN CRAM-MD5" in lines
    wait_for(reloaded, what="smtpd to reload")
    ok(True, "smtp_disable_auth_login: LOGIN no longer offered")
    c = tls_client(sub)
    c.cmd("EHLO client.test")
    is_(c.cmd("AUTH LOGIN")[:1], (504,), "...nor accepted")
    is_(c.cmd("EXPN staff@example.com")[:1], (530,), "EXPN needs a login")
    c.cmd(plain_ir())
    code, lines = c.cmd("EXPN staff@example.com")
    is_((code, lines), (250, ["2.1.5 <alice@example.com>",
                              "2.1.5 <bob@example.com>"]), "EXPN an alias")
    is_(c.cmd("EXPN bob@example.com"), (250, ["2.1.5 <bob@example.com>"]),
        "EXPN a user")
    is_(c.cmd("EXPN who@example.com")[0], 550, "EXPN an unknown address")
    code, lines = c.cmd("VRFY bob@example.com")
    ok(code == 250, "VRFY on: %d %r" % (code, lines))
    code, lines = c.cmd("VRFY nobody@example.com")
    ok(code >= 500, "VRFY unknown: %d %r" % (code, lines))
    c.cmd("MAIL FROM:<alice@example.com>")
    c.cmd("RCPT TO:<bob@example.com>")
    c.cmd("DATA")
    c.send("Subject: named\r\n\r\nx\r\n.\r\n")
    code, lines = c.reply()
    m = smtp.spool(inst)[smtp.queued_id(lines)]
    ok("(authenticated as alice@example.com)" in m.headers(),
       "smtp_received_auth_user names the user")
    c.close()

    # --- the auth daemon gone ---------------------------------------------
    rc, out, err = inst.adminctl("service", "stop", "auth")
    is_(rc, 0, "auth service stopped")
    wait_for(lambda: not os.path.exists(inst.path("state", "auth.sock")) or
             inst.status()["auth"]["pids"] == "", what="auth to stop")
    c = tls_client(sub)
    c.cmd("EHLO client.test")
    is_(c.cmd(plain_ir()), (454, ["4.7.0 Temporary authentication "
                                  "failure"]), "auth daemon down: 454")
    c.close()
done()
