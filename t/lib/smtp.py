"""An instance with smtpd for the SMTP tests, raw clients, a spool reader.

    inst = smtp.instance(conf={"smtp_max_hops": "3"})
    with inst:
        inst.start()
        c = smtp.Client(inst.port("smtp"))        # reads the greeting
        c.cmd("EHLO client.test")                 # -> (code, [lines])
        ...
        msgs = smtp.spool(inst)                   # committed messages

Services: smtp (port 25 role, STARTTLS), submission (-s, STARTTLS),
smtps (-s, implicit TLS), auth (state/auth.sock).  A self-signed
certificate for "localhost", smtp_reverse_dns off, account maps with
example.com (alice, bob) written with authmaps.  Nothing sleeps: every
wait polls with a deadline.
"""
import os
import pwd
import socket
import ssl
import subprocess

import authmaps
from tern import Instance, BIN, wait_for

HOSTNAME = "mx.test.example"
USERS = {"alice@example.com": "Alice-pw1", "bob@example.com": "Bob-pw22"}


def make_cert(d, name="localhost"):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-subj", "/CN=" + name, "-addext",
                    "subjectAltName=DNS:%s,IP:127.0.0.1" % name, "-days", "2",
                    "-keyout", os.path.join(d, "key.pem"),
                    "-out", os.path.join(d, "cert.pem")],
                   check=True, capture_output=True)


def smtpd_services(smtp_workers=1, extra=None):
    prog = os.path.join(BIN, "smtpd")
    s = {
        "smtp": {"program": prog, "tls": "starttls",
                 "workers": smtp_workers},
        "submission": {"program": prog, "args": "-s", "tls": "starttls"},
        "smtps": {"program": prog, "args": "-s", "tls": "implicit"},
        "auth": {"program": os.path.join(BIN, "auth"),
                 "listen": ["unix:auth.sock"]},
    }
    s.update(extra or {})
    return s


def write_maps(inst, users=USERS, aliases=None):
    owner = None
    if os.geteuid() == 0:
        pw = pwd.getpwnam(inst.conf["mail_user"])
        owner = (pw.pw_uid, pw.pw_gid)
    authmaps.write_maps(
        inst.path("state", "maps"),
        domains={"example.com": {"disabled": "no"},
                 "example.net": "example.com"},
        users={u: {"name": u.split("@")[0], "disabled": "0"}
               for u in users},
        passwd={u: authmaps.hash_password(p, "$6$") for u, p in
                users.items()},
        cram={u: authmaps.cram_secret(p) for u, p in users.items()},
        owner=owner)


def instance(conf=None, services=None, smtp_workers=1):
    c = {"tls_cert_file": "cert.pem", "tls_key_file": "key.pem",
         "smtp_reverse_dns": "no", "hostname": HOSTNAME,
         "smtp_auth_mechanisms": "PLAIN LOGIN CRAM-MD5",
         "log_level_smtp": "detailed"}
    c.update(conf or {})
    inst = Instance(services=services or smtpd_services(smtp_workers),
                    conf=c)
    make_cert(inst.dir)
    os.makedirs(inst.path("state"), exist_ok=True)
    write_maps(inst)
    return inst


def client_ctx(inst):
    return ssl.create_default_context(cafile=inst.path("cert.pem"))


# --- a raw client --------------------------------------------------------
class Client:
    """SMTP over a socket, bytes in and out, replies as (code, lines)."""

    def __init__(self, port, tls_ctx=None, timeout=20, greet=True,
                 source=None):
        self.s = socket.create_connection(("127.0.0.1", port),
                                          timeout=timeout,
                                          source_address=source)
        if tls_ctx is not None:
            self.s = tls_ctx.wrap_socket(self.s, server_hostname="localhost")
        self.f = self.s.makefile("rb")
        self.greeting = self.reply() if greet else None

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.s.sendall(data)

    def line(self):
        ln = self.f.readline()
        if not ln:
            raise EOFError("server closed the connection")
        return ln.decode("utf-8", "replace").rstrip("\r\n")

    def reply(self):
        """One reply: (code, [text of each line])."""
        lines = []
        while True:
            ln = self.line()
            lines.append(ln[4:])
            if len(ln) < 4 or ln[3] != "-":
                return int(ln[:3]), lines

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def starttls(self, ctx):
        code, _ = self.cmd("STARTTLS")
        if code != 220:
            raise RuntimeError("STARTTLS refused: %d" % code)
        self.s = ctx.wrap_socket(self.s, server_hostname="localhost")
        self.f = self.s.makefile("rb")

    def closed(self, timeout=10):
        """True once the server has closed (EOF), reading what is left."""
        self.s.settimeout(timeout)
        try:
            while self.f.readline():
                pass
            return True
        except (OSError, ssl.SSLError):
            return True

    def close(self):
        try:
            self.f.close()
            self.s.close()
        except OSError:
            pass


