/* iplist - see iplist.h */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iplist.h"
#include "xalloc.h"

/* An address as 16 big-endian bytes, so memcmp() orders them. */
struct ip128 {
	unsigned char b[16];
};

struct iprange {
	struct ip128 lo, hi;        /* inclusive */
};

struct iplist {
	struct iprange *r;          /* sorted by lo, disjoint, not adjacent */
	size_t n;
};

/* Longest text an address may take: IPv6 with an embedded IPv4. */
#define IPLIST_ADDR_MAX 46

static const unsigned char iplist_v4_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
};

static void
iplist_from_v4(struct ip128 *ip, const void *v4)
{
	memcpy(ip->b, iplist_v4_prefix, 12);
	memcpy(ip->b + 12, v4, 4);
}

/* Parse s[0..len) as one address; *v4_r says which notation it used. */
static int
iplist_parse_addr(const char *s, size_t len, struct ip128 *ip, bool *v4_r,
    const char **why_r)
{
	char tmp[IPLIST_ADDR_MAX + 1];
	unsigned char v4[4];

	if (len == 0 || len > IPLIST_ADDR_MAX) {
		*why_r = "not an IP address";
		return -1;
	}
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (memchr(tmp, '%', len) != NULL) {
		*why_r = "zone ids are not allowed";
		return -1;
	}
	/* inet_pton() is strict: no leading zeros or short forms in IPv4,
	 * no blanks, nothing after the address. */
	if (memchr(tmp, ':', len) != NULL) {
		*v4_r = false;
		if (inet_pton(AF_INET6, tmp, ip->b) == 1)
			return 0;
	} else {
		*v4_r = true;
		if (inet_pton(AF_INET, tmp, v4) == 1) {
			iplist_from_v4(ip, v4);
			return 0;
		}
	}
	*why_r = "not an IP address";
	return -1;
}

/* "0".."max", decimal, no sign and no leading zeros. */
static int
iplist_parse_prefix(const char *s, size_t len, unsigned max, unsigned *p_r,
    const char **why_r)
{
	unsigned v = 0;

	if (len == 0 || len > 3 || (len > 1 && s[0] == '0')) {
		*why_r = "bad prefix length";
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			*why_r = "bad prefix length";
			return -1;
		}
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max) {
		*why_r = max == 32 ? "prefix length out of range (IPv4: 0-32)"
		    : "prefix length out of range (IPv6: 0-128)";
		return -1;
	}
	*p_r = v;
	return 0;
}

/* "addr/prefix": lo..hi of the block; bits after the prefix must be 0. */
static int
iplist_parse_cidr(const char *s, size_t len, const char *slash,
    struct iprange *r, const char **why_r)
{
	size_t alen = (size_t)(slash - s);
	unsigned prefix, bits;
	bool v4;

	if (iplist_parse_addr(s, alen, &r->lo, &v4, why_r) < 0 ||
	    iplist_parse_prefix(slash + 1, len - alen - 1, v4 ? 32 : 128,
	    &prefix, why_r) < 0)
		return -1;
	bits = v4 ? 96 + prefix : prefix;
	r->hi = r->lo;
	for (unsigned i = bits; i < 128; i++) {
		unsigned char m = (unsigned char)(0x80u >> (i % 8));

		if (r->lo.b[i / 8] & m) {
			/* Postfix refuses this too: "10.1.2.3/8" is far more
			 * likely a typo than a wish for 10.0.0.0/8. */
			*why_r = "address has bits set after the prefix";
			return -1;
		}
		r->hi.b[i / 8] |= m;
	}
	return 0;
}

/* "first-last", both of one family, first <= last. */
static int
iplist_parse_range(const char *s, size_t len, const char *dash,
    struct iprange *r, const char **why_r)
{
	size_t alen = (size_t)(dash - s);
	bool v4a, v4b;

