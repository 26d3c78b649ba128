/*
 * adminctl alias add|del|list - entries of domains/<domain>/aliases.
 * An entry is its "name: targets" line and the indented lines after it;
 * edits touch only those lines and keep the rest of the file as it is.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acct.h"
#include "addr.h"
#include "buf.h"
#include "adminctl.h"
#include "xalloc.h"

/* Lines of one entry in the aliases file: first, then continuations. */
struct entry {
	size_t *line;
	size_t n, cap;
};

struct alias_ctx {
	struct cmdopts o;
	char *local, *domain, *key, *addr;
	struct edit *e;
	struct edfile *f;
	struct entry ent;       /* n == 0: no such alias */
};

static bool
alias_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Folded name of the alias a column-0 line starts, or NULL. */
static char *
alias_line_key(const char *l)
{
	size_t len = strlen(l), colon = aliases_span(l, len, ":"), used;
	const char *why;
	char *local, *key;

	while (colon > 0 && alias_blank(l[colon - 1]))
		colon--;
	if (addr_local_parse(l, colon, ADDR_SMTPUTF8, &used, &local,
	    &why) < 0)
		return NULL;
	key = used == colon ? tree_fold(local) : NULL;
	free(local);
	return key;
}

static void
alias_find(const struct edfile *f, const char *key, struct entry *ent)
{
	bool in = false;

	ent->n = 0;
	for (size_t i = 0; i < f->n; i++) {
		const char *l = f->line[i], *p = l + strspn(l, " \t");

		if (*p == '\0' || *p == '#')
			continue;
		if (!alias_blank(l[0])) {
			char *k;

			if (in)
				return;
			k = alias_line_key(l);
			in = k != NULL && strcmp(k, key) == 0;
			free(k);
		}
		if (!in)
			continue;
		if (ent->n == ent->cap) {
			ent->cap = ent->cap ? ent->cap * 2 : 8;
			ent->line = xrealloc(ent->line, ent->cap *
			    sizeof(*ent->line));
		}
		ent->line[ent->n++] = i;
	}
}

/* Where the targets of line k of the entry start. */
static size_t
alias_targets_at(const struct alias_ctx *c, size_t k)
{
	const char *l = c->f->line[c->ent.line[k]];

	if (k == 0)
		return aliases_span(l, strlen(l), ":") + 1;
	return strspn(l, " \t");
}

/* Is target (normalised) among the entry's targets? */
static bool
alias_has(const struct alias_ctx *c, const char *target)
{
	bool found = false;

	for (size_t k = 0; k < c->ent.n && !found; k++) {
		const char *l = c->f->line[c->ent.line[k]];
		size_t len = strlen(l), i = alias_targets_at(c, k);

		while (i < len && !found) {
			size_t n;
			const char *why;
			char *addr;

			i += strspn(l + i, ", \t");
			if (i >= len)
				break;
			n = aliases_span(l + i, len - i, ", \t");
			if (aliases_target(l + i, n, c->domain, &addr,
			    &why) == 0) {
				found = strcasecmp(addr, target) == 0;
				free(addr);
			}
			i += n;
		}
	}
	return found;
}

static int
alias_open(struct alias_ctx *c, int argc, char **argv, int min, int max,
    const char *usage)
{
	char *path, *err;

	memset(c, 0, sizeof(*c));
	if (cmdopts_parse(argc, argv, 2, OPT_NO_RELOAD, &c->o) < 0 ||
	    c->o.nargs < min || (max >= 0 && c->o.nargs > max)) {
		fprintf(stderr, "usage: adminctl alias %s %s\n", argv[1], usage);
		return EX_USAGE;
	}
	if (arg_addr(c->o.args[0], &c->local, &c->domain) < 0 ||
	    (c->e = edit_start()) == NULL || domain_exists(c->domain) < 0)
		return EX_FAIL;
	c->key = tree_fold(c->local);
	c->addr = xasprintf("%s@%s", c->local, c->domain);
	path = domain_path(c->domain, "aliases");
	c->f = edit_open(c->e, path, false, 0644, false, &err);
	free(path);
	if (c->f == NULL) {
		fprintf(stderr, "adminctl: %s\n", err);
		free(err);
		return EX_FAIL;
	}
	alias_find(c->f, c->key, &c->ent);
	return EX_OK;
}

