#!/usr/bin/env python3
"""The queue manager started on a huge spool (issue #5, DESIGN.md "The
spool": survive a restart with 1,000,000 messages).

Writes --count messages straight into spool/<n>/cur/ as a queue that was
running would have left them: --deferred of them (a fraction) already
tried once and waiting an hour (a record with its "t" line, the record's
mtime at the next attempt, as the queue leaves a message it put aside),
the rest due now, spread at random through the directories.  Then starts
master with the queue and the fixture delivery agent and measures:

  - time from start to the first delivery, and deliveries in --run s;
  - the queue's resident memory (VmRSS, and VmHWM the peak) while it
    works through the spool, against queue_active_max;
  - how long one scan pass over the whole spool takes;
  - the same after kill -9 of the queue in the middle of it (a restart).

Not a test: it prints figures.  Measured on the development machine
(2 vCPU, ext4 on a virtual disk), --count 1000000 --deferred 0.9, the
default queue_active_max (20000), the fixture agent:

  write 1,000,000 messages (899,729 with records)        83-250 s
  start -> first delivery                                0.03 s
  deliveries in the first 30 s                           ~37,000 (1,260/s)
  queue RSS: 4 MB at start, 21 MB once 20,000 messages are in memory,
             then flat (VmHWM 21 MB)
  after kill -9: restart -> first delivery               1.8 s (the scan
             walks past subspools already emptied of due mail)
  after kill -9: deliveries in 30 s                      ~36,500
  one full scan pass over the spool while delivering     36 s
  (the numbers printed by the last run are the ones to trust)
"""
import argparse
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixture"))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from queue_t import QInst, kill9, pids     # noqa: E402
from tern import wait_for                  # noqa: E402

HEX = "0123456789ABCDEF"


def rss(pid):
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(("VmRSS", "VmHWM")):
                    k, v = line.split(":")
                    out[k] = int(v.split()[0]) // 1024
    except FileNotFoundError:
        pass
    return out


def write_spool(q, count, deferred, subspools, seed):
    rng = random.Random(seed)
    now = int(time.time())
    body = ("From: <s@example.org>\r\nTo: <u@example.test>\r\n"
            "Subject: bench\r\n\r\n" + "x" * 200 + "\r\n").encode()
    uid = gid = -1
    if os.geteuid() == 0:
        import pwd
        pw = pwd.getpwnam(q.conf["mail_user"])
        uid, gid = pw.pw_uid, pw.pw_gid
    dirs = []
    for n in range(subspools):
        for sub in ("tmp", "new", "cur"):
            d = q.path("spool", str(n), sub)
            os.makedirs(d, exist_ok=True)
            if uid >= 0:
                os.chown(d, uid, gid)
        if uid >= 0:
            os.chown(q.path("spool", str(n)), uid, gid)
        dirs.append(q.path("spool", str(n), "cur"))
    t0 = time.monotonic()
    ndef = 0
    for i in range(count):
        qid = "%09X%013X" % (now - 3600, i)
        d = dirs[i % subspools]
        head = ("TERN-SPOOL 1\nid %s\ntime %d\nsender s@example.org\n"
                "rcpt u%d@example.test\nparam body=7BIT\n\n" %
                (qid, now - 3600, i % 100)).encode()
        p = os.path.join(d, qid)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        os.write(fd, head + body)
        os.close(fd)
        if uid >= 0:
            os.chown(p, uid, gid)
        if rng.random() < deferred:
            ndef += 1
            nxt = now + 3600
            r = p + ".rec"
            fd = os.open(r, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
            os.write(fd, ("t 0 %d %d 1 4.2.0 busy (bench)\n" %
                          (now - 60, nxt)).encode())
            os.close(fd)
            if uid >= 0:
                os.chown(r, uid, gid)
            os.utime(r, (now, nxt))
        if i and i % 100000 == 0:
            print("  ... %d written (%.0fs)" % (i, time.monotonic() - t0),
                  flush=True)
    return ndef, time.monotonic() - t0


def watch(q, run, label):
    """From (re)start: first delivery, deliveries and memory over run s."""
    t0 = time.monotonic()
    base = len(q.deliveries())
    wait_for(lambda: pids(q, "queue"), timeout=30, what="queue pid")
    pid = pids(q, "queue")[0]
    try:
        wait_for(lambda: len(q.deliveries()) > base, timeout=120,
                 what="a first delivery")
    except TimeoutError:
        print("%s: nothing delivered in 120s (nothing due left?)" % label)
        return pid
    first = time.monotonic() - t0
    peak = {}
    samples = []
    while time.monotonic() - t0 < run:
        m = rss(pid)
        peak = m if m.get("VmHWM", 0) >= peak.get("VmHWM", 0) else peak
        samples.append((time.monotonic() - t0, m.get("VmRSS", 0),
                        len(q.deliveries()) - base))
        time.sleep(1)              # a sampling period, not a wait
    done_n = len(q.deliveries()) - base
    print("%s: first delivery after %.2fs; %d deliveries in %ds "
          "(%.0f/s)" % (label, first, done_n, run, done_n / run))
    print("%s: queue RSS %s MB now, peak (VmHWM) %s MB" % (
        label, rss(pid).get("VmRSS"), peak.get("VmHWM")))
    print("%s: RSS over time (s, MB, delivered): %s" % (
        label, " ".join("%d:%d:%d" % (t, r, n) for t, r, n in
                        samples[::max(1, len(samples) // 8)])))
    return pid


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=1000000)
    ap.add_argument("--deferred", type=float, default=0.9)
    ap.add_argument("--run", type=int, default=30)
    ap.add_argument("--active-max", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    q = QInst(conf={"queue_active_max": str(a.active_max),
                    "log_level_delivery": "detailed",
                    "log_level_event": "exceptions",
                    "queue_scan_interval": "10m",
                    "spool_retry_intervals": "1h"})
    try:
        print("writing %d messages (%d%% waiting an hour) ..." % (
            a.count, a.deferred * 100), flush=True)
        ndef, secs = write_spool(q, a.count, a.deferred, 10, a.seed)
        print("written: %d messages, %d with records, in %.0fs" % (
            a.count, ndef, secs))
        q.start()
        watch(q, a.run, "start")
        kill9(q, "queue")
        watch(q, a.run, "after kill -9")
        # A whole pass: the scan's own figure, from the log.
        passes = []
        pos = [0]

        def scan_lines():
            # Read the log as it grows, not all of it each time.
            with open(q.path("log", "delivery.log"), "rb") as f:
                f.seek(pos[0])
                data = f.read()
            pos[0] += data.rfind(b"\n") + 1
            for line in data[:data.rfind(b"\n") + 1].splitlines():
                if b"spool scan done" in line:
                    passes.append(line.decode().split("queue: ")[-1])
            return any(p.startswith("full") for p in passes)
        wait_for(scan_lines, timeout=900, what="a full scan pass")
        for p in passes:
            print("scan pass: " + p)
        print("left in the spool: about %d" % (a.count - len(q.deliveries())))
    finally:
        q.cleanup()


if __name__ == "__main__":
    main()
