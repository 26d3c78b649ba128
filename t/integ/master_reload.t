#!/usr/bin/env python3
# SIGHUP and `adminctl reload`: a replaced CDB map is picked up; a broken
# tern.conf or services.conf is refused with file:line and the instance
# keeps running; services are added and retired by a reload without
# disturbing the others.
import os
import signal
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done              # noqa: E402
from tern import Instance, Line, wait_for        # noqa: E402
import cdbw                                      # noqa: E402

inst = Instance(services={"echo": {"args": "-m MAP"}})
mapfile = inst.path("test.cdb")
inst.services["echo"]["args"] = "-m " + mapfile
inst.write_services()
cdbw.write(mapfile, [(b"colour", b"blue\0")])


def lookup(key):
    c = Line(inst.port("echo"))
    r = c.cmd("LOOKUP " + key)
    c.close()
    return r


with inst:
    inst.start()
    is_(lookup("colour"), "+VAL blue", "map lookup")
    is_(lookup("shape"), "-NOKEY", "missing key")
    echo_pids = inst.status()["echo"]["pids"]

    cdbw.write(mapfile, [(b"colour", b"green\0"), (b"shape", b"round\0")])
    inst.signal(signal.SIGHUP)
    wait_for(lambda: lookup("colour") == "+VAL green", what="new map")
    is_(lookup("shape"), "+VAL round", "new key after SIGHUP")
    is_(inst.status()["echo"]["pids"], echo_pids, "children kept on reload")

    # A broken tern.conf: refused, named by file and line, nothing changes.
    inst.write_conf("bogus_key = 1\n")
    rc, out, err = inst.adminctl("reload")
    ok(rc == 1, "reload of a broken tern.conf exits 1")
    ok("tern.conf:" in err and "bogus_key" in err, "error names file:line: "
       + err.strip())
    inst.signal(signal.SIGHUP)
    wait_for(lambda: "reload refused" in inst.log(), what="log line")
    ok(inst.proc.poll() is None, "master still running after SIGHUP")
    is_(lookup("colour"), "+VAL green", "service still answers")
    inst.write_conf("")

    # A broken services.conf, then a good one with a new service.
    with open(inst.path("services.conf"), "a") as f:
        f.write("[extra]\nprogram = x\nworkers = many\n")
    rc, out, err = inst.adminctl("reload")
    is_(rc, 1, "broken services.conf refused")
    ok("services.conf:" in err and "workers" in err, "names it: "
       + err.strip())
    ok("extra" not in inst.status(), "no half-applied service")

    inst.services["extra"] = {}
    inst.write_services()
    rc, out, err = inst.adminctl("reload")
    is_(rc, 0, "good reload accepted")
    wait_for(lambda: inst.status().get("extra", {}).get("state") == "running",
             what="extra running")
    c = Line(inst.port("extra"))
    ok(c.greeting.startswith("+OK extra"), "new service answers")
    c.close()
    is_(inst.status()["echo"]["pids"], echo_pids, "echo untouched")

    # Changing a service's workers keeps the old ones; removing retires.
    del inst.services["extra"]
    inst.services["echo"]["workers"] = 2
    inst.write_services()
    is_(inst.adminctl("reload")[0], 0, "reload with fewer services")
    st = wait_for(lambda: (lambda s: s if "extra" not in s and
                           s["echo"]["running"] == 2 else None)(inst.status()),
                  what="extra retired, echo grown")
    ok(echo_pids in st["echo"]["pids"], "original echo worker kept")
    is_(lookup("colour"), "+VAL green", "echo answers after growing")
done()
