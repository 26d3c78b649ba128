#!/usr/bin/env python3
"""IMAP: Tern's imapd beside Dovecot's, same mail, same run.  Not a test:
run by make bench (t/bench/run.sh) or by hand.

    TERN_BUILD=$PWD/build python3 t/bench/imap_bench.py \\
        [--clients 10] [--msgs 200] [--seconds 10] \\
        [--idle 10000] [--dovecot-idle 1000] [--limit 300]

Workload (issue #8): --clients processes, each its own user with --msgs
messages (2 KB to 120 KB), loop over one session:

    LOGIN, SELECT INBOX, FETCH 1:100 (UID FLAGS BODY.PEEK[HEADER]),
    STORE of \\Seen on 10 messages, SEARCH UNSEEN SUBJECT "message 1",
    APPEND of a 2 KB message (to the Bench folder), LOGOUT

and count commands answered per second (7 per session).  Each server
gets its own copy of the same mail, so neither reads the other's
appends or flags.

Idle memory: --idle connections logged in, INBOX selected, in IDLE; the
figure is the growth of the server's memory (sum of PSS over its
processes: imapd and auth for Tern, every process under Dovecot's
master) divided by the connections held.  Dovecot runs a process per
session, so it gets --dovecot-idle connections (its imap service's
process_limit is set to match).

The private Dovecot (dovecot-imapd) is made by dovecot.py; it is stopped
at the end, whatever happens.  The whole run stops after --limit seconds.
"""
import argparse
import os
import re
import resource
import shutil
import socket
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from benchlib import run_clients                        # noqa: E402
from dovecot import (PASSWORD, Dovecot, ensure_dovecot,  # noqa
                     tern_instance, fill_maildir, message)
from postfix import pss_of                              # noqa: E402


def pss_kb(pids):
    return pss_of(pids) / 1024

DEADLINE = [0.0]
APPEND_MSG = message(0, 2000).replace(b"\n", b"\r\n")


