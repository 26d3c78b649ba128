#!/usr/bin/env python3
# Many messages to many users through four agents at once, as the queue
# would hand them out: every message delivered exactly once, to the
# right mailbox, nothing left in tmp/, every mailbox's maildirsize right.
# TERN_DELIVERY_BULK sets the number of messages (default 10,000, to 100
# users; each message also goes to a second user through an alias every
# tenth time).  A reader watching some mailboxes meanwhile never sees a
# partial file.
import os
import sys
import threading
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done, diag    # noqa: E402
import dtest                           # noqa: E402

N = int(os.environ.get("TERN_DELIVERY_BULK", "10000"))
USERS = 100
users = ["user%02d" % i for i in range(USERS)]
aliases = "".join("pair%02d: user%02d, user%02d\n" %
                  (i, i, (i + 1) % USERS) for i in range(USERS))
d = dtest.DInst(domains={
    "example.com": {"conf": {"max_disk_space": "0"},
                    "users": [u + " *" for u in users],
                    "aliases": aliases},
}, workers=4)

with d.inst:
    d.start()
    t0 = time.monotonic()
    paths = []
    want = {u: set() for u in users}
    for i in range(N):
        u = i % USERS
        if i % 10 == 0:
            rcpts = ["pair%02d@example.com" % u]
            want[users[u]].add(i)
            want[users[(u + 1) % USERS]].add(i)
        else:
            rcpts = ["%s@example.com" % users[u]]
            want[users[u]].add(i)
        paths.append(d.message("s@remote.test", rcpts,
                               subject="bulk %d" % i,
                               msgid="bulk-%d@remote.test" % i))
    t1 = time.monotonic()
    # A reader, as pop3d or imapd would be, watching four mailboxes while
    # the agents write: every file it can see in new/ must be complete.
    stop = threading.Event()
    seen_files = [0]
    partial = []

    def reader():
        boxes = [os.path.join(d.mailbox("user%02d@example.com" % i), "new")
                 for i in range(4)]
        while not stop.is_set():
            for b in boxes:
                for f in (os.listdir(b) if os.path.isdir(b) else []):
                    want_size = int(f.split(",S=")[1].split(",")[0])
                    try:
                        got_size = os.path.getsize(os.path.join(b, f))
                    except FileNotFoundError:
                        continue
                    seen_files[0] += 1
                    if got_size != want_size:
                        partial.append(f)
            stop.wait(0.05)         # a reader's pace, not a busy loop
    rd = threading.Thread(target=reader, daemon=True)
    rd.start()
    res = d.send_many(paths, jobs=4, timeout=600)
    t2 = time.monotonic()
    stop.set()
    rd.join(30)
    ok(seen_files[0] > 0 and not partial,
       "a reader looking on meanwhile saw %d files, none partial" %
       seen_files[0])
    diag("%d messages written in %.1fs, delivered in %.1fs (%.0f/s)" %
         (N, t1 - t0, t2 - t1, N / max(t2 - t1, 0.001)))
    is_(len(res), N, "a result for every job")
    ok(all(r[0][0] == "ok" for r in res.values()), "every recipient ok")

    got = {}
    dups = 0
    wrong = 0
    for u in users:
        seen = set()
        for data in d.read("%s@example.com" % u):
            mid = dtest.header(data, "Message-ID")[0]
            i = int(mid[len("<bulk-"):].split("@")[0])
            if i in seen:
                dups += 1
            seen.add(i)
            if dtest.header(data, "Delivered-To") != ["%s@example.com" % u]:
                wrong += 1
        got[u] = seen
    is_(dups, 0, "no message twice in a mailbox")
    is_(wrong, 0, "every copy's Delivered-To is its mailbox")
    missing = sum(len(want[u] - got[u]) for u in users)
    extra = sum(len(got[u] - want[u]) for u in users)
    is_((missing, extra), (0, 0), "each message in exactly the mailboxes "
        "it was for (%d copies)" % sum(len(v) for v in want.values()))
    tmp = sum(len(os.listdir(os.path.join(d.mailbox(u + "@example.com"),
                                          "tmp"))) for u in users)
    is_(tmp, 0, "nothing left in any tmp/")
    bad = 0
    for u in users:
        mb = d.mailbox(u + "@example.com")
        lines = open(os.path.join(mb, "maildirsize")).read().split("\n")
        total = sum(int(ln.split()[0]) for ln in lines[1:] if ln)
        size = sum(os.path.getsize(os.path.join(mb, "new", f))
                   for f in os.listdir(os.path.join(mb, "new")))
        bad += total != size
    is_(bad, 0, "every maildirsize adds up to what is in the mailbox")
done()
