#!/usr/bin/env python3
# Passwords: the policy names the rule a password breaks; hashes are
# yescrypt (or SHA-512-crypt) and verify with crypt(3); passwd.cdb and
# cram.cdb are 0600 and, when rebuilt as root, belong to auth_user; the
# system administrator's password goes through the same path.
import os
import stat
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, diag, done                 # noqa: E402
from accounts_t import Tree, verify, line1          # noqa: E402
import cdb                                           # noqa: E402

tr = Tree(conf={
    "password_min_length": "10", "password_require_capital": "yes",
    "password_require_lower": "yes", "password_require_symbol": "yes",
    "admin_user": "root",
})
try:
    rc, out, err = tr.run("domain", "add", "example.com",
                          "auth_cram_md5=yes")
    is_(rc, 0, "domain add: " + line1(err))
    rules = [
        ("Sh0rt!x", "at least 10 characters"),
        ("NoNumbers!!x", "must contain a number"),
        ("nocapital1!", "must contain a capital letter"),
        ("NOLOWER123!", "must contain a lower case letter"),
        ("NoSymbol1234", "must contain a symbol"),
        ("AL1CE@example.COM", "must not be the user name"),
    ]
    for pw, rule in rules:
        rc, out, err = tr.add_user("al1ce@example.com", pw)
        is_(rc, 1, "policy: %r refused" % pw)
        ok("password refused: " in err and rule in err,
           "and the rule named: " + line1(err))
    ok("al1ce" not in tr.read("domains/example.com/users"),
       "nothing written for a refused password")
    rc, out, err = tr.add_user("alice@example.com", "Good-Pass-123")
    is_(rc, 0, "a password keeping every rule: " + line1(err))
    rc, out, err = tr.run("user", "passwd", "alice@example.com",
                          "--password-stdin", input="weak\n")
    is_(rc, 1, "user passwd applies the policy too")
    ok("password refused" in err, line1(err))
    rc, out, err = tr.run("user", "passwd", "alice@example.com",
                          "--password-stdin", input="")
    is_(rc, 1, "empty stdin refused")

    m = tr.maps()
    h = m["passwd"].get("alice@example.com")[:-1].decode()
    ok(h.startswith("$y$"), "yescrypt by default")
    ok(verify("Good-Pass-123", h), "hash verifies with crypt(3)")
    ok(not verify("Good-Pass-124", h), "a wrong password does not")
    ok(open(tr.map_path("users"), "rb").read().find(h.encode()) < 0,
       "the hash is not in users.cdb")
    for name, mode in (("passwd", 0o600), ("cram", 0o600),
                       ("users", 0o644), ("domains", 0o644),
                       ("aliases", 0o644)):
        st = os.stat(tr.map_path(name))
        is_(stat.S_IMODE(st.st_mode), mode, "%s.cdb mode %o" % (name, mode))
    if os.geteuid() == 0:
        import pwd
        nobody = pwd.getpwnam("nobody").pw_uid
        is_(os.stat(tr.map_path("passwd")).st_uid, nobody,
            "passwd.cdb owned by auth_user (nobody)")
        is_(os.stat(tr.map_path("cram")).st_uid, nobody,
            "cram.cdb owned by auth_user")
        is_(os.stat(tr.map_path("users")).st_uid, 0, "users.cdb stays root's")
    else:
        ok(True, "not root: ownership not checked")
        ok(True, "not root: ownership not checked")
        ok(True, "not root: ownership not checked")
    secret = m["cram"].get("alice@example.com")
    ok(secret is not None and len(secret) == 65, "CRAM-MD5 secret stored")
    ok(not any(b"Good-Pass" in open(tr.map_path(n), "rb").read()
               for n in ("passwd", "cram", "users")) and
       "Good-Pass" not in tr.read("domains/example.com/users"),
       "the password itself is nowhere")

    # CRAM off: the secret leaves the users line on the next passwd.
    tr.run("domain", "set", "example.com", "auth_cram_md5=no")
    ok(tr.maps()["cram"].get("alice@example.com") is None,
       "auth_cram_md5 = no: no secret in cram.cdb")
    rc, out, err = tr.run("user", "passwd", "alice@example.com",
                          "--password-stdin", input="Other-Pass-456\n")
    is_(rc, 0, "passwd: " + line1(err))
    ok("cram=" not in tr.read("domains/example.com/users"),
       "and user passwd drops the cram= key")

    # CRAM on with a user that has no secret yet: a warning, not an error.
    rc, out, err = tr.run("domain", "set", "example.com", "auth_cram_md5=yes")
    is_(rc, 0, "auth_cram_md5 back on")
    ok("no CRAM-MD5 secret" in err, "warns about users without a secret: " +
       line1(err))

    # SHA-512-crypt when configured.
    tr2 = Tree(conf={"password_hash": "sha512crypt"})
    try:
        tr2.run("domain", "add", "example.com")
        rc, out, err = tr2.add_user("bob@example.com", "Secret123")
        h = tr2.maps()["passwd"].get("bob@example.com")[:-1].decode()
        ok(h.startswith("$6$") and verify("Secret123", h),
           "password_hash = sha512crypt gives a $6$ hash that verifies")
    finally:
        tr2.inst.stop()
        import shutil
        shutil.rmtree(tr2.dir, ignore_errors=True)

    # The system administrator.
    rc, out, err = tr.run("admin", "passwd", "--password-stdin",
                          input="root\n")
    is_(rc, 1, "admin passwd applies the policy")
    rc, out, err = tr.run("admin", "passwd", "--password-stdin",
                          input="Admin-Pass-789\n")
    is_(rc, 0, "admin passwd: " + line1(err))
    is_(stat.S_IMODE(os.stat(tr.path("admin.passwd")).st_mode), 0o600,
        "admin.passwd is mode 0600")
    lines = [l for l in tr.read("admin.passwd").splitlines()
             if not l.startswith("#")]
    ok(len(lines) == 1 and lines[0].startswith("root $y$"),
       "admin.passwd: one NAME HASH line")
    a = tr.maps()["passwd"].get("@admin:root")
    ok(a is not None and verify("Admin-Pass-789", a[:-1].decode()),
       "passwd.cdb has @admin:root and it verifies")
    rc, out, err = tr.run("admin", "passwd", "--password-stdin",
                          input="Admin-Pass-790\n")
    lines = [l for l in tr.read("admin.passwd").splitlines()
             if not l.startswith("#")]
    is_(len(lines), 1, "changing it again keeps one line")

    # auth_user that does not exist (root only: otherwise no chown).
    if os.geteuid() == 0:
        tr.inst.conf["auth_user"] = "no-such-user-tern"
        tr.inst.write_conf()
        before = tr.map_bytes()
        rc, out, err = tr.run("rebuild")
        is_(rc, 1, "rebuild as root with a missing auth_user fails")
        ok("auth_user" in err and "no-such-user-tern" in err,
           "naming the key: " + line1(err))
        ok(tr.map_bytes() == before, "and the maps stay")
    else:
        for _ in range(3):
            ok(True, "not root: auth_user not checked")
except Exception as e:
    import traceback
    ok(False, "exception: %r" % e)
    diag(traceback.format_exc())
finally:
    tr.cleanup()
done()
