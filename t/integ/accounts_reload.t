#!/usr/bin/env python3
# After a rebuild adminctl tells master to reload (so daemons reopen the
# maps); without master the rebuild still succeeds and says the maps will
# be read at start; a master that refuses the reload makes the rebuild
# exit 1 with the new maps in place.
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, diag, done                 # noqa: E402
from accounts_t import Tree, line1                  # noqa: E402
from tern import wait_for                           # noqa: E402

tr = Tree(services={"echo": {"workers": 1}})
inst = tr.inst
try:
    rc, out, err = tr.run("domain", "add", "example.com")
    is_(rc, 0, "domain add before master starts")
    ok("master not running; maps will be read at start" in out,
       "rebuild without master says so")
    inst.start()
    rc, out, err = tr.run("rebuild")
    is_(rc, 0, "rebuild with master running: " + line1(err))
    ok("master reloaded" in out, "reports the reload")
    wait_for(lambda: "configuration reloaded" in inst.log("master"),
             what="master to log the reload")
    ok(True, "master logged the reload")
    n = inst.log("master").count("configuration reloaded")
    rc, out, err = tr.add_user("alice@example.com", "Secret123")
    ok(rc == 0 and "master reloaded" in out, "an edit reloads master too")
    wait_for(lambda: inst.log("master").count("configuration reloaded") > n,
             what="a second reload")
    rc, out, err = tr.run("rebuild", "--no-reload")
    ok(rc == 0 and "reload" not in out, "--no-reload skips it")

    # Master refuses: a broken services.conf.
    with open(inst.path("services.conf"), "a") as f:
        f.write("[broken\n")
    rc, out, err = tr.run("rebuild")
    is_(rc, 1, "master refusing the reload makes rebuild exit 1")
    ok("new maps are in place" in err, "and says the maps changed: " +
       line1(err))
    inst.write_services()
    ok(inst.all_running(), "master still runs its services")

    is_(inst.stop(), 0, "master stopped")
    rc, out, err = tr.run("rebuild")
    is_(rc, 0, "rebuild after master stopped still exits 0")
    ok("master not running" in out, "and says master is not running")
except Exception as e:
    import traceback
    ok(False, "exception: %r" % e)
    diag(traceback.format_exc())
    diag(inst.master_out())
finally:
    tr.cleanup()
done()
