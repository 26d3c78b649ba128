#!/usr/bin/env python3
"""Remote delivery (issue #6): messages per second relayed to Postfix's
smtp-sink, Tern beside Postfix, same run.  Not a test: run by make bench
(t/bench/run.sh) or by hand.

    TERN_BUILD=$PWD/build python3 t/bench/remote_bench.py \
        [--messages 3000] [--sessions 20] [--size 4096] [--limit 300]

smtp-source hands --messages messages for a remote domain to the server
under test (Tern: smtpd, queue, the remote agent with 8 processes, all
mail routed to the sink as a routing.conf gateway; Postfix: smtpd,
cleanup, qmgr, smtp with relayhost = the sink); the clock stops when the
server's queue is empty, every message passed to smtp-sink.  TLS is off
on both sides (smtp-sink has none).
"""
import argparse
import os
import subprocess
import sys
import time
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "fixture"))
from tern import BIN, free_port, wait_for      # noqa: E402
import dtest                                   # noqa: E402
from postfix import Postfix, ensure_postfix    # noqa: E402
from smtp_bench import Sampler                 # noqa: E402
from postfix import pss_of                     # noqa: E402
from benchlib import spread_server_dirs        # noqa: E402


def sink(port):
    return subprocess.Popen(["smtp-sink", "-u", "nobody",
                             "127.0.0.1:%d" % port, "256"],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def source(port, a):
    return subprocess.run(
        ["smtp-source", "-s", str(a.sessions), "-m", str(a.messages),
         "-l", str(a.size), "-f", "sender@example.test",
         "-t", "r@sink.example", "127.0.0.1:%d" % port],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        timeout=a.limit)


def tern_in_spool(d):
    n = 0
    spool = d.path("spool")
    for sub in os.listdir(spool):
        for where in ("new", "cur"):
            try:
                n += len([f for f in os.listdir(os.path.join(spool, sub,
                                                             where))
                          if not f.endswith(".rec")])
            except (FileNotFoundError, NotADirectoryError):
                pass
    return n


def measure(port, a, left, pids):
    with Sampler(pids) as s:
        t0 = time.monotonic()
        p = source(port, a)
        if p.returncode != 0:
            print("   smtp-source failed: " + p.stderr.strip()[:300])
            return None, s.peak
        try:
            wait_for(lambda: left() == 0, timeout=a.limit,
                     what="the queue to empty")
        except TimeoutError:
            print("   %d still queued after %ds" % (left(), a.limit))
            return None, s.peak
        return time.monotonic() - t0, s.peak


def tern(a, sport):
    d = dtest.DInst(
        domains={"example.test": {"conf": {"max_users": "0"},
                                  "users": ["sender *"]}},
        conf={"spool_delivery_delay": "0", "smtp_reverse_dns": "no",
              "smtp_whitelist": "127.0.0.1", "smtp_max_connections": "0",
              "log_level_smtp": "exceptions",
              "log_level_delivery": "exceptions", "smtp_out_tls": "none"},
        workers=1,
        services={"smtp": {"program": os.path.join(BIN, "smtpd"),
                           "workers": 2},
                  "queue": {"program": os.path.join(BIN, "queue"),
                            "listen": ["unix:queue.sock"]},
                  "smtpout": {"program": os.path.join(BIN, "delivery"),
                              "args": "-r", "workers": 8,
                              "listen": ["unix:smtp-out.sock"]}})
    with open(d.path("routing.conf"), "w") as f:
        f.write("[gateway]\nname = sink\naddress = [127.0.0.1]:%d\n"
                "tls = none\n" % sport)
    with d.inst:
        d.start()
        return measure(d.inst.port("smtp"), a, lambda: tern_in_spool(d),
                       lambda: [d.inst.proc.pid] + d.inst.child_pids())


def postfix(a, sport):
    pf = Postfix(["u"], "example.test", deliver=True, extra={
        "relayhost": "[127.0.0.1]:%d" % sport,
        "smtp_tls_security_level": "none",
        "default_destination_concurrency_limit": "20"})
    try:
        pf.start()
        return measure(pf.port, a, pf.in_queue, pf.pids)
    finally:
        pf.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=3000)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--limit", type=int, default=300)
    a = ap.parse_args()
    spread_server_dirs()
    if not ensure_postfix():
        print("   (no Postfix and no smtp-sink: nothing to measure)")
        return
    sport = free_port()
    sk = sink(sport)
    try:
        t, tp = tern(a, sport)
        p, pp = postfix(a, sport)
    finally:
        sk.terminate()
        sk.wait()
    line = "   %d x %d B to smtp-sink, %d sessions in" % (
        a.messages, a.size, a.sessions)
    if t:
        line += "  tern %6.0f msg/s" % (a.messages / t)
    if p:
        line += "  postfix %6.0f msg/s" % (a.messages / p)
    if t and p:
        line += "  ratio %.2fx" % (p / t)
    print(line)
    if tp and pp:
        print("   memory (peak PSS sum): tern %.1f MB, postfix %.1f MB"
              % (tp / 1e6, pp / 1e6))


if __name__ == "__main__":
    main()
