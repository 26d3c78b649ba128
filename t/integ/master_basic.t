#!/usr/bin/env python3
# master starts every configured service, adminctl status describes them,
# the fixture answers on TCP and on a unix socket, a second master on the
# same state directory is refused, and SIGTERM leaves nothing behind.
import os
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
from tern import Instance, Line, pid_alive, BIN  # noqa: E402

inst = Instance(services={
    "echo": {"workers": 2},
    "local": {"listen": ["unix:echo.sock"]},
    "both": {"listen": ["tcp", "tcp"]},
})
with inst:
    inst.start()
    st = inst.status()
    is_(sorted(st), ["both", "echo", "local"], "status lists every service")
    ok(all(s["state"] == "running" for s in st.values()), "all running")
    is_(st["echo"]["running"], 2, "echo has its two workers")
    is_(len(st["echo"]["pids"].split(",")), 2, "two pids for echo")

    rc, out, err = inst.adminctl("status")
    is_(rc, 0, "adminctl status exits 0")
    ok("SERVICE" in out and "echo" in out and "running" in out,
       "plain status has a header and the services")

    c = Line(inst.port("echo"))
    ok(c.greeting.startswith("+OK echo fixture ready"), "TCP greeting")
    is_(c.cmd("PING"), "+PONG", "fixture answers")
    is_(c.cmd("hello there"), "+ECHO hello there", "fixture echoes")
    ok(inst.status()["echo"]["sessions"] >= 1, "status counts the session")
    is_(c.cmd("QUIT"), "+BYE", "QUIT")
    c.close()

    c = Line(inst.path("state", "echo.sock"))
    ok(c.greeting.startswith("+OK local fixture ready"), "unix socket greeting")
    c.close()
    for i in range(2):
        c = Line(inst.port("both", i))
        ok(c.greeting.startswith("+OK both"), "second listener %d answers" % i)
        c.close()

    # A second master on the same state directory.
    p = subprocess.run([os.path.join(BIN, "master"), "-f", "-c", inst.dir],
                       capture_output=True, text=True, timeout=20)
    ok(p.returncode != 0, "second master refused")
    ok("another master" in p.stderr, "and says why: " + p.stderr.strip())
    ok(inst.all_running(), "first master unaffected")
    c = Line(inst.port("echo"))
    is_(c.cmd("PING"), "+PONG", "its services still answer")
    c.close()

    rc, out, err = inst.adminctl("service", "stop", "nosuch")
    is_(rc, 1, "stopping an unknown service exits 1")
    ok("nosuch" in err, "and names it")

    rc, out, err = inst.adminctl("bogus")
    is_(rc, 2, "unknown command exits 2")

    pids = inst.child_pids()
    ok(len(pids) == 4, "four children")
    is_(inst.stop(), 0, "SIGTERM: master exits 0")
    ok(not any(pid_alive(p) for p in pids), "no child left behind")
    ok(not os.path.exists(inst.path("state", "echo.sock")),
       "unix socket removed")
    ok(not os.path.exists(inst.path("state", "master.pid")), "pid file removed")

    rc, out, err = inst.adminctl("status")
    is_(rc, 3, "status without master exits 3")
done()
