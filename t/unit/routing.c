/*
 * Unit tests for lib/routing: routing.conf's three section kinds, the
 * address forms, precedence (forward, then gateways by priority range in
 * file order), smart host primaries, and every error naming file and
 * line.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "routing.h"
#include "tap.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/tern-routing-XXXXXX";
static char *path;

static struct routing *
load(const char *text, char **err_r)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) < 0)
		die("cannot write %s", path);
	*err_r = NULL;
	return routing_load(path, err_r);
}

/* The error for text, without the temp path ("" when it loads). */
static char *
error_of(const char *text)
{
	char *err;
	struct routing *r = load(text, &err);
	char *out;

	if (r != NULL) {
		routing_free(&r);
		return xstrdup("");
	}
	out = xstrdup(strncmp(err, path, strlen(path)) == 0 ?
	    err + strlen(path) : err);
	free(err);
	return out;
}

static void
test_addrs(void)
{
	struct route_addr a;
	const char *why;
	char *t;

	ok(routing_parse_addr("Relay.Example.COM", &a, &why) == 0 &&
	    strcmp(a.host, "relay.example.com") == 0 && a.port == 25,
	    "host name: lower case, port 25");
	free(a.host);
	ok(routing_parse_addr("relay.example:587", &a, &why) == 0 &&
	    a.port == 587, "host:port");
	free(a.host);
	ok(routing_parse_addr("[192.0.2.7]:2525", &a, &why) == 0 &&
	    strcmp(a.host, "192.0.2.7") == 0 && a.port == 2525,
	    "[IPv4]:port");
	free(a.host);
	ok(routing_parse_addr("[2001:db8::1]:26", &a, &why) == 0 &&
	    strcmp(a.host, "2001:db8::1") == 0 && a.port == 26,
	    "[IPv6]:port");
	t = routing_addr_text(&a);
	is_str(t, "[2001:db8::1]:26", "IPv6 written back in brackets");
	free(t);
	free(a.host);
	ok(routing_parse_addr("10.1.2.3", &a, &why) == 0 &&
	    strcmp(a.host, "10.1.2.3") == 0, "bare IPv4");
	free(a.host);
	ok(routing_parse_addr("2001:db8::1", &a, &why) < 0,
	    "bare IPv6 refused (port would be ambiguous)");
	ok(routing_parse_addr("host:0", &a, &why) < 0, "port 0 refused");
	ok(routing_parse_addr("host:65536", &a, &why) < 0,
	    "port 65536 refused");
	ok(routing_parse_addr("[host.example]", &a, &why) < 0,
	    "[name] refused");
	ok(routing_parse_addr("[192.0.2.1", &a, &why) < 0, "unclosed [");
	ok(routing_parse_addr(":25", &a, &why) < 0, "no host");
	ok(routing_parse_addr("bad_host!:25", &a, &why) < 0, "bad host name");
}

