#!/usr/bin/env python3
# Rebuilds while a reader looks users up: 20 rebuilds toggle one user
# while a reader opens users.cdb and looks up in a bounded loop.  Every
# map the reader opens is a complete CDB (its tables end exactly at the
# end of the file) holding either the old or the new state, never a mix
# or a torn file.
import os
import sys
import threading
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, diag, done                 # noqa: E402
from accounts_t import Tree, sha512, line1          # noqa: E402
import cdb                                           # noqa: E402

N = 20000               # users, so a map takes a while to write
READS = 2000
REBUILDS = 20

tr = Tree()
try:
    h = sha512("Secret123")
    tr.write("domains/example.com/domain.conf", "max_users = 0\n")
    with open(tr.path("domains/example.com/users"), "w") as f:
        f.write("alice  %s\nbob  %s\n" % (h, h))
        for i in range(N):
            f.write("u%05d  %s\n" % (i, h))
    rc, out, err = tr.run("rebuild")
    is_(rc, 0, "first rebuild: " + line1(err))

    seen = {"0": 0, "1": 0}
    problems = []
    stop = threading.Event()

    def reader():
        path = tr.map_path("users")
        for i in range(READS):
            try:
                m = cdb.CDB(path)
                a = m.get("alice@example.com")
                b = m.get("bob@example.com")
                last = m.get("u%05d@example.com" % (N - 1))
                if a is None or b is None or last is None:
                    problems.append("read %d: a record is missing" % i)
                    continue
                seen[cdb.record(b)["disabled"]] += 1
            except Exception as e:          # a torn or half-written map
                problems.append("read %d: %r" % (i, e))
            if len(problems) > 10:
                return

    t = threading.Thread(target=reader)
    t.start()
    results = []
    for i in range(REBUILDS):
        rc, out, err = tr.run("user", "disable" if i % 2 == 0 else "enable",
                              "bob@example.com", "--no-reload")
        results.append(rc)
    t.join(timeout=300)
    ok(not t.is_alive(), "reader finished its %d lookups" % READS)
    is_(results, [0] * REBUILDS, "%d rebuilds all succeeded" % REBUILDS)
    ok(not problems, "every map the reader opened was complete and valid")
    for p in problems:
        diag(p)
    diag("reader saw bob enabled %d times, disabled %d times" %
         (seen["0"], seen["1"]))
    is_(sum(seen.values()), READS, "every lookup found bob in one state")
    leftovers = [f for f in os.listdir(tr.path("state", "maps"))
                 if ".tmp." in f or f.endswith(".new")]
    is_(leftovers, [], "no temp files left in maps/")

    # Two adminctl edits at once: the lock makes them take turns.
    import subprocess
    from tern import BIN
    procs = [subprocess.Popen(
        [os.path.join(BIN, "adminctl"), "-c", tr.dir, "user", "add",
         "p%d@example.com" % i, "--password-stdin", "--no-reload"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env=tr.inst.env()) for i in range(4)]
    rcs = [p.communicate("Secret%d99\n" % i, timeout=120)[0] and p.returncode
           for i, p in enumerate(procs)]
    is_(rcs, [0, 0, 0, 0], "four concurrent user adds all succeed")
    users = tr.read("domains/example.com/users")
    ok(all("\np%d  $y$" % i in users for i in range(4)),
       "and all four lines are in the users file")
    m = tr.maps()["users"]
    ok(all(m.get("p%d@example.com" % i) for i in range(4)),
       "and in the map")
except Exception as e:
    import traceback
    ok(False, "exception: %r" % e)
    diag(traceback.format_exc())
finally:
    tr.cleanup()
done()
