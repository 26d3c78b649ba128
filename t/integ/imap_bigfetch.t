#!/usr/bin/env python3
# A FETCH whose answer is far bigger than memory should hold: 120
# messages of 200 KB (24 MB of answer) fetched with FETCH 1:* BODY.PEEK[]
# by a client that does not read at first.  imapd makes the answer one
# message at a time and waits for the client (logged), its memory grows
# by a few MB at most, a pipelined NOOP waits its turn, and once read
# every message arrives whole and in order.  Then one 6 MB message
# fetched the same way: sent from its file as it is read (memory grows
# by far less than the message), with RFC822.SIZE and \Seen right.
# Then that message in 64 KB pieces (BODY.PEEK[]<n.65536>), which
# together cost about one more read of the file, not one per piece.
import os
import re
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done, diag    # noqa: E402
from tern import wait_for              # noqa: E402
import imap                            # noqa: E402

N, SIZE = 120, 200 * 1024


def proc_sum(pids, name, key):
    """The number after key in /proc/<pid>/<name>, summed over pids."""
    total = 0
    for pid in pids:
        with open("/proc/%d/%s" % (pid, name)) as f:
            for ln in f:
                if ln.startswith(key):
                    total += int(ln.split()[1])
    return total


def rss_kb(pids):
    return proc_sum(pids, "status", "VmRSS:")


def body(i):
    line = b"line %05d of message %03d, padding to make it long....\n"
    out, n = [b"Subject: big %d\n\n" % i], 0
    k = 0
    while n < SIZE:
        ln = line % (k, i)
        out.append(ln)
        n += len(ln)
        k += 1
    return b"".join(out)


inst = imap.instance(conf={"log_level_imap": "detailed"})
with inst:
    inst.start()
    for i in range(N):
        imap.deliver(inst, body(i))
    pids = [int(p) for p in inst.status()["imap"]["pids"].split(",") if p]
    r = imap.Raw(inst.port("imap"), timeout=60)
    r.cmd('LOGIN alice@example.com "%s"' % imap.PW, "l")
    r.cmd("SELECT INBOX", "s")
    before = rss_kb(pids)
    r.send("f FETCH 1:* (BODY.PEEK[])\r\nn NOOP\r\n")
    wait_for(lambda: "FETCH waits for the client to read" in
             inst.log("imap"), what="imapd to wait for the client")
    grown = rss_kb(pids) - before
    diag("imapd grew by %d KB while %d MB of answer waited" %
         (grown, N * SIZE // 1024 // 1024))
    ok(grown < 8 * 1024, "memory bounded while the client does not read "
       "(%d KB)" % grown)
    got, tagged = [], []
    while True:
        resp = r.response()
        if resp.startswith(b"f ") or resp.startswith(b"n "):
            tagged.append(resp.split(b" ")[0])
            if resp.startswith(b"n "):
                break
            continue
        m = re.match(rb"\* (\d+) FETCH \(BODY\[\] \{(\d+)\}\r\n", resp)
        if m:
            got.append((int(m.group(1)),
                        resp[m.end():m.end() + int(m.group(2))]))
    is_(tagged, [b"f", b"n"], "FETCH answered first, then the NOOP")
    is_([g[0] for g in got], list(range(1, N + 1)), "all 120, in order")
    want = {body(i).replace(b"\n", b"\r\n") for i in range(N)}
    ok({g[1] for g in got} == want, "each message whole")

    # one big message: streamed from the file
    big = b"Subject: huge\n\n" + b"".join(
        b"%07d a line of the big one, with a bare LF end\n" % k
        for k in range(150000))
    imap.deliver(inst, big, folder="Huge")
    r.cmd("SELECT Huge", "h")
    pids = [int(p) for p in inst.status()["imap"]["pids"].split(",") if p]
    before = rss_kb(pids)
    marks = inst.log("imap").count("FETCH waits for the client to read")
    r.send("g FETCH 1 (UID RFC822.SIZE BODY[])\r\n")
    wait_for(lambda: inst.log("imap").count(
        "FETCH waits for the client to read") > marks,
        what="imapd to wait for the client again")
    grown = rss_kb(pids) - before
    # read whole it would be twice its size (the message, the output);
    # ASan's quarantine makes the figure noisy, hence the margin
    ok(grown < len(big) // 1024 * 2 // 3,
       "a %d MB message: imapd grew by %d KB" %
       (len(big) // 1024 // 1024, grown))
    resp = r.response()
    want = big.replace(b"\n", b"\r\n")
    m = re.match(rb"\* 1 FETCH \((.*)BODY\[\] \{(\d+)\}\r\n", resp)
    ok(m is not None, "one FETCH response: %r" % resp[:80])
    is_(int(m.group(2)) if m else None, len(want), "the literal's size")
    ok(m and resp[m.end():m.end() + len(want)] == want and
       resp.endswith(b")"), "the message byte for byte, CRLF ends")
    ok(m and b"RFC822.SIZE %d" % len(want) in m.group(1),
       "RFC822.SIZE beside it: %r" % (m.group(1) if m else b""))
    ok(m and b"\\Seen" in m.group(1), "BODY[] set \\Seen, shown")
    ok(r.line().startswith("g OK"), "FETCH completed")

    # The same message in 64 KB pieces, as Thunderbird fetches big ones:
    # each piece streamed from where the last ended, so all of them
    # together read the file about twice (once for its size), not once
    # per piece; the pieces make the message again.
    CH = 65536
    before = proc_sum(pids, "io", "rchar:")
    pieces, k = [], 0
    while True:
        r.send("p%d FETCH 1 (BODY.PEEK[]<%d.%d>)\r\n" % (k, k * CH, CH))
        resp = r.response()
        m = re.match(rb"\* 1 FETCH \(BODY\[\]<(\d+)> (\{(\d+)\}\r\n|\"\")",
                     resp)
        if m is None or int(m.group(1)) != k * CH:
            break
        r.line()
        if m.group(3) is None:
            break
        pieces.append(resp[m.end():m.end() + int(m.group(3))])
        k += 1
        if k > len(want) // CH + 2:
            break
    read = proc_sum(pids, "io", "rchar:") - before
    ok(b"".join(pieces) == want and len(pieces) == -(-len(want) // CH),
       "%d pieces of 64 KB make the message, then \"\" past its end" %
       len(pieces))
    ok(read < 3 * len(big), "imapd read %.1f MB of a %.1f MB file for them" %
       (read / 1e6, len(big) / 1e6))
    r.send("q FETCH 1 (BODY.PEEK[]<100.50>)\r\n")
    resp = r.response()
    ok(resp.endswith(want[100:150] + b")"),
       "a piece out of order, from the start again: %r" % resp[-20:])
    r.line()
    r.send("x FETCH 1 (BODY.PEEK[]<0.10> RFC822.SIZE)\r\n")
    resp = r.response()
    ok(b"RFC822.SIZE %d" % len(want) in resp and
       resp.endswith(b"BODY[]<0> {10}\r\n" + want[:10] + b")"),
       "a piece beside another item: %r" % resp[:60])
    r.line()
    r.cmd("LOGOUT", "o")
done()
