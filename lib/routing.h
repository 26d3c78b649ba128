/*
 * routing - routing.conf: where remote mail goes when not by MX.
 *
 * Three kinds of section, after the reference's Routing pages
 * (FEATURES.md SO-08 to SO-11):
 *
 *   [gateway]          outgoing gateway (smart host, relay host): remote
 *                      mail whose priority is in the gateway's range goes
 *                      to it instead of the recipient domain's MX.
 *       address  = host[:port] ...   tried in order (port 25 by default)
 *       priority = 1-10              range of message priorities (1-10)
 *       auth_user, auth_password     AUTH PLAIN/LOGIN at the gateway
 *       tls      = optional          none | optional | require | verify
 *
 *   [forward]          domain forwarding (incoming gateway): mail for the
 *                      listed domains goes to the address, not to MX.
 *       address  = host[:port] ...
 *       domains  = example.com example.org
 *       greylisting = yes            no: mail for these domains is never
 *                                    greylisted
 *
 *   [smarthost]        backup MX: accept mail for domains whose MX hosts
 *                      (of lower preference than ours) are one of these
 *                      addresses; it is held and delivered by MX when
 *                      the primary answers again.
 *       primary  = 192.0.2.1 2001:db8::/64 ...   (lib/iplist items)
 *       greylisting = yes
 *
 * Each section may have a "name" for logs (default: its first address,
 * or "line N").  Precedence for one remote recipient domain: a forward naming the
 * domain; else the first gateway (in file order) whose priority range
 * holds the message's priority, with the later matching gateways as
 * fallbacks; else MX.  A domain named by two forwards is an error.
 *
 * An address is "host", "host:port", "[literal]" or "[literal]:port";
 * a host name is looked up for A/AAAA (never MX: the admin named the
 * host).
 */
#ifndef TERN_ROUTING_H
#define TERN_ROUTING_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct iplist;

/* VERIFY: required, and the certificate must check out (chain and name). */
enum route_tls { ROUTE_TLS_NONE, ROUTE_TLS_OPTIONAL, ROUTE_TLS_REQUIRE,
	ROUTE_TLS_VERIFY };

struct route_addr {
	char *host;              /* name or IP literal, no brackets */
	unsigned port;
};

struct route_gateway {
	char *name;              /* for logs */
	struct route_addr *addrs;
	size_t naddrs;
	int prio_lo, prio_hi;
	char *auth_user, *auth_password;   /* NULL when not set */
	enum route_tls tls;
	int line;
};

struct route_forward {
	char *name;
	struct route_addr *addrs;
	size_t naddrs;
	char **domains;          /* normalised (lower case, A-labels) */
	size_t ndomains;
	bool greylisting;
	int line;
};

struct route_smarthost {
	char *name;
	struct iplist *primary;
	bool greylisting;
	int line;
};

struct routing {
	char *path;
	struct route_gateway *gw;
	size_t ngw;
	struct route_forward *fw;
	size_t nfw;
	struct route_smarthost *sh;
	size_t nsh;
};

/*
 * Read path (a missing file is an empty table).  Returns the table, or
 * NULL with *error_r = "file:line: message" (malloc'd) for the first
 * error.
 */
struct routing *routing_load(const char *path, char **error_r);
/* conf_dir()/routing.conf */
char *routing_default_path(void);
void routing_free(struct routing **rp);

/* The forward that names domain (normalised), or NULL. */
const struct route_forward *routing_forward(const struct routing *r,
    const char *domain);
/*
 * The gateways for a message of this priority, in the order to try
 * them: up to max entries into out.  Returns the count (0: use MX).
 */
size_t routing_gateways(const struct routing *r, int priority,
    const struct route_gateway **out, size_t max);
/* True when sa is a primary of some smart host entry. */
bool routing_smarthost_primary(const struct routing *r,
    const struct sockaddr *sa, bool *greylisting_r);

/*
 * Parse one address item ("host[:port]", "[lit]:port").  0 with *a set
 * (a->host malloc'd), or -1 with *why_r a static reason.
 */
int routing_parse_addr(const char *item, struct route_addr *a,
    const char **why_r);
/* "host:port" or "[v6]:port", malloc'd; for the job frames and logs. */
char *routing_addr_text(const struct route_addr *a);

#endif