class Conn:
    """One IMAP session over a raw socket; literals read whole."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buf = b""
        self.n = 0
        self.line()

    def _fill(self):
        d = self.s.recv(262144)
        if not d:
            raise EOFError("closed")
        self.buf += d

    def line(self):
        """One response line, with any literals it carries inline."""
        out = b""
        while True:
            while b"\r\n" not in self.buf:
                self._fill()
            ln, self.buf = self.buf.split(b"\r\n", 1)
            m = re.search(rb"\{(\d+)\}$", ln)
            if not m:
                return out + ln
            n = int(m.group(1))
            while len(self.buf) < n:
                self._fill()
            out += ln + self.buf[:n]
            self.buf = self.buf[n:]

    def cmd(self, text, literal=None):
        self.n += 1
        tag = b"t%d" % self.n
        if literal is None:
            self.s.sendall(tag + b" " + text + b"\r\n")
        else:
            self.s.sendall(tag + b" " + text + b" {%d}\r\n" % len(literal))
            if not self.line().startswith(b"+"):
                raise RuntimeError("no continuation for %r" % text)
            self.s.sendall(literal + b"\r\n")
        while True:
            ln = self.line()
            if ln.startswith(tag + b" "):
                if not ln.startswith(tag + b" OK"):
                    raise RuntimeError("%r: %r" % (text, ln))
                return ln


def session_loop(port, user, nmsgs, stop_at, q):
    ops = sessions = 0
    k = 0
    while time.monotonic() < stop_at:
        c = Conn(port)
        c.cmd(b'LOGIN %s "%s"' % (user.encode(), PASSWORD.encode()))
        c.cmd(b"SELECT INBOX")
        c.cmd(b"FETCH 1:%d (UID FLAGS BODY.PEEK[HEADER])" % min(100, nmsgs))
        lo = 1 + (k * 10) % max(1, nmsgs - 10)
        c.cmd(b"STORE %d:%d %sFLAGS.SILENT (\\Seen)" % (
            lo, lo + 9, b"+" if k % 2 == 0 else b"-"))
        c.cmd(b'SEARCH UNSEEN SUBJECT "message 1"')
        c.cmd(b"APPEND Bench (\\Seen)", APPEND_MSG)
        c.cmd(b"LOGOUT")
        c.s.close()
        ops += 7
        sessions += 1
        k += 1
    q.put((ops, sessions))


def hold_idle(port, users, n, pids_of):
    """n sessions in IDLE; (connections held, KiB per connection)."""
    base = pss_kb(pids_of())
    socks = []
    try:
        for i in range(n):
            if time.monotonic() >= DEADLINE[0]:
                break
            u = users[i % len(users)]
            try:
                c = Conn(port)
                c.s.sendall(b'a LOGIN %s "%s"\r\nb SELECT INBOX\r\nc IDLE\r\n'
                            % (u.encode(), PASSWORD.encode()))
                while not c.line().startswith(b"+"):
                    pass
            except (OSError, EOFError, RuntimeError) as e:
                print("   stopped at %d connections: %s" % (i, e))
                break
            c.buf = b""
            socks.append(c)
        held = len(socks)
        grown = pss_kb(pids_of()) - base
        return held, (grown / held if held else 0.0)
    finally:
        for c in socks:
            try:
                c.s.sendall(b"DONE\r\nz LOGOUT\r\n")
            except OSError:
                pass
            c.s.close()


def measure(name, port, a, users, pids_of, idle_n):
    r = {}
    run_clients(session_loop, port, users, min(2.0, a.seconds),
                DEADLINE[0], a.msgs)                        # warm up
    r["ops"] = run_clients(session_loop, port, users, a.seconds,
                           DEADLINE[0], a.msgs)
    if idle_n > 0 and time.monotonic() < DEADLINE[0]:
        r["idle"] = hold_idle(port, users, idle_n, pids_of)
    print("   %-8s done" % name, flush=True)
    return r


def fill(root, users, owner, nmsgs):
    sizes = [2000, 4000, 8000, 16000, 30000, 60000, 2000, 4000, 120000]
    for u in users:
        local, dom = u.split("@")
        md = os.path.join(root, dom, local)
        fill_maildir(md, owner, nmsgs, sizes)
        fill_maildir(os.path.join(md, ".Bench"), owner, 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--msgs", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--idle", type=int, default=10000)
    ap.add_argument("--dovecot-idle", type=int, default=1000)
    ap.add_argument("--limit", type=float, default=300.0)
    a = ap.parse_args()
    a.clients = max(1, min(a.clients, 64))
    a.msgs = max(20, min(a.msgs, 5000))
    a.idle = max(0, min(a.idle, 15000))
    a.dovecot_idle = max(0, min(a.dovecot_idle, 4000))
    DEADLINE[0] = time.monotonic() + a.limit
    # the client holds every idle connection itself
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(a.idle, a.dovecot_idle) + 1000)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))

    users = ["u%d@example.com" % i for i in range(a.clients)]
    inst, owner = tern_instance("imap", users, {
        "log_level_imap": "exceptions", "imap_max_connections": "0"})
    t0 = time.monotonic()
    fill(inst.path("mail"), users, owner, a.msgs)
    dmail = inst.path("dovecot-mail")
    fill(dmail, users, owner, a.msgs)
    print("   mail: %d users x %d messages, twice (%.1f s)" %
          (len(users), a.msgs, time.monotonic() - t0), flush=True)

    results = {}
    dovecot = None
    try:
        inst.start()
        results["tern"] = measure("tern", inst.port("imap"), a, users,
                                  inst.child_pids, a.idle)
        inst.stop()
        if ensure_dovecot("imap") and time.monotonic() < DEADLINE[0]:
            dovecot = Dovecot("imap", dmail, users, owner, extra=(
                "protocol imap {\n  mail_max_userip_connections = %d\n}\n"
                "service imap {\n  process_limit = %d\n}\n"
                "default_client_limit = %d\n" % (
                    a.dovecot_idle + 100, a.dovecot_idle + 100,
                    a.dovecot_idle + 1000)))
            results["dovecot"] = measure("dovecot", dovecot.port, a, users,
                                         dovecot.pids, a.dovecot_idle)
    finally:
        if dovecot:
            dovecot.stop()
        inst.stop()
        shutil.rmtree(inst.dir, ignore_errors=True)

    def idle_fmt(v):
        return "%.1f KiB x %d" % (v[1], v[0])
    rows = [("commands/s (mixed workload)", "ops", lambda v: "%.0f" % v[0]),
            ("sessions/s", "ops", lambda v: "%.1f" % v[1]),
            ("memory per idle IDLE connection", "idle", idle_fmt)]
    print("   %-34s %18s %18s" % ("", "tern", "dovecot"))
    for label, key, fmt in rows:
        vals = [fmt(results[s][key]) if s in results and key in results[s]
                else "-" for s in ("tern", "dovecot")]
        print("   %-34s %18s %18s" % (label, vals[0], vals[1]))
    if "tern" in results and "dovecot" in results:
        print("   tern / dovecot commands/s: %.2fx (target 1.5x)" % (
            results["tern"]["ops"][0] / results["dovecot"]["ops"][0]))
    if "idle" in results.get("tern", {}):
        print("   tern KiB per idle connection: %.1f at %d (target 64 at "
              "10,000)" % (results["tern"]["idle"][1],
                           results["tern"]["idle"][0]))


if __name__ == "__main__":
    main()
