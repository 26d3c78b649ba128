/*
 * adminctl propagate KEY ... | --all [--dry-run] - give every domain the
 * defaults' value of KEY: the value defaults/domain.conf sets, or, when
 * it sets none, the built-in default (the key's line is then removed from
 * domain.conf).  --all takes every key the defaults file sets.  Prints
 * "domain: key old -> new" for each change.
 */
#include <stdio.h>
#include <string.h>

#include "acct.h"
#include "adminctl.h"
#include "confset.h"
#include "domain_keys.h"
#include "xalloc.h"

struct prop {
	struct cmdopts o;
	struct confset *def;
	const char **keys;
	size_t nkeys;
	struct edit *e;
	size_t changes;
};

static int
prop_keys(struct prop *p)
{
	p->keys = xcalloc(domain_table_len + (size_t)p->o.nargs,
	    sizeof(*p->keys));
	if (p->o.set & OPT_ALL) {
		for (size_t i = 0; i < domain_table_len; i++)
			if (confset_is_set(p->def, domain_table[i].name))
				p->keys[p->nkeys++] = domain_table[i].name;
		return 0;
	}
	for (int i = 0; i < p->o.nargs; i++) {
		const char *k = p->o.args[i];

		if (confset_key(p->def, k) == NULL) {
			fprintf(stderr, "adminctl: unknown domain key '%s'\n", k);
			return -1;
		}
		if (tree_own_key(k)) {
			fprintf(stderr, "adminctl: %s belongs to one domain and "
			    "cannot be propagated\n", k);
			return -1;
		}
		p->keys[p->nkeys++] = k;
	}
	return 0;
}

/* Bring one key of d in line with the defaults. */
static int
prop_key(struct prop *p, const struct tdomain *d, const char *key)
{
	char *want = confset_value_canon(p->def, key);
	char *have = confset_value_canon(d->conf, key), *err;
	bool differ = strcmp(want, have) != 0;
	struct edfile *f;
	int rc = 0;

	if (differ) {
		printf("%s: %s %s -> %s\n", d->name, key,
		    confset_text(d->conf, key), confset_text(p->def, key));
		p->changes++;
	}
	if (differ && !(p->o.set & OPT_DRY_RUN)) {
		f = edit_open(p->e, d->conf_path, true, 0644, false, &err);
		if (f == NULL) {
			fprintf(stderr, "adminctl: %s\n", err);
			free(err);
			rc = -1;
		} else if (confset_is_set(p->def, key))
			kv_set(f, key, confset_text(p->def, key));
		else
			kv_unset(f, key);
	}
	free(want);
	free(have);
	return rc;
}

static int
prop_domains(struct prop *p)
{
	struct tree t;
	int rc = 0;

	tree_load(&t, A.confdir, NULL);
	for (size_t i = 0; i < t.ndoms && rc == 0; i++) {
		const struct tdomain *d = &t.doms[i];

		if (d->conf == NULL) {
			fprintf(stderr, "adminctl: %s cannot be read; fix it "
			    "first (adminctl check)\n", d->conf_path);
			rc = -1;
		}
		for (size_t k = 0; k < p->nkeys && rc == 0; k++)
			rc = prop_key(p, d, p->keys[k]);
	}
	tree_release(&t);
	return rc;
}

static struct confset *
prop_defaults(void)
{
	struct confset *s = confset_new(domain_table, domain_table_len);
	char *path = xasprintf("%s/defaults/domain.conf", A.confdir), *err;

	if (confset_load(s, path, NULL, true, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		confset_free(&s);
	}
	free(path);
	return s;
}

int
cmd_propagate(int argc, char **argv)
{
	struct prop p = { 0 };
	int rc = EX_FAIL;

	if (cmdopts_parse(argc, argv, 1, OPT_ALL | OPT_DRY_RUN |
	    OPT_NO_RELOAD, &p.o) < 0 || (p.o.nargs == 0) ==
	    !(p.o.set & OPT_ALL)) {
		cmdopts_release(&p.o);
		fprintf(stderr, "usage: adminctl propagate KEY ... | --all "
		    "[--dry-run]\n");
		return EX_USAGE;
	}
	if ((p.def = prop_defaults()) == NULL)
		goto out;
	if (prop_keys(&p) < 0 || (p.e = edit_start()) == NULL ||
	    prop_domains(&p) < 0)
		goto out;
	if (p.changes == 0) {
		printf("nothing to change\n");
		rc = EX_OK;
	} else if (p.o.set & OPT_DRY_RUN) {
		printf("dry run: %zu change%s not made\n", p.changes,
		    p.changes == 1 ? "" : "s");
		rc = EX_OK;
	} else
		rc = edit_finish(&p.e, p.o.set & OPT_NO_RELOAD);
out:
	edit_end(&p.e);
	confset_free(&p.def);
	free(p.keys);
	cmdopts_release(&p.o);
	return rc;
}
