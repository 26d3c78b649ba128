/*
 * adminctl domain add|del|list|show|set - hosted domains: one directory
 * each under domains/, holding domain.conf, users and aliases.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "acct.h"
#include "adminctl.h"
#include "conf.h"
#include "confset.h"
#include "domain_keys.h"
#include "xalloc.h"

#define USERS_HEADER "# local  password-hash  [name=\"Display Name\"] " \
	"[quota=SIZE] [disabled=yes]    see adminctl(8)"
#define ALIASES_HEADER "# alias: target, target ...    (a target without " \
	"@ is a user of this domain; see adminctl(8))"

/* Check every key=value argument from o->args[first]. */
static int
domain_check_kvs(const struct cmdopts *o, int first)
{
	for (int i = first; i < o->nargs; i++) {
		char *k, *v;
		int r;

		if (arg_kv(o->args[i], &k, &v) < 0)
			return -1;
		r = domain_kv_check(k, v);
		free(k);
		free(v);
		if (r < 0)
			return -1;
	}
	return 0;
}

static void
domain_apply_kvs(struct edfile *f, const struct cmdopts *o, int first)
{
	for (int i = first; i < o->nargs; i++) {
		char *k, *v;

		if (arg_kv(o->args[i], &k, &v) < 0)
			BUG("key=value checked before");
		kv_set(f, k, v);
		free(k);
		free(v);
	}
}

static int
domain_mkdir(struct edit *e, const char *path)
{
	if (mkdir(path, 0755) == 0) {
		edit_undo_mkdir(e, path);
		return 0;
	}
	if (errno == EEXIST)
		return 0;
	fprintf(stderr, "adminctl: cannot create %s: %s\n", path,
	    strerror(errno));
	return -1;
}

/* domain.conf of a new domain: the explicit defaults, then the args. */
static int
domain_write_conf(struct edit *e, const char *name, const struct cmdopts *o)
{
	struct confset *def = confset_new(domain_table, domain_table_len);
	char *path = xasprintf("%s/defaults/domain.conf", A.confdir), *err;
	struct edfile *f;
	int rc = -1;

	if (confset_load(def, path, NULL, true, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		goto out;
	}
	free(path);
	path = domain_path(name, "domain.conf");
	if ((f = edit_open(e, path, false, 0644, false, &err)) == NULL) {
		fprintf(stderr, "adminctl: %s\n", err);
		free(err);
		goto out;
	}
	edfile_append(f, "# Settings of this domain; keys not set here take "
	    "their defaults.  See domain.conf(5).");
	for (size_t i = 0; i < domain_table_len; i++) {
		const char *k = domain_table[i].name;

		if (confset_is_set(def, k) && !tree_own_key(k))
			kv_set(f, k, confset_text(def, k));
	}
	domain_apply_kvs(f, o, 1);
	rc = 0;
out:
	free(path);
	confset_free(&def);
	return rc;
}

static int
domain_new_file(struct edit *e, const char *name, const char *file,
    const char *header, bool secret)
{
	char *path = domain_path(name, file), *err;
	struct edfile *f = edit_open(e, path, false, secret ? 0600 : 0644,
	    secret, &err);

	free(path);
	if (f == NULL) {
		fprintf(stderr, "adminctl: %s\n", err);
		free(err);
		return -1;
	}
	edfile_append(f, header);
	return 0;
}

static int
domain_add(int argc, char **argv)
{
	struct cmdopts o;
	struct edit *e = NULL;
	char *name = NULL, *dir = NULL, *top;
	struct stat st;
	bool made;
	int rc = EX_FAIL;

	if (cmdopts_parse(argc, argv, 2, OPT_NO_RELOAD, &o) < 0 ||
	    o.nargs < 1) {
		cmdopts_release(&o);
		fprintf(stderr, "usage: adminctl domain add NAME "
		    "[key=value ...]\n");
		return EX_USAGE;
	}
	if ((name = arg_domain(o.args[0])) == NULL ||
	    domain_check_kvs(&o, 1) < 0)
		goto out;
	if (strchr(name, '.') == NULL) {
		fprintf(stderr, "adminctl: %s: a hosted domain needs at least "
		    "two labels\n", name);
		goto out;
	}
	if ((e = edit_start()) == NULL)
		goto out;
	dir = domain_path(name, "");
	dir[strlen(dir) - 1] = '\0';
	if (stat(dir, &st) == 0) {
		fprintf(stderr, "adminctl: domain %s already exists\n", name);
		goto out;
	}
	top = xasprintf("%s/domains", A.confdir);
	made = domain_mkdir(e, top) == 0 && domain_mkdir(e, dir) == 0 &&
	    domain_write_conf(e, name, &o) == 0 &&
	    domain_new_file(e, name, "users", USERS_HEADER, true) == 0 &&
	    domain_new_file(e, name, "aliases", ALIASES_HEADER, false) == 0;
	free(top);
	if (!made) {
		edit_rollback(e);
		goto out;
	}
	rc = edit_finish(&e, o.set & OPT_NO_RELOAD);
	if (rc == EX_OK)
		printf("domain %s added\n", name);
out:
	edit_end(&e);
	free(dir);
	free(name);
	cmdopts_release(&o);
	return rc;
}

static int
domain_set(int argc, char **argv)
{
	struct cmdopts o;
	struct edit *e = NULL;
	struct edfile *f;
	char *name = NULL, *path = NULL, *err;
	int rc = EX_FAIL;

	if (cmdopts_parse(argc, argv, 2, OPT_NO_RELOAD, &o) < 0 ||
	    o.nargs < 2) {
		cmdopts_release(&o);
		fprintf(stderr, "usage: adminctl domain set NAME key=value "
		    "...\n");
		return EX_USAGE;
	}
	if ((name = arg_domain(o.args[0])) == NULL ||
	    domain_check_kvs(&o, 1) < 0 || (e = edit_start()) == NULL)
		goto out;
	path = domain_path(name, "domain.conf");
	if ((f = edit_open(e, path, true, 0644, false, &err)) == NULL) {
		fprintf(stderr, "adminctl: no such domain %s (%s)\n", name,
		    err);
		free(err);
		goto out;
	}
	domain_apply_kvs(f, &o, 1);
	rc = edit_finish(&e, o.set & OPT_NO_RELOAD);
	if (rc == EX_OK)
		printf("domain %s changed\n", name);
out:
	edit_end(&e);
	free(path);
	free(name);
	cmdopts_release(&o);
	return rc;
}

static const struct subcmd domain_cmds[] = {
	{ "add", domain_add, "NAME [key=value ...]" },
	{ "del", domain_del, "NAME --yes [--purge]" },
	{ "list", domain_list, "" },
	{ "show", domain_show, "NAME" },
	{ "set", domain_set, "NAME key=value ..." },
};

int
cmd_domain(int argc, char **argv)
{
	return subcmd_run("domain", domain_cmds, sizeof(domain_cmds) /
	    sizeof(*domain_cmds), argc, argv);
}
