#!/usr/bin/env python3
# kill -9 of the queue and of a delivery agent at random moments while
# thousands of messages go through: every message that was acknowledged
# (smtpd's 250, or spoolinject's commit when smtpd or the real agent is
# not built) ends up delivered at least once; duplicates are counted and
# reported (the named window of queue(8): expect few or none).
#
# QUEUE_KILL_N messages (default 2000; t/bench/queue_kill.sh runs 5000),
# QUEUE_KILL_SEED for the kill points, QUEUE_KILL_AGENT=fixture to use
# t/fixture/fakeagent even when build/bin/delivery exists.
import os
import random
import smtplib
import subprocess
import sys
import threading
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, diag, done              # noqa: E402
from tern import BIN, wait_for                   # noqa: E402
from queue_t import QInst, INJECT, kill9, pids, spool_files  # noqa

N = int(os.environ.get("QUEUE_KILL_N", "2000"))
SEED = int(os.environ.get("QUEUE_KILL_SEED", str(int(time.time()))))
USERS = 20
REAL = (os.environ.get("QUEUE_KILL_AGENT") != "fixture" and
        all(os.path.exists(os.path.join(BIN, p))
            for p in ("delivery", "smtpd")))
rng = random.Random(SEED)
diag("seed %d, %d messages, %s" % (SEED, N, "smtpd + delivery" if REAL
                                   else "spoolinject + fixture agent"))
users = ["user%02d" % i for i in range(USERS)]
JOBS = 10       # queue_local_parallel: the jobs the queue has out at once
CONF = {"spool_delivery_delay": "0", "queue_local_parallel": str(JOBS),
        "spool_retry_intervals": " ".join(["1s"] * 40),
        "queue_scan_interval": "1s", "master_restart_delay_max": "2s",
        "log_level_delivery": "normal", "log_level_smtp": "exceptions"}


class Real:
    """smtpd takes the messages, the real agent delivers to Maildirs."""

    def __init__(self):
        import dtest
        self.dtest = dtest
        c = dict(CONF, smtp_reverse_dns="no", smtp_max_connections="0")
        self.d = dtest.DInst(
            domains={"example.com": {"conf": {"max_disk_space": "0",
                                              "max_users": "0"},
                                     "users": [u + " *" for u in users]}},
            conf=c, workers=2,
            services={"smtp": {"program": os.path.join(BIN, "smtpd"),
                               "workers": 2},
                      "queue": {"program": os.path.join(BIN, "queue"),
                                "listen": ["unix:queue.sock"]}})
        self.inst = self.d.inst
        self.acked = set()
        self.errors = []

    def start(self):
        self.d.start()

    def send(self):
        port = self.inst.port("smtp")

        def session(k):
            c = None
            for i in range(k, N, 4):
                body = ("From: <s@remote.test>\r\nTo: <x@example.com>\r\n"
                        "Subject: n%d\r\nMessage-ID: <kill-%d@remote.test>"
                        "\r\n\r\nmessage %d\r\n" % (i, i, i))
                try:
                    if c is None:
                        c = smtplib.SMTP("127.0.0.1", port, timeout=60)
                        c.ehlo("client%d.test" % k)
                    c.sendmail("s@remote.test",
                               ["%s@example.com" % users[i % USERS]], body)
                    self.acked.add(i)
                except Exception as e:       # noqa: BLE001
                    # Not acknowledged: not promised.
                    self.errors.append(repr(e))
                    c = None
            if c is not None:
                c.quit()
        self.threads = [threading.Thread(target=session, args=(k,))
                        for k in range(4)]
        for t in self.threads:
            t.start()

    def sending(self):
        return any(t.is_alive() for t in self.threads)

    def delivered_count(self):
        return sum(len(self.d.new("%s@example.com" % u)) for u in users)

    def seen(self):
        out = {}
        for u in users:
            for data in self.d.read("%s@example.com" % u):
                mid = self.dtest.header(data, "Message-ID")[0]
                out.setdefault(int(mid.split("-")[1].split("@")[0]),
                               []).append(u)
        return out

    def agent(self):
        return "delivery"


