#!/usr/bin/env python3
"""SMTP in and end to end: Tern beside Postfix, same run, same client
(Postfix's smtp-source).  Not a test: run by make bench (t/bench/run.sh)
or by hand.

    TERN_BUILD=$PWD/build python3 t/bench/smtp_bench.py \
        --mode accept|e2e [--sessions 20] [--messages 5000] [--size 4096] \
        [--rcpts 1,10] [--limit 300]

accept (issue #4): messages per second smtpd accepts, each durable (file
and directory fsynced) before its 250.  Tern runs master + smtpd and no
queue manager, so accepted mail stays in spool/*/new; Postfix holds
every message (an access map answering HOLD), so cleanup writes it to
the hold queue and qmgr leaves it there.  Both fsync every message as
they always do; nothing is delivered.

e2e (issue #5): messages per second from smtp-source's first byte to the
last file in the users' Maildir new/ directories.  Tern: smtpd, queue,
delivery (4 agents); Postfix: smtpd, cleanup, qmgr, virtual(8) into
Maildirs.  Also the largest sum of PSS over each server's processes,
sampled every 100 ms during the run.

Both modes also print each server's CPU time (user + system, all its
processes) per message: smtp-source shares the two cores, so the rate
ratio is bounded by what the client takes; the CPU ratio is not.

Recipients are smtp-source's: u@example.test, 2u@..., up to 10u@.  Both
servers do no DNS (Tern: smtp_reverse_dns = no; Postfix:
smtpd_peername_lookup = no) and keep connection limits out of the way.
"""
import argparse
import os
import subprocess
import sys
import threading
import time
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "fixture"))
from tern import BIN, wait_for                  # noqa: E402
import dtest                                    # noqa: E402
from postfix import Postfix, ensure_postfix, pss_of, cpu_of  # noqa: E402
from benchlib import spread_server_dirs                # noqa: E402

USERS = ["u"] + ["%du" % i for i in range(2, 11)]
DOMAIN = "example.test"


class Sampler:
    """Largest PSS sum of pids_fn()'s processes while running."""
    def __init__(self, pids_fn):
        self.pids_fn = pids_fn
        self.peak = 0
        self.stop_ev = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop_ev.is_set():
            try:
                self.peak = max(self.peak, pss_of(self.pids_fn()))
            except Exception:
                pass
            self.stop_ev.wait(0.1)

    def __enter__(self):
        self.t.start()
        return self

    def __exit__(self, *a):
        self.stop_ev.set()
        self.t.join()


def source(port, a, rcpts):
    return subprocess.run(
        ["smtp-source", "-s", str(a.sessions), "-m", str(a.messages),
         "-l", str(a.size), "-r", str(rcpts), "-f", "sender@example.org",
         "-t", "u@" + DOMAIN, "127.0.0.1:%d" % port],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        timeout=a.limit)


def run(port, a, rcpts, count_fn, want, pids_fn):
    """Seconds from the first byte until count_fn() reaches want, the
    peak PSS, and the server's CPU seconds meanwhile; None for the time
    when it did not get there within the limit."""
    with Sampler(pids_fn) as s:
        c0 = cpu_of(pids_fn())
        t0 = time.monotonic()
        p = source(port, a, rcpts)
        if p.returncode != 0:
            print("   smtp-source failed: " + p.stderr.strip()[:300])
            return None, s.peak, 0
        try:
            wait_for(lambda: count_fn() >= want, timeout=a.limit,
                     what="%d files" % want)
        except TimeoutError:
            print("   only %d of %d after %ds" % (count_fn(), want,
                                                  a.limit))
            return None, s.peak, 0
        return time.monotonic() - t0, s.peak, cpu_of(pids_fn()) - c0


