"""A private Dovecot for the benchmarks, and the mail both servers read.

    owner = (uid, gid) or None
    fill_maildir(path, owner, nmsgs, sizes)      # messages into cur/
    if ensure_dovecot("imap"):
        d = Dovecot("imap", mail_root, users, owner, extra="...")
        ... d.port ... d.pss() ...
        d.stop()

Dovecot gets its own config, run and state directories, a loopback port,
a passwd-file with the same SHA-512-crypt hashes as Tern's maps (PASSWORD,
ROUNDS), the Maildirs under mail_root/<domain>/<local> as mail_location,
and the mail user as uid.  Logins reuse processes, as Dovecot's
performance tuning advises; its info log goes to /dev/null as Tern's
normal log is off.  The package (dovecot-pop3d or dovecot-imapd) is
installed with apt when missing and we are root, services kept from
starting.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile

import authmaps
from benchlib import apt_install
from tern import BIN, Instance, free_port, wait_for

PASSWORD = "Bench-pw-1"
# SHA-512-crypt at its lowest cost: Dovecot's cache keeps the hash and
# verifies every login again, Tern's auth caches verified logins; a cheap
# hash keeps the comparison about the mail servers.
ROUNDS = 1000

BINARY = {"pop3": "/usr/lib/dovecot/pop3", "imap": "/usr/lib/dovecot/imap"}


def message(i, size):
    head = ("From: bench@example.org\nTo: someone@example.com\n"
            "Subject: bench message %d\nMessage-ID: <%d@bench>\n"
            "Date: Mon, 7 Feb 2022 21:52:25 +0000\n\n" % (i, i))
    line = b"The quick brown fox jumps over the lazy dog, %d times. ok\n"
    body, n = [], 0
    while n < size:
        ln = line % n
        body.append(ln)
        n += len(ln)
    return head.encode() + b"".join(body)


def fill_maildir(path, owner, nmsgs, sizes=None):
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(path, sub), exist_ok=True)
    for i in range(nmsgs):
        data = message(i, sizes[i % len(sizes)]) if sizes else \
            b"Subject: s%d\n\nx\n" % i
        name = "%d.M%dP1Q%d.bench,S=%d,W=%d:2," % (
            1600000000 + i, i, i, len(data), len(data) + data.count(b"\n"))
        fd = os.open(os.path.join(path, "cur", name),
                     os.O_WRONLY | os.O_CREAT, 0o600)
        os.write(fd, data)
        os.close(fd)
    if owner:
        for root, dirs, files in os.walk(os.path.dirname(path)):
            for n in dirs + files:
                os.chown(os.path.join(root, n), *owner)
        os.chown(os.path.dirname(path), *owner)


def tern_instance(proto, users, conf):
    """Tern's side: pop3d or imapd (2 workers) beside auth, its maps
    letting each of users log in with PASSWORD, conf on top.  Returns
    (inst, owner), owner the mail user's (uid, gid) when we are root,
    for fill_maildir."""
    program = {"pop3": "pop3d", "imap": "imapd"}[proto]
    inst = Instance(services={
        proto: {"program": os.path.join(BIN, program), "workers": 2},
        "auth": {"program": os.path.join(BIN, "auth"),
                 "listen": ["unix:auth.sock"]}},
        conf=dict({"mail_dir": "mail", "log_level_auth": "exceptions"},
                  **conf))
    owner = None
    if os.geteuid() == 0:
        pw = pwd.getpwnam(inst.conf["mail_user"])
        owner = (pw.pw_uid, pw.pw_gid)
    h = authmaps.hash_password(PASSWORD, "$6$", ROUNDS)
    authmaps.write_maps(inst.path("state", "maps"),
                        domains={"example.com": {"disabled": "no"}},
                        users={u: {"disabled": "0"} for u in users},
                        passwd={u: h for u in users}, cram={}, owner=owner)
    return inst, owner


def ensure_dovecot(proto):
    if os.path.exists(BINARY[proto]):
        return True
    pkg = "dovecot-%sd" % proto
    if os.geteuid() != 0:
        print("%s is not installed (run as root to install it)" % pkg)
        return False
    apt_install(pkg)
    return os.path.exists(BINARY[proto])


CONF = """\
protocols = {proto}
listen = 127.0.0.1
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
info_log_path = /dev/null
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
auth_cache_size = 10M
mail_location = maildir:{mail}/%d/%n
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 1
pop3_uidl_format = %f
passdb {{
  driver = passwd-file
  args = scheme=CRYPT username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={d}/home/%d/%n allow_all_users=yes
}}
service {proto}-login {{
  inet_listener {proto} {{
    port = {port}
  }}
  inet_listener {proto}s {{
    port = 0
  }}
  service_count = 0
  process_min_avail = 2
}}
service anvil {{
  chroot =
}}
"""


class Dovecot:
    def __init__(self, proto, mail, users, owner, extra=""):
        self.d = tempfile.mkdtemp(prefix="tern-bench-dovecot-")
        os.chmod(self.d, 0o755)
        self.port = free_port()
        uid, gid = owner or (os.getuid(), os.getgid())
        os.makedirs(os.path.join(self.d, "home"))
        if owner:
            os.chown(os.path.join(self.d, "home"), *owner)
        h = authmaps.hash_password(PASSWORD, "$6$", ROUNDS)
        with open(os.path.join(self.d, "passwd"), "w") as f:
            for u in users:
                f.write("%s:%s\n" % (u, h))
        self.conf = os.path.join(self.d, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(CONF.format(proto=proto, d=self.d, mail=mail, uid=uid,
                                gid=gid, port=self.port) + extra)
        self.proc = subprocess.Popen(["dovecot", "-F", "-c", self.conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT)

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError("dovecot exited: " + self.log())
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return True
            except OSError:
                return False
        wait_for(up, timeout=30, what="dovecot to listen")

    def pids(self):
        """Dovecot's master and every process under it."""
        out, todo = [], [self.proc.pid]
        while todo:
            p = todo.pop()
            out.append(p)
            try:
                with open("/proc/%d/task/%d/children" % (p, p)) as f:
                    todo += [int(x) for x in f.read().split()]
            except OSError:
                pass
        return out

    def log(self):
        try:
            with open(os.path.join(self.d, "dovecot.log")) as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.d, ignore_errors=True)

