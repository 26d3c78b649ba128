#!/usr/bin/env python3
# The agent killed (kill -9) in the middle of writing a message leaves
# nothing in new/: readers never see a partial message.  The job is
# answered by no result (the queue defers it), master restarts the
# worker, and the retried job delivers the message exactly once.
#
# To stop the agent mid-copy without timing games, the "spool file" of
# the first job is a FIFO fed by this test: the agent reads it once for
# the headers, then again for the copy, and the test writes only half of
# the message the second time, so the agent is certainly blocked inside
# the copy when it is killed.
import os
import signal
import sys
import threading
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixture"))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
from tern import wait_for, pid_alive   # noqa: E402
import dtest                           # noqa: E402
import ipc                             # noqa: E402

d = dtest.DInst(domains={
    "example.com": {"conf": {"max_disk_space": "0"}, "users": ["alice *"]},
}, workers=1)

BODY = ("y" * 998 + "\r\n") * 1000          # about 1 MB
qid = dtest.new_id()
data = dtest.spool_text(qid, "s@remote.test", ["alice@example.com"],
                        dtest.message_body("crash", body=BODY))
offset = data.index(b"\n\n") + 2
fifo = d.path("in", "fifo")
os.mkfifo(fifo)
os.chmod(fifo, 0o666)
half_written = threading.Event()
release = threading.Event()
opens = []


def feeder():
    """Serve the FIFO: whole for the header pass, half for the copy."""
    for n in range(2):
        try:
            with open(fifo, "wb") as f:
                opens.append(n)
                if n == 0:
                    f.write(data)
                else:
                    f.write(data[:offset + len(data) // 2])
                    f.flush()
                    half_written.set()
                    release.wait(30)
        except (BrokenPipeError, OSError):
            if n == 1:
                half_written.set()


def tmp_partial():
    t = os.path.join(d.mailbox("alice@example.com"), "tmp")
    if not os.path.isdir(t):
        return None
    for f in os.listdir(t):
        if os.path.getsize(os.path.join(t, f)) > 0:
            return f
    return None


with d.inst:
    d.start()
    th = threading.Thread(target=feeder, daemon=True)
    th.start()
    c = ipc.Conn(d.path("state", "delivery.sock"))
    c.send("deliver", [("id", qid), ("path", fifo), ("offset", str(offset)),
                       ("sender", "s@remote.test"), ("attempt", "1"),
                       ("nrcpt", "1"), ("rcpt_0", "alice@example.com")])
    ok(half_written.wait(20), "the agent read the headers and started the "
       "copy")
    partial = wait_for(tmp_partial, timeout=20,
                       what="a partial file in tmp/")
    ok(partial, "a partial file is in tmp/: " + partial)
    pids = d.inst.child_pids()
    is_(len(pids), 1, "one delivery worker")
    os.kill(pids[0], signal.SIGKILL)
    wait_for(lambda: not pid_alive(pids[0]), what="the worker to die")
    release.set()
    ok(c.closed_by_peer(), "the job's connection is gone without a result")
    c.close()
    th.join(10)
    is_(d.new("alice@example.com"), [], "nothing in new/")
    ok(tmp_partial() == partial, "the partial file stays in tmp/ (removed "
       "after 36 hours by the next maildirsize rebuild)")

    # The queue's retry, with the real file this time.
    wait_for(lambda: d.inst.child_pids() and
             d.inst.child_pids()[0] != pids[0], timeout=20,
             what="master to restart the worker")
    real = d.path("in", qid)
    with open(real, "wb") as f:
        f.write(data)
    res = d.send(real)
    is_(res, [("ok", None, "2.0.0 delivered")], "the retry is delivered")
    files = d.new("alice@example.com")
    is_(len(files), 1, "exactly one message in new/")
    got = d.read("alice@example.com")[0]
    ok(got.endswith(("y" * 998 + "\n").encode() * 1000),
       "complete, all %d bytes" % len(got))
done()