static void
test_precedence(void)
{
	char *err;
	struct routing *r = load(
	    "# gateways for list mail and for the rest\n"
	    "[gateway]\nname = lists\n"
	    "address = [192.0.2.10]:2525\n"
	    "priority = 1-1\n"
	    "auth_user = tern\n"
	    "auth_password = secret\n"
	    "tls = require\n"
	    "\n"
	    "[gateway]\nname = main\n"
	    "address = gw1.example, gw2.example:587\n"
	    "\n"
	    "[gateway]\n"
	    "address = 192.0.2.99\n"
	    "priority = 1-5\n"
	    "\n"
	    "[forward]\nname = inside\n"
	    "address = [10.0.0.5]\n"
	    "domains = Corp.Example\n"
	    "  branch.example\n"
	    "greylisting = no\n"
	    "\n"
	    "[smarthost]\n"
	    "primary = 198.51.100.0/24 2001:db8::1\n", &err);
	const struct route_gateway *g[4];
	const struct route_forward *f;
	struct sockaddr_in in = { .sin_family = AF_INET };
	bool grey = true;

	ok(r != NULL, "a full routing.conf loads");
	if (r == NULL) {
		diag("%s", err);
		free(err);
		return;
	}
	is_int(routing_gateways(r, 1, g, 4), 3, "priority 1: three gateways");
	ok(strcmp(g[0]->name, "lists") == 0 && strcmp(g[1]->name, "main") == 0
	    && strcmp(g[2]->name, "192.0.2.99:25") == 0, "in file order");
	ok(g[0]->tls == ROUTE_TLS_REQUIRE && strcmp(g[0]->auth_user, "tern")
	    == 0 && g[0]->addrs[0].port == 2525, "gateway settings kept");
	is_int(routing_gateways(r, 5, g, 4), 2, "priority 5: main, spare");
	is_int(routing_gateways(r, 10, g, 4), 1, "priority 10: main only");
	ok(g[0]->naddrs == 2 && g[0]->addrs[1].port == 587 &&
	    g[0]->tls == ROUTE_TLS_OPTIONAL, "defaults: tls optional");
	is_int(routing_gateways(r, 1, g, 1), 1, "max respected");
	f = routing_forward(r, "corp.example");
	ok(f != NULL && strcmp(f->name, "inside") == 0 && !f->greylisting,
	    "forwarded domain found, greylisting off");
	ok(routing_forward(r, "branch.example") == f,
	    "continuation line adds a domain");
	ok(routing_forward(r, "other.example") == NULL, "others not");
	inet_pton(AF_INET, "198.51.100.77", &in.sin_addr);
	ok(routing_smarthost_primary(r, (struct sockaddr *)&in, &grey) &&
	    grey, "smart host primary in the block");
	inet_pton(AF_INET, "198.51.101.1", &in.sin_addr);
	ok(!routing_smarthost_primary(r, (struct sockaddr *)&in, NULL),
	    "outside it not");
	routing_free(&r);
	ok(r == NULL, "free clears the pointer");

	r = load("", &err);
	ok(r != NULL && routing_gateways(r, 5, g, 4) == 0 &&
	    routing_forward(r, "x.example") == NULL, "empty file: all by MX");
	routing_free(&r);
	unlink(path);
	r = routing_load(path, &err);
	ok(r != NULL && r->ngw == 0, "missing file: all by MX");
	routing_free(&r);
}

static void
test_errors(void)
{
	static const struct { const char *text, *want; } cases[] = {
		{ "address = x\n", ":1: 'address' outside a section" },
		{ "[relay]\n", ":1: [relay]: unknown section" },
		{ "[gateway]\naddress = x\nport = 2\n",
		  ":3: unknown key 'port' in [gateway]" },
		{ "[gateway]\naddress = x\naddress = y\n",
		  ":3: 'address' given twice in [gateway]" },
		{ "[gateway]\naddress = x\npriority = 5-2\n",
		  ":3: priority '5-2': want a range" },
		{ "[gateway]\naddress = x\npriority = 0-4\n",
		  ":3: priority '0-4'" },
		{ "[gateway]\naddress = x\ntls = maybe\n", ":3: tls: " },
		{ "[gateway]\naddress = [1.2.3.4\n",
		  ":2: address '[1.2.3.4': '[' without ']'" },
		{ "[gateway]\npriority = 1-2\n\n[gateway]\naddress = x\n",
		  ":1: [gateway] has no address" },
		{ "[gateway]\naddress = x\nauth_user = u\n",
		  ":1: [gateway]: auth_user and auth_password go together" },
		{ "[forward]\naddress = x\n",
		  ":1: [forward] needs an address and domains" },
		{ "[forward]\naddress = x\ndomains = a.example\n"
		  "[forward]\naddress = y\ndomains = A.example\n",
		  ":6: domains: a.example is already forwarded by the [forward] "
		  "at line 1" },
		{ "[forward]\naddress = x\ndomains = bad..example\n",
		  ":3: domains: 'bad..example'" },
		{ "[forward]\naddress = x\ndomains = a.example\n"
		  "greylisting = perhaps\n", ":4: greylisting: " },
		{ "[smarthost]\nprimary = 300.1.1.1\n", ":2: primary: " },
		{ "[smarthost]\ngreylisting = no\n",
		  ":1: [smarthost] has no primary" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = error_of(cases[i].text);

		ok(strncmp(got, cases[i].want, strlen(cases[i].want)) == 0,
		    cases[i].want);
		if (strncmp(got, cases[i].want, strlen(cases[i].want)) != 0)
			diag("got '%s'", got);
		free(got);
	}
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		die("mkdtemp");
	path = xasprintf("%s/routing.conf", tmpdir);
	test_addrs();
	test_precedence();
	test_errors();
	unlink(path);
	rmdir(tmpdir);
	free(path);
	return done_testing();
}
