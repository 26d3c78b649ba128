"""A raw client for Tern's ipc framing (lib/ipc.h), written from the wire
format so the tests can send frames no C caller would build.

    c = Conn(inst.path("state", "auth.sock"))     # connects, says hello
    c.send("auth", [("mech", "PLAIN"), ("user", "a@b"), ...])
    typ, fields = c.recv()                         # fields: dict of bytes
    c.close()

Frame: 4-byte big-endian body length, then
    type NUL { name NUL len[4, big-endian] value }*
Each side's first frame is "hello" with version and name.
"""
import socket
import struct

VERSION = 1


def encode(typ, fields):
    """fields: list of (name, value) with value str or bytes."""
    body = typ.encode() + b"\0"
    for name, value in fields:
        if isinstance(value, str):
            value = value.encode()
        body += name.encode() + b"\0" + struct.pack(">I", len(value)) + value
    return struct.pack(">I", len(body)) + body


def decode_body(body):
    typ, rest = body.split(b"\0", 1)
    fields = []
    while rest:
        name, rest = rest.split(b"\0", 1)
        (n,) = struct.unpack(">I", rest[:4])
        fields.append((name.decode(), rest[4:4 + n]))
        rest = rest[4 + n:]
    return typ.decode(), fields


class Closed(Exception):
    pass


class Conn:
    def __init__(self, path, name="pytest", timeout=10, hello=True):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.settimeout(timeout)
        self.s.connect(path)
        if hello:
            self.send("hello", [("version", str(VERSION)), ("name", name)])
            typ, fields = self.recv()
            if typ != "hello":
                raise RuntimeError("expected hello, got " + typ)

    def send_raw(self, data):
        self.s.sendall(data)

    def send(self, typ, fields):
        self.send_raw(encode(typ, fields))

    def _read(self, n):
        out = b""
        while len(out) < n:
            chunk = self.s.recv(n - len(out))
            if not chunk:
                raise Closed("peer closed")
            out += chunk
        return out

    def recv(self):
        """(type, {name: bytes}) of the next frame; the first value of a
        repeated name wins, as with ipc_msg_get()."""
        (n,) = struct.unpack(">I", self._read(4))
        typ, fields = decode_body(self._read(n))
        d = {}
        for k, v in fields:
            d.setdefault(k, v)
        return typ, d

    def closed_by_peer(self, timeout=5):
        """True if the peer closes the connection (EOF or a reset) within
        timeout seconds; whatever it sends first is read and dropped."""
        self.s.settimeout(timeout)
        try:
            while self.s.recv(4096):
                pass
            return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()
