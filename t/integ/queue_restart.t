#!/usr/bin/env python3
# What survives and what is caught: kill -9 of the queue between attempts
# keeps every recipient's attempt count and next time; a torn last record
# line is ignored; a damaged spool file is moved aside, never dropped; a
# message waiting long is put aside (evicted) and taken back by the scan
# when due; an agent that dies mid-job or never answers costs an attempt,
# not the message.
import os
import re
import sys
from datetime import datetime
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done              # noqa: E402
from queue_t import QInst, alive                 # noqa: E402
from tern import wait_for                        # noqa: E402


def stamps(log, pat):
    return [datetime.strptime(x.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
            for x in log.splitlines() if pat in x]


q = QInst(conf={"spool_retry_intervals": "4s 4s 4s",
                "queue_scan_interval": "1s", "queue_job_timeout": "2s"})
with q:
    q.start()
    ids = q.inject(["defer2-r@example.test"])
    wait_for(lambda: re.search(r"^t 0 \d+ \d+ 1 ", q.record(ids[0]) or "",
                               re.M), what="the first deferral recorded")
    q.kill9("queue")
    ok(True, "queue killed with -9 and restarted by master")
    q.wait_gone(ids, timeout=40)
    is_(q.deliveries(), [(ids[0], "defer2-r@example.test", "3")],
        "delivered on attempt 3: the count survived the restart")
    log = q.qlog()
    t = stamps(log, "%s: to=<defer2-r@example.test> deferred" % ids[0])
    d = stamps(log, "%s: to=<defer2-r@example.test> delivered" % ids[0])
    gaps = [(b - a).total_seconds() for a, b in zip(t, t[1:] + d)]
    ok(len(gaps) == 2 and all(g >= 3.5 for g in gaps),
       "each retry waited its interval across the restart: %s" % gaps)
    ok("taken from the spool" in log, "the new queue took it from cur/")

    # A torn last line (crash mid-write) is ignored and cut off.
    ids = q.inject(["defer1-torn@example.test"])
    wait_for(lambda: re.search(r"^t 0 ", q.record(ids[0]) or "", re.M),
             what="deferral recorded")
    sub = q.spool()[ids[0]][0]
    q.adminctl("service", "stop", "queue")
    with open(q.path("spool", str(sub), "cur", ids[0] + ".rec"), "a") as f:
        f.write("d 0 17000")
    q.adminctl("service", "start", "queue")
    q.wait_gone(ids, timeout=30)
    is_([x[2] for x in q.deliveries() if x[0] == ids[0]], ["2"],
        "torn line ignored: delivered on attempt 2")

    # Damaged files go to spool/damaged/, with a line in the log.
    os.makedirs(q.path("spool", "0", "cur"), exist_ok=True)
    bad = "0123456789ABCDEF012345"
    with open(q.path("spool", "0", "cur", bad), "w") as f:
        f.write("TERN-SPOOL 1\nid %s\ntime 1\nsender a@b\n" % bad)
    bad2 = "0123456789ABCDEF054321"
    with open(q.path("spool", "0", "new", bad2), "w") as f:
        f.write("garbage\n\nbody\n")
    wait_for(lambda: os.path.exists(q.path("spool", "damaged", bad)) and
             os.path.exists(q.path("spool", "damaged", bad2)),
             what="damaged files moved aside")
    ok(True, "a truncated and a garbage file were moved aside")
    ok("%s: damaged spool file moved to" % bad in q.qlog(),
       "and reported at exceptions level")
    with open(q.path("spool", "damaged", bad2)) as f:
        is_(f.read(), "garbage\n\nbody\n", "unchanged")

    # A record without its message (a crash between the two unlinks of
    # a removal) is swept up by a later full scan.
    orphan = q.path("spool", "1", "cur", "0123456789ABCDEF0AAAAA.rec")
    os.makedirs(os.path.dirname(orphan), exist_ok=True)
    with open(orphan, "w") as f:
        f.write("d 0 1 ok 2.0.0 fine\n")

    # Long waits leave memory (the record's mtime says when) and come
    # back through the scan.
    ids = q.inject(["defer1-evict@example.test"])
    q.wait_log("%s: waits on disk" % ids[0])
    ok(True, "a message deferred beyond the scan interval left memory")
    q.wait_gone(ids, timeout=30)
    is_([x[2] for x in q.deliveries() if x[0] == ids[0]], ["2"],
        "the scan took it back when due")

    # The agent dies mid-job (crash1-) or never answers (hang1-).
    ids = q.inject(["crash1-c@example.test"])
    ids2 = q.inject(["hang1-h@example.test"])
    q.wait_gone(ids + ids2, timeout=40)
    got = sorted(x for x in q.deliveries() if x[0] in ids + ids2)
    is_(got, sorted([(ids[0], "crash1-c@example.test", "2"),
                     (ids2[0], "hang1-h@example.test", "2")]),
        "both delivered on their second attempt")
    log = q.qlog()
    ok("%s: the local delivery agent went away during the job" % ids[0]
       in log, "the crash is logged")
    ok("%s: no answer from the local delivery agent within 2s" % ids2[0]
       in log, "the hang is given up after queue_job_timeout")

    wait_for(lambda: not os.path.exists(orphan), timeout=40,
             what="the orphan record swept up")
    ok("0123456789ABCDEF0AAAAA: record of a removed message swept up" in
       q.qlog(), "an orphan record is swept up and logged")

    # Stopping the queue waits for jobs out; nothing is lost.
    ids = q.inject(["slow-s%d@example.test" % i for i in range(5)])
    wait_for(lambda: "%s: to the local agent" % ids[0] in q.qlog(),
             what="the job out")
    pid = q.pids("queue")[0]
    rc, out, err = q.adminctl("service", "stop", "queue")
    is_(rc, 0, "queue stopped while a job was out")
    wait_for(lambda: not alive(pid), what="the queue to exit")
    is_(len([x for x in q.deliveries() if x[0] == ids[0]]), 5,
        "the job finished before the queue left")
    ok(not q.spool().get(ids[0]), "and the message was removed")
done()
