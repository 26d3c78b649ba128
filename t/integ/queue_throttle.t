#!/usr/bin/env python3
# Throttling (FEATURES SO-15): a domain with throttle_messages,
# throttle_bandwidth or throttle_bounces on sends that much per clock
# hour; the rest waits in the spool for the next hour without spending
# an attempt, the event is logged, other domains go on, and the hour's
# counts survive a restart of the queue (state_dir/throttle.db).
import json
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done              # noqa: E402
from queue_t import QInst                        # noqa: E402
from tern import wait_for                        # noqa: E402
import cdbw                                      # noqa: E402

domains = {
    "example.test": {},
    "msgs.test": {"throttle_messages": "yes",
                  "throttle_messages_per_hour": 3},
    "bytes.test": {"throttle_bandwidth": "yes",
                   "throttle_bandwidth_per_hour": "3k"},
    "bounced.test": {"throttle_bounces": "yes",
                     "throttle_bounces_per_hour": 2},
    "off.test": {"throttle_messages": "no",
                 "throttle_messages_per_hour": 1},
}


def remote_for(q, rcpt):
    return [d for d in q.deliveries(remote=True) if d[1] == rcpt]


def flush(q, tag):
    """Send one message from an unthrottled domain and wait for it: by
    then every message queued before it has had its turn."""
    rcpt = "flush-%s@far.example" % tag
    q.inject([rcpt], sender="x@example.test")
    wait_for(lambda: remote_for(q, rcpt), what="the flush message")


def attempts(q, ids):
    rc, out, err = q.adminctl("--json", "spool", "list")
    rows = [r for r in json.loads(out)["messages"] if r["id"] in ids]
    return [r["attempts"] for r in rows]


q = QInst(conf={"queue_remote_parallel": "1"}, domains=domains,
          remote_agent=True)
# A user of example.test with a limit of its own (the users file's
# throttle_messages_per_hour, as adminctl rebuild compiles it).
cdbw.write(q.path("state", "maps", "users.cdb"),
           [(b"heavy@example.test",
             b"disabled=0\nthrottle_messages_per_hour=2\n")])
with q:
    q.start()
    ids = q.inject(["m@far.example"], n=5, sender="s@msgs.test")
    q.wait_log("domain msgs.test throttled (messages per hour reached")
    flush(q, "1")
    is_(len(remote_for(q, "m@far.example")), 3,
        "3 messages per hour: three went out")
    left = set(ids) & set(q.spool())
    is_(len(left), 2, "two wait in the spool")
    is_(attempts(q, left), [0, 0], "without spending an attempt")
    ok(q.qlog().count("domain msgs.test throttled") == 1,
       "the event is logged once for the hour")

    # Bytes: messages of a little over 1000 bytes against 3 KiB per hour
    # (a message goes while the hour's bytes are under the limit).
    q.inject(["b@far.example"], n=5, sender="s@bytes.test", size=1000)
    q.wait_log("domain bytes.test throttled (bandwidth per hour reached")
    flush(q, "2")
    is_(len(remote_for(q, "b@far.example")), 3,
        "3 KiB per hour: three 1 KB messages went out")

    # Bounces received: two null-sender messages delivered to the
    # domain's users stop its sending for the hour.
    q.inject(["u@bounced.test"], n=2, sender="")
    q.wait_delivered(2)
    q.inject(["z@far.example"], sender="s@bounced.test")
    q.wait_log("domain bounced.test throttled (bounces per hour reached")
    flush(q, "3")
    is_(remote_for(q, "z@far.example"), [],
        "after 2 bounces its mail waits")

    # A user's own limit: 2 of its 4 go out, while another user of the
    # same (unthrottled) domain is not held.
    q.inject(["h@far.example"], n=4, sender="heavy@example.test")
    q.wait_log("user heavy@example.test throttled (messages per hour")
    flush(q, "u")
    is_(len(remote_for(q, "h@far.example")), 2,
        "user limit 2 per hour: two went out")

    # Limits that are off count for nothing.
    q.inject(["o@far.example"], n=3, sender="s@off.test")
    wait_for(lambda: len(remote_for(q, "o@far.example")) == 3,
             what="off.test's mail")
    ok("domain off.test throttled" not in q.qlog(), "throttle off: none")

    # Local mail is not throttled: only what leaves counts.
    q.inject(["local@example.test"], n=4, sender="s@msgs.test")
    wait_for(lambda: len([d for d in q.deliveries()
                          if d[1] == "local@example.test"]) == 4,
             what="local deliveries")
    ok(True, "local deliveries of a throttled domain go on")

    # A restart keeps the hour's counts.
    q.stop()
    ok(os.path.exists(q.path("state", "throttle.db")),
       "counts kept in state_dir/throttle.db")
    q.start()
    q.inject(["n@far.example"], sender="s@msgs.test")
    flush(q, "4")
    is_(len(remote_for(q, "m@far.example")) +
        len(remote_for(q, "n@far.example")), 3,
        "after a restart msgs.test is still at its limit")
done()