class Fixture:
    """spoolinject writes and announces, the fixture agent delivers."""

    def __init__(self):
        self.q = QInst(conf=CONF, local_workers=2)
        self.inst = self.q
        self.acked = set()
        self.errors = []

    def start(self):
        self.q.start()

    def send(self):
        self.procs = []
        for k in range(4):
            self.procs.append(subprocess.Popen(
                [INJECT, "-c", self.q.dir, "-n", str(N // 4), "-r",
                 "%s@example.test" % users[k]], stdout=subprocess.PIPE,
                text=True, env=self.q.env()))

    def sending(self):
        return any(p.poll() is None for p in self.procs)

    def collect(self):
        for p in self.procs:
            out, _ = p.communicate()
            self.acked |= set(out.split())

    def delivered_count(self):
        return len(self.q.deliveries())

    def seen(self):
        out = {}
        for qid, rcpt, _ in self.q.deliveries():
            out.setdefault(qid, []).append(rcpt)
        return out

    def agent(self):
        return "delivery"


t = Real() if REAL else Fixture()
with t.inst:
    t.start()
    # Kill points: delivered counts, at random, queue and agent mixed.
    points = sorted(rng.sample(range(N // 20, N * 9 // 10), 8))
    kinds = ["queue", "agent"] * 4
    rng.shuffle(kinds)
    t0 = time.monotonic()
    t.send()
    kills = []
    for at, kind in zip(points, kinds):
        wait_for(lambda: t.delivered_count() >= at or
                 (not t.sending() and t.delivered_count() >= at * 0.9),
                 timeout=300, what="%d deliveries" % at)
        if kind == "queue":
            kill9(t.inst, "queue")
        else:
            svc = t.agent()
            before = pids(t.inst, svc)
            victim = rng.choice(before)
            os.kill(victim, 9)
            wait_for(lambda: len(pids(t.inst, svc)) == len(before) and
                     victim not in pids(t.inst, svc), timeout=30,
                     what="the agent restarted")
        kills.append("%s@%d" % (kind, t.delivered_count()))
    diag("killed: " + " ".join(kills))
    while t.sending():
        wait_for(lambda: not t.sending(), timeout=600, what="sending done")
    if isinstance(t, Fixture):
        t.collect()
    else:
        for th in t.threads:
            th.join()
    ok(len(t.acked) >= N * 0.95, "%d of %d messages acknowledged" %
       (len(t.acked), N))
    if t.errors:
        diag("%d not acknowledged (a kill during the session), e.g. %s" %
             (len(t.errors), t.errors[0]))

    def all_there():
        s = t.seen()
        return all(i in s for i in t.acked)
    try:
        wait_for(all_there, timeout=max(120, N / 10),
                 what="every acknowledged message delivered")
    except TimeoutError:
        pass
    t1 = time.monotonic()
    seen = t.seen()
    missing = sorted(i for i in t.acked if i not in seen)
    dups = {i: len(v) for i, v in seen.items() if len(v) > 1}
    is_(missing[:10], [], "every acknowledged message delivered at least "
        "once (%d missing)" % len(missing))
    diag("%d messages delivered in %.1fs; duplicates: %d (%s)" % (
        len(seen), t1 - t0, len(dups), ", ".join(
            "%s x%d" % kv for kv in list(dups.items())[:10])))
    # The window: a kill -9 of the queue forgets the answers of the jobs
    # it had out (JOBS) and any not yet synced; an agent killed between
    # a commit and its answers repeats the jobs of that commit, at most
    # the JOBS the queue had out.
    qk = sum(1 for k in kills if k.startswith("queue"))
    bound = qk * 2 * JOBS + (len(kills) - qk) * JOBS
    ok(len(dups) <= bound, "duplicates: %d, within the window's bound %d "
       "(%d queue kills x 2 x %d jobs out, + %d per agent kill)" %
       (len(dups), bound, qk, JOBS, JOBS))
    wait_for(lambda: not spool_files(t.inst), timeout=60,
             what="the spool to empty")
    ok(True, "the spool emptied")
done()
