"""A DNS server of the test's own: dnsmasq on a free loopback port, with
the records the test gives, authoritative for the zones it names (so any
other name in them is NXDOMAIN).

    dns = Dnsmasq(zones=["example"], args=[
        "--mx-host=far.example,mx1.far.example,10",
        "--host-record=mx1.far.example,127.0.0.2"])
    dns.start()             # waits until it answers
    conf = {"dns_servers": dns.server}      # "127.0.0.1:PORT"
    dns.stop()

With ipv6=True it listens on [::1] instead ("[::1]:PORT").

Null MX is "--mx-host=domain,.,0".  Nothing sleeps: start() polls.
"""
import os
import shutil
import socket
import struct
import subprocess
import tempfile

from tern import free_port, wait_for


def available():
    return shutil.which("dnsmasq") is not None


class Dnsmasq:
    def __init__(self, zones=(), args=(), ipv6=False):
        self.port = free_port()
        self.family = socket.AF_INET6 if ipv6 else socket.AF_INET
        self.addr = "::1" if ipv6 else "127.0.0.1"
        self.server = ("[::1]:%d" if ipv6 else "127.0.0.1:%d") % self.port
        self.dir = tempfile.mkdtemp(prefix="tern-dns-")
        self.cmd = ["dnsmasq", "-k", "--conf-file=/dev/null", "--no-resolv",
                    "--no-hosts", "--bind-interfaces",
                    "--listen-address=" + self.addr, "--port=%d" % self.port,
                    "--pid-file=" + os.path.join(self.dir, "pid")]
        self.cmd += ["--local=/%s/" % z for z in zones]
        self.cmd += list(args)
        self.proc = None

    def _answers(self):
        q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0) + \
            b"\x07example\x00" + struct.pack(">HH", 1, 1)
        s = socket.socket(self.family, socket.SOCK_DGRAM)
        s.settimeout(0.2)
        try:
            s.sendto(q, (self.addr, self.port))
            return len(s.recv(512)) > 12
        except OSError:
            return False
        finally:
            s.close()

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_for(self._answers, what="dnsmasq to answer")
        return self

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)
