"""Account maps for auth tests, written in the format of lib/accounts.h
with the independent CDB writer (cdbw), and the secrets they hold:

    hash_password("pw")                 # yescrypt, libxcrypt's default cost
    hash_password("pw", "$6$")          # SHA-512-crypt
    cram_secret("pw")                   # as passwd_cram_secret() makes it
    write_maps(dir, domains={...}, users={...}, passwd={...}, cram={...},
               owner=uid)

Hashes come from libxcrypt through ctypes (Python's crypt module knows no
yescrypt and is going away).  The CRAM-MD5 secret needs the MD5 state
after one block, which hashlib does not expose: md5_compress() below is
MD5's compression function (RFC 1321), checked against hashlib.
"""
import ctypes
import ctypes.util
import math
import os
import struct

import cdbw

_lc = ctypes.CDLL(ctypes.util.find_library("crypt") or "libcrypt.so.1")
_lc.crypt_gensalt.restype = ctypes.c_char_p
_lc.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong,
                              ctypes.c_char_p, ctypes.c_int]
_lc.crypt.restype = ctypes.c_char_p
_lc.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]


def hash_password(password, prefix="$y$", cost=0):
    """A crypt(3) hash of password with a fresh salt."""
    setting = _lc.crypt_gensalt(prefix.encode(), cost, None, 0)
    if not setting or setting.startswith(b"*"):
        raise ValueError("crypt_gensalt refused %s cost %d" % (prefix, cost))
    h = _lc.crypt(password.encode(), setting)
    if not h or h.startswith(b"*"):
        raise ValueError("crypt failed")
    return h.decode()


# --- MD5 compression, for CRAM-MD5 secrets ---------------------------------
_S = [7, 12, 17, 22] * 4 + [5, 9, 14, 20] * 4 + [4, 11, 16, 23] * 4 + \
     [6, 10, 15, 21] * 4
_K = [int(abs(math.sin(i + 1)) * 2 ** 32) & 0xffffffff for i in range(64)]
MD5_INIT = (0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476)
M32 = 0xffffffff


def md5_compress(state, block):
    """The MD5 state (a, b, c, d) after compressing one 64-byte block."""
    a, b, c, d = state
    m = struct.unpack("<16I", block)
    for i in range(64):
        if i < 16:
            f, g = (b & c) | (~b & d), i
        elif i < 32:
            f, g = (d & b) | (~d & c), (5 * i + 1) % 16
        elif i < 48:
            f, g = b ^ c ^ d, (3 * i + 5) % 16
        else:
            f, g = c ^ (b | ~d), (7 * i) % 16
        f = (f + a + _K[i] + m[g]) & M32
        a, d, c = d, c, b
        b = (b + (((f << _S[i]) | (f >> (32 - _S[i]))) & M32)) & M32
    return tuple((x + y) & M32 for x, y in zip(state, (a, b, c, d)))


def md5_selftest():
    """md5_compress agrees with hashlib on a one-block message."""
    import hashlib
    msg = b"abc"
    block = msg + b"\x80" + b"\0" * (55 - len(msg)) + \
        struct.pack("<Q", 8 * len(msg))
    st = md5_compress(MD5_INIT, block)
    return struct.pack("<4I", *st) == hashlib.md5(msg).digest()


def cram_secret(password):
    """HMAC-MD5 outer then inner state after the key block, each word
    little-endian, 64 hex digits (Dovecot's CRAM-MD5 layout)."""
    import hashlib
    key = password.encode()
    if len(key) > 64:
        key = hashlib.md5(key).digest()
    key = key.ljust(64, b"\0")
    outer = md5_compress(MD5_INIT, bytes(k ^ 0x5c for k in key))
    inner = md5_compress(MD5_INIT, bytes(k ^ 0x36 for k in key))
    return (struct.pack("<4I", *outer) + struct.pack("<4I", *inner)).hex()


# --- the maps ----------------------------------------------------------------
def _record(fields):
    return "".join("%s=%s\n" % kv for kv in fields.items()).encode()


def write_maps(mapdir, domains, users, passwd, cram, owner=None,
               serial="1"):
    """domains: name -> dict of domain.conf keys, or the primary's name
    (a str) for a domain alias; users: address -> dict; passwd, cram:
    key -> secret.  Secret maps get mode 0600 and, given owner (uid,
    gid), that owner, as adminctl rebuild gives them to auth_user."""
    os.makedirs(mapdir, exist_ok=True)
    d = [(b"@serial", serial.encode())]
    for name, rec in domains.items():
        if isinstance(rec, str):
            d.append((name.encode(),
                      ("kind=alias\nprimary=%s\n" % rec).encode()))
        else:
            d.append((name.encode(), b"kind=domain\n" + _record(rec)))
    maps = {
        "domains.cdb": d,
        "users.cdb": [(k.encode(), _record(v)) for k, v in users.items()],
        "aliases.cdb": [],
        "passwd.cdb": [(k.encode(), v.encode() + b"\0")
                       for k, v in passwd.items()],
        "cram.cdb": [(k.encode(), v.encode() + b"\0")
                     for k, v in cram.items()],
    }
    for name, items in maps.items():
        path = os.path.join(mapdir, name)
        cdbw.write(path, items)
        secret = name in ("passwd.cdb", "cram.cdb")
        os.chmod(path, 0o600 if secret else 0o644)
        if owner is not None:
            os.chown(path, *owner)
