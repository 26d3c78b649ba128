#!/usr/bin/env python3
# The auth daemon under master: PLAIN, LOGIN and CRAM-MD5 with right and
# wrong passwords (yescrypt and SHA-512-crypt hashes), domain aliases,
# case, disabled users and domains, unknown users and domains, the admin
# login, malformed SASL input through authprobe (the code path smtpd
# uses), malformed requests through a raw ipc client, a slow hash that
# holds up only its own worker, the ip on every failure line, maps that
# are broken, then fixed and reloaded, and a caller that gets TEMPFAIL at
# once when auth is down or silent.
import base64
import hashlib
import hmac
import os
import pwd
import select
import signal
import socket
import subprocess
import sys
import time
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, diag, done          # noqa: E402
from tern import Instance, BIN, BUILD, wait_for  # noqa: E402
import authmaps                                  # noqa: E402
import ipc                                       # noqa: E402

PROBE = os.path.join(BUILD, "t", "fixture", "authprobe")

inst = Instance(services={"auth": {"program": os.path.join(BIN, "auth"),
                                   "listen": ["unix:auth.sock"],
                                   "workers": 2}})
SOCK = inst.path("state", "auth.sock")
MAPS = inst.path("state", "maps")
# As root the daemons run as the mail user; the secret maps are theirs.
OWNER = None
if os.geteuid() == 0:
    pw = pwd.getpwnam(inst.conf["mail_user"])
    OWNER = (pw.pw_uid, pw.pw_gid)

PW = {"alice": "Alice-pw1", "bob": "bob secret 2", "admin": "root-of-it-3"}
SLOW_HASH = authmaps.hash_password("slow-pw", "$y$", 8)
ok(authmaps.md5_selftest(), "the test's MD5 compression agrees with hashlib")


def maps(alice_pw=PW["alice"]):
    h = authmaps.hash_password
    authmaps.write_maps(
        MAPS,
        domains={"example.com": {"disabled": "no"},
                 "example.net": "example.com",       # domain alias
                 "off.example": {"disabled": "yes"}},
        users={"alice@example.com": {"name": "Alice", "disabled": "0"},
               "bob@example.com": {"name": "Bob", "disabled": "0"},
               "carol@example.com": {"name": "Carol", "disabled": "1"},
               "dave@off.example": {"name": "Dave", "disabled": "0"},
               "nopw@example.com": {"disabled": "0"},
               "broken@example.com": {"disabled": "0"},
               "slow@example.com": {"disabled": "0"}},
        passwd={"alice@example.com": h(alice_pw),
                "bob@example.com": h(PW["bob"], "$6$"),
                "carol@example.com": h("carol-pw", "$6$"),
                "dave@off.example": h("dave-pw", "$6$"),
                "broken@example.com": "$6$not-a-real-hash",
                # yescrypt cost 8: about half a second of one core
                "slow@example.com": SLOW_HASH,
                "@admin:admin": h(PW["admin"], "$6$")},
        cram={"alice@example.com": authmaps.cram_secret(alice_pw),
              "carol@example.com": authmaps.cram_secret("carol-pw")},
        owner=OWNER)


def b64(s):
    if isinstance(s, str):
        s = s.encode()
    return base64.b64encode(s).decode()


def probe(mech, service, ip, *msgs, timeout=None):
    args = [PROBE]
    if timeout is not None:
        args += ["-t", str(timeout)]
    p = subprocess.run(args + [SOCK, mech, service, ip] + list(msgs),
                       capture_output=True, text=True, timeout=30,
                       env=inst.env())
    if p.stderr:
        diag("authprobe stderr: " + p.stderr.strip())
    return p.stdout.strip()


def plain(user, password, ip="192.0.2.1", service="smtp", authzid=""):
    return probe("PLAIN", service, ip,
                 b64("%s\0%s\0%s" % (authzid, user, password)))


def login(user, password, ip="192.0.2.1", service="imap"):
    return probe("LOGIN", service, ip, b64(user), b64(password))


CHALLENGE = "<1896.697170952@mail.example.com>"


