#!/usr/bin/env python3
# smtpd's reverse DNS (smtp_reverse_dns = yes) against a DNS server of
# the test's own on loopback (dnsmasq; TERN_RESOLV_CONF points smtpd at
# it): a confirmed name goes into the Received header and the envelope,
# a PTR whose name does not lead back to the client's address and a
# missing PTR give "unknown"; with a DNS server that never answers the
# greeting and EHLO come at once (the lookup runs meanwhile, and only
# DATA waits for it), and a client that leaves during the lookup does no
# harm.
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, skip_all, done          # noqa: E402
from tern import free_port, wait_for             # noqa: E402
import smtp                                      # noqa: E402

if not shutil.which("dnsmasq"):
    skip_all("dnsmasq not installed")

tmp = tempfile.mkdtemp(prefix="tern-dns-")
os.chmod(tmp, 0o755)
dport = free_port()


def dns_ready():
    q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0)
    for label in (b"client", b"tern", b"test"):
        q += bytes([len(label)]) + label
    q += b"\0" + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    try:
        s.sendto(q, ("127.0.0.1", dport))
        return len(s.recv(512)) > 12
    except OSError:
        return False
    finally:
        s.close()


dns = subprocess.Popen(
    ["dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
     "--bind-interfaces", "--listen-address=127.0.0.1",
     "--port=%d" % dport, "--pid-file=" + os.path.join(tmp, "pid"),
     "--host-record=client.tern.test,127.0.0.1",
     "--ptr-record=2.0.0.127.in-addr.arpa,liar.tern.test",
     "--address=/liar.tern.test/10.9.9.9"],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def resolv(path, port):
    with open(path, "w") as f:
        f.write("nameserver 127.0.0.1:%d\n" % port)
    os.chmod(path, 0o644)
    os.environ["TERN_RESOLV_CONF"] = path


def message_from(port, source):
    c = smtp.ehlo(port, source=(source, 0))
    code, lines = smtp.send_message(c, "r@remote.test", ["alice@example.com"],
                                    "Subject: rdns\r\n\r\nx")
    c.close()
    return smtp.spool(inst)[smtp.queued_id(lines)]


try:
    wait_for(dns_ready, what="dnsmasq to answer")
    resolv(os.path.join(tmp, "resolv.conf"), dport)
    inst = smtp.instance(conf={"smtp_reverse_dns": "yes"})
    with inst:
        inst.start()
        port = inst.port("smtp")
        m = message_from(port, "127.0.0.1")
        ok(m.headers().startswith("Received: from client.test "
                                  "(client.tern.test [127.0.0.1])"),
           "confirmed name in Received")
        is_(m.params.get("client_name"), "client.tern.test",
            "and in the envelope")
        m = message_from(port, "127.0.0.2")
        ok("(unknown [127.0.0.2])" in m.headers(),
           "PTR not confirmed by A: unknown")
        is_(m.params.get("client_name"), None, "no name in the envelope")
        m = message_from(port, "127.0.0.3")
        ok("(unknown [127.0.0.3])" in m.headers(), "no PTR: unknown")
        ok("127.0.0.1 is client.tern.test" in inst.log("smtp"),
           "the name is logged")

    # A DNS server that never answers (a UDP socket that reads nothing).
    mute = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    mute.bind(("127.0.0.1", 0))
    resolv(os.path.join(tmp, "mute.conf"), mute.getsockname()[1])
    inst = smtp.instance(conf={"smtp_reverse_dns": "yes"})
    with inst:
        inst.start()
        port = inst.port("smtp")
        for _ in range(5):
            c = smtp.Client(port, greet=False)
            c.close()                   # gone while the lookup runs
        c = smtp.Client(port, timeout=30)
        is_(c.greeting, (220, ["mx.test.example ESMTP Tern"]),
            "greeting while the lookup runs")
        code, lines = c.cmd("EHLO client.test")
        is_(code, 250, "EHLO answered too")
        ok("127.0.0.1 is unknown" not in inst.log("smtp"),
           "both before the lookup gave up (it waits 2 x 3 s)")
        code, lines = smtp.send_message(c, "r@remote.test",
                                        ["alice@example.com"],
                                        "Subject: mute\r\n\r\nx")
        ok("(unknown [127.0.0.1])" in
           smtp.spool(inst)[smtp.queued_id(lines)].headers(),
           "no answer: unknown")
        c.close()
    mute.close()
finally:
    dns.terminate()
    dns.wait()
    shutil.rmtree(tmp, ignore_errors=True)
done()
