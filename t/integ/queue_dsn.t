#!/usr/bin/env python3
# RFC 3461 NOTIFY=SUCCESS and NOTIFY=DELAY (FEATURES SO-19): a success
# report when a recipient is delivered (Action: delivered) or handed to
# the remote agent (Action: relayed); one delay warning (Action:
# delayed) for a recipient still pending spool_delay_warning after
# arrival, kept in the record ("w") so it is sent once; none without
# NOTIFY=DELAY, none to the null sender.  Each report parsed with
# Python's email package.
import email
import email.policy
import os
import re
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done              # noqa: E402
from queue_t import QInst                        # noqa: E402
from tern import wait_for                        # noqa: E402

SENDER = "s@example.test"


def report_for(q, qid, kind="bounce"):
    pat = re.compile(r"%s: %s (\w+) to" % (qid, kind))
    bid = wait_for(lambda: (pat.search(q.qlog()) or [None, None])[1],
                   what="a %s for %s" % (kind, qid))
    return wait_for(lambda: q.copy(bid), what="the report delivered")


def status(msg):
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            return [dict(b.items()) for b in part.get_payload()][1:]
    return []


q = QInst(conf={"spool_retry_intervals": "1s 1s 1s",
                "spool_delay_warning": "1s", "hostname": "mx.example.test"},
          remote_agent=True)
with q:
    q.start()

    # Delivered locally, NOTIFY=SUCCESS: a "delivered" report.
    ids = q.inject(["ok-a@example.test|notify=SUCCESS",
                    "ok-b@example.test"], sender=SENDER)
    m = report_for(q, ids[0])
    st = status(m)
    is_([(b.get("Final-Recipient"), b.get("Action"), b.get("Status"))
         for b in st],
        [("rfc822; ok-a@example.test", "delivered", "2.0.0")],
        "NOTIFY=SUCCESS: Action delivered, for that recipient only")
    is_(m["Subject"], "Delivered: delivery report", "its subject")
    ok(m.get_content_type() == "multipart/report", "multipart/report")

    # Handed to the remote agent: "relayed".
    ids = q.inject(["r@far.example|notify=SUCCESS,FAILURE"], sender=SENDER)
    st = status(report_for(q, ids[0]))
    is_([b.get("Action") for b in st], ["relayed"],
        "remote recipient: Action relayed")

    # NOTIFY=DELAY: one warning after spool_delay_warning, then the
    # delivery; none for the recipient that did not ask.
    ids = q.inject(["defer3-d@example.test|notify=DELAY,FAILURE",
                    "defer3-e@example.test"], sender=SENDER)
    m = report_for(q, ids[0], kind="delay warning")
    st = status(m)
    is_([(b.get("Final-Recipient"), b.get("Action")) for b in st],
        [("rfc822; defer3-d@example.test", "delayed")],
        "NOTIFY=DELAY: Action delayed, only for the one that asked")
    ok(st and st[0].get("Status", "").startswith("4."), "a 4.x.x status")
    is_(m["Subject"], "Delayed: message not yet delivered", "its subject")
    ok(re.search(r"^w \w+ 0$", q.record(ids[0]) or "", re.M),
       "the warning is in the record")
    q.wait_gone(ids, timeout=30)
    is_(q.qlog().count("%s: delay warning" % ids[0]), 1,
        "warned once though tried three more times")
    ok("%s: bounce" % ids[0] not in q.qlog(), "and no other report")

    # The null sender never gets one.
    ids = q.inject(["defer3-n@example.test|notify=SUCCESS,DELAY"], sender="")
    q.wait_gone(ids, timeout=30)
    ok(": delay warning" not in "\n".join(
        x for x in q.qlog().splitlines() if ids[0] in x) and
       "%s: bounce" % ids[0] not in q.qlog(), "null sender: no report")
done()
