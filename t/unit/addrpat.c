/*
 * Unit tests for lib/addrpat: address, domain and wildcard items, case,
 * A-labels, hostile items, and the glob's backtracking.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrpat.h"
#include "tap.h"
#include "xalloc.h"

/* Does the one-item list match local@domain (local NULL: domain only)? */
static bool
m1(const char *item, const char *local, const char *domain)
{
	char *err = NULL;
	struct addrpat *p = addrpat_new(&item, 1, &err);
	bool r;

	if (p == NULL) {
		diag("'%s' refused: %s", item, err);
		free(err);
		return false;
	}
	r = addrpat_match(p, local, domain);
	addrpat_free(&p);
	return r;
}

static void
test_forms(void)
{
	ok(m1("spammer@example.com", "spammer", "example.com"), "address");
	ok(m1("Spammer@Example.COM", "SPAMMER", "example.com"),
	    "address: case ignored both ways");
	ok(!m1("spammer@example.com", "other", "example.com"),
	    "address: other user of the domain");
	ok(!m1("spammer@example.com", "spammer", "example.net"),
	    "address: same user elsewhere");
	ok(!m1("spammer@example.com", NULL, "example.com"),
	    "address item never matches a domain-only question");

	ok(m1("example.com", "anyone", "example.com"), "domain item");
	ok(m1("example.com", NULL, "example.com"), "domain item, no local");
	ok(!m1("example.com", "a", "sub.example.com"), "not its subdomains");
	ok(!m1("example.com", "a", "badexample.com"), "not a suffix match");
	ok(!m1("example.com", "a", "example.com.evil"), "not a prefix match");
	ok(m1("*@example.com", "anyone", "example.com") &&
	    m1("*@example.com", NULL, "example.com"),
	    "*@domain is the domain item");

	ok(m1("*.example.com", "a", "sub.example.com") &&
	    m1("*.example.com", "a", "a.b.example.com"),
	    "*.domain: subdomains");
	ok(!m1("*.example.com", "a", "example.com"), "*.domain: not itself");
	ok(m1("sales*@example.*", "sales-eu", "example.org") &&
	    m1("sales*@example.*", "sales", "example.co.uk"),
	    "wildcards in both halves");
	ok(!m1("sales*@example.*", "presales", "example.org"),
	    "wildcard anchored at the start");
	ok(m1("*", "x", "anything.example"), "'*' alone: every domain");
	ok(m1("*@*", "x", "anything.example"), "'*@*' too");
	ok(m1("a*b*c@x.example", "aXXbYYbZZc", "x.example") &&
	    !m1("a*b*c@x.example", "aXXbYYcZZ", "x.example"),
	    "backtracking over several stars");
	ok(m1("*a*a*a*a*a*b@x.example", "aaaaaaaaaaaaaaaaaaaaaaaaaaab",
	    "x.example") && !m1("*a*a*a*a*a*b@x.example",
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaa", "x.example"),
	    "pathological pattern stays correct");
	ok(m1("**@ex**ample.com", "u", "example.com"), "repeated stars");
	ok(m1("\"a,b\"@example.com", "\"A,B\"", "example.com"),
	    "quoted local part compared as written");

	ok(m1("user@b\xc3\xbc" "cher.example", "user",
	    "xn--bcher-kva.example"), "UTF-8 domain item turned to A-label");
	ok(m1("B\xc3\xbc" "cher.example", NULL, "xn--bcher-kva.example"),
	    "UTF-8 domain-only item");
	ok(m1("user@[192.0.2.1]", "user", "[192.0.2.1]"), "address literal");
	ok(m1("user@[IPv6:2001:DB8:0::1]", "user", "[IPv6:2001:db8::1]"),
	    "IPv6 literal in its canonical form");
	ok(!m1("example.com", "a", NULL), "NULL domain (null path) never");
}

static void
test_hostile(void)
{
	static const struct {
		const char *item, *why;
	} bad[] = {
		{ "", "empty item" },
		{ "user@", "empty domain" },
		{ "@example.com", "empty local part" },
		{ "a@b@example.com", "more than one '@'" },
		{ "exa mple.com", "" },
		{ "a\tb@example.com", "control" },
		{ "example.com.", "ends with a dot" },
		{ "*.example.com.", "ends with a dot" },
		{ ".example.com", "" },
		{ "*.b\xc3\xbc" "cher.example", "A-labels" },
		{ "*.exa/mple.com", "not allowed" },
		{ "exa..mple.com", "" },
		{ "user@[1.2.3]", "" },
		{ "user@exam_ple.com", "" },
	};
	const char *items[] = { "ok.example", "good@ok.example", "bad@@x" };
	char *err = NULL;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *item = bad[i].item, *why = "";
		char *name = xasprintf("refused: '%s'", item);
		struct addrpat *p = addrpat_new(&item, 1, &err);

		for (char *q = name; *q; q++)
			if ((unsigned char)*q < 0x20)
				*q = '?';
		ok(p == NULL && err != NULL && err[0] == '\'' &&
		    strstr(err, bad[i].why) != NULL &&
		    addrpat_check(item, &why) < 0, name);
		if (p != NULL || err == NULL)
			diag("accepted");
		else
			diag("%s", err);
		free(name);
		free(err);
		err = NULL;
		addrpat_free(&p);
	}
	ok(addrpat_new(items, 3, &err) == NULL &&
	    strcmp(err, "'bad@@x': more than one '@'") == 0,
	    "a list names its bad item");
	free(err);
}

static void
test_misc(void)
{
	char *err = NULL;
	struct addrpat *p = addrpat_new(NULL, 0, &err);
	const char *items[] = { "a@x.example", "y.example", "*.z.example" };
	const char *why;

	ok(p != NULL && addrpat_count(p) == 0 &&
	    !addrpat_match(p, "a", "x.example"), "empty list");
	addrpat_free(&p);
	ok(p == NULL, "free sets NULL");
	ok(!addrpat_match(NULL, "a", "x.example"), "NULL list");
	p = addrpat_new(items, 3, &err);
	ok(p != NULL && addrpat_count(p) == 3, "three items");
	ok(addrpat_match(p, "A", "x.example") &&
	    !addrpat_match(p, "b", "x.example") &&
	    addrpat_match(p, "b", "y.example") &&
	    addrpat_match(p, "b", "w.z.example"), "each item in a list");
	addrpat_free(&p);
	ok(addrpat_check("*@example.com", &why) == 0, "check accepts");
}

int
main(void)
{
	test_forms();
	test_hostile();
	test_misc();
	return done_testing();
}
