#!/usr/bin/env python3
# Retries on the spool_retry_intervals schedule, then a bounce: an RFC
# 3464 report (multipart/report, message/delivery-status, the original's
# header or all of it), from MAILER-DAEMON with the null envelope sender.
# No bounce to the null sender, none for NOTIFY=NEVER; DNS errors give up
# after spool_dns_bounce_attempts; partial failures are reported once.
import os
import re
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done              # noqa: E402
from queue_t import QInst                        # noqa: E402
from tern import wait_for                        # noqa: E402


def status_blocks(msg):
    """The delivery-status part: (per-message fields, [per-recipient])."""
    for part in msg.walk():
        if part.get_content_type() == "message/delivery-status":
            blocks = part.get_payload()
            fields = [dict(b.items()) for b in blocks]
            return fields[0], fields[1:]
    return None, []


def parts(msg):
    return [p.get_content_type() for p in msg.get_payload()]


def bounce_for(q, qid, timeout=30):
    """The bounce the queue logged for qid, as the fixture delivered it."""
    pat = re.compile(r"%s: bounce (\w+) to" % qid)
    bid = wait_for(lambda: (pat.search(q.qlog()) or [None, None])[1],
                   timeout=timeout, what="a bounce for " + qid)
    return bid, wait_for(lambda: q.copy(bid), timeout=timeout,
                         what="the bounce delivered")


q = QInst(conf={"spool_retry_intervals": "1s 1s", "hostname":
                "mx.example.test"})
