#!/usr/bin/env python3
# fetchmail (the Debian package, a real and picky POP3 client) fetches a
# mailbox from pop3d into an mbox file: over STLS with the certificate
# checked, keeping mail on the server and remembering UIDLs (a second run
# fetches nothing, a new message alone is fetched by the third), then
# over implicit TLS fetching everything and deleting it.
import mailbox
import os
import shutil
import subprocess
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, diag, skip_all, done          # noqa: E402
import pop3                                             # noqa: E402

FETCHMAIL = shutil.which("fetchmail")
if FETCHMAIL is None:
    skip_all("fetchmail is not installed (make deps installs it)")

# The MDA: append one message from stdin to an mbox file.
MDA = r'''
import sys, time
data = sys.stdin.buffer.read()
with open(sys.argv[1], "ab") as f:
    f.write(b"From fetchmail " + time.asctime().encode() + b"\n")
    for line in data.split(b"\n")[:-1] if data.endswith(b"\n") else \
            data.split(b"\n"):
        if line.lstrip(b">").startswith(b"From "):
            line = b">" + line
        f.write(line + b"\n")
    f.write(b"\n")
'''


def fetch(inst, extra, keep=True):
    """One fetchmail run; (exit code, output)."""
    rc = inst.path("fetchmailrc")
    with open(rc, "w") as f:
        f.write('set no syslog\n'
                'poll localhost with protocol pop3 port %d timeout 30 uidl\n'
                '  user "alice@example.com" there with password "%s"\n'
                '  is "root" here %s %s\n'
                '  sslcertck sslcertfile "%s"\n'
                '  mda "python3 %s %s"\n'
                % (extra[0], pop3.USERS["alice@example.com"],
                   "keep" if keep else "no keep fetchall", extra[1],
                   inst.path("cert.pem"),
                   inst.path("mda.py"), inst.path("mbox")))
    os.chmod(rc, 0o600)
    env = dict(inst.env(), HOME=inst.dir, FETCHMAILUSER="root")
    p = subprocess.run([FETCHMAIL, "-f", rc, "-i", inst.path("fetchids"),
                        "--nodetach", "-v"], capture_output=True,
                       text=True, timeout=120, env=env)
    return p.returncode, p.stdout + p.stderr


def mbox_subjects(inst):
    if not os.path.exists(inst.path("mbox")):
        return []
    return [m["Subject"] for m in mailbox.mbox(inst.path("mbox"))]


inst = pop3.instance()
with open(inst.path("mda.py"), "w") as f:
    f.write(MDA)
with inst:
    inst.start()
    box = pop3.Maildir(inst, "alice@example.com")
    msgs = [pop3.message(i, 10) for i in range(1, 6)]
    msgs.append(b"Subject: message 6\nFrom: x@example.org\n\n"
                b"From the start\n.dot line\n")
    for m in msgs:
        box.add(m)
    # TLS 1.2 or later required: over port 110 that means STLS.
    stls = (inst.port("pop3"), 'sslproto "tls1.2+"')

    rc, out = fetch(inst, stls)
    is_(rc, 0, "first run fetched mail")
    if rc != 0:
        diag(out)
    ok("STLS" in out, "fetchmail used STLS")
    is_(mbox_subjects(inst), ["message %d" % i for i in range(1, 7)],
        "six messages in the mbox, in order")
    mb = list(mailbox.mbox(inst.path("mbox")))
    is_(mb[5].get_payload(), ">From the start\n.dot line\n",
        "body intact (dot-stuffing undone; From_ quoted by our MDA)")
    is_(len(box.files("cur")), 6, "kept on the server")

    rc, out = fetch(inst, stls)
    is_(rc, 1, "second run: nothing new (UIDLs remembered)")
    is_(len(mbox_subjects(inst)), 6, "mbox unchanged")

    box.add(pop3.message(7))
    rc, out = fetch(inst, stls)
    is_(rc, 0, "third run fetched the new one")
    is_(mbox_subjects(inst)[-1], "message 7", "only the new one")
    is_(len(mbox_subjects(inst)), 7, "seven in the mbox")

    # Implicit TLS, fetch everything and delete it.
    os.unlink(inst.path("mbox"))
    rc, out = fetch(inst, (inst.port("pop3s"), "ssl"), keep=False)
    is_(rc, 0, "fetch over pop3s")
    if rc != 0:
        diag(out)
    is_(len(mbox_subjects(inst)), 7, "all seven fetched")
    is_(box.all(), [], "and deleted from the server")
done()
