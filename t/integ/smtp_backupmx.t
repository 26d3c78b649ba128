#!/usr/bin/env python3
# The backup-MX role (routing.conf [smarthost], FEATURES SO-09): smtpd
# takes mail from anyone for a domain whose MX hosts (or, with no MX, the
# domain itself) resolve to a listed primary address, looked up through
# dns_servers without stopping other sessions; other remote domains stay
# closed (554), a DNS server that does not answer gets 451 4.4.3.  The
# queue then holds the mail while the primary is down: the remote agent
# tries only MX hosts better than our own (RFC 5321 5.1), never itself.
# When the primary is back, `adminctl spool reset-retries` sends it.
import os
import socket
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done, skip_all    # noqa: E402
from tern import BIN, wait_for             # noqa: E402
import dnsmasq                             # noqa: E402
import smtp                                # noqa: E402
from smtppeer import Peer, port_free_on    # noqa: E402

if not dnsmasq.available():
    skip_all("dnsmasq not installed")

PRIMARY, OTHER = "127.0.0.2", "127.0.0.3"
ME = "backup.example"
port = port_free_on([PRIMARY, OTHER])
dns = dnsmasq.Dnsmasq(zones=["example"], args=[
    "--mx-host=cust.example,mx1.cust.example,10",
    "--mx-host=cust.example,%s,20" % ME,
    "--mx-host=cust.example,mx2.cust.example,20",
    "--host-record=mx2.cust.example,%s" % OTHER,
    "--host-record=mx1.cust.example,%s" % PRIMARY,
    "--host-record=%s,127.0.0.1" % ME,
    "--host-record=nomx.example,%s" % PRIMARY,
    "--mx-host=other.example,mx.other.example,10",
    "--host-record=mx.other.example,%s" % OTHER]).start()
services = smtp.smtpd_services(extra={
    "queue": {"program": "queue", "listen": ["unix:queue.sock"]},
    "smtpout": {"program": os.path.join(BIN, "delivery"), "args": "-r",
                "listen": ["unix:smtp-out.sock"]}})
inst = smtp.instance(conf={"hostname": ME, "dns_servers": dns.server,
                           "dns_timeout": "1s", "dns_retries": "1",
                           "smtp_out_port": str(port),
                           "smtp_out_connect_timeout": "2s",
                           "spool_delivery_delay": "0",
                           "spool_retry_intervals": "1h",
                           "log_level_delivery": "detailed"},
                     services=services)
with open(inst.path("routing.conf"), "w") as f:
    f.write("[smarthost]\nname = customer\nprimary = %s\n" % PRIMARY)


def rcpt(c, addr):
    return c.cmd("RCPT TO:<%s>" % addr)[0]


try:
    with inst:
        inst.start()
        p25 = inst.port("smtp")
        c = smtp.ehlo(p25)
        is_(c.cmd("MAIL FROM:<someone@far.test>")[0], 250, "MAIL")
        is_(rcpt(c, "u@cust.example"), 250,
            "MX points at the primary: accepted from anyone")
        is_(rcpt(c, "u@nomx.example"), 250,
            "no MX, the domain's own address is the primary: accepted")
        is_(rcpt(c, "u@other.example"), 554, "another MX: relaying denied")
        is_(rcpt(c, "u@missing.example"), 554, "no such domain: 554")
        ok("backup-mx" in inst.log("smtp"), "logged as backup-mx")

        # Pipelined: the replies keep their order while a check runs.
        c.send("RCPT TO:<v@other.example>\r\nRCPT TO:<v@cust.example>\r\n"
               "NOOP\r\n")
        is_([c.reply()[0] for _ in range(3)], [554, 250, 250],
            "pipelined RCPTs answered in order")
        is_(c.cmd("DATA")[0], 354, "DATA")
        code, lines = c.cmd("Subject: for the customer\r\n\r\nhello\r\n.")
        is_(code, 250, "message taken for the backup domain")
        c.close()

        # Held: the primary is down, and neither we nor the other MX of
        # our preference (20) gets it.
        equal = Peer(OTHER, port).start()

        def attempts():
            return [ln for ln in inst.log("delivery").splitlines()
                    if "cust.example" in ln and "no mail server" in ln]
        wait_for(attempts, what="a delivery attempt while the primary "
                 "is down")
        last = attempts()[-1]
        ok(PRIMARY in last, "the primary was tried: %s" % last)
        ok("127.0.0.1" not in last, "not ourselves")
        is_(equal.connections, 0, "nor the MX of our own preference")
        equal.stop()
        rc, out, err = inst.adminctl("spool", "list")
        rows = [ln for ln in out.splitlines() if "someone@far.test" in ln]
        ok(len(rows) == 1 and "deferred" in rows[0],
           "the message waits in the spool, deferred: %r" % rows)
        ok(len(rows) == 1 and "d" not in rows[0].split()[2],
           "its time in spool counts from its arrival: %r" % rows)

        # The primary returns: reset-retries sends at once.
        peer = Peer(PRIMARY, port).start()
        rc, out, err = inst.adminctl("spool", "reset-retries")
        is_(rc, 0, "adminctl spool reset-retries: %s" % err.strip())
        # two domains: two transactions, in either order
        wait_for(lambda: sum(len(t["rcpts"]) for t in peer.transactions)
                 >= 3, what="delivery to the primary")
        got = sorted(r for t in peer.transactions for r in t["rcpts"])
        is_(got, ["u@cust.example", "u@nomx.example", "v@cust.example"],
            "the primary got every held recipient")
        peer.stop()

        # A DNS server that does not answer (a UDP socket nobody reads:
        # queries time out, they are not refused): 451, nothing stuck.
        mute = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        mute.bind(("127.0.0.1", 0))
        inst.conf.update({"dns_servers": "127.0.0.1:%d" %
                          mute.getsockname()[1], "dns_timeout": "6s"})
        inst.write_conf()
        inst.adminctl("reload")

        def deferred():
            c = smtp.ehlo(p25)
            c.cmd("MAIL FROM:<someone@far.test>")
            code = rcpt(c, "w@cust.example")
            c.close()
            return code == 451
        wait_for(deferred, timeout=60, what="451 with the DNS server gone")
        # the same domain again: told at once, not after the timeouts
        t0 = time.monotonic()
        ok(deferred(), "451 again for the same domain")
        ok(time.monotonic() - t0 < 3.0, "at once (%.1f s): the failure is "
           "remembered" % (time.monotonic() - t0))
        # A client that leaves during the check does no harm.
        c = smtp.ehlo(p25)
        c.cmd("MAIL FROM:<someone@far.test>")
        c.send("RCPT TO:<x@elsewhere.example>\r\n")
        c.close()
        t0 = time.monotonic()
        c = smtp.ehlo(p25)
        is_(c.cmd("MAIL FROM:<someone@far.test>")[0], 250,
            "the server goes on after a client left mid-check")
        is_(rcpt(c, "alice@example.com"), 250,
            "local mail is never held up")
        # that lookup waits 6 s for the mute server, in the helper thread
        ok(time.monotonic() - t0 < 4.5,
           "local RCPT answered while another session's lookup waits")
        c.close()
finally:
    dns.stop()
done()