with q:
    q.start()

    # Partial: one recipient deferred once, the other at once.
    ids = q.inject(["defer1-a@example.test", "now-b@example.test"])
    q.wait_delivered(1)
    rec = wait_for(lambda: (lambda r: r if r and "d 1 " in r else None)(
        q.record(ids[0])), what="the record of the partial attempt")
    ok(re.search(r"^t 0 \d+ \d+ 1 4\.2\.0 mailbox busy", rec, re.M),
       "record: recipient 0 deferred, attempt 1, with the reason")
    ok(re.search(r"^d 1 \d+ ok 2\.0\.0 delivered", rec, re.M),
       "record: recipient 1 delivered")
    q.wait_gone(ids)
    is_(sorted(q.deliveries()), sorted([
        (ids[0], "defer1-a@example.test", "2"),
        (ids[0], "now-b@example.test", "1")]),
        "the deferred one went on the second attempt, the other once")

    # Deferred on every attempt: 1 + 2 retries, then a bounce.
    ids = q.inject(["defernever-x@example.test"], sender="bob@example.test",
                   params=["envid=ENV+2B1"])
    bid, msg = bounce_for(q, ids[0])
    log = q.qlog()
    for n in (1, 2):
        ok("%s: to=<defernever-x@example.test> deferred (local, attempt %d"
           % (ids[0], n) in log, "attempt %d deferred" % n)
    ok("%s: to=<defernever-x@example.test> failed (local): 4.4.7 retries "
       "exhausted after 3 attempts; last error: 4.2.0" % ids[0] in log,
       "after the schedule: retries exhausted")
    ok("%s: from=<> " % bid in log, "the bounce has the null sender")
    ok((bid, "bob@example.test", "1") in q.deliveries(),
       "and goes to the original sender")
    is_(msg.get_content_type(), "multipart/report", "multipart/report")
    is_(msg.get_param("report-type"), "delivery-status",
        "report-type=delivery-status")
    is_(parts(msg), ["text/plain", "message/delivery-status",
                     "text/rfc822-headers"], "three parts, headers by default")
    ok(msg["From"].endswith("<MAILER-DAEMON@mx.example.test>"),
       "From: MAILER-DAEMON@hostname")
    is_(msg["To"], "<bob@example.test>", "To: the sender")
    is_(msg["Auto-Submitted"], "auto-replied", "Auto-Submitted: auto-replied")
    per, rcpts = status_blocks(msg)
    is_(per.get("Reporting-MTA"), "dns; mx.example.test", "Reporting-MTA")
    is_(per.get("Original-Envelope-Id"), "ENV+1", "ENVID decoded")
    ok(per.get("Arrival-Date"), "Arrival-Date")
    is_(len(rcpts), 1, "one recipient block")
    r = rcpts[0] if rcpts else {}
    is_(r.get("Final-Recipient"), "rfc822; defernever-x@example.test",
        "Final-Recipient")
    is_(r.get("Action"), "failed", "Action: failed")
    is_(r.get("Status"), "4.4.7", "Status: 4.4.7")
    ok("retries exhausted" in (r.get("Diagnostic-Code") or ""),
       "Diagnostic-Code says why")
    ok(r.get("Last-Attempt-Date"), "Last-Attempt-Date")
    orig = msg.get_payload()[2].get_payload()
    ok("Subject: test 0" in orig and "xxxx" not in orig,
       "the original's header, not its body")
    q.wait_gone(ids)

    # A hard failure bounces at once; ORCPT and RET=FULL are honoured.
    ids = q.inject(["fail-y@example.test|orcpt=rfc822;Fail-Y+40x@example.org"],
                   sender="carol@example.test", params=["ret=FULL"])
    bid, msg = bounce_for(q, ids[0])
    is_(parts(msg), ["text/plain", "message/delivery-status",
                     "message/rfc822"], "RET=FULL: the whole message")
    per, rcpts = status_blocks(msg)
    r = rcpts[0] if rcpts else {}
    is_(r.get("Status"), "5.1.1", "Status from the agent's answer")
    is_(r.get("Original-Recipient"), "rfc822;Fail-Y@x@example.org",
        "Original-Recipient from ORCPT (xtext decoded)")
    inner = msg.get_payload()[2].get_payload()[0]
    is_(inner["Subject"], "test 0", "the original message inside")
    ok("xxxx" in inner.get_payload(), "with its body")
    ok(not any(d[0] == ids[0] for d in q.deliveries()), "nothing delivered")
    q.wait_gone(ids)

    # No bounce to the null sender; none for NOTIFY=NEVER.
    ids = q.inject(["fail-z@example.test"], sender="")
    q.wait_gone(ids)
    ok("%s: to=<fail-z@example.test> failed (local): 5.1.1 no such user "
       "(fixture) (no bounce to the null sender)" % ids[0] in q.qlog(),
       "null sender: failed and logged, no bounce")
    ids2 = q.inject(["fail-w@example.test|notify=NEVER"])
    q.wait_gone(ids2)
    ok("(no bounce: NOTIFY)" in q.qlog(), "NOTIFY=NEVER: no bounce")
    ids3 = q.inject(["fail-v@example.test|notify=SUCCESS,FAILURE"],
                    sender="dave@example.test")
    bounce_for(q, ids3[0])
    ok(True, "NOTIFY=SUCCESS,FAILURE: a bounce")
    for i in ids + ids2:
        ok(": bounce " not in "\n".join(
            line for line in q.qlog().splitlines() if line.find(i) >= 0),
           "no bounce logged for %s" % i)

    # One fails now, one later: two reports, each recipient once; the
    # first is recorded ("b" line) so a restart would not repeat it.
    ids = q.inject(["fail-p@example.test", "dns-q@example.test"],
                   sender="erin@example.test")
    wait_for(lambda: re.search(r"^b \w+ 0$", q.record(ids[0]) or "", re.M),
             what="the first bounce recorded")
    ok(True, "record: b line for the first report")
    q.wait_gone(ids)
    bids = re.findall(r"%s: bounce (\w+)" % ids[0], q.qlog())
    is_(len(bids), 2, "two reports, one per failure")
    last = wait_for(lambda: q.copy(bids[-1]), what="second report")
    per, rcpts = status_blocks(last)
    is_([r.get("Final-Recipient") for r in rcpts],
        ["rfc822; dns-q@example.test"], "the second names only the other")
    ok("gave up after 2 attempts" in (rcpts[0].get("Diagnostic-Code") or ""),
       "a DNS failure gives up after spool_dns_bounce_attempts (2)")
    is_(rcpts[0].get("Status"), "4.4.3", "with its own status")
done()
