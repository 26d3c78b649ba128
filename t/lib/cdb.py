"""Read a CDB file (D. J. Bernstein's constant database format).

An independent reader for the tests: it checks the maps adminctl writes
without going through lib/map.c.

    db = cdb.CDB("state/maps/users.cdb")
    db.get(b"alice@example.com")      # value bytes, or None
    db.probes                         # hash slots the last get() looked at
    dict(db.items())                  # every record, in file order
"""
import struct


class Corrupt(Exception):
    pass


def _hash(key):
    h = 5381
    for b in key:
        h = ((h << 5) + h) & 0xffffffff
        h ^= b
    return h


class CDB:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.data = f.read()
        self.path = path
        self.probes = 0
        self._check()

    def _u32pair(self, pos):
        if pos + 8 > len(self.data):
            raise Corrupt("%s: read past the end at %d" % (self.path, pos))
        return struct.unpack_from("<II", self.data, pos)

    def _check(self):
        """The header's tables must end exactly at the end of the file,
        as in a complete CDB; a truncated or half-written one fails."""
        if len(self.data) < 2048:
            raise Corrupt("%s: shorter than a CDB header" % self.path)
        self.tables = [self._u32pair(i * 8) for i in range(256)]
        end = 2048
        first = min(p for p, n in self.tables)
        for pos, n in self.tables:
            if pos < 2048 or pos + 8 * n > len(self.data):
                raise Corrupt("%s: table outside the file" % self.path)
            end = max(end, pos + 8 * n)
        if end != len(self.data):
            raise Corrupt("%s: tables end at %d, file at %d" %
                          (self.path, end, len(self.data)))
        self.records_end = first

    def get(self, key):
        if isinstance(key, str):
            key = key.encode()
        h = _hash(key)
        pos, n = self.tables[h & 255]
        self.probes = 0
        if n == 0:
            return None
        slot = (h >> 8) % n
        for _ in range(n):
            self.probes += 1
            sh, rp = self._u32pair(pos + 8 * slot)
            if rp == 0:
                return None
            if sh == h:
                kl, vl = self._u32pair(rp)
                if self.data[rp + 8:rp + 8 + kl] == key:
                    return self.data[rp + 8 + kl:rp + 8 + kl + vl]
            slot = (slot + 1) % n
        return None

    def items(self):
        pos = 2048
        while pos < self.records_end:
            kl, vl = self._u32pair(pos)
            k = self.data[pos + 8:pos + 8 + kl]
            v = self.data[pos + 8 + kl:pos + 8 + kl + vl]
            yield k, v
            pos += 8 + kl + vl

    def __len__(self):
        return sum(1 for _ in self.items())


def record(value):
    """A "key=value\\n" record as a dict of str."""
    out = {}
    for line in value.decode().split("\n"):
        if line:
            k, _, v = line.partition("=")
            out[k] = v
    return out
