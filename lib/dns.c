/*
 * dns - MX and address lookups over libresolv.  See dns.h.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "conf.h"
#include "dns.h"

#define DNS_ANSWER_MAX 65536
/* Answers kept per process, and for at most this long whatever the TTL. */
#define CACHE_SLOTS 256
#define CACHE_TTL_MAX 3600
/* "No such name" and "no such record" are kept this long (RFC 2308
 * allows the zone's SOA minimum; a minute is enough to spare the server
 * a burst of mail to a misspelt domain). */
#define CACHE_NEG_TTL 60

/*
 * A small cache of whole answers (MX lists, address lists) by type and
 * name, each kept for the smallest TTL among its records: one agent
 * process delivering many messages to one domain asks once per TTL.
 * Answers that a name or record does not exist are kept CACHE_NEG_TTL
 * (n 0, notfound set); a server that does not answer is asked again.
 */
struct cache_ent {
	int type;
	char name[DNS_NAME_MAX];
	time_t until;
	size_t n;
	bool notfound;          /* NXDOMAIN (or, for addresses, none) */
	union {
		struct dns_mx mx[DNS_MX_MAX];
		struct sockaddr_storage ss[DNS_ADDR_MAX];
	} u;
};
static struct cache_ent *cache;
static size_t cache_next;

static struct cache_ent *
cache_find(int type, const char *name)
{
	time_t now = time(NULL);

	for (size_t i = 0; cache != NULL && i < CACHE_SLOTS; i++)
		if (cache[i].type == type && cache[i].until > now &&
		    strcasecmp(cache[i].name, name) == 0)
			return &cache[i];
	return NULL;
}

static struct cache_ent *
cache_slot(int type, const char *name, unsigned ttl)
{
	struct cache_ent *e;

	if (ttl == 0 || strlen(name) >= DNS_NAME_MAX)
		return NULL;
	if (cache == NULL && (cache = calloc(CACHE_SLOTS, sizeof(*cache))) ==
	    NULL)
		return NULL;
	e = &cache[cache_next++ % CACHE_SLOTS];
	e->type = type;
	e->n = 0;
	e->notfound = false;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->until = time(NULL) + (ttl < CACHE_TTL_MAX ? ttl : CACHE_TTL_MAX);
	return e;
}

static void
dns_cache_clear(void)
{
	free(cache);
	cache = NULL;
	cache_next = 0;
}

static struct {
	struct sockaddr_storage servers[MAXNS];
	size_t nservers;
	int timeout, tries;
} R = { .timeout = 5, .tries = 2 };

/* The resolver, set up once per process (res_ninit reads the system's
 * configuration) and again after dns_config. */
static struct __res_state rs;
static bool rs_ready;

/*
 * One dns_servers item: "192.0.2.53", "192.0.2.53:5353", "2001:db8::53"
 * or "[2001:db8::53]:5353" (an IPv6 address takes a port only in
 * brackets).  0, or -1 with *why_r.
 */
static int
dns_server_parse(const char *item, struct sockaddr_storage *ss,
    const char **why_r)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	const char *start = item, *end, *port_s = NULL;
	char host[INET6_ADDRSTRLEN];
	long long port = 53;
	bool v6;

	if (*item == '[') {
		start = item + 1;
		if ((end = strchr(start, ']')) == NULL) {
			*why_r = "'[' without ']'";
			return -1;
		}
		if (end[1] == ':')
			port_s = end + 2;
		else if (end[1] != '\0') {
			*why_r = "only ':port' may follow ']'";
			return -1;
		}
		v6 = true;
	} else {
		const char *colon = strchr(item, ':');

		/* two colons or more: an IPv6 address, without a port */
		v6 = colon != NULL && strchr(colon + 1, ':') != NULL;
		end = colon != NULL && !v6 ? colon : item + strlen(item);
		if (end == colon)
			port_s = colon + 1;
	}
	if ((size_t)(end - start) >= sizeof(host)) {
		*why_r = "not an IP address";
		return -1;
	}
	memcpy(host, start, (size_t)(end - start));
	host[end - start] = '\0';
	if (port_s != NULL && (conf_parse_int(port_s, &port, why_r) < 0 ||
	    port < 1 || port > 65535)) {
		*why_r = "port must be 1 to 65535";
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	if (v6) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			*why_r = "not an IPv6 address";
			return -1;
		}
	} else {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			*why_r = "not an IPv4 address";
			return -1;
		}
	}
	return 0;
}

