#!/usr/bin/env python3
# The remote agent (delivery -r on smtp-out.sock) against scripted SMTP
# peers on 127.0.0.2 and 127.0.0.3, with MX records from a dnsmasq of the
# test's own: one transaction for every recipient of a domain, the
# message bytes exact (dot-stuffing, CRLF), per-recipient 5xx bounced and
# 4xx retried, MX preference and fallback past a dead MX, no MX (the
# domain's own address), null MX bounced at once (5.1.10), NXDOMAIN
# deferred as 4.4.3 and bounced after spool_dns_bounce_attempts,
# STARTTLS when offered, a peer's SIZE limit, a hung peer timed out,
# a connection kept for the next message to the same host, and two MX
# hosts of equal preference both used (RFC 5321 5.1).
import email
import os
import re
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

A, B, DEAD, HUNG = "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"
port = port_free_on([A, B, DEAD, HUNG])
dns = dnsmasq.Dnsmasq(zones=["example"], args=[
    "--mx-host=far.example,mx1.far.example,10",
    "--host-record=mx1.far.example,%s" % A,
    "--mx-host=two.example,dead.two.example,10",
    "--mx-host=two.example,mx2.two.example,20",
    "--host-record=dead.two.example,%s" % DEAD,
    "--host-record=mx2.two.example,%s" % B,
    "--host-record=plain.example,%s" % A,
    "--mx-host=null.example,.,0",
    "--mx-host=hung.example,mx.hung.example,10",
    "--host-record=mx.hung.example,%s" % HUNG,
    "--mx-host=eq.example,mx-a.eq.example,10",
    "--mx-host=eq.example,mx-b.eq.example,10",
    "--host-record=mx-a.eq.example,%s" % A,
    "--host-record=mx-b.eq.example,%s" % B,
]).start()
certdir = os.path.join(dns.dir, "cert")
os.makedirs(certdir)
smtp.make_cert(certdir, "mx1.far.example")
pa = Peer(A, port, tls=(os.path.join(certdir, "cert.pem"),
                        os.path.join(certdir, "key.pem")),
          size=200000).start()
pb = Peer(B, port, no_ext=True).start()
ph = Peer(HUNG, port, hang=True).start()

q = QInst(conf={"spool_retry_intervals": "1s 1s 1s",
                "spool_dns_bounce_attempts": "2",
                "hostname": "mx.example.test",
                "dns_servers": dns.server, "dns_timeout": "2s",
                "smtp_out_port": str(port),
                "smtp_out_connect_timeout": "2s",
                "smtp_out_timeout": "3s"},
          services={"smtpout": {"program": os.path.join(BIN, "delivery"),
                                "args": "-r", "workers": 2,
                                "listen": ["unix:smtp-out.sock"]}})
SENDER = "s@example.test"


def bounce_of(qid):
    pat = re.compile(r"%s: bounce (\w+) to" % qid)
    bid = wait_for(lambda: (pat.search(q.qlog()) or [None, None])[1],
                   timeout=30, what="a bounce for " + qid)
    return wait_for(lambda: q.copy(bid), what="the bounce delivered")


def dsn_fields(msg):
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            return [dict(b.items()) for b in part.get_payload()][1:]
    return []


