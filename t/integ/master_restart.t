#!/usr/bin/env python3
# A child killed with SIGKILL is restarted and logged; a service whose
# program keeps dying is restarted with a growing delay, never in a
# tight loop.
import os
import signal
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, diag, done           # noqa: E402
from tern import Instance, Line, wait_for     # noqa: E402

inst = Instance(services={
    "echo": {"workers": 2},
    "crashy": {"program": "/bin/false"},
})
try:
    inst.start(wait=False)
    wait_for(lambda: (inst.status() or {}).get("echo", {}).get("state")
             == "running", what="echo running")
    before = inst.status()["echo"]
    victim = int(before["pids"].split(",")[0])
    os.kill(victim, signal.SIGKILL)

    def restarted():
        s = inst.status()["echo"]
        pids = [int(p) for p in s["pids"].split(",") if p]
        return s if (victim not in pids and len(pids) == 2 and
                     s["state"] == "running") else None
    after = wait_for(restarted, what="echo worker restarted")
    is_(after["restarts"], 1, "restart counted")
    ok(after["state"] == "running", "service running again")
    c = Line(inst.port("echo"))
    is_(c.cmd("PING"), "+PONG", "restarted service answers")
    c.close()
    ok("killed by signal 9" in inst.log(), "master.log says how it died")

    # Crash loop: restarts 1 -> 3 need the 1 s and 2 s back-off delays.
    wait_for(lambda: inst.status()["crashy"]["restarts"] >= 1, what="crash 1")
    t0 = time.monotonic()
    wait_for(lambda: inst.status()["crashy"]["restarts"] >= 3, timeout=20,
             what="crash 3")
    took = time.monotonic() - t0
    ok(took >= 2.5, "crash loop backs off (restarts 1->3 took %.2fs)" % took)
    st = inst.status()["crashy"]
    ok(st["state"] in ("restarting", "starting"), "crashy shown as "
       + st["state"])
    ok("exited with status 1" in inst.log(), "exit status logged")
    is_(inst.status()["echo"]["state"], "running", "other services unharmed")
except Exception as e:
    ok(False, "exception: %r" % e)
    diag(inst.master_out())
finally:
    inst.cleanup()
done()
