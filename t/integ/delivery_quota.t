#!/usr/bin/env python3
# Quotas: a user's quota and a domain's max_disk_space; a full mailbox or
# domain defers (4.2.2) or bounces (5.2.2) as delivery_over_quota says;
# the warnings at quota_warning_percent go to the user and the domain
# admin once, and again only after usage dropped below the threshold.
import os
import signal
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
from tern import wait_for              # noqa: E402
import dtest                           # noqa: E402

d = dtest.DInst(domains={
    "example.com": {
        "conf": {"domain_admin": "boss", "max_disk_space": "0"},
        "users": ["small * quota=2k", "boss *"],
    },
    "full.test": {
        "conf": {"domain_admin": "admin", "max_disk_space": "4k"},
        "users": ["admin *", "u1 *", "u2 *"],
    },
}, conf={"quota_warning_percent": "50"})
PAD = "x" * 76 + "\r\n"


def fill(rcpts, limit=20):
    """Deliver ~700-byte messages in turn until one is refused."""
    n = 0
    for i in range(limit):
        res = d.send(d.message("s@remote.test", [rcpts[i % len(rcpts)]],
                               body=PAD * 5))
        if res[0][0] != "ok":
            return n, res[0]
        n += 1
    return n, None


def warnings(addr, word):
    return [m for m in d.read(addr)
            if word in dtest.header(m, "Subject")[0]]


with d.inst:
    d.start()

    # --- domain storage -------------------------------------------------------
    n, refused = fill(["u1@full.test", "u2@full.test"])
    ok(n >= 3, "%d messages fit in the domain's 4k" % n)
    is_(refused, ("defer", None, "4.2.2 domain storage full"),
        "then: 4.2.2 domain storage full (delivery_over_quota = defer)")
    w = warnings("admin@full.test", "Domain full.test storage")
    is_(len(w), 1, "the domain admin was warned once")
    ok("nearly full" in dtest.header(w[0], "Subject")[0],
       "when it passed 50%: " + dtest.header(w[0], "Subject")[0])
    m = w[0]
    is_(dtest.header(m, "Return-Path"), ["<>"], "warning: null Return-Path")
    is_(dtest.header(m, "Auto-Submitted"), ["auto-generated"],
        "warning: Auto-Submitted: auto-generated")
    res = d.send(d.message("s@remote.test", ["u1@full.test"], body=PAD * 5))
    is_(res[0][0], "defer", "still full")
    is_(len(warnings("admin@full.test", "Domain full.test storage")), 1,
        "no second warning when it is full")
    ok(os.path.exists(d.path("mail", "full.test", ".tern-domainsize")),
       "the domain's usage file is kept in its folder")
    ok(os.path.exists(d.path("mail", "full.test", ".tern-quota-warned")),
       "and the flag that it was warned")

    # --- a user's quota ---------------------------------------------------------
    n, refused = fill(["small@example.com"])
    ok(n >= 1, "%d message(s) fit in small's 2k" % n)
    is_(refused, ("defer", None, "4.2.2 mailbox full"),
        "then: 4.2.2 mailbox full")
    ws = warnings("small@example.com", "Your mailbox")
    wb = warnings("boss@example.com", "Mailbox small@example.com")
    is_((len(ws), len(wb)), (1, 1),
        "one warning each to the user and the domain admin")
    ok(b"small@example.com uses" in ws[0] and b"of its 2.0 KB quota" in ws[0],
       "it says how much of what is used")
    res = d.send(d.message("s@remote.test", ["small@example.com"],
                           body=PAD * 5))
    is_(res[0], ("defer", None, "4.2.2 mailbox full"), "still full")
    is_(len(warnings("small@example.com", "Your mailbox")), 1,
        "warned once only")

    # --- bounce instead, after a reload ------------------------------------------
    d.inst.conf["delivery_over_quota"] = "bounce"
    d.inst.write_conf()
    d.inst.signal(signal.SIGHUP)
    wait_for(lambda: d.log().count("delivery: reloaded") >= 2,
             what="workers to reload")
    res = d.send(d.message("s@remote.test", ["small@example.com"],
                           body=PAD * 5))
    is_(res[0], ("fail", None, "5.2.2 mailbox full"),
        "delivery_over_quota = bounce: 5.2.2")
    res = d.send(d.message("s@remote.test", ["u2@full.test"], body=PAD * 5))
    is_(res[0], ("fail", None, "5.2.2 domain storage full"),
        "and for the domain: 5.2.2")

    # --- room again: warned again next time ---------------------------------------
    mb = d.mailbox("small@example.com")
    for f in os.listdir(os.path.join(mb, "new")):
        os.unlink(os.path.join(mb, "new", f))
    os.unlink(os.path.join(mb, "maildirsize"))   # a reader would append
    res = d.send(d.message("s@remote.test", ["small@example.com"]))
    is_(res[0][0], "ok", "after a clean-up: delivered")
    ok(not os.path.exists(os.path.join(mb, "tern-quota-warned")),
       "under the threshold: the flag is gone")
    n, refused = fill(["small@example.com"])
    is_(refused, ("fail", None, "5.2.2 mailbox full"), "filled up again")
    is_(len(warnings("small@example.com", "Your mailbox")), 1,
        "and warned again, once")
    is_(len(warnings("boss@example.com", "Mailbox small@example.com")), 2,
        "the domain admin too")
done()