def tern_instance(mode):
    services = {"smtp": {"program": os.path.join(BIN, "smtpd"),
                         "workers": 2}}
    if mode == "e2e":
        services["queue"] = {"program": os.path.join(BIN, "queue"),
                             "listen": ["unix:queue.sock"]}
    return dtest.DInst(
        domains={DOMAIN: {"conf": {"max_disk_space": "0",
                                   "max_users": "0"},
                          "users": [u + " *" for u in USERS]}},
        conf={"spool_delivery_delay": "0", "smtp_reverse_dns": "no",
              "log_level_smtp": "exceptions",
              "log_level_delivery": "exceptions",
              "smtp_max_connections": "0"},
        workers=4, services=services)


def tern_spooled(d):
    n = 0
    spool = d.path("spool")
    for sub in os.listdir(spool) if os.path.isdir(spool) else []:
        try:
            n += len(os.listdir(os.path.join(spool, sub, "new")))
        except (FileNotFoundError, NotADirectoryError):
            pass
    return n


def tern_delivered(d):
    n = 0
    for u in USERS:
        try:
            n += len(d.new("%s@%s" % (u, DOMAIN)))
        except FileNotFoundError:
            pass
    return n


def measure_tern(a, rcpts):
    d = tern_instance(a.mode)
    with d.inst:
        d.start()
        port = d.inst.port("smtp")
        if a.mode == "accept":
            count, want = (lambda: tern_spooled(d)), a.messages
        else:
            count, want = (lambda: tern_delivered(d)), a.messages * rcpts
        pids = (lambda: [d.inst.proc.pid] + d.inst.child_pids())
        return run(port, a, rcpts, count, want, pids)


def measure_postfix(a, rcpts):
    pf = Postfix(USERS, DOMAIN, deliver=a.mode == "e2e")
    try:
        pf.start()
        if a.mode == "accept":
            count, want = pf.queued, a.messages
        else:
            count, want = pf.delivered, a.messages * rcpts
        return run(pf.port, a, rcpts, count, want, pf.pids)
    finally:
        pf.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=("accept", "e2e"), default="accept")
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--rcpts", default="1,10")
    ap.add_argument("--limit", type=int, default=300)
    a = ap.parse_args()
    spread_server_dirs()
    have_pf = ensure_postfix()
    if not have_pf:
        print("   (no Postfix: Tern's figures only)")
    for rcpts in [int(x) for x in a.rcpts.split(",")]:
        unit = a.messages * (rcpts if a.mode == "e2e" else 1)
        label = "%d x %d B, %d rcpt%s, %d sessions" % (
            a.messages, a.size, rcpts, "" if rcpts == 1 else "s",
            a.sessions)
        t, tpss, tcpu = measure_tern(a, rcpts)
        p, ppss, pcpu = (measure_postfix(a, rcpts) if have_pf else
                         (None, 0, 0))
        line = "   %-40s" % label
        if t:
            line += "  tern %7.0f msg/s" % (a.messages / t)
            if a.mode == "e2e":
                line += " (%6.0f deliveries/s)" % (unit / t)
        if p:
            line += "  postfix %7.0f msg/s" % (a.messages / p)
            if a.mode == "e2e":
                line += " (%6.0f deliveries/s)" % (unit / p)
        if t and p:
            line += "  ratio %.2fx" % (p / t)
        print(line)
        if t and p and tcpu and pcpu:
            # the same machine runs smtp-source too: CPU per message
            # says what each server costs, whatever the client takes
            print("   %-40s  server CPU per message: tern %.3f ms, postfix "
                  "%.3f ms, postfix/tern %.2f" % (
                      "", tcpu * 1e3 / a.messages, pcpu * 1e3 / a.messages,
                      pcpu / tcpu))
        if a.mode == "e2e" and tpss and ppss:
            print("   %-40s  memory (peak PSS sum): tern %.1f MB, postfix "
                  "%.1f MB, tern/postfix %.2f" % ("", tpss / 1e6,
                                                  ppss / 1e6, tpss / ppss))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
