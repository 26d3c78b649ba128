#!/usr/bin/env python3
# Tern to Tern: the remote agent of one instance delivers to the smtpd of
# a second (found by MX through dnsmasq), over STARTTLS, with the
# recipients of one domain in one transaction; the second instance's
# spool holds the message with the first's headers intact and its own
# Received line naming TLS.  A BINARYMIME message goes by BDAT, its bytes
# (NULs, bare CR and LF, a CRLF.CRLF inside) arriving unchanged.  Then 20
# domains x 5 messages, each domain's messages over as few connections as
# the agents allow (reuse).
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done, skip_all    # noqa: E402
from tern import BIN, wait_for             # noqa: E402
from queue_t import QInst                  # noqa: E402
import dnsmasq                             # noqa: E402
import smtp                                # noqa: E402

if not dnsmasq.available():
    skip_all("dnsmasq not installed")

DOMAINS = ["d%02d.example" % i for i in range(20)]
b = smtp.instance(conf={"smtp_whitelist": "127.0.0.1",
                        "log_level_smtp": "detailed"})
dns = None
try:
    with b:
        b.start()
        port = b.port("smtp")
        dns = dnsmasq.Dnsmasq(zones=["example", "com"], args=[
            "--mx-host=example.com,mx.b.example,10",
            "--host-record=mx.b.example,127.0.0.1"] +
            ["--mx-host=%s,mx.b.example,10" % d for d in DOMAINS]).start()
        q = QInst(conf={"hostname": "a.example.test",
                        "dns_servers": dns.server,
                        "smtp_out_port": str(port),
                        "spool_retry_intervals": "1s 1s"},
                  services={"smtpout": {
                      "program": os.path.join(BIN, "delivery"),
                      "args": "-r", "workers": 2,
                      "listen": ["unix:smtp-out.sock"]}})
        with q:
            q.start()
            ids = q.inject(["alice@example.com", "bob@example.com"],
                           sender="s@example.test")
            q.wait_gone(ids)
            got = list(smtp.spool(b).values())
            is_(len(got), 1, "one message at the second instance")
            m = got[0]
            is_(sorted(r["addr"] for r in m.rcpts),
                ["alice@example.com", "bob@example.com"],
                "both recipients in one transaction")
            is_(m.sender, "s@example.test", "the envelope sender")
            h = m.headers()
            ok("Message-ID: <%s@spoolinject>" % ids[0] in h,
               "the original headers intact")
            ok(h.startswith("Received: from a.example.test (") and
               "TLS" in h.split("\r\n\r\n")[0].split("Message-ID")[0],
               "its Received line names our EHLO and TLS")
            rc = [l for l in q.qlog().splitlines() if ids[0] in l and
                  "delivered (remote)" in l]
            ok(len(rc) == 2 and "said: 250 2.0.0" in rc[0],
               "the queue logged both delivered with the peer's 250")

            # BINARYMIME by BDAT, byte for byte.
            before = set(smtp.spool(b))
            ids = q.inject(["alice@example.com"], sender="s@example.test",
                           params=["body=BINARYMIME"], size=600,
                           binary=True)
            q.wait_gone(ids)
            new = [m for k, m in smtp.spool(b).items() if k not in before]
            is_(len(new), 1, "the BINARYMIME message arrived")
            want = bytes(i % 256 for i in range(600)) + b"\r\n.\r\n\n.\n"
            ok(new and new[0].body.endswith(want),
               "its body byte for byte (NULs, bare CR/LF, CRLF.CRLF)")
            is_(new[0].params.get("body") if new else None, "BINARYMIME",
                "declared BODY=BINARYMIME")
            ok("<<< BDAT 7" in b.log("smtp"),
               "sent with BDAT")

            # 20 domains x 5 messages.
            before = len(smtp.spool(b))
            all_ids = []
            for d in DOMAINS:
                all_ids += q.inject(["u@" + d], n=5,
                                    sender="s@example.test")
            q.wait_gone(all_ids, timeout=60)
            is_(len(smtp.spool(b)) - before, 100,
                "100 messages to 20 domains all arrived")
            conns = b.log("smtp").count("connect from 127.0.0.1")
            ok(conns < 100, "over %d connections, not 100 (reuse)" % conns)
finally:
    if dns:
        dns.stop()
done()