int
dns_config(const char *const *servers, size_t n, int timeout_s, int tries,
    const char **why_r)
{
	struct sockaddr_storage parsed[MAXNS];

	if (n > MAXNS) {
		*why_r = "at most 3 servers";
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		if (dns_server_parse(servers[i], &parsed[i], why_r) < 0)
			return -1;
	memcpy(R.servers, parsed, n * sizeof(*parsed));
	R.nservers = n;
	R.timeout = timeout_s > 0 ? timeout_s : 1;
	R.tries = tries > 0 ? tries : 1;
	/* New servers: forget the resolver and what the old ones said. */
	if (rs_ready) {
		res_nclose(&rs);
		rs_ready = false;
	}
	dns_cache_clear();
	return 0;
}

/*
 * Our servers into the resolver.  libresolv keeps IPv4 servers in
 * nsaddr_list; an IPv6 one is a malloc'd address in _u._ext.nsaddrs with
 * its nsaddr_list slot's family 0 (glibc's resolv_conf.c does the same
 * for resolv.conf, and res_nclose frees them).
 */
static int
resolver_servers(char *err, size_t errlen)
{
	for (size_t i = 0; i < MAXNS; i++) {
		free(rs._u._ext.nsaddrs[i]);
		rs._u._ext.nsaddrs[i] = NULL;
	}
	for (size_t i = 0; i < R.nservers; i++) {
		rs._u._ext.nssocks[i] = -1;
		if (R.servers[i].ss_family == AF_INET) {
			memcpy(&rs.nsaddr_list[i], &R.servers[i],
			    sizeof(rs.nsaddr_list[i]));
			continue;
		}
		rs._u._ext.nsaddrs[i] = malloc(sizeof(struct sockaddr_in6));
		if (rs._u._ext.nsaddrs[i] == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		memcpy(rs._u._ext.nsaddrs[i], &R.servers[i],
		    sizeof(struct sockaddr_in6));
		memset(&rs.nsaddr_list[i], 0, sizeof(rs.nsaddr_list[i]));
	}
	rs.nscount = (int)R.nservers;
	return 0;
}

static int
resolver_ready(char *err, size_t errlen)
{
	if (rs_ready)
		return 0;
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) < 0) {
		snprintf(err, errlen, "cannot set up the resolver");
		return -1;
	}
	if (R.nservers > 0 && resolver_servers(err, errlen) < 0) {
		res_nclose(&rs);
		return -1;
	}
	rs.retrans = R.timeout;
	rs.retry = R.tries;
	rs_ready = true;
	return 0;
}

/*
 * One query, parsed: the answer (malloc'd, for the caller to free) with
 * *msg over it, or NULL with *st_r and err set: DNS_NOTFOUND for a name
 * that does not exist or has no record of the type (*nodata_r tells
 * which), DNS_TEMPFAIL for everything else.
 */