def ehlo(port, name="client.test", **kw):
    c = Client(port, **kw)
    code, lines = c.cmd("EHLO " + name)
    assert code == 250, (code, lines)
    return c


# --- the spool -------------------------------------------------------------
def xtext_decode(s):
    """lib/spool's encoding of an address that is not one token."""
    import re
    return re.sub(r"\+([0-9A-Fa-f]{2})", lambda m: chr(int(m.group(1), 16)),
                  s)


class Message:
    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            data = f.read()
        head, self.body = data.split(b"\n\n", 1)
        lines = head.decode("utf-8").split("\n")
        self.magic = lines[0]
        self.rcpts = []
        self.params = {}
        for ln in lines[1:]:
            key, _, rest = ln.partition(" ")
            if key == "id":
                self.id = rest
            elif key == "time":
                self.time = int(rest)
            elif key == "sender":
                self.sender = rest
            elif key == "senderx":
                self.sender = xtext_decode(rest)
            elif key in ("rcpt", "rcptx"):
                parts = rest.split(" ")
                r = {"addr": parts[0] if key == "rcpt" else
                     xtext_decode(parts[0])}
                for p in parts[1:]:
                    k, _, v = p.partition("=")
                    r[k] = v
                self.rcpts.append(r)
            elif key == "param":
                k, _, v = rest.partition("=")
                self.params[k] = v

    def headers(self):
        """The header section of the message as text."""
        return self.body.split(b"\r\n\r\n", 1)[0].decode("utf-8", "replace")

    def content(self):
        """The message without our Received header."""
        b = self.body
        assert b.startswith(b"Received: ")
        # Our header is the first one; its continuation lines start
        # with a tab.
        lines = b.split(b"\r\n")
        i = 1
        while i < len(lines) and lines[i].startswith(b"\t"):
            i += 1
        return b"\r\n".join(lines[i:])


def spool_files(inst, sub="new"):
    out = []
    root = inst.path("spool")
    if not os.path.isdir(root):
        return out
    for n in sorted(os.listdir(root)):
        d = os.path.join(root, n, sub)
        if os.path.isdir(d):
            out += [os.path.join(d, f) for f in sorted(os.listdir(d))]
    return out


def spool(inst):
    """Committed messages, by queue id."""
    return {m.id: m for m in (Message(p) for p in spool_files(inst))}


def spool_tmp(inst):
    return spool_files(inst, "tmp")


def queued_id(reply_lines):
    """The queue id from '250 2.0.0 Ok: queued as ID'."""
    text = reply_lines[-1]
    return text.rsplit(" ", 1)[-1]


def send_message(c, sender, rcpts, data, expect=250):
    """MAIL, RCPT..., DATA, the data (dot-stuffed by the caller's choice:
    data is sent as given, then CRLF.CRLF).  Returns the final reply."""
    code, lines = c.cmd("MAIL FROM:<%s>" % sender)
    assert code == 250, (code, lines)
    for r in rcpts:
        code, lines = c.cmd("RCPT TO:<%s>" % r)
        assert code == 250, (code, lines)
    code, lines = c.cmd("DATA")
    assert code == 354, (code, lines)
    if isinstance(data, str):
        data = data.encode()
    c.send(data + b"\r\n.\r\n")
    return c.reply()


def wait_log(inst, text, name="smtp", timeout=10):
    return wait_for(lambda: text in inst.log(name), timeout=timeout,
                    what="log line %r" % text)


# --- a stand-in for the queue manager's socket ------------------------------
class FakeQueue:
    """Listens on state/queue.sock like the queue manager would, answers
    the ipc hello and keeps every "new" frame: .frames is a list of
    {name: str} dicts.  Runs in a thread; stop() ends it."""

    def __init__(self, inst):
        import threading
        self.path = inst.path("state", "queue.sock")
        self.frames = []
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(self.path)
        os.chmod(self.path, 0o666)
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.running = True
        self.t = threading.Thread(target=self._run, daemon=True)
        self.t.start()

    def _serve(self, conn):
        import ipc
        import struct
        conn.settimeout(0.2)
        buf = b""
        conn.sendall(ipc.encode("hello", [("version", "1"),
                                          ("name", "queue")]))
        while self.running:
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                return
            buf += chunk
            while len(buf) >= 4:
                (n,) = struct.unpack(">I", buf[:4])
                if len(buf) < 4 + n:
                    break
                typ, fields = ipc.decode_body(buf[4:4 + n])
                buf = buf[4 + n:]
                if typ != "hello":
                    d = {k: v.decode() for k, v in fields}
                    d["type"] = typ
                    self.frames.append(d)

    def _run(self):
        import threading
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,),
                             daemon=True).start()

    def stop(self):
        self.running = False
        self.t.join(5)
        self.sock.close()
