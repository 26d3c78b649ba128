#!/usr/bin/env python3
# smtpd and TLS: a whole message through openssl s_client -starttls smtp,
# plaintext injected behind STARTTLS thrown away (CVE-2011-0411), the
# session reset by the handshake (EHLO again, no transaction), STARTTLS
# offered only where it can work, implicit TLS on 465, TLS 1.2, the TLS
# version and cipher in the Received header, and garbage instead of a
# handshake.
import os
import socket
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
from tern import wait_for              # noqa: E402
import smtp                            # noqa: E402

inst = smtp.instance()


def s_client(port, lines, extra=()):
    data = "".join(ln + "\r\n" for ln in lines).encode()
    p = subprocess.run(["openssl", "s_client", "-quiet", "-starttls", "smtp",
                        "-name", "client.test",
                        "-CAfile", inst.path("cert.pem"),
                        "-verify_return_error",
                        "-connect", "127.0.0.1:%d" % port] + list(extra),
                       input=data, capture_output=True, timeout=60)
    return p.stdout.decode("utf-8", "replace")


MSG = ["EHLO sclient.test", "MAIL FROM:<tls@remote.test>",
       "RCPT TO:<alice@example.com>", "DATA", "Subject: over TLS", "",
       "hello", ".", "QUIT"]

with inst:
    inst.start()
    mx, sub465 = inst.port("smtp"), inst.port("smtps")

    # --- a message through s_client ----------------------------------------
    out = s_client(mx, MSG)
    ok("250 2.0.0 Ok: queued as" in out and "221 2.0.0" in out,
       "s_client -starttls smtp: message queued")
    qid = out.split("queued as ")[1].split()[0]
    m = smtp.spool(inst)[qid]
    hdr = m.headers().split("\r\n")
    is_(hdr[0], "Received: from sclient.test (unknown [127.0.0.1])",
        "Received from the EHLO after TLS")
    ok(hdr[1].endswith("with ESMTPS id " + qid), "ESMTPS: " + hdr[1])
    ok(hdr[2].startswith("\t(using TLSv1.3 TLS_") and
       hdr[2].endswith(" bits))"), "TLS version and cipher: " + hdr[2])
    ok(m.params["tls"].startswith("TLSv1.3/TLS_"),
       "envelope: tls=" + m.params["tls"])

    out = s_client(mx, MSG, ["-tls1_2"])
    qid = out.split("queued as ")[1].split()[0]
    ok("(using TLSv1.2 ECDHE-" in smtp.spool(inst)[qid].headers(),
       "TLS 1.2 with a forward-secret cipher is recorded")

    # --- injection behind STARTTLS -------------------------------------
    raw = socket.create_connection(("127.0.0.1", mx), timeout=20)
    f = raw.makefile("rb")
    f.readline()
    raw.sendall(b"EHLO client.test\r\n")
    while f.readline()[3:4] == b"-":
        pass
    raw.sendall(b"STARTTLS\r\nMAIL FROM:<injected@remote.test>\r\n"
                b"RCPT TO:<alice@example.com>\r\n")
    is_(f.readline(), b"220 2.0.0 Ready to start TLS\r\n", "STARTTLS")
    s = smtp.client_ctx(inst).wrap_socket(raw, server_hostname="localhost")
    f = s.makefile("rb")
    s.sendall(b"RCPT TO:<alice@example.com>\r\n")
    first = f.readline()
    ok(first.startswith(b"503 5.5.1 "), "after TLS the injected MAIL "
       "did not happen, and EHLO is needed again: %r" % first)
    s.sendall(b"EHLO client.test\r\n")
    lines = []
    while True:
        ln = f.readline()
        lines.append(ln)
        if ln[3:4] != b"-":
            break
    ok(lines[0].startswith(b"250-mx.test.example Hello client.test"),
       "the next reply is EHLO's")
    ok(not any(b"STARTTLS" in ln for ln in lines),
       "STARTTLS no longer offered")
    s.sendall(b"STARTTLS\r\n")
    ok(f.readline().startswith(b"503 "), "STARTTLS twice refused")
    s.close()

    # STARTTLS takes no argument and is not for the middle of a mail.
    c = smtp.ehlo(mx)
    is_(c.cmd("STARTTLS now")[0], 501, "STARTTLS with an argument")
    c.cmd("MAIL FROM:<a@remote.test>")
    is_(c.cmd("STARTTLS")[0], 503, "STARTTLS inside a transaction")
    c.close()

    # --- implicit TLS (465) ---------------------------------------------
    c = smtp.Client(sub465, tls_ctx=smtp.client_ctx(inst))
    is_(c.greeting, (220, ["mx.test.example ESMTP Tern"]),
        "greeting inside TLS on 465")
    code, lines = c.cmd("EHLO client.test")
    ok("STARTTLS" not in lines and "AUTH PLAIN LOGIN CRAM-MD5" in lines,
       "465: no STARTTLS, AUTH offered")
    is_(c.cmd("STARTTLS")[0], 503, "465: STARTTLS refused")
    c.close()

    # Plaintext to the TLS port: the handshake fails, nothing breaks.
    raw = socket.create_connection(("127.0.0.1", sub465), timeout=20)
    raw.sendall(b"EHLO client.test\r\n" * 4)
    raw.settimeout(20)
    try:
        got = raw.recv(4096)
        while got and b"220" not in got:
            got = raw.recv(4096)
    except OSError:
        got = b""
    ok(b"220" not in got, "no SMTP reply without a handshake")
    raw.close()
    wait_for(lambda: "TLS error from 127.0.0.1" in inst.log("smtp"),
             what="the TLS error logged")
    c = smtp.Client(sub465, tls_ctx=smtp.client_ctx(inst))
    is_(c.greeting[0], 220, "465 still serves")
    c.close()
done()
