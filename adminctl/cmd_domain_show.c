/*
 * adminctl domain list | show NAME - what the tree holds (the text
 * files, not the maps: they show what the next rebuild will compile).
 *
 * list: one domain per line, tab-separated: name, users, aliases, domain
 * aliases (comma-separated, "-" for none), enabled|disabled.
 */
#include <stdio.h>
#include <string.h>

#include "acct.h"
#include "adminctl.h"
#include "confset.h"
#include "domain_keys.h"
#include "xalloc.h"

static void
list_json_domain(const struct tdomain *d, bool first)
{
	bool off = d->conf != NULL && confset_bool(d->conf, "disabled");

	printf("%s{", first ? "" : ",");
	json_field("name", d->name, true);
	printf(",\"users\":%zu,\"aliases\":%zu,\"domain_aliases\":[",
	    d->nusers, d->naliases);
	for (size_t k = 0; k < d->ndalias; k++) {
		printf("%s", k ? "," : "");
		json_str(d->dalias[k]);
	}
	printf("],\"disabled\":%s}", off ? "true" : "false");
}

static void
list_plain_domain(const struct tdomain *d)
{
	bool off = d->conf != NULL && confset_bool(d->conf, "disabled");

	printf("%s\t%zu\t%zu\t", d->name, d->nusers, d->naliases);
	for (size_t k = 0; k < d->ndalias; k++)
		printf("%s%s", k ? "," : "", d->dalias[k]);
	printf("%s\t%s\n", d->ndalias ? "" : "-", off ? "disabled" :
	    "enabled");
}

int
domain_list(int argc, char **argv)
{
	struct cmdopts o;
	struct tree t;

	if (cmdopts_parse(argc, argv, 2, 0, &o) < 0 || o.nargs != 0) {
		cmdopts_release(&o);
		fprintf(stderr, "usage: adminctl domain list\n");
		return EX_USAGE;
	}
	cmdopts_release(&o);
	tree_load(&t, A.confdir, NULL);
	tree_check(&t);
	for (size_t i = 0; i < t.errs.n; i++)
		fprintf(stderr, "adminctl: warning: %s\n", t.errs.msg[i]);
	if (A.json)
		putchar('[');
	for (size_t i = 0; i < t.ndoms; i++) {
		if (A.json)
			list_json_domain(&t.doms[i], i == 0);
		else
			list_plain_domain(&t.doms[i]);
	}
	if (A.json)
		printf("]\n");
	tree_release(&t);
	return EX_OK;
}

void
settings_print(const struct confset *set)
{
	if (A.json)
		putchar('{');
	for (size_t i = 0; i < domain_table_len; i++) {
		const char *k = domain_table[i].name;
		const char *v = confset_text(set, k);
		bool def = !confset_is_set(set, k);

		if (A.json) {
			printf("%s", i ? "," : "");
			json_str(k);
			printf(":{");
			json_field("value", v, true);
			printf(",\"default\":%s}", def ? "true" : "false");
		} else
			printf("%s = %s%s\n", k, v, def ? "    (default)" : "");
	}
	if (A.json)
		putchar('}');
}

int
domain_show(int argc, char **argv)
{
	struct cmdopts o;
	struct tdomain *d;
	struct tree t;
	char *name = NULL;
	int rc = EX_FAIL;

	if (cmdopts_parse(argc, argv, 2, 0, &o) < 0 || o.nargs != 1) {
		cmdopts_release(&o);
		fprintf(stderr, "usage: adminctl domain show NAME\n");
		return EX_USAGE;
	}
	if ((name = arg_domain(o.args[0])) == NULL || load_one(&t, name) < 0)
		goto out;
	d = tree_domain(&t, name);
	if (d->conf == NULL)
		fprintf(stderr, "adminctl: %s cannot be read\n", d->conf_path);
	else if (A.json) {
		printf("{");
		json_field("name", d->name, true);
		printf(",\"users\":%zu,\"aliases\":%zu,\"settings\":",
		    d->nusers, d->naliases);
		settings_print(d->conf);
		printf("}\n");
		rc = EX_OK;
	} else {
		printf("# %s: %zu users, %zu aliases\n", d->name, d->nusers,
		    d->naliases);
		settings_print(d->conf);
		rc = EX_OK;
	}
	tree_release(&t);
out:
	free(name);
	cmdopts_release(&o);
	return rc;
}