def cram(user, password, ip="192.0.2.1", service="pop"):
    d = hmac.new(password.encode(), CHALLENGE.encode(), hashlib.md5)
    return probe("CRAM-MD5", service, ip, CHALLENGE,
                 b64("%s %s" % (user, d.hexdigest())))


def raw_auth(conn, **fields):
    """One request on a raw ipc connection; None values are left out."""
    base = {"mech": "PLAIN", "user": "alice@example.com",
            "password": PW["alice"], "service": "smtp", "ip": "192.0.2.9",
            "session": "rawtest"}
    base.update(fields)
    conn.send("auth", [(k, v) for k, v in base.items() if v is not None])
    return conn.recv()


with inst:
    # Maps that cannot be read: every login is a temporary failure.
    os.makedirs(MAPS)
    with open(os.path.join(MAPS, "passwd.cdb"), "wb") as f:
        f.write(b"this is not a cdb")
    inst.start()
    r = plain("alice@example.com", PW["alice"], ip="192.0.2.200")
    ok(r.startswith("TEMPFAIL "), "unreadable maps: TEMPFAIL, not a "
       "bad password: " + r)
    wait_for(lambda: "cannot open the maps" in inst.log("auth"),
             what="the exception line")

    maps()
    inst.signal(signal.SIGHUP)
    wait_for(lambda: plain("alice@example.com", PW["alice"]).startswith("OK"),
             what="the fixed maps after SIGHUP")

    # --- each mechanism, right and wrong ----------------------------------
    is_(plain("alice@example.com", PW["alice"]), "OK alice@example.com",
        "PLAIN, yescrypt hash, right password")
    is_(plain("alice@example.com", "wrong", ip="192.0.2.10"),
        "FAIL bad password", "PLAIN, wrong password")
    is_(plain("bob@example.com", PW["bob"]), "OK bob@example.com",
        "PLAIN, SHA-512-crypt hash, right password")
    is_(plain("bob@example.com", PW["alice"], ip="192.0.2.11"),
        "FAIL bad password", "PLAIN, SHA-512-crypt, wrong password")
    is_(login("alice@example.com", PW["alice"]), "OK alice@example.com",
        "LOGIN, right password")
    is_(login("alice@example.com", PW["alice"] + "x", ip="192.0.2.12"),
        "FAIL bad password", "LOGIN, wrong password")
    is_(cram("alice@example.com", PW["alice"]), "OK alice@example.com",
        "CRAM-MD5, right password")
    is_(cram("alice@example.com", "guess", ip="192.0.2.13"),
        "FAIL bad password", "CRAM-MD5, wrong password")
    is_(cram("bob@example.com", PW["bob"], ip="192.0.2.14"),
        "FAIL no CRAM-MD5 secret", "CRAM-MD5 for a user without a secret")
    is_(plain("alice@example.com", PW["alice"], authzid="alice@example.com"),
        "OK alice@example.com", "PLAIN with authzid = authcid")

    # --- login names -------------------------------------------------------
    is_(plain("alice@example.net", PW["alice"]), "OK alice@example.com",
        "a user in a domain alias, canonical name back")
    is_(cram("alice@EXAMPLE.NET", PW["alice"]), "OK alice@example.com",
        "CRAM-MD5 through the domain alias, any case")
    is_(plain("ALICE@Example.COM", PW["alice"]), "OK alice@example.com",
        "local part and domain in any case")
    is_(login("Alice@example.net", PW["alice"]), "OK alice@example.com",
        "LOGIN, mixed case through the alias")
    is_(plain("carol@example.com", "carol-pw", ip="192.0.2.15"),
        "FAIL user disabled", "disabled user, right password")
    is_(cram("carol@example.com", "carol-pw", ip="192.0.2.16"),
        "FAIL user disabled", "disabled user, CRAM-MD5")
    is_(plain("dave@off.example", "dave-pw", ip="192.0.2.17"),
        "FAIL domain disabled", "user of a disabled domain")
    is_(plain("nobody@example.com", "x", ip="192.0.2.18"),
        "FAIL unknown user", "unknown user")
    is_(plain("alice@nowhere.example", PW["alice"], ip="192.0.2.19"),
        "FAIL unknown user", "unknown domain")
    is_(plain("alice", PW["alice"], ip="192.0.2.20"), "FAIL unknown user",
        "a bare local part")
    is_(plain("alice@", PW["alice"], ip="192.0.2.21"), "FAIL unknown user",
        "an empty domain")
    is_(plain("nopw@example.com", "x", ip="192.0.2.22"), "FAIL no password",
        "a user without a password")
    r = plain("broken@example.com", "x", ip="192.0.2.23")
    is_(r, "TEMPFAIL unusable password hash",
        "a broken stored hash is our failure")

    # --- the administrator -------------------------------------------------
    is_(plain("admin", PW["admin"], service="admin"), "OK admin",
        "admin_user on service admin")
    is_(login("admin", "nope", service="admin", ip="192.0.2.24"),
        "FAIL bad password", "admin, wrong password")
    is_(plain("admin", PW["admin"], service="smtp", ip="192.0.2.25"),
        "FAIL unknown user", "admin_user on a mail service")
    is_(plain("alice@example.com", PW["alice"], service="admin",
              ip="192.0.2.26"),
        "FAIL unknown user", "a mail user on service admin")

    # --- malformed SASL, refused before the daemon is asked ---------------
    def fails(r):
        return r.startswith("FAIL ")
    r = probe("PLAIN", "smtp", "192.0.2.30", "!!!!")
    ok(fails(r) and "base64" in r, "PLAIN, bad base64: " + r)
    r = probe("PLAIN", "smtp", "192.0.2.30", "YWJj=")
    ok(fails(r) and "base64" in r, "base64 of a bad length: " + r)
    r = probe("PLAIN", "smtp", "192.0.2.30", b64("alice@example.com" +
                                                 PW["alice"]))
    ok(fails(r) and "NUL" in r, "PLAIN without NULs: " + r)
    r = probe("PLAIN", "smtp", "192.0.2.30", b64("alice@example.com\0pw"))
    ok(fails(r) and "NUL" in r, "PLAIN with one NUL: " + r)
    r = probe("PLAIN", "smtp", "192.0.2.30", b64("\0alice@example.com\0pw\0"))
    ok(fails(r) and "more than two" in r, "PLAIN with three NULs: " + r)
    r = plain("alice@example.com", "")
    ok(fails(r) and "empty" in r, "PLAIN, empty password: " + r)
    r = plain("", PW["alice"])
    ok(fails(r) and "empty" in r, "PLAIN, empty user: " + r)
    r = probe("PLAIN", "smtp", "192.0.2.30", b64("\0" + "a" * 3000 + "\0pw"))
    ok(fails(r) and "too long" in r, "huge PLAIN payload: " + r)
    r = plain("alice@example.com", "p" * 300)
    ok(fails(r) and "255" in r, "PLAIN password over 255 octets: " + r)
    r = plain("alice@example.com", PW["alice"], authzid="bob@example.com")
    is_(r, "FAIL proxy login not allowed", "authzid other than authcid")
    r = probe("LOGIN", "imap", "192.0.2.30", "=", b64("pw"))
    ok(fails(r) and "empty" in r, "LOGIN, empty user: " + r)
    r = probe("LOGIN", "imap", "192.0.2.30", b64("a\0b@example.com"), b64("x"))
    ok(fails(r) and "NUL" in r, "LOGIN, NUL in the user: " + r)
    r = probe("LOGIN", "imap", "192.0.2.30", b64("alice@example.com"), "%%%%")
    ok(fails(r) and "base64" in r, "LOGIN, bad base64 password: " + r)
    r = probe("CRAM-MD5", "pop", "192.0.2.30", CHALLENGE, b64("alice"))
    ok(fails(r) and "space" in r, "CRAM-MD5 without a digest: " + r)
    r = probe("CRAM-MD5", "pop", "192.0.2.30", CHALLENGE,
              b64("alice@example.com " + "z" * 32))
    ok(fails(r) and "hex" in r, "CRAM-MD5 digest not hex: " + r)
    r = probe("DIGEST-MD5", "smtp", "192.0.2.30", b64("x"))
    ok(fails(r), "an unsupported mechanism: " + r)

    # --- malformed requests on a raw ipc connection ------------------------
    c = ipc.Conn(SOCK)
    is_(raw_auth(c), ("ok", {"user": b"alice@example.com"}),
        "raw client: a good request")
    for name in ("mech", "user", "service", "ip", "session", "password"):
        typ, f = raw_auth(c, **{name: None})
        ok(typ == "fail" and f.get("reason") == b"malformed request" and
           f.get("temp") == b"0", "missing %s: malformed request" % name)
    typ, f = raw_auth(c, mech="CRAM-MD5", challenge=None, digest="0" * 32)
    is_(f.get("reason"), b"malformed request", "CRAM-MD5 without challenge")
    typ, f = raw_auth(c, mech="CRAM-MD5", challenge=CHALLENGE,
                      digest="xyz")
    is_(f.get("reason"), b"malformed request", "CRAM-MD5 digest not hex")
    typ, f = raw_auth(c, mech="SCRAM-SHA-1")
    is_(f.get("reason"), b"malformed request", "unknown mech")
    typ, f = raw_auth(c, service="finger")
    is_(f.get("reason"), b"malformed request", "unknown service")
    typ, f = raw_auth(c, user="a" * 1025 + "@example.com")
    is_(f.get("reason"), b"malformed request", "oversized field")
    typ, f = raw_auth(c, user="a" * 500 + "@example.com", ip="192.0.2.41")
    is_(f.get("reason"), b"unknown user", "a long user name is just unknown")
    typ, f = raw_auth(c, user="evil\r\n2026 fake\x1b[2J@example.com",
                      ip="192.0.2.42")
    is_(f.get("reason"), b"unknown user", "control characters in the user")
    typ, f = raw_auth(c, password=b"Alice\0pw1")
    is_(f.get("reason"), b"malformed request", "NUL inside a field")
    c.send("frobnicate", [("x", "y")])
    is_(c.recv()[1].get("reason"), b"malformed request",
        "unknown request type")
    typ, f = raw_auth(c, mech="login", ip="192.0.2.40")
    is_((typ, f.get("user")), ("ok", b"alice@example.com"),
        "the connection is still usable after all that (mech any case)")
    c.send_raw(b"\0\1\0\0" + b"x" * 64)         # says 65536 bytes follow
    ok(c.closed_by_peer(), "an oversized frame closes the connection")
    c.close()
    c = ipc.Conn(SOCK)
    c.send_raw(b"\0\0\0\4abcd")
    ok(c.closed_by_peer(), "a malformed frame closes the connection")
    c.close()
    c = ipc.Conn(SOCK, hello=False)
    c.send("auth", [("mech", "PLAIN")])
    ok(c.closed_by_peer(), "a request before the hello closes it")
    c.close()

    # --- the pool: a slow hash holds up its own worker only ----------------
    # A new fast login every 20 ms until the slow one is answered: the
    # first may land on the busy worker, the next ones cannot.
    slow = ipc.Conn(SOCK)
    slow.send("auth", [("mech", "PLAIN"), ("user", "slow@example.com"),
                       ("password", "slow-pw"), ("service", "imap"),
                       ("ip", "192.0.2.60"), ("session", "slow")])
    fast, fast_ok, slow_reply = [], 0, None
    deadline = time.monotonic() + 30
    next_fast = time.monotonic()
    while slow_reply is None and time.monotonic() < deadline:
        if time.monotonic() >= next_fast and len(fast) < 20:
            next_fast = time.monotonic() + 0.02
            c = ipc.Conn(SOCK)
            c.send("auth", [("mech", "PLAIN"), ("user", "bob@example.com"),
                            ("password", PW["bob"]), ("service", "smtp"),
                            ("ip", "192.0.2.61"), ("session", "fast")])
            fast.append(c)
        ready, _, _ = select.select([slow.s] + [c.s for c in fast], [], [],
                                    max(0.001, next_fast - time.monotonic()))
        for c in list(fast):
            if c.s in ready:
                if c.recv()[0] == "ok":
                    fast_ok += 1
                c.close()
                fast.remove(c)
        if slow.s in ready:
            slow_reply = slow.recv()
    ok(fast_ok >= 1, "logins are answered while another worker hashes "
       "slowly (%d before the slow one)" % fast_ok)
    is_(slow_reply, ("ok", {"user": b"slow@example.com"}),
        "and the slow login gets its answer")
    for c in fast:
        c.close()
    slow.close()

    # --- the log -------------------------------------------------------------
    def failure_lines():
        return [ln for ln in inst.log("auth").splitlines()
                if "login failed" in ln]
    # Each line is written before the reply is sent: no wait needed.
    lines = failure_lines()
    want = ["192.0.2.%d" % n for n in list(range(10, 27)) + [200]]
    missing = [ip for ip in want
               if not any(("ip=%s " % ip) in ln for ln in lines)]
    ok(not missing, "every refused login is logged with its ip (missing: "
       "%s)" % missing)
    ok(all(" ip=" in ln for ln in lines), "every failure line has an ip")
    ok(any("ip=192.0.2.9 " in ln and "malformed request" in ln
           for ln in lines), "malformed requests are logged with their ip")
    ok(any("user=<carol@example.com>: user disabled" in ln for ln in lines),
       "the line names the user and the reason")
    log = inst.log("auth")
    ok(not any(p in log for p in list(PW.values()) + ["carol-pw"]),
       "no password ever reaches the log")
    ok("user=<" + "a" * 128 + "...>" in log and "a" * 129 not in log,
       "long user names are cut in the log")
    ok("user=<evil??2026 fake?[2J@example.com>" in log,
       "control characters in a user name are replaced in the log")
    ok("unusable password hash for broken@example.com" in log,
       "the broken hash is an exception line naming the user")

    # --- a new password after a rebuild (SIGHUP) ---------------------------
    maps(alice_pw="New-alice-4")
    inst.signal(signal.SIGHUP)
    wait_for(lambda: plain("alice@example.com", "New-alice-4") ==
             "OK alice@example.com", what="the new password")
    is_(plain("alice@example.com", PW["alice"]), "FAIL bad password",
        "the old password no longer works")
    is_(cram("alice@example.com", "New-alice-4"), "OK alice@example.com",
        "the new CRAM-MD5 secret too")
    rc, out, err = inst.adminctl("reload")
    is_(rc, 0, "adminctl reload")
    is_(login("alice@example.net", "New-alice-4"), "OK alice@example.com",
        "still answering after adminctl reload")

    # --- the daemon down or silent: TEMPFAIL, never a hang -----------------
    rc, out, err = inst.adminctl("service", "stop", "auth")
    is_(rc, 0, "auth service stopped")
    wait_for(lambda: inst.status()["auth"]["running"] == 0,
             what="auth to stop")
    t0 = time.monotonic()
    r = plain("alice@example.com", "New-alice-4")
    ok(r.startswith("TEMPFAIL "), "auth stopped: TEMPFAIL: " + r)
    ok(time.monotonic() - t0 < 5, "and at once")

    silent = inst.path("silent.sock")
    ls = socket.socket(socket.AF_UNIX)
    ls.bind(silent)
    ls.listen(8)
    t0 = time.monotonic()
    p = subprocess.run([PROBE, "-t", "300", silent, "PLAIN", "smtp",
                        "192.0.2.50", b64("\0a@example.com\0pw")],
                       capture_output=True, text=True, timeout=30)
    ok(p.stdout.startswith("TEMPFAIL ") and "in time" in p.stdout,
       "a daemon that never answers: TEMPFAIL: " + p.stdout.strip())
    ok(time.monotonic() - t0 < 5, "after the timeout, not a hang")
    ls.close()
done()
