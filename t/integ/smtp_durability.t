#!/usr/bin/env python3
# smtpd never loses what it acknowledged and never queues what it did
# not: kill -9 of smtpd in the middle of DATA, kill -9 of master in the
# middle of DATA (smtpd finishes the message, then drains), a spool whose
# new/ cannot be written, and a full disk (the spool on a small tmpfs,
# root only): every message that got 250 is in spool/*/new, none that
# did not is, and a refused one leaves nothing half-written.
import os
import signal
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, diag, done          # noqa: E402
from tern import wait_for, pid_alive         # noqa: E402
import smtp                                  # noqa: E402


def body(tag, size=0):
    return "Subject: %s\r\n\r\n%s" % (tag, ("x" * 70 + "\r\n") * (size // 72))


def in_new(inst, tag):
    return [m for m in smtp.spool(inst).values()
            if ("Subject: %s\r\n" % tag).encode() in m.body]


def smtpd_pid(inst, service="smtp"):
    return int(inst.status()[service]["pids"].split(",")[0])


inst = smtp.instance()
with inst:
    inst.start()
    port = inst.port("smtp")

    # --- kill -9 smtpd in the middle of DATA ----------------------------
    c1 = smtp.ehlo(port)
    code, lines = smtp.send_message(c1, "k@remote.test", ["alice@example.com"],
                                    body("done-before-kill"))
    is_(code, 250, "a message acknowledged before the kill")
    c2 = smtp.ehlo(port)
    c2.cmd("MAIL FROM:<k@remote.test>")
    c2.cmd("RCPT TO:<alice@example.com>")
    c2.cmd("DATA")
    c2.send(body("half-when-killed", 100000))
    wait_for(lambda: smtp.spool_tmp(inst), what="the half message in tmp")
    old = smtpd_pid(inst)
    os.kill(old, signal.SIGKILL)
    ok(c2.closed(), "the client in DATA lost its connection")
    is_(len(in_new(inst, "done-before-kill")), 1, "acknowledged: in new/")
    is_(in_new(inst, "half-when-killed"), [], "unfinished: not in new/")
    wait_for(lambda: inst.status()["smtp"]["state"] == "running" and
             inst.status()["smtp"]["pids"] not in ("", str(old)),
             what="master to restart smtpd")
    c = smtp.ehlo(port)
    is_(smtp.send_message(c, "k@remote.test", ["alice@example.com"],
                          body("after-restart"))[0], 250,
        "the restarted smtpd takes mail")
    c.close()

    # --- new/ not writable: 452, nothing left behind ---------------------
    # The killed smtpd's half message stays in tmp/ (never delivered; a
    # full pass of the queue removes it when it is 36 hours old).
    leftover = smtp.spool_tmp(inst)
    is_(len(leftover), 1, "the killed half message is only in tmp/")
    news = [os.path.join(inst.path("spool"), d, "new")
            for d in os.listdir(inst.path("spool"))]
    for d in news:
        os.chmod(d, 0o555)
    c = smtp.ehlo(port)
    code, lines = smtp.send_message(c, "w@remote.test", ["alice@example.com"],
                                    body("unwritable"))
    is_((code, lines), (452, ["4.3.1 Insufficient system storage"]),
        "spool not writable: 452 4.3.1")
    is_(smtp.spool_tmp(inst), leftover, "nothing new left in tmp")
    is_(in_new(inst, "unwritable"), [], "nothing in new")
    for d in news:
        os.chmod(d, 0o750)
    is_(smtp.send_message(c, "w@remote.test", ["alice@example.com"],
                          body("writable-again"))[0], 250,
        "writable again: 250")
    c.close()

    # --- kill -9 master in the middle of DATA -------------------------------
    busy = smtp.ehlo(port)
    busy.cmd("MAIL FROM:<m@remote.test>")
    busy.cmd("RCPT TO:<alice@example.com>")
    busy.cmd("DATA")
    busy.send(body("master-killed", 20000))
    idle = smtp.ehlo(port)
    children = inst.child_pids()
    inst.proc.kill()
    inst.proc.wait()
    code, lines = idle.reply()
    is_((code, lines[0][:5]), (421, "4.3.2"),
        "master gone: an idle session is told 421")
    busy.send(".\r\n")
    code, lines = busy.reply()
    is_(code, 250, "master gone: the message in DATA is still taken")
    is_(len(in_new(inst, "master-killed")), 1, "...and it is in new/")
    is_(busy.cmd("QUIT")[0], 221, "QUIT after it")
    wait_for(lambda: not any(pid_alive(p) for p in children), timeout=30,
             what="the daemons to drain and exit")
    ok(True, "every daemon exited after master died")
    total = smtp.spool(inst)
    is_(sorted(m.body.split(b"Subject: ")[1].split(b"\r\n")[0].decode()
               for m in total.values()),
        ["after-restart", "done-before-kill", "master-killed",
         "writable-again"], "exactly the acknowledged messages are queued")

# --- disk full: the spool on a small tmpfs ------------------------------
inst = smtp.instance()
spool = inst.path("spool")
os.makedirs(spool)
mounted = os.geteuid() == 0 and subprocess.run(
    ["mount", "-t", "tmpfs", "-o", "size=1m,mode=0750", "tmpfs", spool],
    capture_output=True).returncode == 0
if not mounted:
    ok(True, "# SKIP cannot mount a tmpfs here (not root?)")
    inst.cleanup()
    done()
with inst:
    try:
        inst.start()
        port = inst.port("smtp")
        c = smtp.ehlo(port)
        code, lines = smtp.send_message(c, "f@remote.test",
                                        ["alice@example.com"],
                                        body("too-big-for-disk", 2000000))
        is_((code, lines), (452, ["4.3.1 Insufficient system storage"]),
            "2 MB onto a 1 MB disk: 452 4.3.1")
        is_(smtp.spool_tmp(inst), [], "nothing half-written in tmp")
        is_(in_new(inst, "too-big-for-disk"), [], "nothing in new")
        # Fill the disk; a small message then fails at the commit.
        filler = os.path.join(spool, "filler")
        with open(filler, "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        code, lines = smtp.send_message(c, "f@remote.test",
                                        ["alice@example.com"],
                                        body("small-on-full-disk", 30000))
        is_(code, 452, "a 30 kB message on a full disk: 452")
        is_(smtp.spool_tmp(inst), [], "nothing left in tmp")
        is_(in_new(inst, "small-on-full-disk"), [], "nothing in new")
        os.unlink(filler)
        is_(smtp.send_message(c, "f@remote.test", ["alice@example.com"],
                              body("room-again", 30000))[0], 250,
            "room again: 250")
        c.close()
        ok(" cannot commit to the spool: " in inst.log("smtp") or
           " cannot write the spool file: " in inst.log("smtp"),
           "the failure is logged as an exception")
    finally:
        inst.stop()
        r = subprocess.run(["umount", "-l", spool], capture_output=True)
        if r.returncode != 0:
            diag("umount: " + r.stderr.decode())
done()
