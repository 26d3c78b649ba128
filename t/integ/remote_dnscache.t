#!/usr/bin/env python3
# The remote agent keeps DNS answers for their TTL: with the DNS server
# gone, a second message to the same domain still goes out (MX and A
# from the cache), while a domain never looked up is deferred as 4.4.3;
# a domain the server said does not exist is known not to for a minute.
import os
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

A = "127.0.0.2"
port = port_free_on([A])
dns = dnsmasq.Dnsmasq(zones=["example"], args=[
    "--local-ttl=300",
    "--mx-host=far.example,mx1.far.example,10",
    "--host-record=mx1.far.example,%s" % A,
    "--mx-host=other.example,mx1.far.example,10"]).start()
pa = Peer(A, port).start()
q = QInst(conf={"dns_servers": dns.server, "dns_timeout": "1s",
                "dns_retries": "1", "smtp_out_port": str(port),
                "spool_retry_intervals": "1h"},
          services={"smtpout": {"program": os.path.join(BIN, "delivery"),
                                "args": "-r", "workers": 1,
                                "listen": ["unix:smtp-out.sock"]}})
try:
    with q:
        q.start()
        q.inject(["a@far.example"], sender="s@example.test")
        wait_for(lambda: len(pa.transactions) == 1, what="the first")
        ids = q.inject(["x@missing.example"], sender="s@example.test")
        q.wait_log("%s: to=<x@missing.example> deferred" % ids[0])
        q.adminctl("spool", "delete", ids[0])
        dns.stop()
        q.inject(["b@far.example"], sender="s@example.test")
        wait_for(lambda: len(pa.transactions) == 2, what="the second")
        is_(pa.transactions[1]["rcpts"], ["b@far.example"],
            "DNS gone: the cached MX and address still serve")
        ids = q.inject(["c@other.example"], sender="s@example.test")
        q.wait_log("%s: to=<c@other.example> deferred" % ids[0])
        ok("4.4.3" in [l for l in q.qlog().splitlines()
                       if ids[0] in l and "deferred" in l][0],
           "a domain not in the cache: deferred 4.4.3")
        q.adminctl("spool", "delete", ids[0])
        ids = q.inject(["y@missing.example"], sender="s@example.test")
        q.wait_log("%s: to=<y@missing.example> deferred" % ids[0])
        line = [l for l in q.qlog().splitlines() if ids[0] in l and
                "deferred" in l][0]
        ok("no such domain" in line and "failure" not in line,
           "NXDOMAIN remembered with the server gone: %s" %
           line.split(": ", 2)[-1])
        q.adminctl("spool", "delete", ids[0])
finally:
    pa.stop()
    dns.stop()
done()
