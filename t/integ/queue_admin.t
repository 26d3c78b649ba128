#!/usr/bin/env python3
# adminctl spool on a live spool and with the queue stopped: list (the
# reference's columns, filters, --json), view, recipients, force,
# reset-retries, priority, delete, stop/start; exit codes.
import json
import os
import re
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, diag, done              # noqa: E402
from queue_t import QInst, alive                 # noqa: E402
from tern import wait_for                        # noqa: E402


def jlist(q, *args):
    rc, out, err = q.adminctl("--json", "spool", "list", *args)
    if rc != 0:
        diag(err)
    return {m["id"]: m for m in json.loads(out)["messages"]} if rc == 0 \
        else {}


q = QInst(conf={"spool_retry_intervals": "1h 2h", "queue_scan_interval":
                "1h"})
with q:
    q.start()
    a = q.inject(["defernever-a@example.test"], sender="alice@example.org")[0]
    b = q.inject(["defernever-b@example.test", "defernever-c@example.net",
                  "ok-d@example.test"], sender="bob@example.org",
                 params=["ret=HDRS"])[0]
    c = q.inject(["defernever-e@example.test"], sender="carol@example.org",
                 size=5000)[0]
    wait_for(lambda: all(q.record(i) and re.search(r"^t ", q.record(i), re.M)
                         for i in (a, b, c)), what="first attempts recorded")

    rc, out, err = q.adminctl("spool", "list")
    is_(rc, 0, "spool list exits 0")
    head = out.splitlines()[0].split()
    is_(head[:4], ["FILE", "SENDER", "AGE", "ATT"], "columns: file, sender, "
        "time in spool, attempts, ...")
    ok("RCPTS" in head and "STATUS" in head and "SIZE" in head and
       "SUBSPOOL" in head, "..., delivered/total, status, size, subspool")
    row = [x for x in out.splitlines() if x.startswith(b)][0].split()
    is_(row[1], "bob@example.org", "sender column")
    is_(row[3], "1", "attempts column")
    ok(re.match(r"\d{4}-\d\d-\d\d", row[4]), "next attempt column")
    is_(row[6], "1/3", "delivered/total column")
    is_(row[7], "deferred", "status column")

    m = jlist(q)
    is_(sorted(m), sorted([a, b, c]), "--json lists all three")
    mb = m.get(b, {})
    is_((mb.get("delivered"), mb.get("recipients"), mb.get("attempts"),
         mb.get("status")), (1, 3, 1, "deferred"), "--json fields")
    ok(mb.get("next_attempt", 0) > mb.get("time", 0) + 3000,
       "next attempt an hour later")
    ok(m[c]["size"] > 5000 and m[c]["subspool"] >= 0, "size and subspool")
    is_(sorted(jlist(q, "--sender", "bob@")), [b], "--sender substring")
    is_(sorted(jlist(q, "--sender", "*@EXAMPLE.org")), sorted([a, b, c]),
        "--sender glob, any case")
    is_(sorted(jlist(q, "--rcpt", "example.net")), [b], "--rcpt")
    is_(sorted(jlist(q, "--older", "1h")), [], "--older 1h: none")
    is_(sorted(jlist(q, "--status", "deferred,held")), sorted([a, b, c]),
        "--status")
    is_(sorted(jlist(q, "--status", "pending")), [], "--status pending: none")
    every = jlist(q)
    oldest = sorted(every, key=lambda i: (every[i]["time"], i))[:2]
    is_(sorted(jlist(q, "--limit", "2")), sorted(oldest),
        "--limit 2: the two oldest")
    rc, out, err = q.adminctl("--json", "spool", "list", "--limit", "1")
    is_((json.loads(out)["count"], json.loads(out)["shown"]), (3, 1),
        "--limit: count is every match, shown the ones listed")
    rc, out, err = q.adminctl("spool", "list", "--limit", "1")
    ok(out.count("\n") >= 2 and "(2 more not shown: --limit)" in out,
       "--limit: the text says how many more")
    rc, out, err = q.adminctl("spool", "list", "--limit", "x")
    is_(rc, 2, "--limit x: usage error")

    rc, out, err = q.adminctl("spool", "view", a)
    is_(rc, 0, "spool view")
    ok("Sender:      <alice@example.org>" in out and "Subject: test 0" in out
       and "xxxxxxxx" in out, "view: envelope summary and the message")
    rc, out, err = q.adminctl("--json", "spool", "view", b)
    v = json.loads(out)
    is_((v["id"], v["sender"], v["params"].get("ret")),
        (b, "bob@example.org", "HDRS"), "view --json: envelope")
    ok(v["message"].startswith("From: <bob@example.org>"),
       "view --json: the message text")

    rc, out, err = q.adminctl("spool", "recipients", b)
    is_(rc, 0, "spool recipients")
    lines = out.splitlines()[1:]
    st = {x.split()[0]: x.split()[1] for x in lines}
    is_(st, {"defernever-b@example.test": "deferred",
             "defernever-c@example.net": "deferred",
             "ok-d@example.test": "delivered"}, "each recipient's status")
    ok("4.2.0 mailbox busy (fixture)" in out and
       "4.4.1 remote delivery agent not available" in out,
       "with its last error")
    rc, out, err = q.adminctl("--json", "spool", "recipients", b)
    r = {x["address"]: x for x in json.loads(out)["recipients"]}
    is_((r["ok-d@example.test"]["status"],
         r["defernever-b@example.test"]["attempts"]), ("delivered", 1),
        "recipients --json")

    # force: the next attempt now.
    rc, out, err = q.adminctl("spool", "force", a)
    is_((rc, out.strip()), (0, "forced 1 message"), "spool force ID")
    q.wait_log("%s: to=<defernever-a@example.test> deferred (local, "
               "attempt 2" % a)
    ok(True, "the forced message was tried again at once")
    rc, out, err = q.adminctl("spool", "force", "--all")
    is_(rc, 0, "spool force --all")
    q.wait_log("%s: to=<defernever-e@example.test> deferred (local, "
               "attempt 2" % c)
    ok("%s: waits on disk" % a in q.qlog(), "a had been put aside (2h)")
    q.wait_log("%s: to=<defernever-a@example.test> failed" % a)
    ok(True, "every message was tried again, a taken back from disk: past "
       "its schedule now, failed")
    q.wait_log("%s: bounce" % a)
    ok(True, "and bounced")

    # reset-retries: the attempts start again.
    rc, out, err = q.adminctl("spool", "reset-retries", c)
    is_((rc, out.strip()), (0, "reset 1 message"), "reset-retries ID")
    wait_for(lambda: re.search(r"^r \d+$", q.record(c) or "", re.M),
             what="the reset recorded")
    q.wait_log("%s: to=<defernever-e@example.test> deferred (local, "
               "attempt 1," % c)
    ok(True, "after a reset the count starts at 1 again")
    rc, out, err = q.adminctl("spool", "reset-retries")
    is_(rc, 0, "reset-retries of every message")

    # priority
    rc, out, err = q.adminctl("spool", "priority", c, "8")
    is_((rc, out.strip()), (0, "changed 1 message"), "spool priority ID 8")
    wait_for(lambda: re.search(r"^p 8$", q.record(c) or "", re.M),
             what="the priority recorded")
    is_(jlist(q)[c]["priority"], 8, "listed with its new priority")
    rc, out, err = q.adminctl("spool", "priority", c, "11")
    is_(rc, 2, "priority 11: usage error")

    # delete: no bounce, logged, gone.
    rc, out, err = q.adminctl("spool", "delete", b)
    is_((rc, out.strip()), (0, "deleted 1 message"), "spool delete ID")
    q.wait_gone([b])
    ok("%s: to=<defernever-b@example.test> dropped: deleted by the "
       "administrator" % b in q.qlog(), "logged")
    ok("%s: bounce" % b not in q.qlog(), "no bounce for a deleted message")
    rc, out, err = q.adminctl("spool", "delete", b)
    is_(rc, 1, "deleting it again: exit 1")
    ok("no message %s" % b in err, "saying so")
    rc, out, err = q.adminctl("spool", "view", "nonsense")
    is_(rc, 1, "view of a bad id: exit 1")
    rc, out, err = q.adminctl("spool", "frobnicate")
    is_(rc, 2, "unknown spool command: exit 2")

    # stop / start
    rc, out, err = q.adminctl("spool", "stop")
    is_(rc, 0, "spool stop")
    rc, out, err = q.adminctl("--json", "spool", "stop")
    is_(json.loads(out), {"stopped": True}, "stop --json")
    is_(jlist(q)[c]["status"], "held", "stopped: held")
    rc, out, err = q.adminctl("spool", "start")
    is_(rc, 0, "spool start")
    is_(jlist(q)[c]["status"], "deferred", "started: deferred again")

    # The queue not running: the files still tell.
    pid = q.pids("queue")[0]
    q.adminctl("service", "stop", "queue")
    wait_for(lambda: not alive(pid), what="the queue to stop")
    rc, out, err = q.adminctl("spool", "list")
    is_(rc, 0, "list without the queue")
    ok(c in out and "the queue is not running" in out,
       "from the files, and says so")
    rc, out, err = q.adminctl("--json", "spool", "list")
    j = json.loads(out)
    ok(not j["queue_running"] and c in [x["id"] for x in j["messages"]],
       "--json without the queue")
    rc, out, err = q.adminctl("spool", "recipients", c)
    ok(rc == 0 and "defernever-e@example.test" in out,
       "recipients without the queue")
    rc, out, err = q.adminctl("spool", "view", c)
    ok(rc == 0 and "Subject: test 0" in out, "view without the queue")
    for cmd in (["force", c], ["delete", c], ["priority", c, "3"],
                ["reset-retries"], ["stop"], ["start"]):
        rc, out, err = q.adminctl("spool", *cmd)
        is_(rc, 3, "spool %s without the queue: exit 3" % cmd[0])
    ok("the queue is not running" in err, "and says why")
    q.adminctl("service", "start", "queue")
    rc, out, err = wait_for(lambda: (lambda r: r if r[0] == 0 else None)(
        q.adminctl("spool", "delete", c)), what="the queue back")
    is_(out.strip(), "deleted 1 message", "back: commands work again")
    q.wait_gone([c])
done()
