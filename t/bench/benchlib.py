"""What the benchmarks share: client processes run for a while against a
server, and the quiet apt install of an anchor (Postfix, Dovecot)."""
import multiprocessing
import os
import subprocess
import time


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
