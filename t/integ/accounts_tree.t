#!/usr/bin/env python3
# The account commands end to end: domain, user, alias, domain-alias and
# catchall edit the text tree (keeping comments and order), rebuild the
# maps, and refuse what they must with exit 1 and a reason.
import json
import os
import stat
import sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from tap import ok, is_, diag, done                 # noqa: E402
from accounts_t import Tree, verify, sha512, line1  # noqa: E402
import cdb                                           # noqa: E402

tr = Tree()
try:
    # --- domains --------------------------------------------------------
    rc, out, err = tr.run("domain", "add", "Example.COM")
    is_(rc, 0, "domain add exits 0: " + line1(err))
    ok("domain example.com added" in out, "and says so")
    ok("master not running; maps will be read at start" in out,
       "no master: rebuild still succeeds and says so")
    ok(os.path.isdir(tr.path("domains", "example.com")),
       "directory is the normalised name")
    for f in ("domain.conf", "users", "aliases"):
        ok(os.path.exists(tr.path("domains", "example.com", f)), f + " made")
    is_(stat.S_IMODE(os.stat(tr.path("domains/example.com/users")).st_mode),
        0o600, "users file is mode 0600")
    m = tr.maps()
    rec = cdb.record(m["domains"].get("example.com"))
    is_(rec.get("kind"), "domain", "domains.cdb has the domain")
    is_(rec.get("max_users"), "100", "with every key (max_users default)")
    is_(rec.get("max_disk_space"), str(500 * 1024 * 1024),
        "sizes in bytes")
    ok(m["domains"].get("@serial") is not None, "@serial is there")

    rc, out, err = tr.run("domain", "add", "example.com")
    is_(rc, 1, "adding it twice exits 1")
    ok("already exists" in err, "and says why: " + line1(err))
    rc, out, err = tr.run("domain", "add", "bad..name")
    is_(rc, 1, "a bad domain name exits 1")
    rc, out, err = tr.run("domain", "add")
    is_(rc, 2, "domain add without a name is a usage error")
    rc, out, err = tr.run("domain", "bogus")
    is_(rc, 2, "unknown sub-command is a usage error")
    rc, out, err = tr.run("domain", "add", "example.org", "max_users=lots")
    is_(rc, 1, "a bad value exits 1")
    ok("max_users" in err, "naming the key: " + line1(err))
    rc, out, err = tr.run("domain", "add", "example.org", "nosuch=1")
    is_(rc, 1, "an unknown key exits 1")
    ok("nosuch" in err, "naming it: " + line1(err))
    ok(not os.path.exists(tr.path("domains", "example.org")),
       "and nothing was created")

    # Comments and order survive an edit.
    conf = tr.read("domains/example.com/domain.conf")
    tr.write("domains/example.com/domain.conf",
             "# my notes\nmax_users = 50\n# keep me\nenable_catchalls = no\n")
    rc, out, err = tr.run("domain", "set", "example.com", "max_users=60",
                          "auth_cram_md5=yes")
    is_(rc, 0, "domain set exits 0: " + line1(err))
    is_(tr.read("domains/example.com/domain.conf"),
        "# my notes\nmax_users = 60\n# keep me\nenable_catchalls = no\n"
        "auth_cram_md5 = yes\n", "comments and order kept, new key appended")
    is_(cdb.record(tr.maps()["domains"].get("example.com"))["max_users"],
        "60", "map has the new value")
    rc, out, err = tr.run("domain", "set", "example.com", "max_users=-1")
    is_(rc, 1, "out of range value refused")
    ok("max_users" in err, "naming the key: " + line1(err))

    rc, out, err = tr.run("domain", "show", "example.com")
    is_(rc, 0, "domain show exits 0")
    ok("max_users = 60\n" in out, "explicit value shown")
    ok("max_recipients = 200    (default)" in out, "defaults marked")
    rc, out, err = tr.run("--json", "domain", "show", "example.com")
    j = json.loads(out)
    is_(j["settings"]["max_users"], {"value": "60", "default": False},
        "json show: explicit")
    ok(j["settings"]["max_recipients"]["default"], "json show: default")
    rc, out, err = tr.run("domain", "show", "nosuch.com")
    is_(rc, 1, "show of an unknown domain exits 1")

    # --- users ----------------------------------------------------------
    rc, out, err = tr.add_user("Alice@example.com", "Secret123",
                               "name=Alice Smith", "quota=1g")
    is_(rc, 0, "user add exits 0: " + line1(err))
    users = tr.read("domains/example.com/users")
    ok('Alice  $y$' in users and 'name="Alice Smith" quota=1g' in users,
       "users line: local as written, yescrypt hash, quoted name")
    m = tr.maps()
    is_(cdb.record(m["users"].get("alice@example.com")),
        {"name": "Alice Smith", "quota": str(1 << 30), "disabled": "0"},
        "users.cdb: folded key, name, quota in bytes, disabled")
    h = m["passwd"].get("alice@example.com")
    ok(h is not None and h.endswith(b"\0"), "passwd.cdb holds a string")
    ok(verify("Secret123", h[:-1].decode()), "the hash verifies with crypt")
    c = m["cram"].get("alice@example.com")
    ok(c is not None and len(c) == 65, "cram.cdb has the CRAM-MD5 secret")
    ok("cram=" in users, "users line carries cram= (auth_cram_md5 = yes)")

    rc, out, err = tr.add_user("alice@example.com", "Secret123")
    is_(rc, 1, "adding alice twice exits 1")
    ok("already exists" in err, "says so")
    rc, out, err = tr.add_user("bob@nosuch.org", "Secret123")
    is_(rc, 1, "user in an unknown domain exits 1")
    ok("no such domain" in err, "says so: " + line1(err))
    rc, out, err = tr.add_user("bob@example.com", "Secret123", "color=red")
    is_(rc, 1, "unknown user key refused")
    ok("color" in err, "naming it: " + line1(err))
    rc, out, err = tr.run("user", "add", "bob@example.com", input="")
    is_(rc, 1, "no terminal and no --password-stdin: refused")
    ok("--password-stdin" in err, "says how: " + line1(err))

    pwfile = tr.path("pw")
    with open(pwfile, "w") as f:
        f.write("Other4567\n")
    rc, out, err = tr.run("user", "add", "bob@example.com",
                          "--password-file", pwfile)
    is_(rc, 0, "user add --password-file: " + line1(err))
    ok(verify("Other4567", tr.maps()["passwd"].get(
        "bob@example.com")[:-1].decode()), "file password stored")

    rc, out, err = tr.run("user", "list", "example.com")
    is_(out, "Alice@example.com\tenabled\t1073741824\tAlice Smith\n"
        "bob@example.com\tenabled\t0\t\n", "user list")
    rc, out, err = tr.run("--json", "user", "show", "ALICE@example.com")
    j = json.loads(out)
    is_((j["address"], j["password"], j["cram"], j["quota"]),
        ("Alice@example.com", "yescrypt", True, 1 << 30),
        "user show --json, any case")
    ok("$y$" not in out and "cram=" not in out, "no hash or secret shown")
    is_((j["forward"], j["autoreply"]), ("", False),
        "user show --json: no forwarding, no auto-reply")
    rc, out, err = tr.run("user", "set", "alice@example.com",
                          "forward=Al@Remote.test", "forward_keep=no",
                          "autoreply=yes", "autoreply_subject=Away")
    is_(rc, 0, "user set forward and autoreply: " + line1(err))
    rc, out, err = tr.run("--json", "user", "show", "alice@example.com")
    j = json.loads(out)
    is_((j["forward"], j["forward_keep"], j["autoreply"],
         j["autoreply_subject"]), ("Al@remote.test", False, True, "Away"),
        "user show --json shows them")
    rc, out, err = tr.run("user", "show", "alice@example.com")
    ok("forward:  Al@remote.test\nkeep:     no\n" in out and
       "autoreply: on\nautoreply subject: Away\n" in out,
       "and the text form")
    rc, out, err = tr.run("user", "set", "alice@example.com", "forward=",
                          "forward_keep=", "autoreply=", "autoreply_subject=")
    is_(rc, 0, "and unset again: " + line1(err))
    rc, out, err = tr.run("user", "set", "alice@example.com",
                          "throttle_messages_per_hour=10",
                          "throttle_bandwidth_per_hour=5m")
    is_(rc, 0, "user set throttle keys: " + line1(err))
    rec = cdb.record(tr.maps()["users"].get("alice@example.com"))
    is_((rec.get("throttle_messages_per_hour"),
         rec.get("throttle_bandwidth_per_hour")), ("10", "5242880"),
        "compiled into the user's record (bytes)")
    rc, out, err = tr.run("user", "set", "alice@example.com",
                          "throttle_messages_per_hour=-3")
    ok(rc == 1 and "throttle_messages_per_hour" in err,
       "a bad throttle value refused: " + line1(err))
    rc, out, err = tr.run("user", "set", "alice@example.com",
                          "throttle_messages_per_hour=",
                          "throttle_bandwidth_per_hour=")
    is_(rc, 0, "and unset: " + line1(err))

    rc, out, err = tr.run("user", "disable", "bob@example.com")
    is_(rc, 0, "user disable")
    m = tr.maps()
    is_(cdb.record(m["users"].get("bob@example.com"))["disabled"], "1",
        "users.cdb says disabled")
    ok(m["passwd"].get("bob@example.com") is None,
       "a disabled user has no hash in passwd.cdb")
    rc, out, err = tr.run("user", "enable", "bob@example.com")
    ok("disabled" not in tr.read("domains/example.com/users").split(
        "bob", 1)[1], "enable drops the disabled key")
    ok(tr.maps()["passwd"].get("bob@example.com") is not None,
       "and the hash is back")
    rc, out, err = tr.run("user", "set", "bob@example.com", "name=Bob B",
                          "quota=10m")
    is_(rc, 0, "user set")
    is_(cdb.record(tr.maps()["users"].get("bob@example.com"))["name"],
        "Bob B", "new name in the map")
    rc, out, err = tr.run("user", "set", "bob@example.com", "quota=huge")
    is_(rc, 1, "bad quota refused")
    ok("quota" in err, "naming the key")
    rc, out, err = tr.run("user", "set", "bob@example.com", "cram=00")
    is_(rc, 1, "cram cannot be set by hand")
    rc, out, err = tr.run("user", "passwd", "bob@example.com",
                          "--password-stdin", input="NewPass99\n")
    is_(rc, 0, "user passwd")
    ok(verify("NewPass99", tr.maps()["passwd"].get(
        "bob@example.com")[:-1].decode()), "new password in passwd.cdb")
    rc, out, err = tr.run("user", "passwd", "nobody@example.com",
                          "--password-stdin", input="NewPass99\n")
    is_(rc, 1, "passwd of an unknown user exits 1")

    # Order and comments of the users file.
    before = tr.read("domains/example.com/users")
    tr.write("domains/example.com/users", "# top\n" + before + "# end\n")
    tr.add_user("carol@example.com", "Carol1234")
    after = tr.read("domains/example.com/users").split("\n")
    ok(after[0] == "# top" and after[-3] == "# end" and
       after[-2].startswith("carol  "), "new user appended, comments kept")

    # --- aliases --------------------------------------------------------
    tr.write("domains/example.com/aliases",
             "# team\nsales: alice,\n    bob  # not a comment: a target\n")
    rc, out, err = tr.run("check")
    is_(rc, 1, "'#' inside an alias line is a target, not a comment")
    tr.write("domains/example.com/aliases", "# team\nsales: alice,\n    bob\n")
    rc, out, err = tr.run("alias", "add", "sales@example.com", "carol",
                          "ext@remote.org")
    is_(rc, 0, "alias add to an existing alias: " + line1(err))
    is_(tr.read("domains/example.com/aliases"),
        "# team\nsales: alice,\n    bob, carol, ext@remote.org\n",
        "targets appended to its last line")
    is_(tr.maps()["aliases"].get("sales@example.com"),
        b"alice@example.com\nbob@example.com\ncarol@example.com\n"
        b"ext@remote.org\n", "aliases.cdb: full addresses, one per line")
    rc, out, err = tr.run("alias", "add", "info@example.com", "alice")
    is_(rc, 0, "alias add creates an alias")
    rc, out, err = tr.run("alias", "add", "help@example.com", "nobody")
    is_(rc, 1, "alias to a missing local user refused")
    ok("no such user or alias" in err, "says why: " + line1(err))
    rc, out, err = tr.run("alias", "add", "alice@example.com", "bob")
    is_(rc, 1, "alias named like a user refused")
    rc, out, err = tr.run("alias", "del", "sales@example.com", "bob",
                          "ext@remote.org")
    is_(rc, 0, "alias del of some targets")
    is_(tr.read("domains/example.com/aliases"),
        "# team\nsales: alice\n    carol\ninfo: alice\n",
        "those targets gone, the rest as written")
    rc, out, err = tr.run("alias", "del", "sales@example.com", "zed")
    is_(rc, 1, "deleting a target it does not have exits 1")
    rc, out, err = tr.run("--json", "alias", "list", "example.com")
    is_(json.loads(out), [
        {"address": "sales@example.com",
         "targets": ["alice@example.com", "carol@example.com"]},
        {"address": "info@example.com", "targets": ["alice@example.com"]}],
        "alias list --json")
    rc, out, err = tr.run("user", "del", "carol@example.com")
    is_(rc, 1, "deleting a user an alias points at is refused")
    ok("carol@example.com" in err and "no such user" in err,
       "naming the alias target: " + line1(err))
    ok("carol" in tr.read("domains/example.com/users"),
       "and the user is still there (rolled back)")
    rc, out, err = tr.run("alias", "del", "sales@example.com")
    is_(rc, 0, "alias del of a whole alias")
    is_(tr.read("domains/example.com/aliases"), "# team\ninfo: alice\n",
        "all its lines gone, comment kept")
    ok(tr.maps()["aliases"].get("sales@example.com") is None,
       "and it is out of the map")
    rc, out, err = tr.run("user", "del", "carol@example.com")
    is_(rc, 0, "user del")
    ok(tr.maps()["users"].get("carol@example.com") is None, "gone from map")

    # --- domain aliases and catch-all ------------------------------------
    rc, out, err = tr.run("domain-alias", "add", "Example.NET", "example.com")
    is_(rc, 0, "domain-alias add: " + line1(err))
    is_(cdb.record(tr.maps()["domains"].get("example.net")),
        {"kind": "alias", "primary": "example.com"}, "domains.cdb: alias")
    rc, out, err = tr.run("domain-alias", "add", "example.org", "example.com")
    rc, out, err = tr.run("domain-alias", "add", "example.info",
                          "example.com")
    is_(rc, 1, "a third domain alias is over max_domain_aliases = 2")
    ok("max_domain_aliases" in err, "the message names the limit: " +
       line1(err))
    rc, out, err = tr.run("domain", "add", "example.net")
    is_(rc, 1, "a domain alias cannot also be hosted")
    rc, out, err = tr.run("alias", "add", "x@example.com", "bob@example.net")
    is_(rc, 0, "a target through a domain alias resolves")
    rc, out, err = tr.run("user", "add", "z@example.net")
    is_(rc, 1, "user add in a domain alias refused")
    ok("domain alias of example.com" in err, "with a hint: " + line1(err))
    rc, out, err = tr.run("domain-alias", "del", "example.org")
    is_(rc, 0, "domain-alias del")
    ok(tr.maps()["domains"].get("example.org") is None, "gone from map")

    rc, out, err = tr.run("catchall", "set", "example.com", "alice")
    is_(rc, 1, "catch-all refused while enable_catchalls = no")
    ok("enable_catchalls" in err, "naming the setting: " + line1(err))
    tr.run("domain", "set", "example.com", "enable_catchalls=yes")
    rc, out, err = tr.run("catchall", "set", "example.com", "alice")
    is_(rc, 0, "catch-all allowed now")
    is_(cdb.record(tr.maps()["domains"].get("example.com"))["catchall"],
        "alice@example.com", "map has the full catch-all address")
    rc, out, err = tr.run("catchall", "clear", "example.com")
    is_(rc, 0, "catchall clear")
    is_(cdb.record(tr.maps()["domains"].get("example.com"))["catchall"],
        "", "catch-all gone from the map")

    rc, out, err = tr.run("--json", "domain", "list")
    is_(json.loads(out), [{"name": "example.com", "users": 2, "aliases": 2,
                           "domain_aliases": ["example.net"],
                           "disabled": False}], "domain list --json")
    rc, out, err = tr.run("domain", "list")
    is_(out, "example.com\t2\t2\texample.net\tenabled\n", "domain list")

    # --- defaults and propagate -------------------------------------------
    rc, out, err = tr.run("defaults", "set", "max_users=500",
                          "enable_catchalls=yes")
    is_(rc, 0, "defaults set")
    rc, out, err = tr.run("defaults", "set", "folder_path=/srv")
    is_(rc, 1, "a per-domain key cannot be a default")
    rc, out, err = tr.run("domain", "add", "new.example")
    conf = tr.read("domains/new.example/domain.conf")
    ok("max_users = 500" in conf and "enable_catchalls = yes" in conf,
       "a new domain starts with the defaults")
    ok("max_users = 60" in tr.read("domains/example.com/domain.conf"),
       "existing domains are untouched by defaults set")
    rc, out, err = tr.run("propagate", "max_users", "--dry-run")
    is_((rc, out.splitlines()[0]), (0, "example.com: max_users 60 -> 500"),
        "propagate --dry-run lists the change")
    ok("max_users = 60" in tr.read("domains/example.com/domain.conf"),
       "and changes nothing")
    rc, out, err = tr.run("propagate", "--all")
    is_(rc, 0, "propagate --all: " + line1(err))
    ok("max_users = 500" in tr.read("domains/example.com/domain.conf"),
       "domain.conf now has the default's value")
    is_(cdb.record(tr.maps()["domains"].get("example.com"))["max_users"],
        "500", "and so has the map")
    rc, out, err = tr.run("propagate", "max_users")
    is_(out, "nothing to change\n", "propagate again: nothing to change")
    rc, out, err = tr.run("propagate")
    is_(rc, 2, "propagate without keys is a usage error")
    rc, out, err = tr.run("--json", "defaults", "show")
    is_(json.loads(out)["max_users"]["value"], "500", "defaults show --json")

    # --- domain del -----------------------------------------------------
    mail = tr.path("mail", "new.example")
    os.makedirs(os.path.join(mail, "bob", "cur"))
    rc, out, err = tr.run("domain", "del", "new.example")
    is_(rc, 1, "domain del without --yes refused")
    ok("--yes" in err, "says why: " + line1(err))
    rc, out, err = tr.run("domain", "del", "new.example", "--yes")
    is_(rc, 0, "domain del --yes")
    ok(not os.path.exists(tr.path("domains", "new.example")), "dir moved")
    trash = os.listdir(tr.path("deleted"))
    ok(len(trash) == 1 and trash[0].startswith("new.example."),
       "config kept in deleted/: %r" % trash)
    ok(os.path.isdir(mail), "mail kept")
    ok(tr.maps()["domains"].get("new.example") is None, "gone from maps")
    os.rename(tr.path("deleted", trash[0]), tr.path("domains", "new.example"))
    rc, out, err = tr.run("rebuild")
    ok(rc == 0 and tr.maps()["domains"].get("new.example") is not None,
       "moved back + rebuild restores it")
    rc, out, err = tr.run("domain", "del", "new.example", "--yes", "--purge")
    is_(rc, 0, "domain del --purge: " + line1(err))
    ok(not os.path.exists(mail), "mail folder removed")
    ok(os.path.isdir(tr.path("mail")), "mail_dir itself kept")
    rc, out, err = tr.run("domain", "add", "p.example",
                          "folder_path=" + tr.dir)
    rc, out, err = tr.run("domain", "del", "p.example", "--yes", "--purge")
    is_(rc, 1, "purge of a folder that holds the config refused")
    ok(os.path.exists(tr.path("tern.conf")), "config still there")
    rc, out, err = tr.run("domain", "del", "nosuch.example", "--yes")
    is_(rc, 1, "deleting an unknown domain exits 1")

    # --- hand-written users survive ---------------------------------------
    tr.write("domains/example.com/users",
             tr.read("domains/example.com/users") +
             '"j doe"  %s  name="J \\"JD\\" Doe"\n' % sha512("Pass1234"))
    rc, out, err = tr.run("rebuild")
    is_(rc, 0, "quoted local part and escaped name: " + line1(err))
    is_(cdb.record(tr.maps()["users"].get('"j doe"@example.com'))["name"],
        'J "JD" Doe', "unescaped in the map")
    ok(verify("Pass1234", tr.maps()["passwd"].get(
        '"j doe"@example.com')[:-1].decode()), "SHA-512-crypt accepted")
except Exception as e:
    import traceback
    ok(False, "exception: %r" % e)
    diag(traceback.format_exc())
finally:
    tr.cleanup()
done()
