#!/usr/bin/env python3
# TLS through the shared skeleton: implicit TLS and STARTTLS with real
# clients (Python ssl, openssl s_client), old protocols refused, plaintext
# injected before STARTTLS discarded, a missing or broken certificate
# refused with the config, and a renewed certificate picked up by reload.
import os
import socket
import ssl
import subprocess
import sys
import warnings
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
from tern import Instance, wait_for, BIN     # noqa: E402

# Old protocol versions are deprecated in Python too; we use them on purpose.
warnings.simplefilter("ignore", DeprecationWarning)


def make_cert(d, name="localhost"):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=" + name, "-addext",
                    "subjectAltName=DNS:" + name, "-days", "2",
                    "-keyout", os.path.join(d, "key.pem"),
                    "-out", os.path.join(d, "cert.pem")],
                   check=True, capture_output=True)


def client_ctx(inst, maxver=None):
    ctx = ssl.create_default_context(cafile=inst.path("cert.pem"))
    if maxver:
        ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        ctx.maximum_version = maxver
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    return ctx


def rl(f):
    return f.readline().decode().rstrip("\r\n")


inst = Instance(services={"tls": {"tls": "implicit"},
                          "stls": {"tls": "starttls"}, "plain": {}})
make_cert(inst.dir)
inst.conf.update({"tls_cert_file": "cert.pem", "tls_key_file": "key.pem"})
inst.write_conf()
with inst:
    inst.start()
    # Implicit TLS with Python's ssl, verifying the certificate.
    with socket.create_connection(("127.0.0.1", inst.port("tls"))) as raw:
        with client_ctx(inst).wrap_socket(raw,
                                          server_hostname="localhost") as s:
            f = s.makefile("rb")
            ok(rl(f).startswith("+OK tls fixture"), "greeting over TLS")
            s.sendall(b"TLSINFO\r\n")
            info = rl(f)
            ok(info.startswith("+TLS TLSv1.3"), "TLS 1.3 negotiated: " + info)
            is_(s.version(), "TLSv1.3", "client agrees")

    # TLS 1.1 and 1.0 are refused.
    for v in (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1):
        try:
            with socket.create_connection(("127.0.0.1",
                                           inst.port("tls"))) as raw:
                client_ctx(inst, v).wrap_socket(
                    raw, server_hostname="localhost").close()
            ok(False, "%s refused" % v.name)
        except (ssl.SSLError, ConnectionResetError, OSError):
            ok(True, "%s refused" % v.name)

    # openssl s_client, as an admin would test it.
    p = subprocess.run(["openssl", "s_client", "-quiet", "-verify_return_error",
                        "-CAfile", inst.path("cert.pem"),
                        "-verify_hostname", "localhost",
                        "-connect", "127.0.0.1:%d" % inst.port("tls")],
                       input=b"PING\r\nQUIT\r\n", capture_output=True,
                       timeout=30)
    out = p.stdout.decode()
    ok("+PONG" in out and "+BYE" in out, "s_client session: "
       + " | ".join(out.split("\r\n")))
    p = subprocess.run(["openssl", "s_client", "-quiet", "-tls1_2",
                        "-CAfile", inst.path("cert.pem"),
                        "-connect", "127.0.0.1:%d" % inst.port("tls")],
                       input=b"TLSINFO\r\nQUIT\r\n", capture_output=True,
                       timeout=30)
    ok("+TLS TLSv1.2 ECDHE-ECDSA-" in p.stdout.decode(),
       "TLS 1.2 uses a forward-secret cipher")

    # STARTTLS, with plaintext injected behind the command (CVE-2011-0411).
    raw = socket.create_connection(("127.0.0.1", inst.port("stls")))
    f = raw.makefile("rb")
    ok(rl(f).startswith("+OK stls"), "plain greeting")
    raw.sendall(b"STARTTLS\r\nINJECTED\r\n")
    is_(rl(f), "+GO", "STARTTLS accepted")
    s = client_ctx(inst).wrap_socket(raw, server_hostname="localhost")
    s.sendall(b"TLSINFO\r\n")
    f = s.makefile("rb")
    first = rl(f)
    ok(first.startswith("+TLS TLSv1.3"), "first answer after the handshake "
       "is ours, the injected line was dropped: " + first)
    f.close()
    s.close()

    # A renewed certificate: reload restarts the TLS services only.
    before = inst.status()
    make_cert(inst.dir)
    is_(inst.adminctl("reload")[0], 0, "reload after renewal")
    wait_for(lambda: (lambda st: st["tls"]["pids"] != before["tls"]["pids"]
                      and st["tls"]["state"] == "running"
                      and st["stls"]["state"] == "running")(inst.status()),
             what="TLS services restarted")
    is_(inst.status()["plain"]["pids"], before["plain"]["pids"],
        "plain service kept its worker")
    with socket.create_connection(("127.0.0.1", inst.port("tls"))) as raw:
        with client_ctx(inst).wrap_socket(raw,
                                          server_hostname="localhost") as s:
            ok(rl(s.makefile("rb")).startswith("+OK tls"),
               "new certificate served and verified")

    # A broken key is refused by reload, with the reason.
    with open(inst.path("key.pem"), "w") as fh:
        fh.write("garbage\n")
    rc, out, err = inst.adminctl("reload")
    is_(rc, 1, "broken key refused")
    ok("tls" in err and "key.pem" in err, "names the file: " + err.strip())
    is_(inst.status()["tls"]["state"], "running", "TLS service still up")
    inst.stop()

    # No certificate at all: services.conf is refused at its line.
    inst.conf.pop("tls_cert_file")
    inst.write_conf()
    p = subprocess.run([os.path.join(BIN, "master"), "-f", "-c", inst.dir],
                       capture_output=True, text=True, timeout=30)
    ok(p.returncode == 1 and "services.conf:" in p.stderr and
       "tls_cert_file" in p.stderr, "tls without a certificate refused: "
       + p.stderr.strip().splitlines()[-1])
done()
