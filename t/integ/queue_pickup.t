#!/usr/bin/env python3
# The queue takes messages it is told about ("new" on queue.sock) and
# messages nobody told it about (the scan at start and on its timer),
# hands each local recipient to the delivery agent once, and removes the
# message and its record when every recipient is finished.
import os
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, diag, done              # noqa: E402
from queue_t import QInst                        # noqa: E402

q = QInst(conf={"queue_scan_interval": "1s"})
with q:
    pre = q.inject(["early@example.test"], notify=False)
    # What a writer killed mid-message left in tmp/: the first full pass
    # removes it once it is 36 hours old, and leaves a younger one.
    tmpd = q.path("spool", str(q.spool()[pre[0]][0]), "tmp")
    stale, young = (os.path.join(tmpd, n) for n in
                    ("0000000000000000000001", "0000000000000000000002"))
    for f in (stale, young):
        with open(f, "w") as fh:
            fh.write("TERN-SPOOL 1\nid half\n")
    old = time.time() - 37 * 3600
    os.utime(stale, (old, old))
    is_(q.spool()[pre[0]][1], "new", "written before the queue runs: in new/")
    q.start()
    q.wait_gone(pre)
    is_([d[:2] for d in q.deliveries()], [(pre[0], "early@example.test")],
        "the start-up scan found it and it was delivered once")
    ok(not os.path.exists(stale) and os.path.exists(young),
       "an unfinished file 37 hours old removed from tmp/, a new one kept")
    ok("left unfinished 37 hours ago" in q.qlog(), "and the removal logged")
    os.unlink(young)

    ids = q.inject(["a@example.test", "b@example.test", "c@Example.TEST"],
                   n=5)
    q.wait_gone(ids)
    got = sorted(d[:2] for d in q.deliveries() if d[0] in ids)
    want = sorted((i, r) for i in ids for r in
                  ("a@example.test", "b@example.test", "c@Example.TEST"))
    is_(got, want, "told by notification: 5 messages x 3 recipients, "
        "each delivered once")
    ok(all(d[2] == "1" for d in q.deliveries()), "all on the first attempt")
    log = q.qlog()
    ok("%s: from=<sender@example.org> size=" % ids[0] in log and
       "nrcpt=3 priority=5 (queued)" in log, "arrival logged with its id")
    ok("%s: to=<a@example.test> delivered (local)" % ids[0] in log,
       "each delivery logged with the queue id first")
    ok("%s: removed" % ids[-1] in log, "removal logged")
    is_(q.spool(), {}, "nothing left in the spool")
    left = [f for sub in os.listdir(q.path("spool")) if sub.isdigit()
            for f in os.listdir(q.path("spool", sub, "cur"))]
    is_(left, [], "no record left behind either")

    # Nobody says a word: the periodic scan finds it.
    late = q.inject(["late@example.test"], notify=False)
    q.wait_gone(late, timeout=15)
    ok((late[0], "late@example.test", "1") in q.deliveries(),
       "the timer scan found a message nobody announced")

    # An agent is told where the message starts: the fixture checked
    # ("-e") that the file and offset hold the header, else it defers.
    ok("4.3.0 spool file unreadable" not in q.qlog(),
       "path and offset in each job point at the message")

    # A bad notification is logged and ignored; the connection lives on.
    import ipc
    c = ipc.Conn(q.path("state", "queue.sock"), name="test")
    c.send("new", [("id", "../../etc/passwd"), ("subspool", "0")])
    c.send("bogus", [])
    typ, f = c.recv()
    is_(typ, "error", "an unknown request gets an error answer")
    c.close()
    q.wait_log("malformed 'new' notification ignored")
    ok(True, "a malformed notification is logged")
    more = q.inject(["after@example.test"])
    q.wait_gone(more)
    ok((more[0], "after@example.test", "1") in q.deliveries(),
       "and the queue goes on")
    if os.path.exists(q.path("spool", "damaged")):
        diag(os.listdir(q.path("spool", "damaged")))
    ok(not os.path.exists(q.path("spool", "damaged")), "nothing damaged")
done()
