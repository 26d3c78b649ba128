#!/usr/bin/env python3
# smtp_max_connections counts the sessions of every smtpd process
# together (state_dir/smtp.conns, lib/connslots): smtp with two workers
# and submission share one limit of 6, the seventh connection on either
# gets 421, a closed session frees its place, and a smtpd killed with -9
# stops counting at once.
import os
import signal
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
from tern import wait_for              # noqa: E402
import smtp                            # noqa: E402

LIMIT = 6
inst = smtp.instance(conf={"smtp_max_connections": str(LIMIT)},
                     smtp_workers=2)


def sessions():
    st = inst.status()
    return sum(int(st[s]["sessions"]) for s in ("smtp", "submission",
                                               "smtps"))


with inst:
    inst.start()
    p25, p587 = inst.port("smtp"), inst.port("submission")
    held = [smtp.Client(p25) for _ in range(3)] + \
        [smtp.Client(p587) for _ in range(3)]
    ok(all(c.greeting[0] == 220 for c in held), "6 sessions on two services")
    wait_for(lambda: sessions() == LIMIT, what="6 sessions counted")
    for port, name in ((p25, "smtp"), (p587, "submission")):
        extra = smtp.Client(port)
        is_(extra.greeting[0], 421, "the 7th on %s: 421" % name)
        ok(extra.closed(), "and closed")
    ok(os.path.exists(inst.path("state", "smtp.conns")),
       "counted in state_dir/smtp.conns")

    held.pop().cmd("QUIT")
    wait_for(lambda: sessions() == LIMIT - 1, what="one session gone")
    c = smtp.Client(p25)
    is_(c.greeting[0], 220, "a closed session frees its place")
    held.append(c)

    # kill -9 the submission process: its sessions no longer count.
    sub = [int(p) for p in inst.status()["submission"]["pids"].split(",")]
    os.kill(sub[0], signal.SIGKILL)
    def dead(pid):
        """Gone, or a zombie master has not reaped yet."""
        try:
            with open("/proc/%d/stat" % pid) as f:
                return f.read().split(")")[-1].split()[0] == "Z"
        except OSError:         # reaped between our looks: ENOENT, ESRCH
            return True
    wait_for(lambda: dead(sub[0]), what="the process to die")
    got = [smtp.Client(p25).greeting[0] for _ in range(2)]
    is_(got, [220, 220], "after kill -9, its sessions are not counted")
    for c in held:
        c.close()
done()
