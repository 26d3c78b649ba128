#!/usr/bin/env python3
# End to end: smtplib -> smtpd -> spool -> queue -> delivery -> Maildir.
# The stored message has Return-Path, Delivered-To and smtpd's Received;
# an alias and a forward go through the same path; then many messages
# from parallel SMTP sessions to 100 users are each delivered exactly
# once (TERN_DELIVERY_E2E messages, default 2,000; t/bench/ runs 10,000).
# Skipped when the queue manager or smtpd is not built.
import os
import smtplib
import sys
import threading
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done, diag, skip_all   # noqa: E402
from tern import BIN, wait_for                  # noqa: E402
import dtest                                    # noqa: E402

for prog in ("queue", "smtpd"):
    if not os.path.exists(os.path.join(BIN, prog)):
        skip_all("no %s binary yet" % prog)

N = int(os.environ.get("TERN_DELIVERY_E2E", "2000"))
SESSIONS = 8
USERS = 100
users = ["user%02d" % i for i in range(USERS)]
d = dtest.DInst(
    domains={"example.com": {
        "conf": {"max_disk_space": "0", "domain_aliases": "example.net",
                 "max_users": "0"},
        "users": ["alice *", "bob *", "fwd * forward=alice@example.com,"
                  "far@remote.test forward_keep=no"] +
                 [u + " *" for u in users],
        "aliases": "sales: alice, bob\n"}},
    conf={"spool_delivery_delay": "0", "smtp_reverse_dns": "no",
          "log_level_smtp": "normal", "log_level_delivery": "normal",
          "smtp_max_connections": "0"},
    workers=4,
    services={"smtp": {"program": os.path.join(BIN, "smtpd"),
                       "workers": 2},
              "queue": {"program": os.path.join(BIN, "queue"),
                        "listen": ["unix:queue.sock"]}})


def mails(addr):
    return d.read(addr)


with d.inst:
    d.start()
    port = d.inst.port("smtp")

    # --- one message, all the way --------------------------------------------
    s = smtplib.SMTP("127.0.0.1", port, timeout=30)
    s.ehlo("client.test")
    msg = ("From: <sender@remote.test>\r\nTo: <alice@example.com>\r\n"
           "Subject: end to end\r\nMessage-ID: <e2e-1@remote.test>\r\n\r\n"
           "Through every daemon.\r\n")
    refused = s.sendmail("sender@remote.test",
                         ["alice@example.com", "sales@example.net",
                          "fwd@example.com"], msg)
    is_(refused, {}, "smtpd took all three recipients")
    wait_for(lambda: len(d.new("alice@example.com")) >= 1 and
             len(d.new("bob@example.com")) >= 1, timeout=30,
             what="the message in alice's and bob's mailboxes")
    data = mails("alice@example.com")[0]
    is_(dtest.header(data, "Return-Path"), ["<sender@remote.test>"],
        "Return-Path: the envelope sender")
    is_(dtest.header(data, "Delivered-To"), ["alice@example.com"],
        "Delivered-To: the mailbox")
    rcv = dtest.header(data, "Received")
    ok(len(rcv) == 1 and "from client.test" in rcv[0] and
       "(Tern) with ESMTP" in rcv[0], "smtpd's Received header")
    ok(data.index(b"Delivered-To") < data.index(b"Received:"),
       "our headers on top of it")
    ok(data.endswith(b"\n\nThrough every daemon.\n"), "the body, LF ends")
    is_(len(mails("alice@example.com")), 1,
        "alice has one copy (direct, via the alias and via fwd)")
    is_(dtest.header(mails("bob@example.com")[0], "Delivered-To"),
        ["bob@example.com"], "bob got it through the alias in a domain alias")
    is_(d.new("fwd@example.com"), [], "fwd forwards without keeping")

    # --- many messages, parallel sessions --------------------------------------
    errors = []

    def session(k):
        try:
            c = smtplib.SMTP("127.0.0.1", port, timeout=60)
            c.ehlo("client%d.test" % k)
            for i in range(k, N, SESSIONS):
                body = ("From: <s@remote.test>\r\nTo: <x@example.com>\r\n"
                        "Subject: n%d\r\nMessage-ID: <e2e-bulk-%d@remote.test>"
                        "\r\n\r\nmessage %d\r\n" % (i, i, i))
                c.sendmail("s@remote.test",
                           ["%s@example.com" % users[i % USERS]], body)
            c.quit()
        except Exception as e:            # noqa: BLE001
            errors.append(repr(e))

    t0 = time.monotonic()
    ths = [threading.Thread(target=session, args=(k,))
           for k in range(SESSIONS)]
    for t in ths:
        t.start()
    for t in ths:
        t.join(600)
    t1 = time.monotonic()
    is_(errors, [], "%d messages accepted over %d sessions" % (N, SESSIONS))

    def delivered():
        return sum(len(d.new("%s@example.com" % u)) for u in users)
    wait_for(lambda: delivered() >= N, timeout=max(60, N / 20),
             what="every message delivered")
    t2 = time.monotonic()
    diag("%d messages: accepted in %.1fs, all delivered %.1fs after the "
         "first was sent" % (N, t1 - t0, t2 - t0))
    seen = {}
    for u in users:
        for data in mails("%s@example.com" % u):
            i = int(dtest.header(data, "Message-ID")[0].split("-")[2]
                    .split("@")[0])
            seen.setdefault(i, []).append(u)
    is_(len(seen), N, "every message arrived")
    is_([i for i, v in seen.items() if len(v) != 1], [],
        "none twice")
    is_([i for i, v in seen.items() if v[0] != users[i % USERS]], [],
        "each in its own recipient's mailbox")
    ok(" status=ok " in d.log() or "status=ok" in d.log(),
       "the delivery log has the outcomes")
done()
