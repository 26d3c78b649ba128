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
import re
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


def _value_end(b, i):
    """End of the IMAP value (atom, "string", {n} literal, (list)) at
    b[i]."""
    if b[i:i + 1] == b'"':
        i += 1
        while b[i:i + 1] != b'"':
            i += 2 if b[i:i + 1] == b"\\" else 1
        return i + 1
    if b[i:i + 1] == b"{":
        j = b.index(b"}", i)
        return j + 3 + int(b[i + 1:j])
    if b[i:i + 1] == b"(":
        i += 1
        while b[i:i + 1] != b")":
            if b[i:i + 1] == b" ":
                i += 1
            else:
                i = _value_end(b, i)
        return i + 1
    j = i
    depth = 0
    while j < len(b) and (depth or b[j:j + 1] not in (b" ", b")")):
        depth += {b"[": 1, b"]": -1}.get(b[j:j + 1], 0)
        j += 1
    return j


def fetch_items(resp):
    """b'* 3 FETCH (NAME value ...)' -> (3, {NAME: raw value bytes}),
    names as sent (e.g. 'BODY[1.MIME]', 'BODY[TEXT]<0>'), values exactly
    as on the wire (literals with their {n}CRLF)."""
    m = re.match(rb"\* (\d+) FETCH \(", resp)
    if not m:
        raise ValueError("not a FETCH response: %r" % resp[:80])
    i, items = m.end(), {}
    while resp[i:i + 1] != b")":
        j = _value_end(resp, i)
        name = resp[i:j].decode()
        k = _value_end(resp, j + 1)
        items[name] = resp[j + 1:k]
        i = k + (1 if resp[k:k + 1] == b" " else 0)
    if i != len(resp) - 1:
        raise ValueError("junk after FETCH: %r" % resp[i:])
    return int(m.group(1)), items


def unliteral(v):
    """The octets of a string value: "quoted" or {n}CRLF literal."""
    if v.startswith(b"{"):
        return v[v.index(b"\r\n") + 2:]
    if v.startswith(b'"'):
        return re.sub(rb'\\(.)', rb"\1", v[1:-1])
    raise ValueError("not a string: %r" % v[:40])


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

    def response(self):
        """One whole response as sent, bytes: literals kept in place
        ("{n}\\r\\n" and their octets), the final CRLF dropped."""
        out = b""
        while True:
            ln = self.f.readline()
            if not ln:
                raise EOFError("server closed the connection")
            m = re.search(rb"\{(\d+)\}\r\n$", ln)
            if not m:
                return out + ln.rstrip(b"\r\n")
            out += ln + self.f.read(int(m.group(1)))

    def responses(self, text, tag="a"):
        """Send a command; its untagged responses (bytes, literals
        inline) and the tagged line."""
        self.send("%s %s\r\n" % (tag, text))
        out = []
        while True:
            r = self.response()
            if r.startswith(tag.encode() + b" "):
                return out, r.decode("utf-8", "replace")
            out.append(r)

    def closed(self):
        try:
            return self.f.readline() == b""
        except (ConnectionError, socket.timeout):
            return True

    def close(self):
        self.f.close()
        self.s.close()
