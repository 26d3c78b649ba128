/* accounts - see accounts.h */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "accounts.h"
#include "map.h"
#include "xalloc.h"

enum { M_DOMAINS, M_USERS, M_ALIASES, M_PASSWD, M_CRAM, M_N };

static const char *const map_files[M_N] = {
	ACCT_MAP_DOMAINS, ACCT_MAP_USERS, ACCT_MAP_ALIASES, ACCT_MAP_PASSWD,
	ACCT_MAP_CRAM,
};

struct accounts {
	char *dir;
	unsigned which;
	struct map *m[M_N];     /* NULL: not wanted, or not built yet */
	char *keybuf;           /* scratch for folded keys */
	char *primary;          /* last resolved primary domain name */
};

static bool
acct_wanted(const struct accounts *a, int i)
{
	return (i <= M_ALIASES ? (a->which & ACCT_PUBLIC)
	    : (a->which & ACCT_SECRETS)) != 0;
}

/* Open map i if it exists now; a map that does not exist yet is empty. */
static int
acct_open_map(struct accounts *a, int i, const char **error_r)
{
	char *path = xasprintf("%s/%s", a->dir, map_files[i]);
	struct stat st;
	int rc = 0;

	if (stat(path, &st) < 0 && errno == ENOENT)
		goto out;
	a->m[i] = map_open(path, error_r);
	if (a->m[i] == NULL)
		rc = -1;
out:
	free(path);
	return rc;
}

struct accounts *
accounts_open(const char *dir, unsigned which, const char **error_r)
{
	struct accounts *a = xcalloc(1, sizeof(*a));

	a->dir = xstrdup(dir);
	a->which = which;
	for (int i = 0; i < M_N; i++)
		if (acct_wanted(a, i) && acct_open_map(a, i, error_r) < 0) {
			accounts_free(&a);
			return NULL;
		}
	return a;
}

int
accounts_reopen(struct accounts *a, const char **error_r)
{
	int rc = 0;

	for (int i = 0; i < M_N; i++) {
		if (!acct_wanted(a, i))
			continue;
		if (a->m[i] == NULL) {
			if (acct_open_map(a, i, error_r) < 0)
				rc = -1;
		} else if (map_reopen_if_changed(a->m[i], error_r) < 0)
			rc = -1;
	}
	return rc;
}

void
accounts_free(struct accounts **ap)
{
	struct accounts *a = *ap;

	if (a == NULL)
		return;
	for (int i = 0; i < M_N; i++)
		map_free(&a->m[i]);
	free(a->dir);
	free(a->keybuf);
	free(a->primary);
	xfree(ap);
}

static int
acct_get(struct accounts *a, int i, const char *key, const char **val_r,
    size_t *len_r)
{
	const void *v;
	int rc;

	if (a->m[i] == NULL)
		return 0;
	rc = map_lookup(a->m[i], key, strlen(key), &v, len_r);
	if (rc == 1)
		*val_r = v;
	return rc;
}

static char *
acct_lower(const char *s)
{
	char *r = xstrdup(s);

	for (char *p = r; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return r;
}

char *
acct_key(const char *local, const char *domain)
{
	char *l = acct_lower(local), *d = acct_lower(domain);
	char *k = xasprintf("%s@%s", l, d);

	free(l);
	free(d);
	return k;
}

int
accounts_domain(struct accounts *a, const char *domain,
    struct acct_domain *d_r)
{
	const char *rec, *v;
	size_t len, vlen;
	int rc;

	free(a->keybuf);
	a->keybuf = acct_lower(domain);
	if (a->keybuf[0] == '@')        /* "@serial" is not a domain */
		return 0;
	rc = acct_get(a, M_DOMAINS, a->keybuf, &rec, &len);
	if (rc != 1)
		return rc;
	d_r->via_alias = false;
	v = acct_field(rec, len, "kind", &vlen);
	if (v != NULL && vlen == 5 && memcmp(v, "alias", 5) == 0) {
		v = acct_field(rec, len, "primary", &vlen);
		if (v == NULL)
			return -1;
		free(a->keybuf);
		a->keybuf = xstrndup(v, vlen);
		rc = acct_get(a, M_DOMAINS, a->keybuf, &rec, &len);
		if (rc != 1)
			return -1;      /* rebuild guarantees the primary */
		d_r->via_alias = true;
	}
	free(a->primary);
	a->primary = a->keybuf;
	a->keybuf = NULL;
	d_r->name = a->primary;
	d_r->rec = rec;
	d_r->reclen = len;
	return 1;
}

static int
acct_get_addr(struct accounts *a, int i, const char *local,
    const char *domain, const char **val_r, size_t *len_r)
{
	int rc;

	free(a->keybuf);
	a->keybuf = acct_key(local, domain);
	rc = acct_get(a, i, a->keybuf, val_r, len_r);
	return rc;
}

int
accounts_user(struct accounts *a, const char *local, const char *domain,
    const char **rec_r, size_t *len_r)
{
	return acct_get_addr(a, M_USERS, local, domain, rec_r, len_r);
}

int
accounts_alias(struct accounts *a, const char *local, const char *domain,
    const char **targets_r, size_t *len_r)
{
	return acct_get_addr(a, M_ALIASES, local, domain, targets_r, len_r);
}

/* Secrets are stored NUL-terminated (map_writer_add_str). */
static int
acct_secret(struct accounts *a, int i, const char *key, const char **val_r)
{
	if (a->m[i] == NULL)
		return 0;
	return map_lookup_str(a->m[i], key, val_r);
}

int
accounts_passwd(struct accounts *a, const char *key, const char **hash_r)
{
	return acct_secret(a, M_PASSWD, key, hash_r);
}

int
accounts_cram(struct accounts *a, const char *key, const char **secret_r)
{
	return acct_secret(a, M_CRAM, key, secret_r);
}

const char *
acct_field(const char *rec, size_t reclen, const char *key, size_t *len_r)
{
	size_t klen = strlen(key);
	const char *p = rec, *end = rec + reclen;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl != NULL ? nl : end;

		if ((size_t)(eol - p) > klen && memcmp(p, key, klen) == 0 &&
		    p[klen] == '=') {
			*len_r = (size_t)(eol - p) - klen - 1;
			return p + klen + 1;
		}
		p = eol + 1;
	}
	return NULL;
}

bool
acct_field_bool(const char *rec, size_t reclen, const char *key, bool def)
{
	size_t len;
	const char *v = acct_field(rec, reclen, key, &len);

	if (v == NULL)
		return def;
	return (len == 1 && v[0] == '1') || (len == 3 &&
	    strncasecmp(v, "yes", 3) == 0) || (len == 4 &&
	    strncasecmp(v, "true", 4) == 0) || (len == 2 &&
	    strncasecmp(v, "on", 2) == 0);
}

long long
acct_field_int(const char *rec, size_t reclen, const char *key,
    long long def)
{
	size_t len;
	const char *v = acct_field(rec, reclen, key, &len);
	char tmp[32], *end;
	long long n;

	if (v == NULL || len == 0 || len >= sizeof(tmp))
		return def;
	memcpy(tmp, v, len);
	tmp[len] = '\0';
	errno = 0;
	n = strtoll(tmp, &end, 10);
	return (*end != '\0' || errno != 0) ? def : n;
}
