/*
 * adminctl domain-alias add|del, catchall set|clear - the domain_aliases
 * and catchall keys of a domain's domain.conf.  The rebuild that follows
 * enforces enable_domain_aliases, max_domain_aliases and
 * enable_catchalls, and undoes the change when it breaks one.
 */
#include <stdio.h>
#include <string.h>

#include "acct.h"
#include "adminctl.h"
#include "buf.h"
#include "confset.h"
#include "domain_keys.h"
#include "xalloc.h"

/* Lock, open domain.conf of name and load its current values. */
static int
dalias_open(const char *name, struct edit **e_r, struct edfile **f_r,
    struct confset **set_r)
{
	char *path = domain_path(name, "domain.conf"), *err = NULL;
	int rc = EX_FAIL;

	*set_r = confset_new(domain_table, domain_table_len);
	if ((*e_r = edit_start()) == NULL || domain_exists(name) < 0)
		goto out;
	if (confset_load(*set_r, path, NULL, false, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		goto out;
	}
	if ((*f_r = edit_open(*e_r, path, true, 0644, false, &err)) == NULL) {
		fprintf(stderr, "adminctl: %s\n", err);
		goto out;
	}
	rc = EX_OK;
out:
	free(err);
	free(path);
	return rc;
}

/* Write domain_aliases = the list without drop, plus add. */
static void
dalias_write(struct edfile *f, const struct confset *set, const char *drop,
    const char *add)
{
	const char *const *list = confset_list(set, "domain_aliases", NULL);
	struct buf b;

	buf_init(&b, 128, 0);
	for (size_t i = 0; list[i] != NULL; i++)
		if (drop == NULL || !domain_same(list[i], drop))
			buf_printf(&b, "%s%s", buf_len(&b) ? ", " : "",
			    list[i]);
	if (add != NULL)
		buf_printf(&b, "%s%s", buf_len(&b) ? ", " : "", add);
	if (buf_len(&b) == 0)
		kv_unset(f, "domain_aliases");
	else
		kv_set(f, "domain_aliases", buf_str(&b));
	buf_release(&b);
}

static int
dalias_add(int argc, char **argv)
{
	struct cmdopts o;
	struct confset *set = NULL;
	struct edit *e = NULL;
	struct edfile *f;
	char *alias = NULL, *primary = NULL, *owner = NULL;
	int rc = EX_FAIL;

	if (cmdopts_parse(argc, argv, 2, OPT_NO_RELOAD, &o) < 0 ||
	    o.nargs != 2) {
		cmdopts_release(&o);
		fprintf(stderr, "usage: adminctl domain-alias add ALIAS "
		    "PRIMARY\n");
		return EX_USAGE;
	}
	if ((alias = arg_domain(o.args[0])) == NULL ||
	    (primary = arg_domain(o.args[1])) == NULL ||
	    dalias_open(primary, &e, &f, &set) != EX_OK)
		goto out;
	if ((owner = domain_alias_owner(alias)) != NULL)
		fprintf(stderr, "adminctl: %s is already a domain alias of "
		    "%s\n", alias, owner);
	else {
		dalias_write(f, set, NULL, alias);
		rc = edit_finish(&e, o.set & OPT_NO_RELOAD);
		if (rc == EX_OK)
			printf("domain alias %s of %s added\n", alias, primary);
	}
out:
	edit_end(&e);
	confset_free(&set);
	free(owner);
	free(alias);
	free(primary);
	cmdopts_release(&o);
	return rc;
}

static int
dalias_del(int argc, char **argv)
{
	struct cmdopts o;
	struct confset *set = NULL;
	struct edit *e = NULL;
	struct edfile *f;
	char *alias = NULL, *owner = NULL;
	int rc = EX_FAIL;

	if (cmdopts_parse(argc, argv, 2, OPT_NO_RELOAD, &o) < 0 ||
	    o.nargs != 1) {
		cmdopts_release(&o);
		fprintf(stderr, "usage: adminctl domain-alias del ALIAS\n");
		return EX_USAGE;
	}
	if ((alias = arg_domain(o.args[0])) == NULL)
		goto out;
	if ((owner = domain_alias_owner(alias)) == NULL) {
		fprintf(stderr, "adminctl: %s is not a domain alias\n", alias);
		goto out;
	}
	if (dalias_open(owner, &e, &f, &set) != EX_OK)
		goto out;
	dalias_write(f, set, alias, NULL);
	rc = edit_finish(&e, o.set & OPT_NO_RELOAD);
	if (rc == EX_OK)
		printf("domain alias %s of %s deleted\n", alias, owner);
out:
	edit_end(&e);
	confset_free(&set);
	free(owner);
	free(alias);
	cmdopts_release(&o);
	return rc;
}

static const struct subcmd dalias_cmds[] = {
	{ "add", dalias_add, "ALIAS PRIMARY" },
	{ "del", dalias_del, "ALIAS" },
};

int
cmd_domain_alias(int argc, char **argv)
{
	return subcmd_run("domain-alias", dalias_cmds, sizeof(dalias_cmds) /
	    sizeof(*dalias_cmds), argc, argv);
}

/* catchall set DOMAIN TARGET | clear DOMAIN */
static int
catchall_run(int argc, char **argv, bool set_it)
{
	struct cmdopts o;
	struct confset *set = NULL;
	struct edit *e = NULL;
	struct edfile *f;
	const char *why;
	char *name = NULL, *addr = NULL;
	int rc = EX_FAIL;

	if (cmdopts_parse(argc, argv, 2, OPT_NO_RELOAD, &o) < 0 ||
	    o.nargs != (set_it ? 2 : 1)) {
		cmdopts_release(&o);
		fprintf(stderr, "usage: adminctl catchall %s\n", set_it ?
		    "set DOMAIN TARGET" : "clear DOMAIN");
		return EX_USAGE;
	}
	if ((name = arg_domain(o.args[0])) == NULL)
		goto out;
	if (set_it && aliases_target(o.args[1], strlen(o.args[1]), name,
	    &addr, &why) < 0) {
		fprintf(stderr, "adminctl: catch-all target '%s': %s\n",
		    o.args[1], why);
		goto out;
	}
	if (dalias_open(name, &e, &f, &set) != EX_OK)
		goto out;
	if (set_it)
		kv_set(f, "catchall", addr);
	else if (!kv_unset(f, "catchall")) {
		printf("%s has no catch-all\n", name);
		rc = EX_OK;
		goto out;
	}
	rc = edit_finish(&e, o.set & OPT_NO_RELOAD);
	if (rc == EX_OK && set_it)
		printf("catch-all of %s is %s\n", name, addr);
	else if (rc == EX_OK)
		printf("catch-all of %s cleared\n", name);
out:
	edit_end(&e);
	confset_free(&set);
	free(addr);
	free(name);
	cmdopts_release(&o);
	return rc;
}

static int
catchall_set(int argc, char **argv)
{
	return catchall_run(argc, argv, true);
}

static int
catchall_clear(int argc, char **argv)
{
	return catchall_run(argc, argv, false);
}

static const struct subcmd catchall_cmds[] = {
	{ "set", catchall_set, "DOMAIN TARGET" },
	{ "clear", catchall_clear, "DOMAIN" },
};

int
cmd_catchall(int argc, char **argv)
{
	return subcmd_run("catchall", catchall_cmds, sizeof(catchall_cmds) /
	    sizeof(*catchall_cmds), argc, argv);
}
