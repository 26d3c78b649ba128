/* acct_util - see acct.h */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "acct.h"
#include "addr.h"
#include "adminctl.h"
#include "confset.h"
#include "domain_keys.h"
#include "xalloc.h"

char *
arg_domain(const char *s)
{
	const char *why;
	char *d;

	if (addr_domain_normalise(s, strlen(s), &d, &why) < 0) {
		fprintf(stderr, "adminctl: '%s': not a domain name: %s\n", s,
		    why);
		return NULL;
	}
	return d;
}

int
arg_addr(const char *s, char **local_r, char **domain_r)
{
	struct addr a;
	const char *why;

	if (addr_parse(s, strlen(s), ADDR_SMTPUTF8 | ADDR_NO_LITERAL, &a,
	    &why) < 0) {
		fprintf(stderr, "adminctl: '%s': not an address: %s\n", s, why);
		return -1;
	}
	*local_r = a.local;
	*domain_r = a.domain;
	a.local = a.domain = NULL;
	addr_release(&a);
	return 0;
}

int
arg_kv(const char *s, char **key_r, char **value_r)
{
	const char *eq = strchr(s, '=');

	if (eq == NULL || eq == s) {
		fprintf(stderr, "adminctl: '%s': expected key=value\n", s);
		return -1;
	}
	if (strpbrk(s, "\n\r") != NULL) {
		fprintf(stderr, "adminctl: '%.*s': a value is one line\n",
		    (int)(eq - s), s);
		return -1;
	}
	*key_r = xstrndup(s, (size_t)(eq - s));
	*value_r = xstrdup(eq + 1);
	return 0;
}

char *
domain_path(const char *domain, const char *file)
{
	return xasprintf("%s/domains/%s/%s", A.confdir, domain, file);
}

char *
domain_alias_owner(const char *alias)
{
	char *dir = xasprintf("%s/domains", A.confdir), *owner = NULL;
	struct confset *s = confset_new(domain_table, domain_table_len);
	DIR *dp = opendir(dir);
	struct dirent *de;

	while (dp != NULL && owner == NULL && (de = readdir(dp)) != NULL) {
		char *path, *err = NULL;
		const char *const *list;

		if (de->d_name[0] == '.')
			continue;
		path = domain_path(de->d_name, "domain.conf");
		if (confset_load(s, path, NULL, false, &err) == 0) {
			list = confset_list(s, "domain_aliases", NULL);
			for (size_t i = 0; list[i] != NULL; i++)
				if (domain_same(list[i], alias))
					owner = xstrdup(de->d_name);
		}
		free(err);
		free(path);
	}
	if (dp != NULL)
		closedir(dp);
	confset_free(&s);
	free(dir);
	return owner;
}

bool
domain_same(const char *item, const char *norm)
{
	const char *why;
	char *n;
	bool same;

	if (addr_domain_normalise(item, strlen(item), &n, &why) < 0)
		return false;
	same = strcmp(n, norm) == 0;
	free(n);
	return same;
}

int
load_one(struct tree *t, const char *domain)
{
	char *primary;

	tree_load(t, A.confdir, domain);
	for (size_t i = 0; i < t->errs.n; i++)
		fprintf(stderr, "adminctl: warning: %s\n", t->errs.msg[i]);
	if (tree_domain(t, domain) != NULL)
		return 0;
	tree_release(t);
	primary = domain_alias_owner(domain);
	if (primary != NULL)
		fprintf(stderr, "adminctl: %s is a domain alias of %s; its "
		    "users and aliases are %s's\n", domain, primary, primary);
	else
		fprintf(stderr, "adminctl: no such domain %s\n", domain);
	free(primary);
	return -1;
}

int
domain_exists(const char *domain)
{
	char *dir = xasprintf("%s/domains/%s", A.confdir, domain), *primary;
	struct stat st;
	int ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;

	free(dir);
	if (ok == 0)
		return 0;
	primary = domain_alias_owner(domain);
	if (primary != NULL)
		fprintf(stderr, "adminctl: %s is a domain alias of %s; its "
		    "users and aliases are %s's\n", domain, primary, primary);
	else
		fprintf(stderr, "adminctl: no such domain %s\n", domain);
	free(primary);
	return -1;
}

int
domain_kv_check(const char *key, const char *value)
{
	struct confset *s = confset_new(domain_table, domain_table_len);
	char *err = NULL;
	int rc = 0;

	if (confset_key(s, key) == NULL) {
		fprintf(stderr, "adminctl: unknown domain key '%s' (see "
		    "domain.conf(5))\n", key);
		rc = -1;
	} else if (confset_set(s, key, value, &err) < 0) {
		fprintf(stderr, "adminctl: %s\n", err);
		free(err);
		rc = -1;
	}
	confset_free(&s);
	return rc;
}

static bool
kv_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* A continuation line: white space first, then something not '#'. */
static bool
kv_continuation(const char *l)
{
	size_t i = 0;

	if (!kv_blank(l[0]))
		return false;
	while (kv_blank(l[i]))
		i++;
	return l[i] != '\0' && l[i] != '#';
}

/* A line that neither starts nor continues a key: blank or comment. */
static bool
kv_inert(const char *l)
{
	while (kv_blank(*l))
		l++;
	return *l == '\0' || *l == '#';
}

ssize_t
kv_find(const struct edfile *f, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < f->n; i++) {
		const char *l = f->line[i];

		if (strncmp(l, key, klen) != 0)
			continue;
		l += klen;
		while (kv_blank(*l))
			l++;
		if (*l == '=')
			return (ssize_t)i;
	}
	return -1;
}

/* Delete the continuation lines of the key at line i (comments stay). */
static void
kv_drop_continuations(struct edfile *f, size_t i)
{
	size_t k = i + 1;

	while (k < f->n) {
		if (kv_continuation(f->line[k]))
			edfile_delete(f, k, 1);
		else if (kv_inert(f->line[k]))
			k++;
		else
			break;
	}
}

void
kv_set(struct edfile *f, const char *key, const char *value)
{
	ssize_t i = kv_find(f, key);
	char *line = *value ? xasprintf("%s = %s", key, value) :
	    xasprintf("%s =", key);

	if (i < 0)
		edfile_append(f, line);
	else {
		edfile_replace(f, (size_t)i, line);
		kv_drop_continuations(f, (size_t)i);
	}
	free(line);
}

bool
kv_unset(struct edfile *f, const char *key)
{
	ssize_t i = kv_find(f, key);

	if (i < 0)
		return false;
	kv_drop_continuations(f, (size_t)i);
	edfile_delete(f, (size_t)i, 1);
	return true;
}

void
json_field(const char *key, const char *value, bool first)
{
	if (!first)
		putchar(',');
	json_str(key);
	putchar(':');
	json_str(value);
}

int
subcmd_run(const char *group, const struct subcmd *t, size_t n, int argc,
    char **argv)
{
	if (argc >= 2)
		for (size_t i = 0; i < n; i++)
			if (strcmp(argv[1], t[i].name) == 0)
				return t[i].run(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "help") != 0)
		fprintf(stderr, "adminctl: %s: unknown sub-command '%s'\n",
		    group, argv[1]);
	fprintf(stderr, "usage:\n");
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  adminctl %s %s %s\n", group, t[i].name,
		    t[i].usage);
	return EX_USAGE;
}
