/* addr - RFC 5321 paths and mailboxes; see addr.h */
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "xalloc.h"

/* RFC 5321 4.5.3.1.3: a whole path, punctuation and route included. */
#define ADDR_PATH_MAX 256

/*
 * Strip the angle brackets flags call for; (*p_r, *n_r) is what is left.
 * Returns 1 for the null path "<>", 0 to go on, -1 on error.
 */
static int
addr_unwrap(const char *s, size_t len, unsigned flags, const char **p_r,
    size_t *n_r, const char **error_r)
{
	bool open = s[0] == '<', close = s[len - 1] == '>';

	*p_r = s;
	*n_r = len;
	if (!(flags & ADDR_PATH)) {
		if (open || close) {
			*error_r = "angle brackets not allowed here";
			return -1;
		}
		return 0;
	}
	if (open != close || len == 1) {
		*error_r = "unbalanced angle brackets";
		return -1;
	}
	if (!open) {
		if (!(flags & ADDR_NO_BRACKETS_OK)) {
			*error_r = "address must be in angle brackets";
			return -1;
		}
		return 0;
	}
	*p_r = s + 1;
	*n_r = len - 2;
	if (*n_r > 0)
		return 0;
	if (!(flags & ADDR_ALLOW_NULL)) {
		*error_r = "null address not allowed here";
		return -1;
	}
	return 1;
}

/* Where the route domain starting at s[i] ends: at ',' or ':' outside
 * an address literal ("@[IPv6:::1]:u@d" has colons of its own). */
static size_t
addr_route_domain_end(const char *s, size_t len, size_t i)
{
	const char *p;

	if (i < len && s[i] == '[' && (p = memchr(s + i, ']', len - i)) != NULL)
		i = p - s + 1;
	while (i < len && s[i] != ',' && s[i] != ':')
		i++;
	return i;
}

/*
 * Skip A-d-l ":" (RFC 5321 4.1.2) at s[0] == '@'.  The domains are
 * checked, then forgotten: 4.1.1.3 says to ignore the route.
 */
static int
addr_route_skip(const char *s, size_t len, unsigned flags, size_t *used_r,
    const char **error_r)
{
	const char *error;
	size_t i = 0, end;
	char *domain;

	while (i < len && s[i] == '@') {
		end = addr_route_domain_end(s, len, ++i);
		if (addr_domain_parse(s + i, end - i, flags, &domain,
		    &error) < 0)
			break;
		xfree(&domain);
		i = end;
		if (i < len && s[i] == ':') {
			*used_r = i + 1;
			return 0;
		}
		if (i < len && s[i] == ',')
			i++;
	}
	*error_r = "invalid source route";
	return -1;
}

/* Local@Domain, or a bare postmaster when flags allow it. */
static int
addr_mailbox(const char *s, size_t len, unsigned flags, struct addr *a_r,
    const char **error_r)
{
	size_t used;

	if (addr_local_parse(s, len, flags, &used, &a_r->local, error_r) < 0)
		return -1;
	if (used == len) {
		if ((flags & ADDR_ALLOW_POSTMASTER) &&
		    strcasecmp(a_r->local, "postmaster") == 0)
			return 0;
		*error_r = "missing domain";
		return -1;
	}
	used++;                 /* the '@' */
	if (addr_domain_parse(s + used, len - used, flags, &a_r->domain,
	    error_r) < 0)
		return -1;
	/* Canonical forms can grow (A-labels), so measure "<local@domain>"
	 * again: whatever we accept we can also send. */
	if (strlen(a_r->local) + 1 + strlen(a_r->domain) + 2 > ADDR_PATH_MAX) {
		*error_r = "address too long";
		return -1;
	}
	return 0;
}

static int
addr_parse_path(const char *s, size_t len, unsigned flags, struct addr *a_r,
    const char **error_r)
{
	const char *p;
	size_t n, used;
	int rc;

	if ((rc = addr_unwrap(s, len, flags, &p, &n, error_r)) != 0) {
		a_r->null_path = rc > 0;
		return rc > 0 ? 0 : -1;
	}
	/* "<@b>" is an empty local part, not a route: a route needs ':'. */
	if ((flags & ADDR_PATH) && n > 0 && p[0] == '@' &&
	    memchr(p, ':', n) != NULL) {
		if (!(flags & ADDR_ALLOW_ROUTE)) {
			*error_r = "source routes not accepted";
			return -1;
		}
		if (addr_route_skip(p, n, flags, &used, error_r) < 0)
			return -1;
		p += used;
		n -= used;
	}
	return addr_mailbox(p, n, flags, a_r, error_r);
}

int
addr_parse(const char *s, size_t len, unsigned flags, struct addr *a_r,
    const char **error_r)
{
	const char *c;

	memset(a_r, 0, sizeof(*a_r));
	if (len == 0) {
		*error_r = "empty address";
		return -1;
	}
	if (len > ADDR_PATH_MAX) {
		*error_r = "address too long";
		return -1;
	}
	if (addr_parse_path(s, len, flags, a_r, error_r) < 0) {
		addr_release(a_r);
		return -1;
	}
	for (c = a_r->local; c != NULL && *c != '\0'; c++)
		if ((unsigned char)*c >= 0x80)
			a_r->utf8 = true;
	return 0;
}

void
addr_release(struct addr *a)
{
	xfree(&a->local);
	xfree(&a->domain);
	a->null_path = false;
	a->utf8 = false;
}

char *
addr_format(const struct addr *a)
{
	if (a->null_path || a->local == NULL)
		return xstrdup("");
	if (a->domain == NULL)
		return xstrdup(a->local);
	return xasprintf("%s@%s", a->local, a->domain);
}

char *
addr_local_lower(const struct addr *a)
{
	char *s, *p;

	s = xstrdup(a->local != NULL ? a->local : "");
	for (p = s; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	return s;
}

bool
addr_has_relay_chars(const struct addr *a)
{
	if (a->local == NULL)
		return false;
	/* Only a quoted local part can hold '@'; quoted means canonical
	 * form starts with '"' (addr_local_parse() unquotes the rest). */
	if (a->local[0] == '"')
		return strpbrk(a->local, "@%!") != NULL;
	return strpbrk(a->local, "%!") != NULL;
}

size_t
addr_path_span(const char *s, size_t len)
{
	bool bracket = len > 0 && s[0] == '<', quoted = false;
	size_t i;

	for (i = bracket ? 1 : 0; i < len; i++) {
		if (quoted && s[i] == '\\')
			i++;    /* a quoted-pair: skip what it quotes */
		else if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && bracket && s[i] == '>')
			return i + 1;
		else if (!quoted && !bracket && s[i] == ' ')
			return i;
	}
	return len;
}
