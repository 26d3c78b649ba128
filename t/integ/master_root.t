#!/usr/bin/env python3
# Run as root, master stays root and every child runs as the mail user
# (read from /proc), with supplementary groups dropped.
import os
import pwd
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done, skip_all   # noqa: E402
from tern import Instance, Line                  # noqa: E402

if os.geteuid() != 0:
    skip_all("not running as root")
try:
    user = pwd.getpwnam("nobody")
except KeyError:
    skip_all("no 'nobody' user")


def ids(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return out


inst = Instance(services={"echo": {"workers": 2}, "sock": {
    "listen": ["unix:s.sock"]}}, mail_user="nobody")
with inst:
    inst.start()
    is_(ids(inst.proc.pid)["Uid"][0], "0", "master runs as root")
    pids = inst.child_pids()
    is_(len(pids), 3, "three children")
    for p in pids:
        st = ids(p)
        is_(st["Uid"], [str(user.pw_uid)] * 4, "pid %d: all uids nobody" % p)
        is_(st["Gid"], [str(user.pw_gid)] * 4, "pid %d: all gids nobody" % p)
        is_(st.get("Groups", []), [str(user.pw_gid)],
            "pid %d: no other groups" % p)
    c = Line(inst.port("echo"))
    is_(c.cmd("WHOAMI"), "+UID %d %d" % (user.pw_uid, user.pw_gid),
        "the child itself agrees")
    c.close()
    st = os.stat(inst.path("state", "s.sock"))
    is_(st.st_uid, user.pw_uid, "internal socket owned by the mail user")
    is_(oct(st.st_mode & 0o777), "0o660", "internal socket mode 0660")
    st = os.stat(inst.path("state", "master.sock"))
    is_((st.st_uid, oct(st.st_mode & 0o777)), (0, "0o600"),
        "control socket root-only")
    is_(inst.stop(), 0, "stop")
done()
