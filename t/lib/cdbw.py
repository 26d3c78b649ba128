"""Write a CDB file (D. J. Bernstein's constant database format).

The tests build maps with this independent writer so lib/map.c's reader
is checked against a second implementation, not only its own writer.
"""
import os
import struct


def _hash(key):
    h = 5381
    for b in key:
        h = ((h << 5) + h) & 0xffffffff
        h ^= b
    return h


def write(path, items):
    """items: iterable of (key bytes, value bytes).  Atomic replace."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    tables = [[] for _ in range(256)]
    with open(tmp, "wb") as f:
        f.write(b"\0" * 2048)
        pos = 2048
        for k, v in items:
            h = _hash(k)
            tables[h & 255].append((h, pos))
            f.write(struct.pack("<II", len(k), len(v)) + k + v)
            pos += 8 + len(k) + len(v)
        header = []
        for t in tables:
            n = len(t) * 2
            slots = [(0, 0)] * n
            for h, p in t:
                i = (h >> 8) % n
                while slots[i][1] != 0:
                    i = (i + 1) % n
                slots[i] = (h, p)
            header.append((pos, n))
            for h, p in slots:
                f.write(struct.pack("<II", h, p))
            pos += 8 * n
        f.seek(0)
        for p, n in header:
            f.write(struct.pack("<II", p, n))
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)