try:
    with q:
        q.start()
        ids = q.inject(["a@far.example", "b@far.example",
                        "rej5-c@far.example"], sender=SENDER)
        wait_for(lambda: pa.transactions, what="a transaction at mx1")
        t = pa.transactions[0]
        is_(sorted(t["rcpts"]), ["a@far.example", "b@far.example"],
            "one transaction for the domain's recipients")
        is_(t["from"], SENDER, "MAIL FROM the envelope sender")
        ok(t["tls"], "STARTTLS used when offered")
        is_(t["helo"], "mx.example.test", "EHLO with our hostname")
        ok(" SIZE=" in t["mail"], "SIZE given to a peer that has it")
        msg = email.message_from_bytes(t["data"])
        ok(msg["Subject"] is not None and b"\r\n" in t["data"] and
           b"\n" not in t["data"].replace(b"\r\n", b""),
           "the message arrived with CRLF line ends only")
        m = dsn_fields(bounce_of(ids[0]))
        is_([(f.get("Final-Recipient"), f.get("Action"), f.get("Status"))
             for f in m], [("rfc822; rej5-c@far.example", "failed",
                            "5.1.1")], "the 550 recipient bounced")
        ok("said: 550 5.1.1" in m[0].get("Diagnostic-Code", "") and
           "mx1.far.example[127.0.0.2]" in m[0].get("Diagnostic-Code", ""),
           "the diagnostic quotes the peer: " +
           m[0].get("Diagnostic-Code", ""))

        # Dot-stuffing: every body line starts with a dot; the peer (which
        # does not undo the stuffing) must see each doubled.
        n0 = len(pa.transactions)
        ids = q.inject(["dots@far.example"], sender=SENDER, size=300,
                       dots=True)
        wait_for(lambda: len(pa.transactions) > n0, what="the dots")
        body = pa.transactions[-1]["data"].split(b"\r\n\r\n", 1)[1]
        lines = [ln for ln in body.split(b"\r\n") if ln]
        ok(lines and all(ln.startswith(b"..x") for ln in lines),
           "each line starting with a dot went out as '..' (%d lines)"
           % len(lines))

        # Connection reuse: ten messages, two agent processes, so at
        # most two new connections (each agent keeps its last one).
        c0, n0 = pa.connections, len(pa.transactions)
        q.inject(["many@far.example"], n=10, sender=SENDER)
        wait_for(lambda: len(pa.transactions) >= n0 + 10, what="ten more")
        ok(pa.connections - c0 <= 2, "ten messages over %d new "
           "connection(s)" % (pa.connections - c0))
        ok("reusing the connection to mx1.far.example[127.0.0.2]" in
           q.qlog(), "reuse is logged")

        # MX fallback: the preferred MX is dead.
        ids = q.inject(["x@two.example"], sender=SENDER)
        wait_for(lambda: pb.transactions, what="delivery at mx2")
        is_(pb.transactions[0]["rcpts"], ["x@two.example"],
            "dead first MX: the second took it")
        ok(not pb.transactions[0]["tls"] and " SIZE" not in
           pb.transactions[0]["mail"], "a peer without ESMTP: plain MAIL")

        # 8BITMIME declared, a peer without it: bounced 5.6.3, not sent.
        n0 = len(pb.transactions)
        ids = q.inject(["e@two.example"], sender=SENDER,
                       params=["body=8BITMIME"])
        m = dsn_fields(bounce_of(ids[0]))
        is_(m[0].get("Status") if m else None, "5.6.3",
            "8-bit message, peer without 8BITMIME: 5.6.3")
        is_(len(pb.transactions), n0, "and nothing sent to it")

        # BINARYMIME cannot go by DATA: 5.6.3.
        ids = q.inject(["bin@far.example"], sender=SENDER,
                       params=["body=BINARYMIME"])
        m = dsn_fields(bounce_of(ids[0]))
        is_(m[0].get("Status") if m else None, "5.6.3",
            "BINARYMIME: 5.6.3, not mangled through DATA")

        # A loop: more Received headers than smtp_max_hops (20).
        n0 = len(pa.transactions)
        ids = q.inject(["loop@far.example"], sender=SENDER, received=21)
        m = dsn_fields(bounce_of(ids[0]))
        is_(m[0].get("Status") if m else None, "5.4.6",
            "21 Received headers: 5.4.6, not sent")
        is_(len(pa.transactions), n0, "nothing reached the peer")

        # No MX: the domain's own address.
        ids = q.inject(["y@plain.example"], sender=SENDER)
        wait_for(lambda: any("y@plain.example" in t["rcpts"]
                             for t in pa.transactions),
                 what="delivery to plain.example's A")
        ok(True, "no MX: delivered to the domain's address")

        # Null MX: bounced at once.
        ids = q.inject(["z@null.example"], sender=SENDER)
        m = dsn_fields(bounce_of(ids[0]))
        is_(m[0].get("Status") if m else None, "5.1.10",
            "null MX: 5.1.10 bounce")
        ok(": to=<z@null.example> failed" in q.qlog() and
           "attempt 2" not in "\n".join(l for l in q.qlog().splitlines()
                                        if ids[0] in l),
           "on the first attempt")

        # NXDOMAIN: 4.4.3, bounced after two attempts.
        ids = q.inject(["w@nosuch.example"], sender=SENDER)
        m = dsn_fields(bounce_of(ids[0]))
        ok(m and m[0].get("Status") == "4.4.3" and "gave up after 2 "
           "attempts" in m[0].get("Diagnostic-Code", ""),
           "no such domain: bounced after spool_dns_bounce_attempts")

        # 4xx for one recipient: retried, then delivered elsewhere? No:
        # the peer keeps saying 450, so it is retried and finally bounced.
        ids = q.inject(["rej4-r@far.example"], sender=SENDER)
        m = dsn_fields(bounce_of(ids[0]))
        ok(m and m[0].get("Status") == "4.4.7",
           "a recipient always 4xx: retried, then bounced as 4.4.7")
        ok(q.qlog().count("%s: to=<rej4-r@far.example> deferred" % ids[0])
           >= 3, "after the retries")

        # A peer over its SIZE: 5.3.4 without sending.
        big = q.inject(["big@far.example"], sender=SENDER, size=300000)
        m = dsn_fields(bounce_of(big[0]))
        is_(m[0].get("Status") if m else None, "5.3.4",
            "over the peer's SIZE: 5.3.4")

        # A peer that never greets: the connection times out, deferred.
        ids = q.inject(["h@hung.example"], sender=SENDER)
        q.wait_log("%s: to=<h@hung.example> deferred" % ids[0], timeout=30)
        ok("4.4.1" in [l for l in q.qlog().splitlines() if ids[0] in l and
                       "deferred" in l][0], "hung peer: deferred 4.4.1")
        q.adminctl("spool", "delete", ids[0])

        # Two MX hosts of preference 10: the load goes to both.
        na, nb = len(pa.transactions), len(pb.transactions)
        ids = []
        for i in range(20):
            ids += q.inject(["e%d@eq.example" % i], sender=SENDER)
        q.wait_gone(ids, timeout=60)
        da, db = len(pa.transactions) - na, len(pb.transactions) - nb
        is_(da + db, 20, "20 messages to equal MX hosts delivered")
        ok(da > 0 and db > 0, "both hosts used (%d and %d)" % (da, db))
finally:
    for p in (pa, pb, ph):
        p.stop()
    dns.stop()
done()
