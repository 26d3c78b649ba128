#!/usr/bin/env python3
# routing.conf applied by the queue and the remote agent: a forwarded
# domain goes to its server whatever DNS says (FEATURES SO-10); other
# remote mail goes to the gateway for its priority, with AUTH PLAIN
# inside STARTTLS (SO-08, SO-11); a second gateway takes over when the
# first is down; a second [gateway] section takes over with its own
# login; mail no gateway covers goes by MX.  Nothing here needs
# DNS except the last case.
import base64
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

FWD, GW, GW2, MX, DEAD, GW3 = ("127.0.0.2", "127.0.0.3", "127.0.0.6",
                               "127.0.0.7", "127.0.0.4", "127.0.0.8")
port = port_free_on([FWD, GW, GW2, MX, DEAD, GW3])
dns = dnsmasq.Dnsmasq(zones=["example"], args=[
    "--mx-host=bymx.example,mx.bymx.example,10",
    "--host-record=mx.bymx.example,%s" % MX]).start()
certdir = os.path.join(dns.dir, "cert")
os.makedirs(certdir)
smtp.make_cert(certdir, "gw.test")
cert = (os.path.join(certdir, "cert.pem"), os.path.join(certdir, "key.pem"))
auth = base64.b64encode(b"\0tern\0s3cret").decode()
pf = Peer(FWD, port).start()
pg = Peer(GW, port, tls=cert, auth=auth).start()
pg2 = Peer(GW2, port, tls=cert, auth=auth).start()
auth3 = base64.b64encode(b"\0backup\0pw-two").decode()
pg3 = Peer(GW3, port, tls=cert, auth=auth3).start()
pm = Peer(MX, port).start()

q = QInst(conf={"spool_retry_intervals": "1s 1s",
                "hostname": "mx.example.test", "dns_servers": dns.server,
                "smtp_out_port": str(port),
                "smtp_out_connect_timeout": "2s",
                "smtp_out_timeout": "3s",
                "smtp_out_address": "127.0.0.9",
                "hostnames": "127.0.0.9=out9.example.test"},
          services={"smtpout": {"program": os.path.join(BIN, "delivery"),
                                "args": "-r",
                                "listen": ["unix:smtp-out.sock"]}})
with open(q.path("routing.conf"), "w") as f:
    f.write("[forward]\nname = inside\naddress = [%s]:%d\n"
            "domains = fwd.example\n\n"
            "[gateway]\nname = main\naddress = [%s]:%d, [%s]:%d\n"
            "priority = 1-5\nauth_user = tern\nauth_password = s3cret\n"
            "tls = require\n\n"
            "[gateway]\nname = backup\naddress = [%s]:%d\npriority = 1-5\n"
            "auth_user = backup\nauth_password = pw-two\ntls = require\n"
            % (FWD, port, GW, port, GW2, port, GW3, port))
SENDER = "s@example.test"
try:
    with q:
        q.start()
        q.inject(["u@fwd.example"], sender=SENDER)
        wait_for(lambda: pf.transactions, what="the forwarded domain")
        is_(pf.transactions[0]["rcpts"], ["u@fwd.example"],
            "forwarded domain: to its server, no DNS")
        is_(pf.clients[0], "127.0.0.9", "sent from smtp_out_address")
        is_(pf.helos[0], "out9.example.test",
            "EHLO with the hostnames name of that address")

        q.inject(["v@anywhere.example"], sender=SENDER,
                 params=["priority=3"])
        wait_for(lambda: pg.transactions, what="the gateway")
        t = pg.transactions[0]
        is_(t["rcpts"], ["v@anywhere.example"], "priority 3: the gateway")
        ok(t["tls"] and pg.auths == ["AUTH PLAIN " + auth],
           "inside STARTTLS, logged in with AUTH PLAIN")
        ok("routed via main" in q.qlog(), "the route is logged")

        q.inject(["w@bymx.example"], sender=SENDER, params=["priority=9"])
        wait_for(lambda: pm.transactions, what="the MX")
        is_(pm.transactions[0]["rcpts"], ["w@bymx.example"],
            "priority 9 (no gateway covers it): by MX")

        # The first gateway down: the second takes it.
        pg.stop()
        q.inject(["x@anywhere.example"], sender=SENDER,
                 params=["priority=1"])
        wait_for(lambda: pg2.transactions, what="the second gateway")
        is_(pg2.transactions[0]["rcpts"], ["x@anywhere.example"],
            "first gateway down: the next one in the list")

        # Every address of the first gateway down: the second section,
        # logged in with its own user and password.
        pg2.stop()
        q.inject(["y@anywhere.example"], sender=SENDER,
                 params=["priority=2"])
        wait_for(lambda: pg3.transactions, what="the backup gateway")
        is_(pg3.transactions[0]["rcpts"], ["y@anywhere.example"],
            "the second [gateway] section takes it")
        is_(pg3.auths, ["AUTH PLAIN " + auth3],
            "with its own login, not the first gateway's")

        # An outbound address this host does not have: fall back once to
        # the system's choice (the reference's "primary IP").
        q.conf["smtp_out_address"] = "192.0.2.1"
        q.write_conf()
        q.adminctl("reload")
        # The agents take SIGHUP in their own time: send until one goes
        # out under the new setting (bounded).
        fell_back = False
        for _ in range(10):
            n0 = len(pf.transactions)
            q.inject(["v@fwd.example"], sender=SENDER)
            wait_for(lambda: len(pf.transactions) > n0, what="delivery")
            if "from smtp_out_address failed; sent from the system's " \
               "address" in q.qlog():
                fell_back = True
                break
        ok(fell_back and pf.clients[-1] == "127.0.0.1",
           "bind failed: sent from the system's address, and logged")
        is_(pf.helos[-1], "mx.example.test",
            "from the system's address, EHLO with hostname")
finally:
    for p in (pf, pg3, pm):
        p.stop()
    dns.stop()
done()
