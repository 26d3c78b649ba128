#!/usr/bin/env python3
# spool_new_mail_command: runs once per new message before its first
# attempt, with %filepath replaced by the spool file's path (no shell);
# the program may delete the file to stop delivery; one that hangs is
# killed after spool_new_mail_timeout and delivery goes ahead.
import os
import sys
import tempfile
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done              # noqa: E402
from queue_t import QInst                        # noqa: E402

tmp = tempfile.mkdtemp(prefix="tern-qcmd-")
os.chmod(tmp, 0o777)
script = os.path.join(tmp, "scan.sh")
seen = os.path.join(tmp, "seen.txt")
with open(script, "w") as f:
    f.write("""#!/bin/sh
# test scanner: $1 is the spool file, $2 a fixed word
echo "$2 $1" >> %s
case "$(grep '^rcpt ' "$1")" in
*delete*) rm -f "$1" ;;
*stall*) sleep 120 ;;
esac
exit 0
""" % seen)
os.chmod(script, 0o755)

q = QInst(conf={"spool_new_mail_command": "%s %%filepath word" % script,
                "spool_new_mail_timeout": "1s"})
with q:
    q.start()
    ids = q.inject(["plain@example.test"])
    q.wait_gone(ids)
    with open(seen) as f:
        lines = f.read().split()
    is_(lines[0], "word", "the program got its fixed arguments")
    ok(lines[1].endswith("/cur/" + ids[0]), "and %filepath = the spool file "
       "in cur/: " + lines[1])
    ok((ids[0], "plain@example.test", "1") in q.deliveries(),
       "then the message was delivered")
    ok(q.qlog().find("%s: new-mail command exited with 0" % ids[0]) <
       q.qlog().find("%s: to=<plain@example.test> delivered" % ids[0]),
       "after the program finished")

    ids = q.inject(["delete-me@example.test", "other@example.test"])
    q.wait_log("%s: the new-mail command deleted the message" % ids[0])
    q.wait_gone(ids)
    ok(not any(d[0] == ids[0] for d in q.deliveries()),
       "a message the program deleted is not delivered")
    ok("%s: to=<other@example.test> dropped: deleted by the new-mail "
       "command" % ids[0] in q.qlog(), "its recipients are dropped, logged")
    ok(": bounce " not in q.qlog(), "no bounce for it")

    ids = q.inject(["stall@example.test"])
    q.wait_log("%s: new-mail command still running after 1s; killed" %
               ids[0])
    q.wait_gone(ids)
    ok((ids[0], "stall@example.test", "1") in q.deliveries(),
       "a hanging program is killed after the timeout; delivery goes on")
    ok("%s: new-mail command killed after the timeout" % ids[0] in q.qlog(),
       "its end is logged")
    # Many at once: they queue for the command slots, none is lost.
    ids = q.inject(["many@example.test"], n=40)
    q.wait_gone(ids)
    is_(len([d for d in q.deliveries() if d[0] in ids]), 40,
        "40 messages through the command, each delivered once")
    q.stop()
    import subprocess
    p = subprocess.run(["pgrep", "-f", script], capture_output=True)
    is_(p.stdout, b"", "no command left running")

q = QInst(conf={"spool_new_mail_command": "/nonexistent/prog %filepath"})
with q:
    q.start()
    ids = q.inject(["x@example.test"])
    q.wait_gone(ids)
    ok("cannot run the new-mail command /nonexistent/prog" in q.qlog(),
       "a program that cannot start is logged")
    ok((ids[0], "x@example.test", "1") in q.deliveries(),
       "and delivery goes ahead")
import shutil
shutil.rmtree(tmp, ignore_errors=True)
done()