	if (alen == 0 || alen + 1 == len) {
		*why_r = "a range needs both ends, written without blanks "
		    "(A-B)";
		return -1;
	}
	/* "mail-gw.example" lands here too: name what was expected. */
	if (memchr(dash + 1, '-', len - alen - 1) != NULL ||
	    iplist_parse_addr(s, alen, &r->lo, &v4a, why_r) < 0 ||
	    iplist_parse_addr(dash + 1, len - alen - 1, &r->hi, &v4b,
	    why_r) < 0) {
		*why_r = "not an IP address range (A-B)";
		return -1;
	}
	if (v4a != v4b) {
		*why_r = "range mixes IPv4 and IPv6";
		return -1;
	}
	if (memcmp(r->lo.b, r->hi.b, 16) > 0) {
		*why_r = "range ends below its start";
		return -1;
	}
	return 0;
}

static int
iplist_parse_item(const char *item, struct iprange *r, const char **why_r)
{
	size_t len = strlen(item);
	const char *slash = memchr(item, '/', len);
	const char *dash = memchr(item, '-', len);
	bool v4;

	if (len == 0) {
		*why_r = "empty item";
		return -1;
	}
	if (slash != NULL && dash != NULL) {
		*why_r = "both a prefix and a range";
		return -1;
	}
	if (slash != NULL)
		return iplist_parse_cidr(item, len, slash, r, why_r);
	if (dash != NULL)
		return iplist_parse_range(item, len, dash, r, why_r);
	if (iplist_parse_addr(item, len, &r->lo, &v4, why_r) < 0)
		return -1;
	r->hi = r->lo;
	return 0;
}

int
iplist_check(const char *item, const char **why_r)
{
	struct iprange r;

	return iplist_parse_item(item, &r, why_r);
}

static int
iplist_cmp(const void *a, const void *b)
{
	const struct iprange *x = a, *y = b;

	return memcmp(x->lo.b, y->lo.b, 16);
}

/* ip + 1; false when it wraps (ip was the last address). */
static bool
iplist_next(struct ip128 *ip)
{
	for (int i = 15; i >= 0; i--)
		if (++ip->b[i] != 0)
			return true;
	return false;
}

/* Sort, then fold overlapping and adjacent ranges into one. */
static void
iplist_merge(struct iplist *l)
{
	size_t out = 0;

	if (l->n == 0)
		return;
	qsort(l->r, l->n, sizeof(*l->r), iplist_cmp);
	for (size_t i = 1; i < l->n; i++) {
		struct iprange *cur = &l->r[out];
		struct ip128 after = cur->hi;

		/* cur reaching the top address swallows everything. */
		if (!iplist_next(&after) ||
		    memcmp(l->r[i].lo.b, after.b, 16) <= 0) {
			if (memcmp(l->r[i].hi.b, cur->hi.b, 16) > 0)
				cur->hi = l->r[i].hi;
		} else
			l->r[++out] = l->r[i];
	}
	l->n = out + 1;
}

struct iplist *
iplist_new(const char *const *items, size_t n, char **error_r)
{
	struct iplist *l = xcalloc(1, sizeof(*l));
	const char *why;

	l->r = xcalloc(n ? n : 1, sizeof(*l->r));
	for (size_t i = 0; i < n; i++) {
		if (iplist_parse_item(items[i], &l->r[i], &why) < 0) {
			*error_r = xasprintf("'%.80s': %s", items[i], why);
			iplist_free(&l);
			return NULL;
		}
	}
	l->n = n;
	iplist_merge(l);
	return l;
}

static bool
iplist_from_sockaddr(const struct sockaddr *sa, struct ip128 *ip)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		iplist_from_v4(ip, &in->sin_addr);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		memcpy(ip->b, &in6->sin6_addr, 16);
		return true;
	}
	return false;
}

bool
iplist_match(const struct iplist *l, const struct sockaddr *sa)
{
	struct ip128 ip;
	size_t lo = 0, hi;

	if (l == NULL || l->n == 0 || sa == NULL ||
	    !iplist_from_sockaddr(sa, &ip))
		return false;
	/* Find the last range starting at or below ip. */
	hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (memcmp(l->r[mid].lo.b, ip.b, 16) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo > 0 && memcmp(ip.b, l->r[lo - 1].hi.b, 16) <= 0;
}

size_t
iplist_ranges(const struct iplist *l)
{
	return l != NULL ? l->n : 0;
}

void
iplist_free(struct iplist **lp)
{
	if (*lp == NULL)
		return;
	free((*lp)->r);
	xfree(lp);
}
