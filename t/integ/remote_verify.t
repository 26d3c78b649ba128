#!/usr/bin/env python3
# smtp_out_tls = verify: the peer's certificate must chain to a trusted
# CA (smtp_out_ca_file, else the system's) and carry the MX host's name.
# A self-signed certificate nobody trusts: deferred, nothing sent in the
# clear; the same certificate named in smtp_out_ca_file: delivered.
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done, skip_all    # noqa: E402
from tern import BIN, wait_for             # noqa: E402
from queue_t import QInst                  # noqa: E402
import dnsmasq                             # noqa: E402
import smtp                                # noqa: E402
from smtppeer import Peer, port_free_on    # noqa: E402

if not dnsmasq.available():
    skip_all("dnsmasq not installed")

A = "127.0.0.2"
port = port_free_on([A])
dns = dnsmasq.Dnsmasq(zones=["example"], args=[
    "--mx-host=far.example,mx1.far.example,10",
    "--host-record=mx1.far.example,%s" % A]).start()
certdir = os.path.join(dns.dir, "cert")
os.makedirs(certdir)
smtp.make_cert(certdir, "mx1.far.example")
cert = os.path.join(certdir, "cert.pem")
pa = Peer(A, port, tls=(cert, os.path.join(certdir, "key.pem"))).start()


def instance(extra):
    c = {"dns_servers": dns.server, "smtp_out_port": str(port),
         "spool_retry_intervals": "1h", "smtp_out_tls": "verify"}
    c.update(extra)
    return QInst(conf=c, services={"smtpout": {
        "program": os.path.join(BIN, "delivery"), "args": "-r",
        "listen": ["unix:smtp-out.sock"]}})


try:
    q = instance({})
    with q:
        q.start()
        ids = q.inject(["a@far.example"], sender="s@example.test")
        q.wait_log("%s: to=<a@far.example> deferred" % ids[0])
        line = [l for l in q.qlog().splitlines() if ids[0] in l and
                "deferred" in l][0]
        ok("certificate" in line or "TLS" in line,
           "an untrusted certificate: deferred (%s)" % line[-90:])
        is_(pa.transactions, [], "nothing sent, not even in the clear")
    os.chmod(dns.dir, 0o755)
    os.chmod(certdir, 0o755)
    os.chmod(cert, 0o644)
    q = instance({"smtp_out_ca_file": cert})
    with q:
        q.start()
        q.inject(["b@far.example"], sender="s@example.test")
        wait_for(lambda: pa.transactions, what="the verified delivery")
        t = pa.transactions[0]
        ok(t["tls"] and t["rcpts"] == ["b@far.example"],
           "trusted through smtp_out_ca_file: delivered over TLS")
finally:
    pa.stop()
    dns.stop()
done()
