#!/usr/bin/env python3
# adminctl spool hold / release: a held message gets no delivery attempt
# (not even when forced) while the rest of the spool moves; the hold is
# in the message's record, so it survives a restart of the queue and is
# shown by spool list from the files alone; release lets it go.
import json
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done              # noqa: E402
from queue_t import QInst                        # noqa: E402
from tern import wait_for                        # noqa: E402


def status(q, qid):
    rc, out, err = q.adminctl("--json", "spool", "list")
    for m in json.loads(out)["messages"]:
        if m["id"] == qid:
            return m["status"]
    return None


def flush(q, tag):
    """Force one other message through: by then the queue has acted on
    everything asked before it."""
    fid = q.inject(["flush-%s@example.test" % tag])[0]
    q.adminctl("spool", "force", fid)
    wait_for(lambda: any(d[0] == fid for d in q.deliveries()),
             what="the flush message")


q = QInst(conf={"spool_delivery_delay": "1h"})
with q:
    q.start()
    held, other = q.inject(["h@example.test"], n=2)
    wait_for(lambda: status(q, held) == "pending", what="taken")
    rc, out, err = q.adminctl("spool", "hold", held)
    is_((rc, out), (0, "held 1 message\n"), "spool hold")
    is_(status(q, held), "held", "spool list says held")
    q.adminctl("spool", "force", held, other)
    q.wait_log("%s: forced by the administrator" % other)
    flush(q, "1")
    got = [d[0] for d in q.deliveries()]
    ok(other in got and held not in got,
       "forced: the other message went, the held one did not")
    ok("h 1\n" in (q.record(held) or ""), "the hold is in the record")

    q.stop()
    rc, out, err = q.adminctl("--json", "spool", "list")
    m = {x["id"]: x for x in json.loads(out)["messages"]}
    is_(m.get(held, {}).get("status"), "held",
        "queue stopped: list from the files still says held")
    q.start()
    q.adminctl("spool", "force", held)
    flush(q, "2")
    ok(held not in [d[0] for d in q.deliveries()],
       "after a restart it is still held")

    rc, out, err = q.adminctl("spool", "release", held)
    is_((rc, out), (0, "released 1 message\n"), "spool release")
    q.adminctl("spool", "force", held)
    wait_for(lambda: any(d[0] == held for d in q.deliveries()),
             what="the released message")
    ok(True, "released and forced: delivered")

    rc, out, err = q.adminctl("spool", "hold", "0" * 22)
    is_(rc, 1, "hold of an unknown id: exit 1")
    rc, out, err = q.adminctl("spool", "hold")
    is_(rc, 2, "hold without an id: usage")
done()
