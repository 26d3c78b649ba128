/* Unit tests for lib/mailbox: the path rule (folder_path or mail_dir,
 * local parts as directory names) and the domain's usage file. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "mailbox.h"
#include "tap.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/tern-mailbox-XXXXXX";

static void
name_is(const char *local, const char *want)
{
	char *n = mailbox_local_name(local), *what;

	what = xasprintf("local part '%s' -> '%s'", local, want);
	is_str(n, want, what);
	free(what);
	free(n);
}

static void
test_names(void)
{
	name_is("Alice", "alice");
	name_is("first.Last", "first.last");
	name_is("a/b", "a%2Fb");
	name_is("100%", "100%25");
	name_is(".hidden", "%2Ehidden");
	name_is("\"John Doe\"", "\"john doe\"");
	name_is("", "%00");
	name_is("J\xc3\xb6rg", "j\xc3\xb6rg");
}

static void
test_paths(void)
{
	static const char rec1[] = "kind=domain\nfolder_path=/srv/mail/ex\n";
	static const char rec2[] = "kind=domain\nfolder_path=\n";
	struct acct_domain d = { .name = "example.com", .rec = rec1,
	    .reclen = sizeof(rec1) - 1 };
	char *err = NULL, *p;

	conf_load_defaults();
	ok(conf_set("mail_dir", "/var/mail/tern", &err) == 0, "mail_dir set");
	p = mailbox_domain_dir(&d);
	is_str(p, "/srv/mail/ex", "folder_path wins");
	free(p);
	p = mailbox_path(&d, "Bob");
	is_str(p, "/srv/mail/ex/bob", "the user's mailbox under it");
	free(p);
	d.rec = rec2;
	d.reclen = sizeof(rec2) - 1;
	p = mailbox_domain_dir(&d);
	is_str(p, "/var/mail/tern/example.com", "empty folder_path: mail_dir");
	free(p);
	d.rec = "kind=domain\n";
	d.reclen = strlen(d.rec);
	p = mailbox_path(&d, "a/b");
	is_str(p, "/var/mail/tern/example.com/a%2Fb", "no key: mail_dir too");
	free(p);
}

static void
put(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);

	if (write(fd, text, strlen(text)) < 0)
		diag("cannot write %s", path);
	close(fd);
}

static void
test_domain_usage(void)
{
	char *ddir = xasprintf("%s/example.com", tmpdir), *a, *b, *f;
	char *err = NULL;
	struct maildir_usage u;
	struct stat st;

	ok(mailbox_domain_usage(ddir, 1000, &u, &err) == 0 && u.bytes == 0 &&
	    u.count == 0, "no domain folder yet: nothing used");
	f = xasprintf("%s/%s", ddir, MAILBOX_DOMAIN_SIZE_FILE);
	ok(stat(f, &st) < 0, "and no file made for it");
	a = xasprintf("%s/alice", ddir);
	b = xasprintf("%s/bob", ddir);
	maildir_create(a, &err);
	maildir_create(b, &err);
	{
		char *m = xasprintf("%s/new/1.M1P1Q1.h,S=100,W=105", a);

		put(m, "x");
		free(m);
		m = xasprintf("%s/maildirsize", b);
		put(m, "0S\n250 2\n");
		free(m);
	}
	ok(mailbox_domain_usage(ddir, 1000, &u, &err) == 0 && u.bytes == 350 &&
	    u.count == 3, "the sum: a scan of alice, bob's maildirsize");
	ok(stat(f, &st) == 0 && (st.st_mode & 0777) == 0600,
	    ".tern-domainsize written, mode 0600");
	mailbox_usage_add(ddir, a, 50, 1);
	ok(mailbox_domain_usage(ddir, 1000, &u, &err) == 0 && u.bytes == 400 &&
	    u.count == 4, "mailbox_usage_add counts in the domain file");
	ok(maildir_usage(a, 0, &u, &err) == 0 && u.bytes == 100,
	    "alice had no maildirsize to add to: a scan says 100");
	mailbox_domain_usage_add(ddir, -400, -4);
	ok(mailbox_domain_usage(ddir, 1000, &u, &err) == 0 && u.bytes == 0,
	    "a removal brings it down");
	ok(mailbox_domain_usage(ddir, 2000, &u, &err) == 0 && u.bytes == 350,
	    "another limit: rebuilt from the mailboxes");
	free(f);
	free(a);
	free(b);
	free(ddir);
}

int
main(void)
{
	char *cmd;

	if (mkdtemp(tmpdir) == NULL)
		return 1;
	plan(21);
	test_names();
	test_paths();
	test_domain_usage();
	conf_unload();
	cmd = xasprintf("rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		diag("cannot remove %s", tmpdir);
	free(cmd);
	return done_testing();
}
