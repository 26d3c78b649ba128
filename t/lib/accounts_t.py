"""Helpers for the accounts_*.t tests: a config tree run by adminctl.

    tr = Tree()                                 # temp instance, not started
    rc, out, err = tr.run("domain", "add", "example.com")
    tr.add_user("alice@example.com", "Secret123")
    tr.write("domains/example.com/aliases", "sales: alice\\n")
    tr.maps()["users"].get("alice@example.com")
    tr.cleanup()                                # fails on sanitizer reports
"""
import crypt as _crypt          # noqa: deprecated in 3.11, still present
import os
import subprocess
import warnings

from tern import Instance, BIN
import cdb

warnings.filterwarnings("ignore", category=DeprecationWarning)

MAPS = ("domains", "users", "aliases", "passwd", "cram")


def line1(text):
    """The first line of a message, for a TAP test name."""
    lines = text.strip().splitlines()
    return lines[0] if lines else ""


def sha512(password):
    return _crypt.crypt(password, _crypt.mksalt(_crypt.METHOD_SHA512))


def verify(password, hash_):
    return _crypt.crypt(password, hash_) == hash_


class Tree:
    def __init__(self, conf=None, services=None):
        c = {"auth_user": "nobody"}
        c.update(conf or {})
        self.inst = Instance(services=services, conf=c)
        self.dir = self.inst.dir

    def path(self, *p):
        return self.inst.path(*p)

    def run(self, *args, input=None, timeout=60):
        p = subprocess.run([os.path.join(BIN, "adminctl"), "-c", self.dir] +
                           list(args), input=input, capture_output=True,
                           text=True, timeout=timeout, env=self.inst.env())
        return p.returncode, p.stdout, p.stderr

    def add_user(self, addr, password, *kv):
        return self.run("user", "add", addr, *kv, "--password-stdin",
                        input=password + "\n")

    def read(self, rel):
        with open(self.path(rel)) as f:
            return f.read()

    def write(self, rel, text):
        p = self.path(rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)

    def map_path(self, name):
        return self.path("state", "maps", name + ".cdb")

    def maps(self):
        return {m: cdb.CDB(self.map_path(m)) for m in MAPS}

    def map_bytes(self):
        """Every map file's bytes and inode, to prove nothing changed."""
        out = {}
        for m in MAPS:
            p = self.map_path(m)
            if os.path.exists(p):
                st = os.stat(p)
                with open(p, "rb") as f:
                    out[m] = (st.st_ino, st.st_mtime_ns, f.read())
        return out

    def cleanup(self):
        self.inst.cleanup()