static void
alias_release(struct alias_ctx *c)
{
	edit_end(&c->e);
	free(c->ent.line);
	free(c->local);
	free(c->domain);
	free(c->key);
	free(c->addr);
	cmdopts_release(&c->o);
}

/*
 * The target arguments, normalised: a target in the alias's own domain
 * is written as its local part.  NULL after printing why.
 */
static char **
alias_args(const struct alias_ctx *c, size_t *n_r)
{
	char **v = xcalloc((size_t)c->o.nargs, sizeof(*v));
	size_t n = 0;

	for (int i = 1; i < c->o.nargs; i++) {
		const char *a = c->o.args[i], *why;
		char *addr;
		size_t at;

		if (aliases_target(a, strlen(a), c->domain, &addr, &why) < 0) {
			fprintf(stderr, "adminctl: target '%s': %s\n", a, why);
			for (size_t k = 0; k < n; k++)
				free(v[k]);
			free(v);
			return NULL;
		}
		at = (size_t)(strrchr(addr, '@') - addr);
		if (strcmp(addr + at + 1, c->domain) == 0)
			addr[at] = '\0';
		v[n++] = addr;
	}
	*n_r = n;
	return v;
}

static void
alias_free_args(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Full address of an argument as alias_args wrote it. */
static char *
alias_full(const struct alias_ctx *c, const char *t)
{
	return aliases_span(t, strlen(t), "@") < strlen(t) ? xstrdup(t) :
	    xasprintf("%s@%s", t, c->domain);
}

static int
alias_add(int argc, char **argv)
{
	struct alias_ctx c;
	struct buf b;
	char **t = NULL;
	size_t n = 0, added = 0;
	int rc = alias_open(&c, argc, argv, 2, -1, "ADDRESS TARGET ...");

	if (rc != EX_OK || (t = alias_args(&c, &n)) == NULL) {
		rc = rc != EX_OK ? rc : EX_FAIL;
		goto out;
	}
	buf_init(&b, 128, 0);
	if (c.ent.n > 0)
		buf_append_str(&b, c.f->line[c.ent.line[c.ent.n - 1]]);
	else
		buf_printf(&b, "%s:", c.local);
	for (size_t i = 0; i < n; i++) {
		char *full = alias_full(&c, t[i]);

		if (!alias_has(&c, full)) {
			buf_printf(&b, "%s %s", added || c.ent.n > 0 ? "," :
			    "", t[i]);
			added++;
		}
		free(full);
	}
	if (c.ent.n > 0)
		edfile_replace(c.f, c.ent.line[c.ent.n - 1], buf_str(&b));
	else
		edfile_append(c.f, buf_str(&b));
	buf_release(&b);
	rc = edit_finish(&c.e, c.o.set & OPT_NO_RELOAD);
	if (rc == EX_OK)
		printf("alias %s: %zu target%s added\n", c.addr, added,
		    added == 1 ? "" : "s");
out:
	alias_free_args(t, n);
	alias_release(&c);
	return rc;
}

/* The text of b, which is released. */
static char *
alias_steal(struct buf *b)
{
	char *s = buf_steal(b);

	buf_release(b);
	return s;
}

/*
 * Line k of the entry without the targets in full[0..n) (found[] marks
 * those seen).  NULL when nothing is left on a continuation line.
 */
static char *
alias_line_without(const struct alias_ctx *c, size_t k, char **full,
    size_t n, bool *found, size_t *left_r)
{
	const char *l = c->f->line[c->ent.line[k]], *why;
	size_t len = strlen(l), i = alias_targets_at(c, k), kept = 0;
	struct buf b;

	buf_init(&b, len + 1, 0);
	buf_append(&b, l, i);
	while (i < len) {
		size_t tn, m;
		char *addr = NULL;

		i += strspn(l + i, ", \t");
		if (i >= len)
			break;
		tn = aliases_span(l + i, len - i, ", \t");
		aliases_target(l + i, tn, c->domain, &addr, &why);
		for (m = 0; addr != NULL && m < n; m++)
			if (strcasecmp(addr, full[m]) == 0)
				break;
		if (addr != NULL && m < n)
			found[m] = true;
		else {
			buf_printf(&b, "%s%.*s", kept ? ", " : (k == 0 ? " " :
			    ""), (int)tn, l + i);
			kept++;
		}
		free(addr);
		i += tn;
	}
	*left_r += kept;
	if (k > 0 && kept == 0) {
		buf_release(&b);
		return NULL;
	}
	return alias_steal(&b);
}

/* Drop the targets given from the entry; -1 if one is not there. */
static int
alias_drop_targets(struct alias_ctx *c, char **t, size_t n)
{
	char **full = xcalloc(n, sizeof(*full));
	bool *found = xcalloc(n, sizeof(*found));
	size_t left = 0;
	int rc = 0;

	for (size_t i = 0; i < n; i++)
		full[i] = alias_full(c, t[i]);
	/* Backwards: deleting a line does not move the ones before it. */
	for (size_t k = c->ent.n; k-- > 0; ) {
		char *l = alias_line_without(c, k, full, n, found, &left);

		if (l == NULL)
			edfile_delete(c->f, c->ent.line[k], 1);
		else
			edfile_replace(c->f, c->ent.line[k], l);
		free(l);
	}
	for (size_t i = 0; i < n; i++)
		if (!found[i]) {
			fprintf(stderr, "adminctl: alias %s has no target %s\n",
			    c->addr, full[i]);
			rc = -1;
		}
	if (rc == 0 && left == 0)
		edfile_delete(c->f, c->ent.line[0], 1);
	alias_free_args(full, n);
	free(found);
	return rc;
}

static int
alias_del(int argc, char **argv)
{
	struct alias_ctx c;
	char **t = NULL;
	size_t n = 0;
	int rc = alias_open(&c, argc, argv, 1, -1, "ADDRESS [TARGET ...]");

	if (rc != EX_OK)
		goto out;
	rc = EX_FAIL;
	if (c.ent.n == 0) {
		fprintf(stderr, "adminctl: no such alias %s\n", c.addr);
		goto out;
	}
	if (c.o.nargs == 1) {
		for (size_t k = c.ent.n; k-- > 0; )
			edfile_delete(c.f, c.ent.line[k], 1);
	} else if ((t = alias_args(&c, &n)) == NULL ||
	    alias_drop_targets(&c, t, n) < 0)
		goto out;
	rc = edit_finish(&c.e, c.o.set & OPT_NO_RELOAD);
	if (rc == EX_OK)
		printf(c.o.nargs == 1 ? "alias %s deleted\n" :
		    "alias %s changed\n", c.addr);
out:
	alias_free_args(t, n);
	alias_release(&c);
	return rc;
}

static int
alias_list(int argc, char **argv)
{
	struct cmdopts o;
	struct tdomain *d;
	struct tree t;
	char *name;

	if (cmdopts_parse(argc, argv, 2, 0, &o) < 0 || o.nargs != 1) {
		cmdopts_release(&o);
		fprintf(stderr, "usage: adminctl alias list DOMAIN\n");
		return EX_USAGE;
	}
	name = arg_domain(o.args[0]);
	cmdopts_release(&o);
	if (name == NULL || load_one(&t, name) < 0) {
		free(name);
		return EX_FAIL;
	}
	d = tree_domain(&t, name);
	if (A.json)
		putchar('[');
	for (size_t i = 0; i < d->naliases; i++) {
		const struct talias *a = &d->aliases[i];

		if (A.json) {
			char *addr = xasprintf("%s@%s", a->local, d->name);

			printf("%s{", i ? "," : "");
			json_field("address", addr, true);
			printf(",\"targets\":[");
			for (size_t k = 0; k < a->nt; k++) {
				printf("%s", k ? "," : "");
				json_str(a->t[k].addr);
			}
			printf("]}");
			free(addr);
			continue;
		}
		printf("%s@%s\t", a->local, d->name);
		for (size_t k = 0; k < a->nt; k++)
			printf("%s%s", k ? "," : "", a->t[k].addr);
		putchar('\n');
	}
	if (A.json)
		printf("]\n");
	tree_release(&t);
	free(name);
	return EX_OK;
}

static const struct subcmd alias_cmds[] = {
	{ "add", alias_add, "ADDRESS TARGET ..." },
	{ "del", alias_del, "ADDRESS [TARGET ...]" },
	{ "list", alias_list, "DOMAIN" },
};

int
cmd_alias(int argc, char **argv)
{
	return subcmd_run("alias", alias_cmds, sizeof(alias_cmds) /
	    sizeof(*alias_cmds), argc, argv);
}
