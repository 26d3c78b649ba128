/*
 * tree_aliases - a domain's aliases file, in the shape of /etc/aliases:
 *
 *   sales:   alice, bob@example.org
 *            carol                    (white space first: more targets)
 *   # comment
 *
 * A target without '@' is a local part of the same domain.  Targets are
 * separated by commas and/or blanks; a quoted local part may hold both.
 * Whether targets exist, and loops, are tree_check's business.
 */
#include <string.h>

#include "addr.h"
#include "tree.h"
#include "xalloc.h"

struct aliases_parser {
	struct tdomain *d;
	struct errs *e;
	struct talias *cur;     /* alias that continuation lines extend */
	bool skip;              /* continuation of an alias we refused */
	int line;
};

static bool
aliases_blank(char c)
{
	return c == ' ' || c == '\t';
}

size_t
aliases_span(const char *s, size_t len, const char *stops)
{
	bool quoted = false;
	size_t i;

	for (i = 0; i < len; i++) {
		if (quoted && s[i] == '\\' && i + 1 < len)
			i++;
		else if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && strchr(stops, s[i]) != NULL)
			break;
	}
	return i;
}

int
aliases_target(const char *s, size_t len, const char *domain,
    char **addr_r, const char **why_r)
{
	size_t used;
	char *local;

	if (aliases_span(s, len, "@") < len) {
		struct addr a;

		if (addr_parse(s, len, ADDR_SMTPUTF8, &a, why_r) < 0)
			return -1;
		*addr_r = addr_format(&a);
		addr_release(&a);
		return 0;
	}
	if (addr_local_parse(s, len, ADDR_SMTPUTF8, &used, &local, why_r) < 0)
		return -1;
	*addr_r = xasprintf("%s@%s", local, domain);
	free(local);
	return 0;
}

static void
aliases_add_target(struct aliases_parser *p, const char *s, size_t len)
{
	struct talias *a = p->cur;
	const char *why;
	char *addr;

	if (aliases_target(s, len, p->d->name, &addr, &why) < 0) {
		errs_add(p->e, p->d->aliases_path, p->line,
		    "alias %s: bad target '%.*s': %s", a->local,
		    (int)(len > 80 ? 80 : len), s, why);
		return;
	}
	for (size_t i = 0; i < a->nt; i++)
		if (strcmp(a->t[i].addr, addr) == 0) {
			free(addr);     /* listed twice: once is enough */
			return;
		}
	if (a->nt == a->tcap) {
		a->tcap = a->tcap ? a->tcap * 2 : 4;
		a->t = xrealloc(a->t, a->tcap * sizeof(*a->t));
	}
	a->t[a->nt].addr = addr;
	a->t[a->nt].at = (size_t)(strrchr(addr, '@') - addr);
	a->t[a->nt++].line = p->line;
}

/* Targets in s[0..len), separated by commas and blanks. */
static void
aliases_targets(struct aliases_parser *p, const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t n;

		while (i < len && (aliases_blank(s[i]) || s[i] == ','))
			i++;
		if (i == len)
			break;
		n = aliases_span(s + i, len - i, ", \t");
		aliases_add_target(p, s + i, n);
		i += n;
	}
}

static struct talias *
aliases_new(struct tdomain *d, char *local)
{
	struct talias *a;

	if (d->naliases == d->acap) {
		d->acap = d->acap ? d->acap * 2 : 16;
		d->aliases = xrealloc(d->aliases, d->acap * sizeof(*d->aliases));
	}
	a = &d->aliases[d->naliases++];
	memset(a, 0, sizeof(*a));
	a->local = local;
	a->key = tree_fold(local);
	return a;
}

static void
aliases_start(struct aliases_parser *p, const char *s, size_t len)
{
	size_t colon = aliases_span(s, len, ":"), n = colon, used;
	const char *why;
	char *local;

	p->cur = NULL;
	p->skip = true;
	if (colon == len) {
		errs_add(p->e, p->d->aliases_path, p->line,
		    "expected 'name: target, ...'");
		return;
	}
	while (n > 0 && aliases_blank(s[n - 1]))
		n--;
	if (addr_local_parse(s, n, ADDR_SMTPUTF8, &used, &local, &why) < 0) {
		errs_add(p->e, p->d->aliases_path, p->line,
		    "bad alias name '%.*s': %s", (int)(n > 80 ? 80 : n), s,
		    why);
		return;
	}
	if (used != n) {
		free(local);
		errs_add(p->e, p->d->aliases_path, p->line,
		    "bad alias name '%.*s': an alias is a local part, not an "
		    "address", (int)(n > 80 ? 80 : n), s);
		return;
	}
	p->cur = aliases_new(p->d, local);
	p->cur->line = p->line;
	p->skip = false;
	aliases_targets(p, s + colon + 1, len - colon - 1);
}

static void
aliases_line(struct aliases_parser *p, const char *s, size_t len)
{
	size_t i = 0;

	while (len > 0 && (aliases_blank(s[len - 1]) || s[len - 1] == '\r'))
		len--;
	while (i < len && aliases_blank(s[i]))
		i++;
	if (i == len || s[i] == '#')
		return;
	for (size_t k = 0; k < len; k++)
		if (((unsigned char)s[k] < 0x20 && s[k] != '\t') ||
		    s[k] == 0x7f) {
			errs_add(p->e, p->d->aliases_path, p->line,
			    "control character in the line");
			return;
		}
	if (i == 0) {
		aliases_start(p, s, len);
		return;
	}
	if (p->skip)
		return;
	if (p->cur == NULL) {
		errs_add(p->e, p->d->aliases_path, p->line,
		    "continuation line without an alias before it");
		return;
	}
	aliases_targets(p, s + i, len - i);
}

void
aliases_parse(struct tdomain *d, const char *text, size_t len,
    struct errs *e)
{
	struct aliases_parser p = { .d = d, .e = e };
	size_t first = d->naliases;
	const char *s = text, *end = text + len;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl != NULL ? nl : end;

		p.line++;
		aliases_line(&p, s, (size_t)(eol - s));
		s = eol + 1;
	}
	for (size_t i = first; i < d->naliases; i++)
		if (d->aliases[i].nt == 0)
			errs_add(e, d->aliases_path, d->aliases[i].line,
			    "alias %s has no targets", d->aliases[i].local);
}
