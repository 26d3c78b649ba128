#!/usr/bin/env python3
# pop3d and TLS: STLS (RFC 2595) with openssl s_client -starttls pop3 and
# with poplib, implicit TLS on the pop3s port with s_client and poplib,
# plaintext injected behind STLS thrown away, STLS twice refused, CAPA
# before and after TLS; and with pop_plaintext_loopback = no (the path a
# client elsewhere on the network takes): no USER or SASL in CAPA, USER,
# PASS and AUTH refused with [AUTH] until STLS, then allowed.
import os
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
import pop3                             # noqa: E402

PW = pop3.USERS["alice@example.com"]


def s_client(inst, args, script):
    p = subprocess.run(["openssl", "s_client", "-quiet", "-crlf",
                        "-verify_return_error", "-CAfile",
                        inst.path("cert.pem"), "-verify_hostname",
                        "localhost"] + args,
                       input=script.encode(), capture_output=True,
                       timeout=60)
    return p.returncode, p.stdout.decode("utf-8", "replace")


inst = pop3.instance(conf={"pop_plaintext_loopback": "no"})
with inst:
    inst.start()
    box = pop3.Maildir(inst, "alice@example.com")
    box.add(pop3.message(1))
    box.add(pop3.message(2))
    ctx = pop3.client_ctx(inst)

    # Plain connection, loopback not trusted.
    p = pop3.connect(inst)
    caps = p.capa()
    ok("STLS" in caps, "STLS offered")
    ok("USER" not in caps and "SASL" not in caps,
       "no USER or SASL without TLS: %r" % sorted(caps))
    for fn, args in ((p.user, ("alice@example.com",)),
                     (p.pass_, (PW,)),
                     (p._shortcmd, ("AUTH PLAIN AGFiYwBk",))):
        try:
            fn(*args)
            ok(False, "refused without TLS")
        except Exception as e:
            ok("-ERR [AUTH] Plaintext authentication disallowed" in str(e),
               "refused without TLS: %s" % e)
    resp = p.stls(ctx)
    ok(resp.startswith(b"+OK"), "STLS: %r" % resp)
    caps = p.capa()
    ok("STLS" not in caps and "USER" in caps and "SASL" in caps,
       "after STLS: USER and SASL, no STLS")
    p.user("alice@example.com")
    ok(p.pass_(PW).startswith(b"+OK"), "login after STLS")
    is_(p.stat()[0], 2, "STAT over STLS")
    p.quit()

    # STLS twice, and plaintext injected behind STLS.
    c = pop3.Raw(inst.port("pop3"))
    c.send("STLS\r\nUSER injected@example.com\r\n")
    is_(c.line()[:3], "+OK", "STLS with a command behind it")
    s = ctx.wrap_socket(c.s, server_hostname="localhost")
    f = s.makefile("rb")
    s.sendall(b"PASS " + PW.encode() + b"\r\n")
    r = f.readline().decode()
    ok(r.startswith("-ERR"), "the injected USER was dropped: " + r.strip())
    s.sendall(b"STLS\r\n")
    ok(f.readline().startswith(b"-ERR"), "STLS inside TLS refused")
    s.close()

    # openssl s_client -starttls pop3.
    rc, out = s_client(inst, ["-starttls", "pop3", "-connect",
                              "127.0.0.1:%d" % inst.port("pop3")],
                       "USER alice@example.com\nPASS %s\nSTAT\nQUIT\n" % PW)
    ok("+OK Logged in, 2 messages" in out and "+OK 2 " in out,
       "s_client -starttls pop3: " + " | ".join(out.splitlines()))

    # Implicit TLS on the pop3s port.
    rc, out = s_client(inst, ["-connect",
                              "127.0.0.1:%d" % inst.port("pop3s")],
                       "CAPA\nUSER alice@example.com\nPASS %s\nUIDL\n"
                       "QUIT\n" % PW)
    ok(out.startswith("+OK Tern POP3"), "s_client on pop3s: greeting")
    ok("USER\r\n" in out and "STLS" not in out,
       "CAPA on pop3s: USER, no STLS")
    ok("+OK Logged in" in out and "+OK Logging out" in out,
       "s_client on pop3s: " + " | ".join(out.splitlines()[-6:]))
    p = pop3.login(inst, service="pop3s")
    resp, lines, _ = p.retr(2)
    is_(b"\n".join(lines) + b"\n", pop3.message(2), "RETR over pop3s")
    is_(p.sock.version(), "TLSv1.3", "TLS 1.3")
    p.quit()
    ok("TLS TLSv1.3" in inst.log("pop"), "TLS logged")
done()
