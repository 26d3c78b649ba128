#!/usr/bin/env python3
# Auto-responders: once per day per sender where the domain says so,
# every time where it does not; never to the null sender, bulk, list or
# auto-submitted mail, robots or the user itself, nor through the
# catch-all, nor to spam at the domain's level; autoreply_until; the
# reply's RFC 3834 headers, queued with the null sender.
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
import cdb                             # noqa: E402
import dtest                           # noqa: E402

d = dtest.DInst(domains={
    "example.com": {
        "conf": {"autoresponder_exclusions": "medium",
                 "priority_autoresponders": "7"},
        "users": [
            'away * name="Away Person" autoreply=yes '
            'autoreply_subject="Out of office"',
            'plain * autoreply=yes autoreply_text="One\\nTwo"',
            "expired * autoreply=yes autoreply_until=2020-01-31",
            "future * autoreply=yes autoreply_until=2099-12-31",
            "quiet * autoreply=no autoreply_subject=x",
        ],
    },
    "other.test": {
        "conf": {"autoresponder_once_per_day": "no",
                 "enable_catchalls": "yes", "catchall": "every"},
        "users": ["every * autoreply=yes"],
    },
})


def replies_to(addr):
    return [m for m in d.queued("autoreply")
            if [r["addr"] for r in m.rcpts] == [addr]]


def deliver(sender, rcpt, **kw):
    res = d.send(d.message(sender, [rcpt], **kw))
    assert res[0][0] == "ok", res
    return res


with d.inst:
    rc, out, err = d.inst.adminctl(
        "user", "set", "away@example.com",
        "autoreply_text=I am away.\\nBack on Monday.", "--no-reload")
    is_(rc, 0, "adminctl user set autoreply_text with \\n " + err.strip())
    for bad in ("autoreply_until=2025-02-30", "autoreply_until=tomorrow",
                "autoreply=maybe", "autoreply_subject=" + "x" * 300):
        rc, out, err = d.inst.adminctl("user", "set", "away@example.com",
                                       bad, "--no-reload")
        ok(rc != 0, "refused: %s (%s)" % (bad[:32], err.strip()[:60]))
    d.rebuild()
    rec = cdb.CDB(d.path("state", "maps", "users.cdb")).get(
        b"away@example.com").decode()
    ok("autoreply=1\n" in rec and "autoreply_subject=Out of office\n" in rec
       and "autoreply_text=I am away.\\nBack on Monday.\n" in rec,
       "users.cdb has the auto-reply keys, \\n kept as written")
    rec = cdb.CDB(d.path("state", "maps", "users.cdb")).get(
        b"plain@example.com").decode()
    ok("autoreply_text=One\\nTwo\n" in rec,
       "\\n written by hand inside quotes is kept too")
    rec = cdb.CDB(d.path("state", "maps", "users.cdb")).get(
        b"quiet@example.com").decode()
    ok("autoreply" not in rec, "autoreply=no: no auto-reply keys at all")
    d.start()

    # --- the reply -----------------------------------------------------------
    deliver("s1@remote.test", "away@example.com", subject="Lunch?",
            msgid="orig-1@remote.test")
    r = replies_to("s1@remote.test")
    is_(len(r), 1, "first message from a sender: one reply")
    m = r[0]
    is_(m.sender, "", "queued with the null envelope sender")
    is_(m.params.get("priority"), "7", "the domain's autoresponder priority")
    h = m.body.split(b"\r\n\r\n")[0].decode()
    ok('From: "Away Person" <away@example.com>' in h, "From: the user")
    ok("To: <s1@remote.test>" in h, "To: the sender")
    ok("Subject: Out of office" in h, "the user's subject")
    ok("In-Reply-To: <orig-1@remote.test>" in h, "In-Reply-To")
    ok("References: <orig-1@remote.test>" in h, "References")
    ok("Auto-Submitted: auto-replied" in h, "Auto-Submitted: auto-replied")
    ok(m.body.endswith(b"\r\n\r\nI am away.\r\nBack on Monday.\r\n"),
       "the text, \\n as line breaks")
    is_(len(d.new("away@example.com")), 1, "the message itself delivered")
    ok(os.path.exists(os.path.join(d.mailbox("away@example.com"),
                                   "tern-autoreply")),
       "the memory lives in the mailbox")

    # --- once per day ------------------------------------------------------------
    deliver("s1@remote.test", "away@example.com")
    deliver("S1@remote.test", "away@example.com")
    is_(len(replies_to("s1@remote.test")) + len(replies_to("S1@remote.test")),
        1, "the same sender again that day (any case): no second reply")
    ok("had one today" in d.log(), "logged at detailed level")
    deliver("s2@remote.test", "away@example.com")
    is_(len(replies_to("s2@remote.test")), 1, "another sender: a reply")
    deliver("s1@remote.test", "every@other.test")
    deliver("s1@remote.test", "every@other.test")
    is_(len([m for m in replies_to("s1@remote.test")
             if b"<every@other.test>" in m.body]), 2,
        "autoresponder_once_per_day = no: every message answered")

    # --- never ---------------------------------------------------------------------
    before = len(d.queued("autoreply"))
    deliver("", "away@example.com")
    deliver("s3@remote.test", "away@example.com", headers=["Precedence: bulk"])
    deliver("s4@remote.test", "away@example.com", headers=["Precedence: list"])
    deliver("s5@remote.test", "away@example.com",
            headers=["List-Id: <list.remote.test>"])
    deliver("s6@remote.test", "away@example.com",
            headers=["List-Unsubscribe: <mailto:u@remote.test>"])
    deliver("s7@remote.test", "away@example.com",
            headers=["Auto-Submitted: auto-generated"])
    deliver("MAILER-DAEMON@remote.test", "away@example.com")
    deliver("owner-list@remote.test", "away@example.com")
    deliver("list-request@remote.test", "away@example.com")
    deliver("away@example.com", "away@example.com")
    deliver("s8@remote.test", "away@example.com",
            headers=["X-Spam-Level: medium"])
    deliver("s9@remote.test", "expired@example.com")
    deliver("s9@remote.test", "quiet@example.com")
    deliver("s9@remote.test", "nosuch@other.test")
    is_(len(d.queued("autoreply")), before,
        "no reply to: null sender, bulk, list, List-Id, List-Unsubscribe, "
        "auto-generated, MAILER-DAEMON, owner-, -request, the user, spam, "
        "past autoreply_until, autoreply=no, the catch-all")
    log = d.log()
    for why in ("null sender", "Precedence bulk", "mailing list",
                "Auto-Submitted", "robot", "sender is the user",
                "autoresponder_exclusions", "autoreply_until"):
        ok("no auto-reply: " in log and why in log, "logged why: " + why)
    is_(len(d.new("every@other.test")), 3, "the catch-all still got its mail")

    deliver("s9@remote.test", "future@example.com", subject="Plans")
    r = replies_to("s9@remote.test")
    is_(len(r), 1, "autoreply_until in the future: a reply")
    ok(b"Subject: Auto: Plans\r\n" in r[0].body,
       "default subject: Auto: and the original's")
    deliver("s10@remote.test", "plain@example.com",
            headers=["Auto-Submitted: no"])
    r = replies_to("s10@remote.test")
    is_(len(r), 1, "Auto-Submitted: no is answered")
    ok(r and r[0].body.endswith(b"\r\n\r\nOne\r\nTwo\r\n"),
       "the hand-written text, its \\n a line break")
done()
