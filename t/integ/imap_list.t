#!/usr/bin/env python3
# Extended LIST (RFC 5258) with LIST-STATUS (RFC 5819) and SPECIAL-USE
# selection (RFC 6154): selection options SUBSCRIBED, RECURSIVEMATCH,
# SPECIAL-USE, REMOTE; several patterns; RETURN (SUBSCRIBED CHILDREN
# SPECIAL-USE STATUS (...)); \NonExistent for subscribed names with no
# folder; CHILDINFO; bad option forms answered BAD; STATUS SIZE.
import os
import re
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done, diag    # noqa: E402
import imap                            # noqa: E402


def listed(lines):
    """{name: (attrs set, rest)} of the LIST lines."""
    out = {}
    for ln in lines:
        m = re.match(r'\* LIST \(([^)]*)\) "\." "?([^" ]*)"?(.*)$', ln)
        if m:
            out[m.group(2)] = (set(m.group(1).split()), m.group(3).strip())
    return out


inst = imap.instance(conf={"imap_max_bad_commands": "20"})
with inst:
    inst.start()
    c = imap.login(inst)
    for f in ("Work", "Work.Projects", "Work.Projects.Old", "Home"):
        is_(c.create(f)[0], "OK", "CREATE " + f)
    c.append("Work", None, None, b"Subject: a\r\n\r\nbody one\r\n")
    c.append("Work", "(\\Seen)", None, b"Subject: b\r\n\r\nbody two\r\n")
    # subscribe a child without its parent, and a name with no folder
    c.subscribe("Work.Projects")
    c.create("Gone.Away")
    c.subscribe("Gone.Away")
    is_(c.delete("Gone.Away")[0], "OK", "a subscribed folder deleted")
    c.logout()

    r = imap.Raw(inst.port("imap"))
    r.cmd('LOGIN alice@example.com "%s"' % imap.PW, tag="l")
    caps = " ".join(r.cmd("CAPABILITY"))
    for cap in ("LIST-EXTENDED", "LIST-STATUS", "STATUS=SIZE"):
        ok(cap in caps, "capability " + cap)

    out = r.cmd('LIST "" "*"')
    base = listed(out)
    ok(out[-1].startswith("a OK"), "plain LIST still works")
    ok("\\HasChildren" in base["Work"][0], "Work has children")
    ok("Gone" not in base and "Gone.Away" not in base,
       "plain LIST: no subscribed-only names")

    # RETURN (SUBSCRIBED)
    out = r.cmd('LIST "" "*" RETURN (SUBSCRIBED)')
    got = listed(out)
    ok("\\Subscribed" in got["Work.Projects"][0],
       "RETURN (SUBSCRIBED) marks Work.Projects")
    ok("\\Subscribed" not in got["Work"][0], "not Work")
    ok("\\Subscribed" in got["INBOX"][0], "INBOX subscribed at first login")
    ok("Gone.Away" not in got, "RETURN alone lists no \\NonExistent name")

    # (SUBSCRIBED) selection
    out = r.cmd('LIST (SUBSCRIBED) "" "*"')
    got = listed(out)
    diag("\n".join(out))
    ok("Work.Projects" in got and "Work" not in got and "Home" not in got,
       "SUBSCRIBED selects subscribed names only")
    ok({"\\NonExistent", "\\Subscribed"} <= got.get("Gone.Away", (set(),))[0],
       "a subscribed name with no folder: \\NonExistent \\Subscribed")
    ok("\\Sent" in got["Sent"][0], "special-use attribute kept")

    # RECURSIVEMATCH: Work is not subscribed but its child is
    out = r.cmd('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')
    got = listed(out)
    diag("\n".join(out))
    ok("Work" in got and 'CHILDINFO' in got["Work"][1] and
       'SUBSCRIBED' in got["Work"][1],
       "RECURSIVEMATCH: Work with CHILDINFO (\"SUBSCRIBED\")")
    ok("\\Subscribed" not in got["Work"][0], "Work itself not subscribed")
    ok("Gone" in got and "\\NonExistent" in got["Gone"][0],
       "Gone (parent of a subscribed name) as \\NonExistent")
    ok("Home" not in got, "Home: no subscribed child, not listed")
    ok("Work.Projects" not in got, "% still stops at the separator")
    ok("Sent" in got and "CHILDINFO" not in got["Sent"][1],
       "a subscribed name with no children: no CHILDINFO")

    # SPECIAL-USE selection
    got = listed(r.cmd('LIST (SPECIAL-USE) "" "*"'))
    is_(sorted(got), ["Archive", "Drafts", "Junk", "Sent", "Trash"],
        "SPECIAL-USE selects the five special folders")
    got = listed(r.cmd('LIST "" "*" RETURN (SPECIAL-USE)'))
    ok("\\Trash" in got["Trash"][0], "RETURN (SPECIAL-USE)")

    # several patterns
    got = listed(r.cmd('LIST "" ("Home" "Work.*")'))
    is_(sorted(got), ["Home", "Work.Projects", "Work.Projects.Old"],
        "two patterns")

    # LIST-STATUS
    out = r.cmd('LIST "" "Work*" RETURN (CHILDREN STATUS '
                '(MESSAGES UNSEEN SIZE))')
    diag("\n".join(out))
    st = [ln for ln in out if ln.startswith("* STATUS")]
    ok('* STATUS "Work" (MESSAGES 2 UNSEEN 1 SIZE ' in "\n".join(st),
       "STATUS for Work after its LIST line: %r" % st)
    i = next(k for k, ln in enumerate(out) if ln.endswith('"Work"'))
    ok(out[i + 1].startswith('* STATUS "Work"'), "right after it")
    is_(len(st), 3, "one STATUS per listed folder")
    out = r.cmd('LIST (SUBSCRIBED) "" "Gone*" RETURN (STATUS (MESSAGES))')
    ok(not any(ln.startswith("* STATUS") for ln in out),
       "no STATUS for a \\NonExistent name")
    out = r.cmd('STATUS Work (SIZE MESSAGES)')
    m = re.search(r"SIZE (\d+)", out[0])
    is_(int(m.group(1)) if m else None,
        len(b"Subject: a\r\n\r\nbody one\r\n") * 2, "STATUS SIZE in octets")

    # REMOTE is accepted and changes nothing here
    got = listed(r.cmd('LIST (REMOTE) "" "%"'))
    ok("Work" in got and "Home" in got, "REMOTE accepted")

    out = r.cmd('LIST "" ""')
    is_(out[0], '* LIST (\\Noselect) "." ""', 'LIST "" "": the separator')

    # bad forms, on a fresh session (each counts as a bad command)
    r = imap.Raw(inst.port("imap"))
    r.cmd('LOGIN alice@example.com "%s"' % imap.PW, tag="l")
    for bad in ('LIST (BOGUS) "" "*"', 'LIST (RECURSIVEMATCH) "" "*"',
                'LIST "" "*" RETURN (STATUS (NOPE))',
                'LIST "" "*" RETURN (BOGUS)', 'LIST "" "*" RETURN',
                'LIST "" ()', 'LIST "" "*" EXTRA (X)',
                'STATUS Work (MESSAGES BOGUS)'):
        out = r.cmd(bad)
        ok(out[-1].startswith("a BAD"), "%s: BAD (%s)" % (bad, out[-1]))
done()
