#!/usr/bin/env python3
# 100,000 users in one domain: the rebuild works (its speed is measured by
# make bench, t/bench/accounts_bench.py, not here), every user in
# users.cdb and passwd.cdb, a lookup is one hashed probe into the map
# (no scan: a handful of slots of one table), and an edit of that
# domain keeps the other 100,000 lines byte for byte.
import os
import statistics
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, diag, done                 # noqa: E402
from accounts_t import Tree, sha512, verify, line1  # noqa: E402
import cdb                                           # noqa: E402

N = 100000
tr = Tree()
try:
    h = sha512("Secret123")
    tr.write("domains/big.example/domain.conf", "max_users = 0\n"
             "max_user_aliases = 0\n")
    with open(tr.path("domains/big.example/users"), "w") as f:
        f.write("# %d users\n" % N)
        for i in range(N):
            f.write('user%06d  %s  name="User %d" quota=%dm\n' %
                    (i, h, i, i % 100))
    with open(tr.path("domains/big.example/aliases"), "w") as f:
        for i in range(0, N, 10):
            f.write("alias%06d: user%06d, user%06d\n" % (i, i, i + 1))
    t0 = time.monotonic()
    rc, out, err = tr.run("rebuild", timeout=120)
    secs = time.monotonic() - t0
    is_(rc, 0, "rebuild of %d users: %s" % (N, line1(err)))
    diag("rebuild of %d users + %d aliases: %.2f s (adminctl says: %s)" %
         (N, N // 10, secs, out.splitlines()[0] if out else ""))

    m = tr.maps()
    is_(len(m["users"]), N, "users.cdb holds every user")
    is_(len(m["passwd"]), N, "passwd.cdb holds every hash")
    is_(len(m["aliases"]), N // 10, "aliases.cdb holds every alias")
    probes = []
    for i in range(0, N, 97):
        v = m["users"].get("user%06d@big.example" % i)
        if v is None or cdb.record(v)["name"] != "User %d" % i:
            ok(False, "user%06d found with its record" % i)
            break
        probes.append(m["users"].probes)
    else:
        ok(True, "sampled users found with their records")
    mean = statistics.mean(probes)
    diag("hash slots looked at per lookup: mean %.2f, max %d" %
         (mean, max(probes)))
    ok(mean < 3, "a lookup is one probe of one hash table (%.2f slots "
       "on average)" % mean)
    ok(m["users"].get("nosuch@big.example") is None, "a miss is a miss")
    ok(verify("Secret123", m["passwd"].get(
        "user099999@big.example")[:-1].decode()), "last user's hash")

    before = tr.read("domains/big.example/users")
    t0 = time.monotonic()
    rc, out, err = tr.add_user("newbie@big.example", "Newbie123")
    secs = time.monotonic() - t0
    is_(rc, 0, "user add in the big domain: " + line1(err))
    diag("user add (edit + full rebuild): %.2f s" % secs)
    after = tr.read("domains/big.example/users")
    ok(after.startswith(before) and after[len(before):].startswith(
       "newbie  $y$") and after.count("\n") == before.count("\n") + 1,
       "the other lines are untouched, one line appended")
    ok(tr.maps()["users"].get("newbie@big.example") is not None,
       "and the new user is in the map")
except Exception as e:
    import traceback
    ok(False, "exception: %r" % e)
    diag(traceback.format_exc())
finally:
    tr.cleanup()
done()
