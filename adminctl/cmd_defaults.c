/*
 * adminctl defaults show | set key=value ..., propagate KEY ... | --all -
 * defaults/domain.conf holds what `domain add` writes into a new
 * domain.conf.  Changing it touches no existing domain; propagate copies
 * chosen keys (or every key the defaults set) into every domain.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "acct.h"
#include "adminctl.h"
#include "confset.h"
#include "domain_keys.h"
#include "xalloc.h"

static char *
defaults_path(void)
{
	return xasprintf("%s/defaults/domain.conf", A.confdir);
}

/* defaults/domain.conf loaded; NULL after printing the error. */
static struct confset *
defaults_load(void)
{
	struct confset *s = confset_new(domain_table, domain_table_len);
	char *path = defaults_path(), *err;

	if (confset_load(s, path, NULL, true, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		confset_free(&s);
	}
	free(path);
	return s;
}

static int
defaults_show(int argc, char **argv)
{
	struct cmdopts o;
	struct confset *s;

	if (cmdopts_parse(argc, argv, 2, 0, &o) < 0 || o.nargs != 0) {
		cmdopts_release(&o);
		fprintf(stderr, "usage: adminctl defaults show\n");
		return EX_USAGE;
	}
	cmdopts_release(&o);
	if ((s = defaults_load()) == NULL)
		return EX_FAIL;
	settings_print(s);
	if (A.json)
		putchar('\n');
	confset_free(&s);
	return EX_OK;
}

static int
defaults_check_args(const struct cmdopts *o)
{
	for (int i = 0; i < o->nargs; i++) {
		char *k, *v;
		int r;

		if (arg_kv(o->args[i], &k, &v) < 0)
			return -1;
		if (tree_own_key(k)) {
			fprintf(stderr, "adminctl: %s belongs to one domain and "
			    "cannot be a default\n", k);
			r = -1;
		} else
			r = domain_kv_check(k, v);
		free(k);
		free(v);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int
defaults_edit(struct edit *e, const struct cmdopts *o)
{
	char *dir = xasprintf("%s/defaults", A.confdir), *path = defaults_path();
	char *err = NULL;
	struct edfile *f = NULL;

	if (mkdir(dir, 0755) == 0)
		edit_undo_mkdir(e, dir);
	else if (errno != EEXIST)
		err = xasprintf("cannot create %s: %s", dir, strerror(errno));
	if (err == NULL)
		f = edit_open(e, path, false, 0644, false, &err);
	free(dir);
	free(path);
	if (f == NULL) {
		fprintf(stderr, "adminctl: %s\n", err);
		free(err);
		return -1;
	}
	if (f->n == 0)
		edfile_append(f, "# Settings a new domain starts with (adminctl "
		    "domain add).  See domain.conf(5).");
	for (int i = 0; i < o->nargs; i++) {
		char *k, *v;

		if (arg_kv(o->args[i], &k, &v) == 0)
			kv_set(f, k, v);
		free(k);
		free(v);
	}
	return 0;
}

static int
defaults_set(int argc, char **argv)
{
	struct cmdopts o;
	struct confset *s = NULL;
	struct edit *e = NULL;
	char *err = NULL;
	int rc = EX_FAIL;

	if (cmdopts_parse(argc, argv, 2, 0, &o) < 0 || o.nargs < 1) {
		cmdopts_release(&o);
		fprintf(stderr, "usage: adminctl defaults set key=value ...\n");
		return EX_USAGE;
	}
	if (defaults_check_args(&o) < 0 || (e = edit_start()) == NULL)
		goto out;
	if (defaults_edit(e, &o) < 0 || edit_save(e, &err) < 0 ||
	    (s = defaults_load()) == NULL) {
		if (err != NULL)
			fprintf(stderr, "adminctl: %s\n", err);
		edit_rollback(e);
		fprintf(stderr, "adminctl: nothing was changed\n");
		goto out;
	}
	printf("defaults changed (existing domains keep their settings; see "
	    "adminctl propagate)\n");
	rc = EX_OK;
out:
	free(err);
	confset_free(&s);
	edit_end(&e);
	cmdopts_release(&o);
	return rc;
}

static const struct subcmd defaults_cmds[] = {
	{ "show", defaults_show, "" },
	{ "set", defaults_set, "key=value ..." },
};

int
cmd_defaults(int argc, char **argv)
{
	return subcmd_run("defaults", defaults_cmds, sizeof(defaults_cmds) /
	    sizeof(*defaults_cmds), argc, argv);
}
