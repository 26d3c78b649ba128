/*
 * user_lines - edits of one users line that keep the rest of it: the
 * blanks the admin aligned columns with, and the order of the keys.
 */
#include <stdio.h>
#include <string.h>

#include "acct.h"
#include "addr.h"
#include "xalloc.h"

ssize_t
users_find(const struct edfile *f, const char *key)
{
	struct utok tok[USERS_MAX_TOKENS];
	const char *why;
	size_t n, used;

	for (size_t i = 0; i < f->n; i++) {
		const char *l = f->line[i];
		char *local, *k;
		bool match;

		l += strspn(l, " \t");
		if (*l == '\0' || *l == '#' ||
		    users_tokens(f->line[i], strlen(f->line[i]), tok, &n,
		    &why) < 0 || n == 0)
			continue;
		if (addr_local_parse(f->line[i] + tok[0].start, tok[0].end -
		    tok[0].start, ADDR_SMTPUTF8, &used, &local, &why) < 0)
			continue;
		k = tree_fold(local);
		match = strcmp(k, key) == 0;
		free(k);
		free(local);
		if (match)
			return (ssize_t)i;
	}
	return -1;
}

static char *
line_splice(const char *l, size_t from, size_t to, const char *ins)
{
	return xasprintf("%.*s%s%s", (int)from, l, ins, l + to);
}

char *
users_line_set(const char *line, const char *key, const char *value)
{
	struct utok tok[USERS_MAX_TOKENS];
	size_t n, klen = strlen(key);
	const char *why;
	char *q, *tokn, *out;

	if (users_tokens(line, strlen(line), tok, &n, &why) < 0 || n < 2)
		return NULL;
	for (size_t k = 2; k < n; k++) {
		if (tok[k].end - tok[k].start <= klen ||
		    strncmp(line + tok[k].start, key, klen) != 0 ||
		    line[tok[k].start + klen] != '=')
			continue;
		if (value == NULL)
			return line_splice(line, tok[k].ws, tok[k].end, "");
		q = users_quote(value);
		tokn = xasprintf("%s=%s", key, q);
		out = line_splice(line, tok[k].start, tok[k].end, tokn);
		free(q);
		free(tokn);
		return out;
	}
	if (value == NULL)
		return xstrdup(line);
	q = users_quote(value);
	out = xasprintf("%.*s %s=%s", (int)tok[n - 1].end, line, key, q);
	free(q);
	return out;
}

char *
users_line_hash(const char *line, const char *hash)
{
	struct utok tok[USERS_MAX_TOKENS];
	const char *why;
	size_t n;

	if (users_tokens(line, strlen(line), tok, &n, &why) < 0 || n < 1)
		return NULL;
	if (n == 1)
		return xasprintf("%.*s  %s", (int)tok[0].end, line, hash);
	return line_splice(line, tok[1].start, tok[1].end, hash);
}

int
users_line_ok(const char *line)
{
	struct tuser u;
	char *err = NULL;
	int r = users_parse_line(line, strlen(line), &u, &err);

	if (r == 1) {
		tuser_release(&u);
		return 0;
	}
	fprintf(stderr, "adminctl: %s\n", err != NULL ? err : "empty line");
	free(err);
	return -1;
}
