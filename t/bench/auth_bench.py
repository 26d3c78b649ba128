#!/usr/bin/env python3
"""Logins per second through the auth daemon.  Not a test: run by hand.

    TERN_BUILD=$PWD/build python3 t/bench/auth_bench.py \
        [--count 2000] [--clients 8] [--workers 2] [--cost 0] \
        [--scheme yescrypt|sha512crypt] [--limit 120] [--users 1]
        [--cache 10000]

Starts a throw-away instance with the auth service (--workers processes),
one user whose password hash has the given scheme and cost (0 = what
libxcrypt chooses, as password_hash_rounds = 0 does), and sends --count
PLAIN logins from --clients concurrent clients, each request on its own
connection as lib/auth_client does.  --users spreads the logins round
robin over that many users (all with the same kind of hash), --cache sets
auth_cache_size (0 = every login pays the full hash; with a cache only
each worker's first login of a user does).  Bounded: stops after --limit
seconds whatever is left.  Prints logins/s and latency percentiles.
"""
import argparse
import os
import sys
import threading
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tern import Instance, BIN          # noqa: E402
import authmaps                         # noqa: E402
import ipc                              # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cost", type=int, default=0)
    ap.add_argument("--scheme", default="yescrypt",
                    choices=["yescrypt", "sha512crypt"])
    ap.add_argument("--limit", type=float, default=120.0)
    ap.add_argument("--users", type=int, default=1)
    ap.add_argument("--cache", type=int, default=10000)
    a = ap.parse_args()
    a.count = max(1, min(a.count, 100000))
    a.clients = max(1, min(a.clients, 64))
    a.users = max(1, min(a.users, 10000))

    inst = Instance(services={"auth": {"program": os.path.join(BIN, "auth"),
                                       "listen": ["unix:auth.sock"],
                                       "workers": a.workers}},
                    conf={"password_hash": a.scheme,
                          "password_hash_rounds": str(a.cost),
                          "auth_cache_size": str(a.cache)})
    owner = None
    if os.geteuid() == 0:
        import pwd
        pw = pwd.getpwnam(inst.conf["mail_user"])
        owner = (pw.pw_uid, pw.pw_gid)
    prefix = "$y$" if a.scheme == "yescrypt" else "$6$"
    h = authmaps.hash_password("bench-Pw-1", prefix, a.cost)
    names = ["u%d@example.com" % i for i in range(a.users)]
    # One hash per user would cost users x hash time to set up; the
    # salts being equal changes nothing for the daemon's work.
    authmaps.write_maps(inst.path("state", "maps"),
                        domains={"example.com": {"disabled": "no"}},
                        users={u: {"disabled": "0"} for u in names},
                        passwd={u: h for u in names}, cram={}, owner=owner)
    sock = inst.path("state", "auth.sock")
    lock = threading.Lock()
    left = [a.count]
    lat, errors = [], []
    deadline = time.monotonic() + a.limit

    def client(n):
        while time.monotonic() < deadline:
            with lock:
                if left[0] == 0:
                    return
                left[0] -= 1
                user = names[left[0] % len(names)]
            t0 = time.monotonic()
            try:
                c = ipc.Conn(sock, name="bench")
                c.send("auth", [("mech", "PLAIN"), ("user", user),
                                ("password", "bench-Pw-1"),
                                ("service", "smtp"), ("ip", "192.0.2.1"),
                                ("session", "bench%d" % n)])
                typ, f = c.recv()
                c.close()
                ok = typ == "ok"
            except Exception as e:         # noqa: BLE001 - count it
                ok = False
                f = {"reason": repr(e).encode()}
            with lock:
                if ok:
                    lat.append(time.monotonic() - t0)
                else:
                    errors.append(f.get("reason"))

    try:
        inst.start()
        print("hash: %s" % h[:h.rfind("$")])
        t0 = time.monotonic()
        th = [threading.Thread(target=client, args=(i,))
              for i in range(a.clients)]
        for t in th:
            t.start()
        for t in th:
            t.join()
        el = time.monotonic() - t0
    finally:
        inst.stop()
        import shutil
        shutil.rmtree(inst.dir, ignore_errors=True)
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(p * len(lat)))] * 1000 if lat \
            else 0.0
    print("%d logins ok, %d failed, in %.2f s: %.1f logins/s "
          "(%d clients, %d workers, %s cost %d, %d users, cache %d)" %
          (len(lat), len(errors), el, len(lat) / el, a.clients, a.workers,
           a.scheme, a.cost, a.users, a.cache))
    print("latency ms: p50 %.1f  p90 %.1f  p99 %.1f  max %.1f" %
          (pct(0.5), pct(0.9), pct(0.99), pct(1.0)))
    if errors:
        print("first errors: %r" % errors[:3])
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
