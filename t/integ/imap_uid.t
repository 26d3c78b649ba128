#!/usr/bin/env python3
# UIDs in a folder without an index yet start at 1 and follow the order
# the messages are listed in, and stay the same across SELECTs and
# sessions (RFC 3501 2.3.1.1).
import os
import re
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done            # noqa: E402
import imap                              # noqa: E402

inst = imap.instance()


def uids(port):
    r = imap.Raw(port)
    r.cmd('LOGIN alice@example.com "%s"' % imap.PW, "l")
    sel = r.cmd("SELECT INBOX", "s")
    got = r.cmd("FETCH 1:* UID", "f")
    r.close()
    nxt = [m.group(1) for x in sel for m in [re.search(
        r"UIDNEXT (\d+)", x)] if m]
    return [int(m.group(1)) for x in got for m in [re.search(
        r"FETCH \(UID (\d+)\)", x)] if m], nxt


with inst:
    inst.start()
    for i in range(3):
        imap.deliver(inst, "Subject: m%d\n\nbody %d\n" % (i, i))
    first, nxt = uids(inst.port("imap"))
    is_(first, [1, 2, 3], "a new folder's first UIDs are 1, 2, 3")
    is_(nxt, ["4"], "UIDNEXT 4")
    imap.deliver(inst, "Subject: m3\n\nbody 3\n")
    second, nxt = uids(inst.port("imap"))
    is_(second, [1, 2, 3, 4], "UIDs kept and the new message gets 4")
    ok(nxt == ["5"], "UIDNEXT 5")
done()
