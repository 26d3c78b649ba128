#!/usr/bin/env python3
# `adminctl service stop|start` (the reference's Services page): a stopped
# service refuses new connections while sessions in flight finish; it stays
# stopped across a reload and a master restart.  SIGTERM drains sessions
# and leaves no process behind.
import os
import signal
import socket
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done                  # noqa: E402
from tern import Instance, Line, wait_for, pid_alive  # noqa: E402


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        return False
    except ConnectionRefusedError:
        return True
    except OSError:
        # socket.timeout: a draining worker that no longer accepts but
        # still holds the socket lets the backlog fill, and then the SYN
        # is dropped; the listener is not closed yet
        return False


inst = Instance(services={"echo": {}, "other": {}})
with inst:
    inst.start()
    port = inst.port("echo")
    inflight = Line(port)
    is_(inflight.cmd("PING"), "+PONG", "session open before stop")
    old_pid = int(inst.status()["echo"]["pids"])

    rc, out, err = inst.adminctl("service", "stop", "echo")
    is_(rc, 0, "service stop exits 0")
    is_(out.strip(), "echo: stopped", "and says so")
    ok(refused(port), "new connections refused")
    is_(inst.status()["echo"]["state"], "stopped", "status: stopped")
    is_(inflight.cmd("still there?"), "+ECHO still there?",
        "session in flight keeps working")
    is_(inflight.cmd("QUIT"), "+BYE", "and ends normally")
    inflight.close()
    wait_for(lambda: not pid_alive(old_pid), what="drained child exit")
    ok(True, "drained worker exited once its session ended")

    is_(inst.adminctl("reload")[0], 0, "reload")
    is_(inst.status()["echo"]["state"], "stopped", "still stopped after reload")
    ok(refused(port), "still refusing")

    is_(inst.stop(), 0, "master stops")
    inst.start()
    is_(inst.status()["echo"]["state"], "stopped",
        "still stopped after master restart")
    is_(inst.status()["other"]["state"], "running", "other service running")

    rc, out, err = inst.adminctl("service", "start", "echo")
    is_(rc, 0, "service start exits 0")
    wait_for(lambda: inst.status()["echo"]["state"] == "running",
             what="echo running")
    c = Line(port)
    is_(c.cmd("PING"), "+PONG", "accepting again")

    # SIGTERM with a session open: master waits for it, then exits.
    pids = inst.child_pids()
    inst.signal(signal.SIGTERM)
    wait_for(lambda: refused(port), timeout=30,
             what="listener closed on SIGTERM")
    ok(inst.proc.poll() is None, "master waits for the open session")
    is_(c.cmd("QUIT"), "+BYE", "open session finishes")
    c.close()
    inst.proc.wait(timeout=20)
    is_(inst.proc.returncode, 0, "master exited 0 after drain")
    ok(not any(pid_alive(p) for p in pids), "no child left behind")

    # Drain timeout: a session that never ends is cut off.
    inst.conf["master_drain_timeout"] = "1s"
    inst.write_conf()
    inst.start()
    c = Line(port)
    pids = inst.child_pids()
    inst.signal(signal.SIGTERM)
    inst.proc.wait(timeout=20)
    ok(not any(pid_alive(p) for p in pids), "stuck session killed after "
       "master_drain_timeout; nothing left")
    c.close()
done()
