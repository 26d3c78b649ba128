"""What the benchmarks share: client processes run for a while against a
server, and the quiet apt install of an anchor (Postfix, Dovecot)."""
import atexit
import multiprocessing
import os
import shutil
import subprocess
import tempfile
import time


def spread_server_dirs():
    """Make each server directory this process creates from now on start
    in a part of the file system of its own.

    ext4 without a journal (this machine's) will not reuse an inode freed
    in the last minutes: each file created looks at every such inode of
    its block group, one by one, from the start of the group.  A server
    measured just after an earlier run's directory was removed then
    pays, at every file, for that removal; we saw the same Tern run take
    twice as long.  With the TOPDIR attribute on their common parent, new
    directories are spread over the groups (ext4's Orlov allocator)
    instead of packed beside the parent.  Tern and the anchor get the
    same treatment; what each server deletes during its own run still
    costs it."""
    root = tempfile.mkdtemp(prefix="tern-bench-")
    os.chmod(root, 0o755)     # as /tmp is to the servers' own users
    subprocess.run(["chattr", "+T", root], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    tempfile.tempdir = root
    os.environ["TMPDIR"] = root
    atexit.register(shutil.rmtree, root, True)


def run_clients(target, port, users, seconds, deadline, *extra):
    """One process per user running target(port, user, *extra, stop_at,
    queue) until stop_at (seconds from now, not past deadline); each
    puts (count, amount) on the queue.  Returns both summed, per second.
    """
    q = multiprocessing.Queue()
    t0 = time.monotonic()
    stop_at = min(t0 + seconds, deadline)
    procs = [multiprocessing.Process(target=target,
                                     args=(port, u) + extra + (stop_at, q))
             for u in users]
    for p in procs:
        p.start()
    got = [q.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    took = time.monotonic() - t0
    return sum(g[0] for g in got) / took, sum(g[1] for g in got) / took


def apt_install(pkg, env=None):
    """apt-get install pkg (updating the lists once if that fails), with
    its services kept from starting.  The caller checks the result."""
    env = env or dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    rc = "/usr/sbin/policy-rc.d"
    made = not os.path.exists(rc)
    if made:
        with open(rc, "w") as f:
            f.write("#!/bin/sh\nexit 101\n")
        os.chmod(rc, 0o755)
    try:
        cmd = ["apt-get", "install", "-y", "-q", pkg]
        if subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL).returncode:
            subprocess.run(["apt-get", "update", "-q"], env=env,
                           stdout=subprocess.DEVNULL)
            subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL)
    finally:
        if made:
            os.unlink(rc)
