#!/usr/bin/env python3
# 100 domains x 50 messages from one Tern to another (found by MX through
# dnsmasq): every message arrives once, and the remote agents reuse their
# connections (far fewer connections than messages).  Issue #6's load
# test; bounded by count and by the wait's deadline.
import os
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done, skip_all, diag   # noqa: E402
from tern import BIN                            # noqa: E402
from queue_t import QInst                       # noqa: E402
import dnsmasq                                  # noqa: E402
import smtp                                     # noqa: E402

if not dnsmasq.available():
    skip_all("dnsmasq not installed")

NDOM, PER = 100, 50
DOMAINS = ["m%03d.example" % i for i in range(NDOM)]
b = smtp.instance(conf={"smtp_whitelist": "127.0.0.1",
                        "log_level_smtp": "normal",
                        "smtp_max_connections": "0"})
dns = None
try:
    with b:
        b.start()
        dns = dnsmasq.Dnsmasq(zones=["example"], args=[
            "--host-record=mx.b.example,127.0.0.1"] +
            ["--mx-host=%s,mx.b.example,10" % d for d in DOMAINS]).start()
        q = QInst(conf={"hostname": "a.example.test",
                        "dns_servers": dns.server,
                        "smtp_out_port": str(b.port("smtp")),
                        "log_level_delivery": "normal",
                        "spool_retry_intervals": "1s 1s"},
                  services={"smtpout": {
                      "program": os.path.join(BIN, "delivery"),
                      "args": "-r", "workers": 4,
                      "listen": ["unix:smtp-out.sock"]}})
        with q:
            q.start()
            t0 = time.monotonic()
            ids = []
            for d in DOMAINS:
                ids += q.inject(["u@" + d], n=PER, sender="s@example.test",
                                size=500)
            is_(len(ids), NDOM * PER, "5,000 messages queued")
            q.wait_gone(ids, timeout=300)
            took = time.monotonic() - t0
            got = smtp.spool(b)
            is_(len(got), NDOM * PER, "all 5,000 arrived")
            per_dom = {}
            for m in got.values():
                for r in m.rcpts:
                    per_dom[r["addr"]] = per_dom.get(r["addr"], 0) + 1
            is_(sorted(set(per_dom.values())), [PER],
                "50 for each of the 100 domains, none twice")
            conns = b.log("smtp").count("connect from 127.0.0.1")
            diag("%d messages in %.1f s over %d connections" %
                 (len(got), took, conns))
            ok(conns <= NDOM * PER // 10,
               "connections reused: %d for 5,000 messages" % conns)
finally:
    if dns:
        dns.stop()
done()
