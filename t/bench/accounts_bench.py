#!/usr/bin/env python3
"""adminctl rebuild of one domain with 100,000 users, and map lookups.
Not a test: run by make bench.  Target (issue #3): under 10 s."""
import os
import statistics
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from accounts_t import Tree, sha512   # noqa: E402
import cdb                            # noqa: E402

N = int(os.environ.get("TERN_BENCH_USERS", "100000"))
tr = Tree()
try:
    h = sha512("Secret123")
    tr.write("domains/big.example/domain.conf",
             "max_users = 0\nmax_user_aliases = 0\n")
    with open(tr.path("domains/big.example/users"), "w") as f:
        for i in range(N):
            f.write('user%06d  %s  name="User %d"\n' % (i, h, i))
    with open(tr.path("domains/big.example/aliases"), "w") as f:
        for i in range(0, N, 10):
            f.write("alias%06d: user%06d\n" % (i, i))
    times = []
    for _ in range(3):
        t0 = time.monotonic()
        rc, out, err = tr.run("rebuild", timeout=300)
        times.append(time.monotonic() - t0)
        if rc != 0:
            print("rebuild failed: %s" % err)
            sys.exit(1)
    m = tr.maps()
    probes = []
    t0 = time.monotonic()
    for i in range(0, N, 7):
        m["users"].get("user%06d@big.example" % i)
        probes.append(m["users"].probes)
    print("accounts: rebuild of %d users + %d aliases: best %.2f s, "
          "median %.2f s (target < 10 s)" % (N, N // 10, min(times),
                                             statistics.median(times)))
    print("accounts: CDB lookup: %.2f hash slots on average (one probe "
          "per lookup)" % statistics.mean(probes))
finally:
    tr.cleanup()
