#!/usr/bin/env python3
# The incoming-gateway role (routing.conf [forward], FEATURES SO-10):
# smtpd takes mail for a forwarded domain from any client, as for a
# hosted one, while other remote domains stay closed to relaying; an
# edit of routing.conf is picked up on reload.
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, done          # noqa: E402
import smtp                            # noqa: E402
from tern import wait_for              # noqa: E402

inst = smtp.instance()
with open(inst.path("routing.conf"), "w") as f:
    f.write("[forward]\naddress = [10.0.0.5]\ndomains = Fwd.example\n")
with inst:
    inst.start()
    port = inst.port("smtp")
    c = smtp.ehlo(port)
    is_(c.cmd("MAIL FROM:<a@remote.test>")[0], 250, "MAIL")
    is_(c.cmd("RCPT TO:<x@fwd.example>")[0], 250,
        "a forwarded domain: accepted from an anonymous client")
    is_(c.cmd("RCPT TO:<x@FWD.EXAMPLE>")[0], 250, "in any case")
    is_(c.cmd("RCPT TO:<x@other.example>")[0], 554,
        "another remote domain: relaying denied")
    c.close()
    with open(inst.path("routing.conf"), "w") as f:
        f.write("[forward]\naddress = [10.0.0.5]\ndomains = new.example\n")
    rc, out, err = inst.adminctl("reload")
    is_(rc, 0, "reload")


    def takes(dom):
        c = smtp.ehlo(port)
        c.cmd("MAIL FROM:<a@remote.test>")
        code = c.cmd("RCPT TO:<x@%s>" % dom)[0]
        c.close()
        return code
    wait_for(lambda: takes("new.example") == 250,
             what="the new forwarded domain")
    is_(takes("fwd.example"), 554, "after the reload the old one is gone")
done()
