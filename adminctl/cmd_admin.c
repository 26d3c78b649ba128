/*
 * adminctl admin passwd - the system administrator's login (admin_user
 * in tern.conf), kept as one "NAME HASH" line in confdir/admin.passwd
 * (mode 0600) and compiled into passwd.cdb as "@admin:NAME".
 */
#include <stdio.h>
#include <string.h>

#include "acct.h"
#include "adminctl.h"
#include "conf.h"
#include "passwd.h"
#include "xalloc.h"

#define ADMIN_HEADER "# The system administrator's login: NAME HASH " \
	"(adminctl admin passwd writes it)."

static int
admin_write(const char *line, bool no_reload)
{
	char *path = xasprintf("%s/admin.passwd", A.confdir), *err;
	struct edit *e = edit_start();
	struct edfile *f;
	size_t i;

	if (e == NULL) {
		free(path);
		return EX_FAIL;
	}
	f = edit_open(e, path, false, 0600, true, &err);
	free(path);
	if (f == NULL) {
		fprintf(stderr, "adminctl: %s\n", err);
		free(err);
		edit_end(&e);
		return EX_FAIL;
	}
	for (i = 0; i < f->n; i++) {
		const char *l = f->line[i] + strspn(f->line[i], " \t");

		if (*l != '\0' && *l != '#')
			break;
	}
	if (f->n == 0)
		edfile_append(f, ADMIN_HEADER);
	if (i < f->n)
		edfile_replace(f, i, line);
	else
		edfile_append(f, line);
	return edit_finish(&e, no_reload);
}

static int
admin_passwd(int argc, char **argv)
{
	struct cmdopts o;
	const char *name = conf_str("admin_user"), *why;
	char *pw = NULL, *hash = NULL, *line;
	int rc = EX_FAIL;

	if (cmdopts_parse(argc, argv, 2, OPT_PASSWORD_STDIN |
	    OPT_PASSWORD_FILE | OPT_NO_RELOAD, &o) < 0 || o.nargs != 0) {
		cmdopts_release(&o);
		fprintf(stderr, "usage: adminctl admin passwd "
		    "[--password-stdin | --password-file FILE]\n");
		return EX_USAGE;
	}
	if ((pw = password_read(&o, name)) == NULL)
		goto out;
	if (passwd_policy_check(pw, name, &why) < 0)
		fprintf(stderr, "adminctl: password refused: %s\n", why);
	else if ((hash = passwd_hash(pw, &why)) == NULL)
		fprintf(stderr, "adminctl: %s\n", why);
	else {
		line = xasprintf("%s %s", name, hash);
		rc = admin_write(line, o.set & OPT_NO_RELOAD);
		free(line);
		if (rc == EX_OK)
			printf("password of the administrator %s changed\n",
			    name);
	}
out:
	password_free(&pw);
	free(hash);
	cmdopts_release(&o);
	return rc;
}

static const struct subcmd admin_cmds[] = {
	{ "passwd", admin_passwd, "[--password-stdin | --password-file FILE]" },
};

int
cmd_admin(int argc, char **argv)
{
	return subcmd_run("admin", admin_cmds, sizeof(admin_cmds) /
	    sizeof(*admin_cmds), argc, argv);
}
