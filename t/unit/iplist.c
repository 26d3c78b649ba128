/*
 * Unit tests for lib/iplist: the item forms, hostile items (each error
 * names the item), the edges of blocks and ranges (/0, /32, /128, the
 * first and last address), IPv4-mapped clients, merging, and a large
 * random list checked against a linear scan.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "iplist.h"
#include "tap.h"
#include "xalloc.h"

/* A sockaddr for text: IPv4 as AF_INET, anything with ':' as AF_INET6. */
static const struct sockaddr *
sa(const char *ip)
{
	static struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		ASSERT(inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		ASSERT(inet_pton(AF_INET, ip, &in->sin_addr) == 1);
	}
	return (const struct sockaddr *)&ss;
}

static struct iplist *
list1(const char *item)
{
	char *err = NULL;
	struct iplist *l = iplist_new(&item, 1, &err);

	if (l == NULL) {
		diag("'%s' refused: %s", item, err);
		free(err);
	}
	return l;
}

/* Does the one-item list `item` hold `ip`? */
static bool
in1(const char *item, const char *ip)
{
	struct iplist *l = list1(item);
	bool r = iplist_match(l, sa(ip));

	iplist_free(&l);
	return r;
}

static void
test_forms(void)
{
	ok(in1("192.0.2.1", "192.0.2.1"), "single IPv4");
	ok(!in1("192.0.2.1", "192.0.2.2"), "single IPv4: next one out");
	ok(!in1("192.0.2.1", "192.0.2.0"), "single IPv4: previous one out");
	ok(in1("2001:db8::1", "2001:db8::1"), "single IPv6");
	ok(in1("2001:DB8:0:0::1", "2001:db8::1"), "IPv6 any spelling");
	ok(!in1("2001:db8::1", "2001:db8::2"), "single IPv6: next out");

	ok(in1("192.0.2.0/24", "192.0.2.0"), "/24: first address");
	ok(in1("192.0.2.0/24", "192.0.2.255"), "/24: last address");
	ok(!in1("192.0.2.0/24", "192.0.1.255"), "/24: one below");
	ok(!in1("192.0.2.0/24", "192.0.3.0"), "/24: one above");
	ok(in1("192.0.2.7/32", "192.0.2.7"), "/32 is one address");
	ok(!in1("192.0.2.7/32", "192.0.2.8"), "/32: neighbour out");
	ok(in1("0.0.0.0/0", "0.0.0.0") && in1("0.0.0.0/0", "255.255.255.255")
	    && in1("0.0.0.0/0", "192.0.2.1"), "IPv4 /0: all of IPv4");
	ok(!in1("0.0.0.0/0", "2001:db8::1") && !in1("0.0.0.0/0", "::1"),
	    "IPv4 /0: no IPv6");
	ok(in1("255.255.255.255/32", "255.255.255.255"), "top IPv4 /32");
	ok(in1("128.0.0.0/1", "255.255.255.255") &&
	    !in1("128.0.0.0/1", "127.255.255.255"), "/1 split");

	ok(in1("2001:db8::/32", "2001:db8::") &&
	    in1("2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
	    "IPv6 /32: first and last");
	ok(!in1("2001:db8::/32", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff") &&
	    !in1("2001:db8::/32", "2001:db9::"), "IPv6 /32: neighbours out");
	ok(in1("2001:db8::5/128", "2001:db8::5") &&
	    !in1("2001:db8::5/128", "2001:db8::6"), "/128 is one address");
	ok(in1("::/0", "::") && in1("::/0", "ffff:ffff:ffff:ffff:ffff:ffff:"
	    "ffff:ffff") && in1("::/0", "2001:db8::1"), "::/0: all of IPv6");
	ok(in1("::/0", "192.0.2.1"),
	    "::/0 holds ::ffff:0:0/96, so IPv4 too (documented)");
	ok(!in1("2000::/3", "192.0.2.1"), "an ordinary IPv6 block: no IPv4");
	ok(in1("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "top IPv6 address");

	ok(in1("192.0.2.1-192.0.2.99", "192.0.2.1"), "range: first");
	ok(in1("192.0.2.1-192.0.2.99", "192.0.2.99"), "range: last");
	ok(in1("192.0.2.1-192.0.2.99", "192.0.2.50"), "range: middle");
	ok(!in1("192.0.2.1-192.0.2.99", "192.0.2.0"), "range: one below");
	ok(!in1("192.0.2.1-192.0.2.99", "192.0.2.100"), "range: one above");
	ok(in1("192.0.2.250-192.0.3.5", "192.0.3.0") &&
	    in1("192.0.2.250-192.0.3.5", "192.0.2.255"),
	    "range across an octet boundary");
	ok(in1("192.0.2.9-192.0.2.9", "192.0.2.9") &&
	    !in1("192.0.2.9-192.0.2.9", "192.0.2.10"), "range of one");
	ok(in1("2001:db8::1-2001:db8::ff", "2001:db8::ff") &&
	    in1("2001:db8::1-2001:db8::ff", "2001:db8::1") &&
	    !in1("2001:db8::1-2001:db8::ff", "2001:db8::100") &&
	    !in1("2001:db8::1-2001:db8::ff", "2001:db8::"), "IPv6 range");
}

static void
test_mapped(void)
{
	ok(in1("192.0.2.0/24", "::ffff:192.0.2.5"),
	    "IPv4-mapped client matches an IPv4 block");
	ok(!in1("192.0.2.0/24", "::ffff:192.0.3.5"), "... and only it");
	ok(in1("192.0.2.1", "::ffff:192.0.2.1"), "mapped single address");
	ok(in1("::ffff:192.0.2.0/120", "192.0.2.200"),
	    "a mapped IPv6 block is an IPv4 block");
	ok(in1("::ffff:192.0.2.1", "192.0.2.1"), "mapped item, IPv4 client");
	ok(!in1("::192.0.2.1", "192.0.2.1"),
	    "IPv4-compatible (::a.b.c.d) is not IPv4");
	ok(!in1("192.0.2.1", "::192.0.2.1"), "... either way");
}

struct bad {
	const char *item, *why;
};

/* item for a test name: control characters as \xHH. */
static char *
printable(const char *s)
{
	char *out = xmalloc(4 * strlen(s) + 1), *o = out;

	for (; *s; s++)
		if ((unsigned char)*s < 0x20)
			o += sprintf(o, "\\x%02x", (unsigned char)*s);
		else
			*o++ = *s;
	*o = '\0';
	return out;
}

static void
test_hostile(void)
{
	static const struct bad bad[] = {
		{ "", "empty item" },
		{ "garbage", "not an IP address" },
		{ "192.0.2.0/33", "out of range (IPv4: 0-32)" },
		{ "2001:db8::/129", "out of range (IPv6: 0-128)" },
		{ "192.0.2.0/", "bad prefix length" },
		{ "/24", "not an IP address" },
		{ "192.0.2.0/-1", "both a prefix and a range" },
		{ "192.0.2.0/+8", "bad prefix length" },
		{ "192.0.2.0/024", "bad prefix length" },
		{ "192.0.2.0/2a", "bad prefix length" },
		{ "192.0.2.0/1000", "bad prefix length" },
		{ "192.0.2.0/24/8", "bad prefix length" },
		{ "192.0.2.1/24", "bits set after the prefix" },
		{ "2001:db8::1/32", "bits set after the prefix" },
		{ "0.0.0.1/0", "bits set after the prefix" },
		{ "192.0.2.99-192.0.2.1", "ends below its start" },
		{ "2001:db8::2-2001:db8::1", "ends below its start" },
		{ "192.0.2.1-2001:db8::1", "mixes IPv4 and IPv6" },
		{ "::ffff:192.0.2.1-192.0.2.9", "mixes IPv4 and IPv6" },
		{ "-", "both ends" },
		{ "192.0.2.1-", "both ends" },
		{ "-192.0.2.1", "both ends" },
		{ "1.1.1.1-1.1.1.2-1.1.1.3", "not an IP address range" },
		{ "mail-gw.example", "not an IP address range" },
		{ "192.0.2.1-x", "not an IP address range" },
		{ "fe80::1%eth0-fe80::2", "not an IP address range" },
		{ "192.0.2.0/24-192.0.2.9", "both a prefix and a range" },
		{ "1.2.3", "not an IP address" },
		{ "1.2.3.4.5", "not an IP address" },
		{ "256.1.1.1", "not an IP address" },
		{ "01.2.3.4", "not an IP address" },
		{ " 192.0.2.1", "not an IP address" },
		{ "192.0.2.1 ", "not an IP address" },
		{ "192.0.2.1\n", "not an IP address" },
		{ "fe80::1%eth0", "zone ids" },
		{ "2001:db8:::1", "not an IP address" },
		{ "1:2:3:4:5:6:7:8:9", "not an IP address" },
		{ "0x7f.0.0.1", "not an IP address" },
		{ "2130706433", "not an IP address" },
		{ "[192.0.2.1]", "not an IP address" },
		{ "*", "not an IP address" },
		{ "192.0.2.*", "not an IP address" },
	};
	char big[200];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *item = bad[i].item, *why = NULL;
		char *err = NULL, *name, *pr = printable(item);
		struct iplist *l = iplist_new(&item, 1, &err);
		bool named;

		name = xasprintf("refused: '%s'", pr);
		free(pr);
		named = err != NULL && err[0] == '\'' && strncmp(err + 1, item,
		    strlen(item)) == 0;
		ok(l == NULL && named && strstr(err, bad[i].why) != NULL,
		    name);
		if (!named || l != NULL)
			diag("got: %s", err ? err : "(accepted)");
		ok(iplist_check(item, &why) < 0 && strstr(why, bad[i].why),
		    "iplist_check agrees");
		free(name);
		free(err);
		iplist_free(&l);
	}

	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	{
		const char *item = big;
		char *err = NULL;

		ok(iplist_new(&item, 1, &err) == NULL &&
		    strlen(err) < 120, "a 199-byte item: refused, error cut");
		free(err);
	}
	{
		const char *items[] = { "192.0.2.1", "10.0.0.0/8", "nope",
		    "192.0.2.7" };
		char *err = NULL;

		ok(iplist_new(items, 4, &err) == NULL &&
		    strcmp(err, "'nope': not an IP address") == 0,
		    "the first bad item of several is named");
		free(err);
	}
}

static void
test_misc(void)
{
	struct iplist *l;
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	char *err = NULL;

	ok(!iplist_match(NULL, sa("192.0.2.1")), "NULL list matches nothing");
	l = iplist_new(NULL, 0, &err);
	ok(l != NULL && iplist_ranges(l) == 0 &&
	    !iplist_match(l, sa("192.0.2.1")) && !iplist_match(l, sa("::")),
	    "empty list matches nothing");
	iplist_free(&l);
	ok(l == NULL, "free sets NULL");
	iplist_free(&l);

	l = list1("0.0.0.0/0");
	ok(!iplist_match(l, (const struct sockaddr *)&un),
	    "AF_UNIX client matches nothing");
	iplist_free(&l);
	l = list1("::/0");
	ok(!iplist_match(l, (const struct sockaddr *)&un),
	    "... not even ::/0");
	iplist_free(&l);
}

static void
test_merge(void)
{
	const char *items[] = {
		"192.0.2.10-192.0.2.20", "192.0.2.15-192.0.2.30", /* overlap */
		"192.0.2.31",                                     /* adjacent */
		"192.0.2.12",                                     /* inside */
		"192.0.2.33",                                     /* gap */
		"10.0.0.0/8", "10.1.0.0/16",                      /* inside */
		"2001:db8::/32", "2001:db8::1",
	};
	const char *top[] = {
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff0/124",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:fff8-"
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	};
	char *err = NULL;
	struct iplist *l = iplist_new(items, sizeof(items) / sizeof(*items),
	    &err);

	ok(l != NULL, "merge list built");
	is_int(iplist_ranges(l), 4, "overlapping, adjacent and contained "
	    "items fold into 4 ranges");
	ok(iplist_match(l, sa("192.0.2.10")) &&
	    iplist_match(l, sa("192.0.2.31")) &&
	    !iplist_match(l, sa("192.0.2.32")) &&
	    iplist_match(l, sa("192.0.2.33")) &&
	    !iplist_match(l, sa("192.0.2.34")) &&
	    !iplist_match(l, sa("192.0.2.9")), "merged edges");
	ok(iplist_match(l, sa("10.255.255.255")) &&
	    !iplist_match(l, sa("11.0.0.0")) &&
	    iplist_match(l, sa("2001:db8:1::")), "contained blocks");
	iplist_free(&l);

	l = iplist_new(top, 3, &err);
	ok(l != NULL && iplist_ranges(l) == 1 &&
	    iplist_match(l, sa("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")) &&
	    !iplist_match(l, sa("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffef")),
	    "ranges ending at the top address merge without wrapping");
	iplist_free(&l);
}

/* A small deterministic generator (xorshift32). */
static uint32_t rng_state = 2463534242u;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

#define BIG_N 5000

/* 5000 random IPv4 ranges and blocks: every answer equals a linear scan,
 * on random probes and on each range's edges. */
static void
test_big(void)
{
	static uint32_t lo[BIG_N], hi[BIG_N];
	static char *items[BIG_N];
	char *err = NULL;
	struct iplist *l;
	int wrong = 0, hits = 0, probes = 0;

	for (int i = 0; i < BIG_N; i++) {
		uint32_t a = rng() & 0x3fffffffu, span = rng() % 5000u;
		struct in_addr x, y;
		char sx[INET_ADDRSTRLEN], sy[INET_ADDRSTRLEN];

		if (i % 3 == 0) {       /* a CIDR block */
			unsigned plen = 16 + rng() % 17;
			uint32_t mask = plen == 32 ? 0xffffffffu :
			    ~(0xffffffffu >> plen);

			lo[i] = a & mask;
			hi[i] = lo[i] | ~mask;
			x.s_addr = htonl(lo[i]);
			inet_ntop(AF_INET, &x, sx, sizeof(sx));
			items[i] = xasprintf("%s/%u", sx, plen);
		} else {
			lo[i] = a;
			hi[i] = a + span;
			x.s_addr = htonl(lo[i]);
			y.s_addr = htonl(hi[i]);
			inet_ntop(AF_INET, &x, sx, sizeof(sx));
			inet_ntop(AF_INET, &y, sy, sizeof(sy));
			items[i] = xasprintf("%s-%s", sx, sy);
		}
	}
	l = iplist_new((const char *const *)items, BIG_N, &err);
	ok(l != NULL, "5000 items accepted");
	for (int k = 0; k < 4 * BIG_N; k++) {
		uint32_t ip;
		struct sockaddr_in in = { .sin_family = AF_INET };
		bool want = false;

		switch (k % 4) {
		case 0: ip = rng() & 0x3fffffffu; break;
		case 1: ip = lo[k / 4 % BIG_N]; break;
		case 2: ip = hi[k / 4 % BIG_N]; break;
		default: ip = hi[k / 4 % BIG_N] + 1; break;
		}
		for (int i = 0; i < BIG_N && !want; i++)
			want = ip >= lo[i] && ip <= hi[i];
		in.sin_addr.s_addr = htonl(ip);
		if (iplist_match(l, (struct sockaddr *)&in) != want)
			wrong++;
		hits += want;
		probes++;
	}
	is_int(wrong, 0, "binary search agrees with a linear scan");
	ok(hits > probes / 2 && hits < probes, "probes both hit and miss");
	diag("%zu ranges after merging, %d/%d probes inside",
	    iplist_ranges(l), hits, probes);
	iplist_free(&l);
	for (int i = 0; i < BIG_N; i++)
		free(items[i]);
}

int
main(void)
{
	test_forms();
	test_mapped();
	test_hostile();
	test_misc();
	test_merge();
	test_big();
	return done_testing();
}
