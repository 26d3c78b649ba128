"""An instance with pop3d for the POP3 tests, maildirs to fill, clients.

    inst = pop3.instance(conf={"pop_login_delay": "60"})
    with inst:
        inst.start()
        box = pop3.Maildir(inst, "alice@example.com")
        box.add(b"Subject: hi\\n\\nbody\\n")          # straight into new/
        p = pop3.login(inst)                          # poplib, logged in
        p.stat() ...
        c = pop3.Raw(inst.port("pop3"))               # bytes in and out

Services: pop3 (STLS), pop3s (implicit TLS), auth (state/auth.sock).  The
certificate of smtp.instance() ("localhost", 127.0.0.1); account maps with
example.com (alice, bob; example.net is an alias of it) and
folder.example, whose folder_path is a directory of its own.  Maildirs
are written as Tern's delivery writes them (LF line ends, S= and W= in
the name) and owned by the mail user.  Nothing sleeps: every wait polls
with a deadline.
"""
import os
import poplib
import pwd
import ssl
import time

import authmaps
import smtp
from tern import Line, BIN

USERS = {"alice@example.com": "Alice-pw1", "bob@example.com": "Bob-pw22",
         "carol@folder.example": "Carol-pw3"}
HOST = "127.0.0.1"


def mail_owner(inst):
    """(uid, gid) the daemons run as, or None when not root."""
    if os.geteuid() != 0:
        return None
    pw = pwd.getpwnam(inst.conf["mail_user"])
    return pw.pw_uid, pw.pw_gid


def services(workers=1, extra=None):
    prog = os.path.join(BIN, "pop3d")
    s = {
        "pop3": {"program": prog, "tls": "starttls", "workers": workers},
        "pop3s": {"program": prog, "tls": "implicit"},
        "auth": {"program": os.path.join(BIN, "auth"),
                 "listen": ["unix:auth.sock"]},
    }
    s.update(extra or {})
    return s


def write_maps(inst, users=USERS):
    authmaps.write_maps(
        inst.path("state", "maps"),
        domains={"example.com": {"disabled": "no"},
                 "example.net": "example.com",
                 "folder.example": {"disabled": "no", "folder_path":
                                    inst.path("folders", "f-example")}},
        users={u: {"name": u.split("@")[0], "disabled": "0"}
               for u in users},
        passwd={u: authmaps.hash_password(p, "$6$")
                for u, p in users.items()},
        cram={}, owner=mail_owner(inst))


def instance(conf=None, services_=None, workers=1):
    """smtp.instance()'s certificate and settings, with pop3d services
    and the account maps above."""
    c = {"mail_dir": "mail", "log_level_pop": "detailed",
         "log_level_auth": "normal"}
    c.update(conf or {})
    inst = smtp.instance(conf=c, services=services_ or services(workers))
    write_maps(inst)
    owner = mail_owner(inst)
    for d in ("mail", "folders"):
        os.makedirs(inst.path(d))
        if owner:
            os.chown(inst.path(d), *owner)
    return inst


client_ctx = smtp.client_ctx


# --- maildirs -------------------------------------------------------------
class Maildir:
    """A user's maildir as Tern lays it out; add() delivers directly."""
    serial = 0

    def __init__(self, inst, user):
        self.inst = inst
        local, domain = user.split("@")
        if domain == "folder.example":
            self.path = inst.path("folders", "f-example", local)
        else:
            self.path = inst.path("mail", domain, local)
        self.owner = mail_owner(inst)
        for sub in ("tmp", "new", "cur"):
            self._mkdir(os.path.join(self.path, sub))

    def _mkdir(self, d):
        if not os.path.isdir(d):
            parent = os.path.dirname(d)
            if not os.path.isdir(parent):
                self._mkdir(parent)
            os.mkdir(d, 0o700)
            if self.owner:
                os.chown(d, *self.owner)

    def name(self, data, when=None, wsize=True):
        Maildir.serial += 1
        when = when or 1700000000 + Maildir.serial
        n = "%d.M%06dP%dQ%d.testhost,S=%d" % (when, Maildir.serial % 10**6,
                                              os.getpid(), Maildir.serial,
                                              len(data))
        if wsize:
            n += ",W=%d" % (len(data) + data.count(b"\n"))
        return n

    def add(self, data, sub="new", flags=None, when=None, wsize=True,
            name=None):
        """Write data (bytes, LF line ends) as one message; its name."""
        if isinstance(data, str):
            data = data.encode()
        n = name or self.name(data, when, wsize)
        if flags is not None:
            n += ":2," + flags
        path = os.path.join(self.path, sub, n)
        with open(path, "wb") as f:
            f.write(data)
        if self.owner:
            os.chown(path, *self.owner)
        return n

    def files(self, sub):
        return sorted(os.listdir(os.path.join(self.path, sub)))

    def all(self):
        return self.files("new") + self.files("cur")


def message(i, body_lines=3):
    """A small test message, LF line ends."""
    body = "".join("line %d of message %d\n" % (j, i)
                   for j in range(body_lines))
    return ("From: sender@example.org\nTo: alice@example.com\n"
            "Subject: message %d\n\n%s" % (i, body)).encode()


def crlf_size(data):
    return len(data) + data.count(b"\n") - data.count(b"\r\n")


# --- clients ----------------------------------------------------------------
def connect(inst, service="pop3", timeout=20):
    if service == "pop3s":
        return poplib.POP3_SSL(HOST, inst.port("pop3s"), timeout=timeout,
                               context=client_ctx(inst))
    return poplib.POP3(HOST, inst.port(service), timeout=timeout)


def login(inst, user="alice@example.com", password=None, service="pop3"):
    p = connect(inst, service)
    p.user(user)
    p.pass_(password or USERS[user])
    return p


class Raw(Line):
    """POP3 over a plain socket (tern.Line: greeting, cmd, readline)."""

    def __init__(self, port, timeout=20):
        Line.__init__(self, port, HOST, timeout)

    def send(self, data):
        self.s.sendall(data.encode() if isinstance(data, str) else data)

    def line(self):
        """The next line; "" once the server has closed."""
        return self.readline()

    def multi(self):
        """The lines of a multi-line answer up to ".", unstuffed."""
        out = []
        while True:
            raw = self.f.readline()
            if not raw:
                raise EOFError("server closed the connection")
            ln = raw.decode("utf-8", "replace").rstrip("\r\n")
            if ln == ".":
                return out
            out.append(ln[1:] if ln.startswith("..") else ln)

    def login(self, user="alice@example.com", password=None):
        self.cmd("USER " + user)
        return self.cmd("PASS " + (password or USERS[user]))

    def closed(self, timeout=15):
        """True once the server closes (EOF), reading what is left."""
        self.s.settimeout(timeout)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if not self.f.readline():
                    return True
        except (OSError, ssl.SSLError):
            return True
        return False
