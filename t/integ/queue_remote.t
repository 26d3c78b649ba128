#!/usr/bin/env python3
# Routing: recipients of our domains go to the local agent, the rest to
# the remote agent (smtp-out.sock), one job per message and destination
# domain; queue_remote_parallel bounds the remote jobs and one domain
# gets at most half of them, so a destination that hangs holds up
# neither the other domains nor local mail.
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done              # noqa: E402
from queue_t import QInst                        # noqa: E402
from tern import wait_for                        # noqa: E402

q = QInst(conf={"queue_remote_parallel": "2", "queue_job_timeout": "6s"},
          remote_agent=True)
with q:
    q.start()
    ids = q.inject(["a@example.test", "b@far.example", "c@far.example",
                    "d@other.example"])
    q.wait_gone(ids)
    is_(q.deliveries(), [(ids[0], "a@example.test", "1")],
        "the local recipient went to the local agent")
    is_(sorted(q.deliveries(remote=True)), sorted([
        (ids[0], "b@far.example", "1"), (ids[0], "c@far.example", "1"),
        (ids[0], "d@other.example", "1")]), "the others to the remote one")
    log = q.qlog()
    ok("%s: to the remote agent for far.example: 2 recipient(s)" % ids[0]
       in log, "one job for both recipients of far.example")
    ok("%s: to the remote agent for other.example: 1 recipient(s)" % ids[0]
       in log, "another for other.example")

    # slow.example hangs: it holds one of the two remote slots, never
    # both; fast.example and local mail go on meanwhile.
    slow = q.inject(["hang1-1@slow.example"]) + \
        q.inject(["hang1-2@slow.example"])
    wait_for(lambda: "%s: to the remote agent for slow.example" % slow[0]
             in q.qlog(), what="the first slow job out")
    fast = q.inject(["x@fast.example"], n=5)
    local = q.inject(["y@example.test"], n=3)
    q.wait_gone(fast + local)
    ok(True, "5 messages to another domain and 3 local ones went through "
       "while slow.example hung")
    ok("%s: to the remote agent" % slow[1] not in q.qlog(),
       "the second slow.example message waited: one slot per domain")
    q.wait_gone(slow, timeout=40)
    log = q.qlog()
    ok("%s: no answer from the remote delivery agent within 6s" % slow[0]
       in log, "the hanging job was given up after queue_job_timeout")
    is_(sorted(x[1] for x in q.deliveries(remote=True) if x[0] in slow),
        ["hang1-1@slow.example", "hang1-2@slow.example"],
        "then both were delivered")
done()
