#!/usr/bin/env python3
# adminctl rebuild on a tree with each kind of mistake: every one is
# reported as path:line: message, the exit code is 1, and the maps in
# force are left byte for byte (same inode, same bytes).
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, diag, done                 # noqa: E402
from accounts_t import Tree, sha512, line1          # noqa: E402

H = sha512("Secret123")
GOOD = {
    "domains/example.com/domain.conf":
        "# example\nmax_users = 3\nmax_user_aliases = 2\n"
        "domain_aliases = example.net\n",
    "domains/example.com/users":
        "# users\nalice  %s\nbob  %s  name=\"Bob\"\n" % (H, H),
    "domains/example.com/aliases": "# aliases\nsales: alice, bob\n",
    "domains/example.org/domain.conf": "enable_catchalls = no\n",
    "domains/example.org/users": "carol  %s\n" % H,
    "domains/example.org/aliases": "",
    "routing.conf": "[gateway]\naddress = [192.0.2.1]:587\n",
}

tr = Tree()


def reset():
    for rel, text in GOOD.items():
        tr.write(rel, text)


def expect(name, files, wants):
    """Write files over the good tree, rebuild, and look for each
    (relpath, line, text) in the errors."""
    reset()
    for rel, text in files.items():
        tr.write(rel, text)
    before = tr.map_bytes()
    rc, out, err = tr.run("rebuild")
    is_(rc, 1, name + ": rebuild exits 1")
    for rel, line, text in wants:
        where = tr.path(rel) + (":%d: " % line if line else ": ")
        hit = [l for l in err.splitlines() if l.startswith(where) and
               text in l]
        if not ok(hit, "%s: %s:%s: ...%s..." % (name, rel, line, text)):
            diag(err)
    ok(tr.map_bytes() == before, name + ": maps untouched")
    rc2, out2, err2 = tr.run("check")
    ok(rc2 == 1 and err2.splitlines()[:-1] == err.splitlines()[:-1],
       name + ": check reports the same")


