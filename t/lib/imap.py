"""An instance with imapd (143 STARTTLS, 993 implicit TLS) and auth, for
the IMAP tests; raw clients; helpers to put messages into maildirs.

    inst = imap.instance()
    with inst:
        inst.start()
        c = imap.login(inst)                    # imaplib, logged in
        r = imap.Raw(inst.port("imap"))         # bytes in, lines out

Users alice@example.com and bob@example.com (smtp.USERS); their maildirs
are mail/example.com/<local>/.  Nothing sleeps: waits poll a deadline.
"""
import imaplib
import os
import pwd
import socket
import time

import smtp
from tern import BIN

USERS = smtp.USERS
PW = USERS["alice@example.com"]


def instance(conf=None, workers=1):
    c = {"log_level_imap": "detailed"}
    c.update(conf or {})
    prog = os.path.join(BIN, "imapd")
    services = {
        "imap": {"program": prog, "tls": "starttls", "workers": workers},
        "imaps": {"program": prog, "tls": "implicit"},
        "auth": {"program": os.path.join(BIN, "auth"),
                 "listen": ["unix:auth.sock"]},
    }
    inst = smtp.instance(conf=c, services=services)
    os.makedirs(inst.path("mail"), exist_ok=True)
    chown(inst, inst.path("mail"))
    return inst


def chown(inst, path):
    """As root the daemons run as the mail user: give them path."""
    if os.geteuid() == 0:
        pw = pwd.getpwnam(inst.conf["mail_user"])
        os.chown(path, pw.pw_uid, pw.pw_gid)


def maildir(inst, user="alice"):
    return inst.path("mail", "example.com", user)


def login(inst, user="alice@example.com", port=None):
    c = imaplib.IMAP4("127.0.0.1", port or inst.port("imap"))
    c.login(user, USERS[user])
    return c


def deliver(inst, body, user="alice", folder="", name=None):
    """Write a message into new/ as a delivery agent would."""
    d = maildir(inst, user)
    if folder:
        d = os.path.join(d, "." + folder)
    for p in (os.path.dirname(d), d):
        if not os.path.isdir(p):
            os.mkdir(p)
            chown(inst, p)
    for sub in ("cur", "new", "tmp"):
        if not os.path.isdir(os.path.join(d, sub)):
            os.mkdir(os.path.join(d, sub))
            chown(inst, os.path.join(d, sub))
    deliver.n += 1
    name = name or "%d.M%dP%dQ%d.test" % (time.time(), deliver.n,
                                          os.getpid(), deliver.n)
    data = body.encode() if isinstance(body, str) else body
    tmp = os.path.join(d, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(data)
    chown(inst, tmp)
    os.rename(tmp, os.path.join(d, "new", name))
    return name


deliver.n = 0


class Raw:
    """IMAP over a socket, for the grammar's corners."""

    def __init__(self, port, timeout=10):
        self.s = socket.create_connection(("127.0.0.1", port),
                                          timeout=timeout)
        self.f = self.s.makefile("rb")
        self.greeting = self.line()

    def send(self, data):
        self.s.sendall(data.encode() if isinstance(data, str) else data)

    def line(self):
        ln = self.f.readline()
        if not ln:
            raise EOFError("server closed the connection")
        return ln.decode("utf-8", "replace").rstrip("\r\n")

    def until(self, tag):
        """Lines up to and including the tagged one."""
        out = []
        while True:
            ln = self.line()
            out.append(ln)
            if ln.startswith(tag + " "):
                return out

    def cmd(self, text, tag="a"):
        self.send("%s %s\r\n" % (tag, text))
        return self.until(tag)

    def closed(self):
        try:
            return self.f.readline() == b""
        except (ConnectionError, socket.timeout):
            return True

    def close(self):
        self.f.close()
        self.s.close()
