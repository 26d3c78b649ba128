#!/usr/bin/env python3
# A child killed with SIGKILL is restarted and logged; a service whose
# program keeps dying is restarted with a growing delay, never in a
# tight loop.
import os
import signal
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done           # noqa: E402
from tern import Instance, Line, wait_for     # noqa: E402

inst = Instance(services={
    "echo": {"workers": 2},
    "crashy": {"program": "/bin/false"},
})
with inst:
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

    # Crash loop: the delays go 0, 1, 2, 4 ... seconds.  Whenever we start
    # watching, the second of the next two restarts waits a whole delay of
    # at least 2 s, so two more restarts cannot come sooner than that.
    r0 = wait_for(lambda: inst.status()["crashy"]["restarts"], what="crash")
    t0 = time.monotonic()
    wait_for(lambda: inst.status()["crashy"]["restarts"] >= r0 + 2,
             timeout=30, what="two more crashes")
    took = time.monotonic() - t0
    ok(took >= 1.9, "crash loop backs off (restarts %d->%d took %.2fs)"
       % (r0, r0 + 2, took))
    st = inst.status()["crashy"]
    ok(st["state"] in ("restarting", "starting"), "crashy shown as "
       + st["state"])
    ok("exited with status 1" in inst.log(), "exit status logged")
    is_(inst.status()["echo"]["state"], "running", "other services unharmed")
done()