try:
    reset()
    rc, out, err = tr.run("rebuild")
    is_(rc, 0, "the good tree rebuilds: " + line1(err))
    rc, out, err = tr.run("check")
    is_((rc, out), (0, "ok: 2 domains, 3 users, 1 alias\n"), "check: ok")
    conf = "domains/example.com/domain.conf"
    users = "domains/example.com/users"
    aliases = "domains/example.com/aliases"
    oconf = "domains/example.org/domain.conf"

    expect("unknown key", {conf: "# x\ncolour = red\n"},
           [(conf, 2, "colour")])
    expect("bad value", {conf: "max_users = many\n"},
           [(conf, 1, "max_users")])
    expect("value out of range", {conf: "smtp_port = 70000\n"},
           [(conf, 1, "smtp_port")])
    expect("duplicate user", {users: GOOD[users] + "# again\nAlice  %s\n" % H},
           [(users, 5, "duplicate user Alice (first at line 2)")])
    expect("unknown user key", {users: "alice  %s  colour=red\n" % H},
           [(users, 1, "unknown user key 'colour'")])
    expect("bad user value", {users: "alice  %s  quota=lots\n" % H},
           [(users, 1, "quota")])
    expect("bad local part", {users: "a..b  %s\nx@y  %s\n" % (H, H)},
           [(users, 1, "bad local part"), (users, 2, "not an address")])
    expect("bad hash", {users: "alice  notahash\nbob  $1$ab$cdefghijklmnop"
                        "qrstuv\ncarl  %s\n" % H[:-5]},
           [(users, 1, "password hash"), (users, 2, "password hash"),
            (users, 3, "malformed password hash")])
    expect("missing hash", {users: "alice\n"}, [(users, 1, "missing")])
    expect("alias loop", {aliases: "a: b\nb: c\nc: a\n"},
           [(aliases, 3, "alias loop: a@example.com -> b@example.com -> "
             "c@example.com -> a@example.com")])
    expect("self loop", {aliases: "a: a\n"},
           [(aliases, 1, "alias loop: a@example.com -> a@example.com")])
    expect("loop across domains",
           {aliases: "a: x@example.org\n",
            "domains/example.org/aliases": "x: a@example.net\n"},
           [("domains/example.org/aliases", 1, "alias loop: a@example.com "
             "-> x@example.org -> a@example.com")])
    expect("alias to a missing local user", {aliases: "x: nobody\n"},
           [(aliases, 1, "target nobody@example.com: no such user or alias")])
    expect("alias into a domain alias, missing user",
           {aliases: "x: alice@example.net,\n  ghost@EXAMPLE.net\n"},
           [(aliases, 2, "target ghost@example.net: no such user")])
    expect("alias into another hosted domain, missing user",
           {aliases: "x: ghost@example.org\n"},
           [(aliases, 1, "ghost@example.org: no such user")])
    expect("alias to a domain that cannot exist", {aliases: "x: bob@intranet\n"},
           [(aliases, 1, "not a hosted domain")])
    expect("bad alias target", {aliases: "x: bob@@example.com\n"},
           [(aliases, 1, "bad target")])
    expect("alias without targets", {aliases: "x:\n"},
           [(aliases, 1, "no targets")])
    expect("alias is also a user", {aliases: "bob: alice\n"},
           [(aliases, 1, "there is a user of that name")])
    expect("duplicate alias", {aliases: "x: alice\nX: bob\n"},
           [(aliases, 2, "duplicate alias X (first at line 1)")])
    expect("user limit", {users: GOOD[users] + "c  %s\nd  %s\n" % (H, H)},
           [(users, 5, "over the limit max_users = 3 (domain.conf line 2)")])
    expect("alias limit", {aliases: "a: alice\nb: alice\nc: alice\n"},
           [(aliases, 3, "over the limit max_user_aliases = 2")])
    expect("domain alias limit",
           {conf: "domain_aliases = a.example, b.example, c.example\n"},
           [(conf, 1, "over the limit max_domain_aliases = 2 (the default)")])
    expect("domain aliases disabled",
           {conf: "enable_domain_aliases = no\ndomain_aliases = a.example\n"},
           [(conf, 2, "enable_domain_aliases = no")])
    expect("domain alias is hosted", {conf: "domain_aliases = example.org\n"},
           [(conf, 1, "example.org is a hosted domain")])
    expect("domain alias listed twice",
           {oconf: "domain_aliases = example.net\n"},
           [(oconf, 1, "already a domain alias of example.com")])
    expect("catch-all not enabled", {oconf: "catchall = carol\n"},
           [(oconf, 1, "catchall: not allowed: enable_catchalls = no")])
    expect("catch-all to nobody",
           {oconf: "enable_catchalls = yes\ncatchall = ghost\n"},
           [(oconf, 2, "catchall: ghost@example.org: no such user")])
    expect("domain admin not a user", {oconf: "domain_admin = ghost\n"},
           [(oconf, 1, "domain_admin: ghost: no such user")])
    expect("bad domain directory",
           {"domains/Example.INFO/domain.conf": ""},
           [("domains/Example.INFO", 0, "normalised domain name "
             "'example.info'")])
    expect("missing domain.conf", {"domains/example.info/users": ""},
           [("domains/example.info/domain.conf", 0, "cannot open")])
    expect("default that belongs to one domain",
           {"defaults/domain.conf": "max_users = 5\nfolder_path = /x\n"},
           [("defaults/domain.conf", 2, "folder_path belongs to one domain")])
    expect("admin.passwd of someone else", {"admin.passwd": "root %s\n" % H},
           [("admin.passwd", 1, "not admin_user 'admin'")])
    os.unlink(tr.path("admin.passwd"))
    os.unlink(tr.path("defaults/domain.conf"))
    os.unlink(tr.path("domains/example.info/users"))
    for d in ("domains/Example.INFO", "domains/example.info"):
        for f in os.listdir(tr.path(d)):
            os.unlink(tr.path(d, f))
        os.rmdir(tr.path(d))

    # routing.conf (routing(5)) is checked with the tree.
    expect("routing: bad key", {"routing.conf": "[gateway]\naddress = x\n"
                                "colour = red\n"},
           [("routing.conf", 3, "unknown key 'colour' in [gateway]")])
    expect("routing: incomplete section", {"routing.conf": "\n[forward]\n"
                                           "domains = far.example\n"},
           [("routing.conf", 2, "[forward] needs an address and domains")])
    expect("routing: a hosted domain forwarded",
           {"routing.conf": "[forward]\naddress = [10.0.0.5]\n"
            "domains = far.example Example.NET\n"},
           [("routing.conf", 1, "[forward]: example.net is a local "
             "domain")])

    # Everything at once: each one reported, in one run.
    reset()
    tr.write(conf, "colour = red\n")
    tr.write(users, "alice  %s\nalice  %s\n" % (H, H))
    tr.write(aliases, "a: a\nx: nobody\n")
    rc, out, err = tr.run("rebuild")
    lines = err.splitlines()
    ok(rc == 1 and len(lines) >= 5, "several mistakes: all reported (%d "
       "lines)" % len(lines))
    ok(lines[-1] == "adminctl: 4 errors; the maps were not changed",
       "and counted: " + lines[-1])

    # A hundred and more: capped, counted.
    tr.write(conf, "")
    tr.write(users, "".join("u%d  bad\n" % i for i in range(150)))
    tr.write(aliases, "")
    rc, out, err = tr.run("rebuild")
    ok(len(err.splitlines()) <= 102 and "... and 50 more errors" in err,
       "errors capped at 100, the rest counted")

    reset()
    rc, out, err = tr.run("rebuild")
    is_(rc, 0, "fixed tree rebuilds again")
except Exception as e:
    import traceback
    ok(False, "exception: %r" % e)
    diag(traceback.format_exc())
finally:
    tr.cleanup()
done()
