"""A private Postfix instance for make bench: the anchor Tern's SMTP and
end-to-end figures are printed beside.  Not a test.

    pf = Postfix(users=["u", "2u"], domain="example.test", deliver=True)
    pf.start()          # loopback port pf.port; Maildirs under pf.mail
    ...                 # smtp-source at 127.0.0.1:pf.port
    pf.delivered()      # files in every user's Maildir/new
    pf.pss()            # sum of PSS (bytes) over its processes
    pf.stop()           # always; removes the temp directory

Everything lives in a temp directory: config_directory, queue_directory,
data_directory, the Maildirs and the log (maillog_file).  smtpd listens
on a free loopback port; nothing is chrooted; relaying is allowed from
127.0.0.0/8 only.  Queue files are fsynced as Postfix always does.
deliver=False puts every accepted message on hold (an access map that
answers HOLD for every client), so cleanup writes it to the hold queue
and qmgr leaves it there: acceptance alone, what Tern's smtpd without
the queue manager does.  Postfix is installed with apt when missing and we are
root (debconf "No configuration", services kept from starting).
"""
import os
import pwd
import shutil
import subprocess
import tempfile

from benchlib import apt_install
from tern import free_port, wait_for

MASTER_CF = """\
{port}     inet  n       -       n       -       -       smtpd
cleanup   unix  n       -       n       -       0       cleanup
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
showq     unix  n       -       n       -       -       showq
"""
QMGR_CF = "qmgr      unix  n       -       n       300     1       qmgr\n"


def ensure_postfix():
    if shutil.which("smtp-source") and os.path.exists("/usr/sbin/postfix"):
        return True
    if os.geteuid() != 0:
        print("postfix is not installed (run as root to install it)")
        return False
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["debconf-set-selections"], input=b"postfix "
                   b"postfix/main_mailer_type select No configuration\n",
                   env=env)
    apt_install("postfix", env)
    return shutil.which("smtp-source") is not None


class Postfix:
    def __init__(self, users, domain="example.test", deliver=True,
                 owner="nobody", extra=None):
        self.d = tempfile.mkdtemp(prefix="tern-bench-postfix-")
        os.chmod(self.d, 0o755)
        self.etc = os.path.join(self.d, "etc")
        self.mail = os.path.join(self.d, "mail")
        self.users = users
        self.domain = domain
        self.port = free_port()
        self.started = False
        pw = pwd.getpwnam(owner)
        os.makedirs(self.etc)
        for sub in ("data", "mail", "spool"):
            p = os.path.join(self.d, sub)
            os.makedirs(p)
        shutil.chown(os.path.join(self.d, "data"), "postfix")
        os.chown(self.mail, pw.pw_uid, pw.pw_gid)
        with open(os.path.join(self.etc, "vmailbox"), "w") as f:
            for u in users:
                f.write("%s@%s %s/\n" % (u, domain, u))
        main = {
            "compatibility_level": "3.6",
            "queue_directory": os.path.join(self.d, "spool"),
            "data_directory": os.path.join(self.d, "data"),
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "myhostname": "postfix.bench.example",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "smtpd_relay_restrictions": "permit_mynetworks, reject",
            "smtpd_peername_lookup": "no",
            "virtual_mailbox_domains": domain,
            "virtual_mailbox_maps": "hash:" + os.path.join(self.etc,
                                                           "vmailbox"),
            "virtual_mailbox_base": self.mail,
            "virtual_minimum_uid": str(min(pw.pw_uid, 100)),
            "virtual_uid_maps": "static:%d" % pw.pw_uid,
            "virtual_gid_maps": "static:%d" % pw.pw_gid,
            "maillog_file": os.path.join(self.d, "maillog"),
            "maillog_file_prefixes": self.d,
            "biff": "no",
            "append_dot_mydomain": "no",
            "smtpd_banner": "$myhostname ESMTP",
            "default_process_limit": "100",
        }
        main.update(extra or {})
        if not deliver:
            main["smtpd_data_restrictions"] = "check_client_access " \
                "static:HOLD"
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            for k, v in main.items():
                f.write("%s = %s\n" % (k, v))
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port="127.0.0.1:%d" % self.port))
            f.write(QMGR_CF)
        subprocess.run(["postmap", "-c", self.etc,
                        os.path.join(self.etc, "vmailbox")],
                       check=True)

    def _ready(self):
        import socket
        try:
            s = socket.create_connection(("127.0.0.1", self.port), 0.5)
            ok = s.recv(100).startswith(b"220")
            s.close()
            return ok
        except OSError:
            return False

    def start(self):
        # set-permissions makes the queue's subdirectories with their
        # owners and modes, as a package install does for /var/spool.
        subprocess.run(["postfix", "-c", self.etc, "set-permissions"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(["postfix", "-c", self.etc, "start"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.started = True
        wait_for(self._ready, timeout=30, what="postfix to listen")

    def pids(self):
        out = []
        mpid = os.path.join(self.d, "spool", "pid", "master.pid")
        try:
            master = int(open(mpid).read().split()[0])
        except (OSError, ValueError, IndexError):
            return out
        out.append(master)
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % p) as f:
                    st = f.read()
                if int(st.rsplit(")", 1)[1].split()[1]) == master:
                    out.append(int(p))
            except (OSError, ValueError, IndexError):
                pass
        return out

    def pss(self):
        return pss_of(self.pids())

    def delivered(self):
        n = 0
        for u in self.users:
            try:
                n += len(os.listdir(os.path.join(self.mail, u, "new")))
            except FileNotFoundError:
                pass
        return n

    def in_queue(self):
        """Messages anywhere in the queue (not yet delivered)."""
        n = 0
        for q in ("maildrop", "incoming", "active", "deferred", "hold"):
            for root, dirs, files in os.walk(os.path.join(self.d, "spool",
                                                          q)):
                n += len(files)
        return n

    def queued(self):
        """Files in the hold queue (deliver=False)."""
        n = 0
        for root, dirs, files in os.walk(os.path.join(self.d, "spool",
                                                      "hold")):
            n += len(files)
        return n

    def stop(self):
        if self.started:
            subprocess.run(["postfix", "-c", self.etc, "abort"],
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
            try:
                wait_for(lambda: not self.pids(), timeout=20,
                         what="postfix to exit")
            except TimeoutError:
                print("   postfix did not exit in 20 s; its temp "
                      "directory is removed anyway")
            self.started = False
        shutil.rmtree(self.d, ignore_errors=True)


def pss_of(pids):
    """Sum of Pss over the processes (bytes); vanished ones count 0."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def cpu_of(pids):
    """CPU seconds (user + system) the server has used so far: pids[0] is
    its master, whose count includes the children it has reaped (so
    processes that came and went between two looks count too), the rest
    its live children."""
    total = 0
    for k, pid in enumerate(pids):
        try:
            with open("/proc/%d/stat" % pid) as f:
                v = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(v[11]) + int(v[12])
        if k == 0:
            total += int(v[13]) + int(v[14])
    return total / os.sysconf("SC_CLK_TCK")
