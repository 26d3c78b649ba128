#!/usr/bin/env python3
"""POP3: Tern's pop3d beside Dovecot's, same maildirs, same run.  Not a
test: run by make bench (t/bench/run.sh) or by hand.

    TERN_BUILD=$PWD/build python3 t/bench/pop3_bench.py \
        [--users 4] [--msgs 200] [--clients 4] [--seconds 8] \
        [--big 100000] [--limit 300]

One throw-away Tern instance (pop3d with 2 workers, auth) and one private
Dovecot (dovecot-pop3d: its own config, run and state directories,
loopback ports, a passwd-file with the same SHA-512-crypt hashes (1000
rounds: Dovecot re-verifies cached logins, Tern's auth does not), the
same Maildirs as mail_location, the mail user as uid; logins reuse
processes as Dovecot's performance tuning advises, and both sides keep
their auth cache on; Dovecot's info log goes to /dev/null as Tern's
normal log is off) serve the same workload:

  logins/s    --clients processes doing USER, PASS, QUIT in a loop
  RETR        --clients processes each logged in as its own user,
              retrieving every message of its mailbox (--msgs messages,
              sizes mixed from 2 KB to 1 MB) again and again: messages/s
              and MB/s of POP3 data received
  big mailbox a maildir of --big messages: login + STAT + UIDL, first
              session and second (Dovecot builds its index the first
              time)

Each phase runs --seconds; the whole run stops after --limit seconds.
Dovecot is installed with apt when missing and we are root (with
services kept from starting); without it only Tern's figures print.
Dovecot is stopped at the end, whatever happens.
"""
import argparse
import os
import shutil
import socket
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from benchlib import run_clients                        # noqa: E402
from dovecot import (PASSWORD, Dovecot, ensure_dovecot,  # noqa
                     tern_instance, fill_maildir)

DEADLINE = [0.0]


# --- the workload, spoken over raw sockets -------------------------------
class Conn:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.buf = b""
        self.line()

    def line(self):
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise EOFError("closed")
            self.buf += d
        ln, self.buf = self.buf.split(b"\r\n", 1)
        return ln

    def cmd(self, c):
        self.s.sendall(c + b"\r\n")
        ln = self.line()
        if not ln.startswith(b"+OK"):
            raise RuntimeError("%r: %r" % (c, ln))
        return ln

    def multi(self):
        """Octets of a multi-line answer, up to and with its ".CRLF"."""
        n = len(self.buf)
        tail = self.buf[-5:]
        while not (tail.endswith(b"\r\n.\r\n") or
                   (n == 3 and tail == b".\r\n")):
            d = self.s.recv(262144)
            if not d:
                raise EOFError("closed")
            n += len(d)
            tail = (tail + d)[-5:]
        self.buf = b""
        return n

    def close(self):
        self.s.close()


def login_loop(port, user, stop_at, q):
    done = 0
    while time.monotonic() < stop_at:
        c = Conn(port)
        c.cmd(b"USER " + user.encode())
        c.cmd(b"PASS " + PASSWORD.encode())
        c.cmd(b"QUIT")
        c.close()
        done += 1
    q.put((done, 0))


def retr_loop(port, user, nmsgs, stop_at, q):
    msgs = octets = 0
    while time.monotonic() < stop_at:
        c = Conn(port)
        c.cmd(b"USER " + user.encode())
        c.cmd(b"PASS " + PASSWORD.encode())
        for i in range(1, nmsgs + 1):
            if time.monotonic() >= stop_at:
                break
            c.s.sendall(b"RETR %d\r\n" % i)
            c.line()
            octets += c.multi()
            msgs += 1
        c.cmd(b"QUIT")
        c.close()
    q.put((msgs, octets))


def big_session(port, user):
    t0 = time.monotonic()
    c = Conn(port)
    c.cmd(b"USER " + user.encode())
    c.cmd(b"PASS " + PASSWORD.encode())
    c.cmd(b"STAT")
    c.s.sendall(b"UIDL\r\n")
    c.line()
    c.multi()
    c.cmd(b"QUIT")
    c.close()
    return time.monotonic() - t0


# --- main -------------------------------------------------------------------
def measure(name, port, a, users, big_user):
    r = {}
    r["login"] = run_clients(login_loop, port, users[:a.clients],
                             a.seconds, DEADLINE[0])[0]
    r["retr"] = run_clients(retr_loop, port, users[:a.clients], a.seconds,
                            DEADLINE[0], a.msgs)
    if big_user:
        r["big1"] = big_session(port, big_user)
        r["big2"] = big_session(port, big_user)
    print("   %-8s done" % name, flush=True)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=4)
    ap.add_argument("--msgs", type=int, default=200)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--big", type=int, default=100000)
    ap.add_argument("--limit", type=float, default=300.0)
    a = ap.parse_args()
    a.users = max(1, min(a.users, 64))
    a.clients = max(1, min(a.clients, a.users))
    a.msgs = max(1, min(a.msgs, 5000))
    a.big = max(0, min(a.big, 200000))
    DEADLINE[0] = time.monotonic() + a.limit

    users = ["u%d@example.com" % i for i in range(a.users)]
    big_user = "big@example.com" if a.big else None
    every = users + ([big_user] if big_user else [])
    inst, owner = tern_instance("pop3", every, {
        "log_level_pop": "exceptions", "pop_max_connections": "0"})
    mail = inst.path("mail")
    sizes = [2000, 4000, 8000, 16000, 30000, 60000, 2000, 4000, 120000,
             2000, 8000, 1000000]
    t0 = time.monotonic()
    for u in users:
        fill_maildir(os.path.join(mail, "example.com", u.split("@")[0]),
                     owner, a.msgs, sizes)
    if big_user:
        fill_maildir(os.path.join(mail, "example.com", "big"), owner, a.big)
    print("   mail: %d users x %d messages, big mailbox %d (%.1f s)" %
          (a.users, a.msgs, a.big, time.monotonic() - t0), flush=True)

    results = {}
    dovecot = None
    try:
        inst.start()
        results["tern"] = measure("tern", inst.port("pop3"), a, users,
                                  big_user)
        inst.stop()
        if ensure_dovecot("pop3") and time.monotonic() < DEADLINE[0]:
            dovecot = Dovecot("pop3", mail, every, owner, extra=(
                "service pop3 {\n  service_count = 0\n"
                "  process_min_avail = 2\n}\n"))
            results["dovecot"] = measure("dovecot", dovecot.port, a, users,
                                         big_user)
    finally:
        if dovecot:
            dovecot.stop()
        inst.stop()
        shutil.rmtree(inst.dir, ignore_errors=True)

    rows = [("logins/s", "login", lambda v: "%.0f" % v),
            ("RETR messages/s", "retr", lambda v: "%.0f" % v[0]),
            ("RETR MB/s", "retr", lambda v: "%.1f" % (v[1] / 1e6)),
            ("%d msgs: 1st login+STAT+UIDL s" % a.big, "big1",
             lambda v: "%.2f" % v),
            ("%d msgs: 2nd login+STAT+UIDL s" % a.big, "big2",
             lambda v: "%.2f" % v)]
    print("   %-36s %12s %12s" % ("", "tern", "dovecot"))
    for label, key, fmt in rows:
        vals = [fmt(results[s][key]) if s in results and key in results[s]
                else "-" for s in ("tern", "dovecot")]
        print("   %-36s %12s %12s" % (label, vals[0], vals[1]))


if __name__ == "__main__":
    main()