static unsigned char *
dns_answer(const char *name, int type, ns_msg *msg, enum dns_status *st_r,
    bool *nodata_r, char *err, size_t errlen)
{
	unsigned char *ans;
	int len;

	*st_r = DNS_TEMPFAIL;
	*nodata_r = false;
	if (resolver_ready(err, errlen) < 0)
		return NULL;
	if ((ans = malloc(DNS_ANSWER_MAX)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	len = res_nquery(&rs, name, ns_c_in, type, ans, DNS_ANSWER_MAX);
	if (len >= 0 && ns_initparse(ans, len, msg) == 0)
		return ans;
	free(ans);
	if (len >= 0)
		snprintf(err, errlen, "%s: broken DNS answer", name);
	else if (rs.res_h_errno == HOST_NOT_FOUND) {
		snprintf(err, errlen, "%s: no such domain", name);
		*st_r = DNS_NOTFOUND;
	} else if (rs.res_h_errno == NO_DATA) {
		snprintf(err, errlen, "%s: no %s record", name,
		    type == ns_t_mx ? "MX" : type == ns_t_a ? "A" : "AAAA");
		*st_r = DNS_NOTFOUND;
		*nodata_r = true;
	} else
		snprintf(err, errlen, "%s: DNS server failure or no answer",
		    name);
	return NULL;
}

static int
mx_cmp(const void *a, const void *b)
{
	const struct dns_mx *x = a, *y = b;

	return x->pref < y->pref ? -1 : x->pref > y->pref;
}

/* RFC 5321 5.1: hosts of equal preference in random order, so the load
 * spreads over them; a fresh order at every call, cached or not. */
static void
mx_shuffle(struct dns_mx *mx, size_t n)
{
	for (size_t lo = 0, hi; lo < n; lo = hi) {
		for (hi = lo + 1; hi < n && mx[hi].pref == mx[lo].pref; hi++)
			;
		for (size_t i = hi - 1; i > lo; i--) {
			size_t j = lo +
			    arc4random_uniform((uint32_t)(i - lo + 1));
			struct dns_mx t = mx[i];

			mx[i] = mx[j];
			mx[j] = t;
		}
	}
}

enum dns_status
dns_mx(const char *domain, struct dns_mx *out, size_t max, size_t *n_r,
    char *err, size_t errlen)
{
	unsigned char *ans;
	enum dns_status st;
	ns_msg msg;
	ns_rr rr;
	size_t n = 0;
	bool null_mx = false, nodata;
	unsigned ttl = CACHE_TTL_MAX;
	struct cache_ent *ce = cache_find(ns_t_mx, domain);

	*n_r = 0;
	if (ce != NULL) {
		if (ce->notfound) {
			snprintf(err, errlen, "%s: no such domain", domain);
			return DNS_NOTFOUND;
		}
		*n_r = ce->n < max ? ce->n : max;
		memcpy(out, ce->u.mx, *n_r * sizeof(*out));
		mx_shuffle(out, *n_r);
		return DNS_OK;
	}
	ans = dns_answer(domain, ns_t_mx, &msg, &st, &nodata, err, errlen);
	if (ans == NULL) {
		/* no MX (the domain's address serves) or no domain: both
		 * kept a while; a failure is not */
		if (st == DNS_NOTFOUND &&
		    (ce = cache_slot(ns_t_mx, domain, CACHE_NEG_TTL)) != NULL)
			ce->notfound = !nodata;
		return nodata ? DNS_OK : st;
	}
	for (int i = 0; i < ns_msg_count(msg, ns_s_an) && n < max; i++) {
		const unsigned char *rd;

		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0) {
			snprintf(err, errlen, "%s: broken DNS answer", domain);
			free(ans);
			return DNS_TEMPFAIL;
		}
		if (ns_rr_type(rr) != ns_t_mx || ns_rr_rdlen(rr) < 3)
			continue;
		if (ns_rr_ttl(rr) < ttl)
			ttl = ns_rr_ttl(rr);
		rd = ns_rr_rdata(rr);
		out[n].pref = ns_get16(rd);
		if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), rd + 2,
		    out[n].name, sizeof(out[n].name)) < 0) {
			snprintf(err, errlen, "%s: broken MX record", domain);
			free(ans);
			return DNS_TEMPFAIL;
		}
		/* RFC 7505: one MX of preference 0 and target ".". */
		if (out[n].name[0] == '\0' || strcmp(out[n].name, ".") == 0) {
			null_mx = true;
			continue;
		}
		n++;
	}
	free(ans);
	if (null_mx && n == 0) {
		snprintf(err, errlen, "%s accepts no mail (null MX)", domain);
		return DNS_NULLMX;
	}
	qsort(out, n, sizeof(*out), mx_cmp);
	*n_r = n;
	if (n > 0 && n <= DNS_MX_MAX &&
	    (ce = cache_slot(ns_t_mx, domain, ttl)) != NULL) {
		memcpy(ce->u.mx, out, n * sizeof(*out));
		ce->n = n;
	}
	mx_shuffle(out, n);
	return DNS_OK;
}

