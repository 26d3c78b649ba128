/* addrpat - see addrpat.h */
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "addrpat.h"
#include "xalloc.h"

struct addrpat_item {
	char *local;        /* lower case; NULL = any local part */
	char *domain;       /* lower case, A-labels, may hold '*' */
};

struct addrpat {
	struct addrpat_item *it;
	size_t n;
};

static char
addrpat_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/*
 * Does s match the glob p ('*' only)?  The classic two-pointer walk: on
 * a mismatch, let the last '*' swallow one more character and retry.
 * At most strlen(p) * strlen(s) steps, and both are short.
 */
static bool
addrpat_glob(const char *p, const char *s)
{
	const char *star = NULL, *retry = NULL;

	while (*s != '\0') {
		if (*p == '*') {
			star = ++p;
			retry = s;
		} else if (*p != '\0' && *p == addrpat_lower(*s)) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star;
			s = ++retry;
		} else
			return false;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

static int
addrpat_local(const char *s, size_t len, char **out_r, const char **why_r)
{
	if (len == 0) {
		*why_r = "empty local part (write example.com or "
		    "*@example.com for a whole domain)";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '@') {
			*why_r = "more than one '@'";
			return -1;
		}
		if (c <= 0x20 || c == 0x7f) {
			*why_r = "blank or control character";
			return -1;
		}
	}
	if (len == 1 && s[0] == '*') {
		*out_r = NULL;
		return 0;
	}
	*out_r = xstrndup(s, len);
	for (char *q = *out_r; *q; q++)
		*q = addrpat_lower(*q);
	return 0;
}

/* A domain with '*': A-labels only, the characters of host names. */
static int
addrpat_domain_glob(const char *s, size_t len, char **out_r,
    const char **why_r)
{
	if (s[len - 1] == '.' || s[0] == '.') {
		*why_r = "domain starts or ends with a dot";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		char c = addrpat_lower(s[i]);

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '*')) {
			*why_r = (unsigned char)c >= 0x80 ?
			    "a pattern with '*' must use A-labels (xn--)" :
			    "character not allowed in a domain";
			return -1;
		}
	}
	*out_r = xstrndup(s, len);
	for (char *q = *out_r; *q; q++)
		*q = addrpat_lower(*q);
	return 0;
}

static int
addrpat_domain(const char *s, size_t len, char **out_r, const char **why_r)
{
	if (len == 0) {
		*why_r = "empty domain";
		return -1;
	}
	if (memchr(s, '*', len) != NULL)
		return addrpat_domain_glob(s, len, out_r, why_r);
	/* Exact domains and address literals: canonical as addr_parse()
	 * makes them, so the comparison is with like; then lower case, as
	 * addrpat_glob() wants its pattern ("[IPv6:..." -> "[ipv6:..."). */
	if (addr_domain_parse(s, len, ADDR_SMTPUTF8, out_r, why_r) < 0)
		return -1;
	for (char *q = *out_r; *q; q++)
		*q = addrpat_lower(*q);
	return 0;
}

static int
addrpat_parse(const char *item, struct addrpat_item *it, const char **why_r)
{
	size_t len = strlen(item);
	const char *at = memrchr(item, '@', len);

	it->local = it->domain = NULL;
	if (len == 0) {
		*why_r = "empty item";
		return -1;
	}
	if (at != NULL && addrpat_local(item, (size_t)(at - item), &it->local,
	    why_r) < 0)
		return -1;
	if (at != NULL) {
		len -= (size_t)(at - item) + 1;
		item = at + 1;
	}
	if (addrpat_domain(item, len, &it->domain, why_r) < 0) {
		free(it->local);
		it->local = NULL;
		return -1;
	}
	return 0;
}

int
addrpat_check(const char *item, const char **why_r)
{
	struct addrpat_item it;

	if (addrpat_parse(item, &it, why_r) < 0)
		return -1;
	free(it.local);
	free(it.domain);
	return 0;
}

struct addrpat *
addrpat_new(const char *const *items, size_t n, char **error_r)
{
	struct addrpat *p = xcalloc(1, sizeof(*p));
	const char *why;

	p->it = xcalloc(n ? n : 1, sizeof(*p->it));
	for (size_t i = 0; i < n; i++) {
		if (addrpat_parse(items[i], &p->it[i], &why) < 0) {
			*error_r = xasprintf("'%.80s': %s", items[i], why);
			addrpat_free(&p);
			return NULL;
		}
		p->n = i + 1;
	}
	return p;
}

bool
addrpat_match(const struct addrpat *p, const char *local,
    const char *domain)
{
	if (p == NULL || domain == NULL)
		return false;
	for (size_t i = 0; i < p->n; i++) {
		const struct addrpat_item *it = &p->it[i];

		if (it->local != NULL && (local == NULL ||
		    !addrpat_glob(it->local, local)))
			continue;
		if (addrpat_glob(it->domain, domain))
			return true;
	}
	return false;
}

size_t
addrpat_count(const struct addrpat *p)
{
	return p != NULL ? p->n : 0;
}

void
addrpat_free(struct addrpat **pp)
{
	struct addrpat *p = *pp;

	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->it[i].local);
		free(p->it[i].domain);
	}
	free(p->it);
	xfree(pp);
}
