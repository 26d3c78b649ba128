#!/usr/bin/env python3
# dns_servers takes IPv6 servers: "[::1]:PORT" (a port only in brackets)
# and a bare "::1".  The remote agent finds the MX through a DNS server
# that listens on ::1 only, and delivers there; a malformed item is
# refused at start with its reason in the log.
import os
import socket
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done, skip_all    # noqa: E402
from tern import BIN, wait_for             # noqa: E402
from queue_t import QInst                  # noqa: E402
import dnsmasq                             # noqa: E402
from smtppeer import Peer, port_free_on    # noqa: E402

if not dnsmasq.available():
    skip_all("dnsmasq not installed")
try:
    socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind(("::1", 0))
except OSError:
    skip_all("no IPv6 loopback")

A = "127.0.0.2"
port = port_free_on([A])
dns = dnsmasq.Dnsmasq(zones=["example"], ipv6=True, args=[
    "--mx-host=far.example,mx1.far.example,10",
    "--host-record=mx1.far.example,%s" % A]).start()
pa = Peer(A, port).start()


def remote_inst(servers):
    return QInst(conf={"dns_servers": servers, "dns_timeout": "1s",
                       "dns_retries": "1", "smtp_out_port": str(port),
                       "spool_retry_intervals": "1h"},
                 services={"smtpout": {"program": os.path.join(BIN,
                                                               "delivery"),
                                       "args": "-r", "workers": 1,
                                       "listen": ["unix:smtp-out.sock"]}})


try:
    q = remote_inst(dns.server)
    with q:
        q.start()
        q.inject(["a@far.example"], sender="s@example.test")
        wait_for(lambda: len(pa.transactions) == 1, what="the delivery")
        is_(pa.transactions[0]["rcpts"], ["a@far.example"],
            "MX found through %s and delivered" % dns.server)
        ids = q.inject(["x@missing.example"], sender="s@example.test")
        q.wait_log("%s: to=<x@missing.example> deferred" % ids[0])
        line = [l for l in q.qlog().splitlines() if ids[0] in l and
                "deferred" in l][0]
        ok("no such domain" in line,
           "the IPv6 server's NXDOMAIN is told apart from no answer")
        q.adminctl("spool", "delete", ids[0])
    for bad, why in (("[::1", "without ']'"),
                     ("[::1]x", "only ':port'"),
                     ("[::1]:0", "port must be"),
                     ("[127.0.0.1]:53", "not an IPv6"),
                     ("::1::2", "not an IPv6")):
        q = remote_inst(bad)
        with q:
            q.start(wait=False)
            said = wait_for(lambda: [l for l in q.log("delivery").splitlines()
                                     if "dns_servers: " in l],
                            what="the complaint about %s" % bad)
            ok(why in said[0], "dns_servers = %s refused: %s" %
               (bad, said[0].split("dns_servers: ")[1]))
finally:
    pa.stop()
    dns.stop()
done()