/* Append the A or AAAA records of host. */
static enum dns_status
dns_addr_type(const char *host, int type, unsigned port,
    struct sockaddr_storage *out, size_t max, size_t *n, unsigned *ttl,
    char *err, size_t errlen)
{
	enum dns_status st;
	ns_msg msg;
	ns_rr rr;
	bool nodata;
	unsigned char *ans = dns_answer(host, type, &msg, &st, &nodata, err,
	    errlen);

	if (ans == NULL)
		return st;
	for (int i = 0; i < ns_msg_count(msg, ns_s_an) && *n < max; i++) {
		struct sockaddr_storage *ss = &out[*n];

		if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
			break;
		if ((ns_rr_type(rr) == ns_t_a || ns_rr_type(rr) == ns_t_aaaa) &&
		    ns_rr_ttl(rr) < *ttl)
			*ttl = ns_rr_ttl(rr);
		memset(ss, 0, sizeof(*ss));
		if (type == ns_t_a && ns_rr_type(rr) == ns_t_a &&
		    ns_rr_rdlen(rr) == 4) {
			struct sockaddr_in *sin = (struct sockaddr_in *)ss;

			sin->sin_family = AF_INET;
			sin->sin_port = htons((unsigned short)port);
			memcpy(&sin->sin_addr, ns_rr_rdata(rr), 4);
			(*n)++;
		} else if (type == ns_t_aaaa && ns_rr_type(rr) == ns_t_aaaa &&
		    ns_rr_rdlen(rr) == 16) {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons((unsigned short)port);
			memcpy(&sin6->sin6_addr, ns_rr_rdata(rr), 16);
			(*n)++;
		}
	}
	free(ans);
	return DNS_OK;
}

static void
set_port(struct sockaddr_storage *ss, unsigned port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons((unsigned short)port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons((unsigned short)port);
}

enum dns_status
dns_addrs(const char *host, unsigned port, struct sockaddr_storage *out,
    size_t max, size_t *n_r, char *err, size_t errlen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)out;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
	enum dns_status s4, s6;
	char err6[256];
	unsigned ttl = CACHE_TTL_MAX;
	struct cache_ent *ce;

	*n_r = 0;
	if (max == 0)
		return DNS_OK;
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((unsigned short)port);
		*n_r = 1;
		return DNS_OK;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((unsigned short)port);
		*n_r = 1;
		return DNS_OK;
	}
	if ((ce = cache_find(ns_t_a, host)) != NULL) {
		if (ce->notfound) {
			snprintf(err, errlen, "%s: no address", host);
			return DNS_NOTFOUND;
		}
		*n_r = ce->n < max ? ce->n : max;
		memcpy(out, ce->u.ss, *n_r * sizeof(*out));
		for (size_t i = 0; i < *n_r; i++)
			set_port(&out[i], port);
		return DNS_OK;
	}
	s4 = dns_addr_type(host, ns_t_a, port, out, max, n_r, &ttl, err,
	    errlen);
	s6 = dns_addr_type(host, ns_t_aaaa, port, out, max, n_r, &ttl, err6,
	    sizeof(err6));
	if (*n_r > 0) {
		if (*n_r <= DNS_ADDR_MAX &&
		    (ce = cache_slot(ns_t_a, host, ttl)) != NULL) {
			memcpy(ce->u.ss, out, *n_r * sizeof(*out));
			ce->n = *n_r;
		}
		return DNS_OK;
	}
	if (s4 == DNS_TEMPFAIL || s6 == DNS_TEMPFAIL)
		return DNS_TEMPFAIL;
	if ((ce = cache_slot(ns_t_a, host, CACHE_NEG_TTL)) != NULL)
		ce->notfound = true;
	snprintf(err, errlen, "%s: no address", host);
	return DNS_NOTFOUND;
}
