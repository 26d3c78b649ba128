/* rdns - confirmed reverse DNS; see rdns.h */
#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "log.h"
#include "rdns.h"
#include "xalloc.h"

struct rdns_query {
	LIST_ENTRY(rdns_query) entry;    /* live queries, for shutdown */
	struct evdns_base *dns;
	struct evdns_request *req;       /* the lookup in flight */
	struct event *fail;              /* a failure reported later */
	rdns_cb *cb;                     /* NULL: cancelled */
	void *arg;
	int family;
	unsigned char addr[16];
	char *name;                      /* the PTR answer */
};

static struct event_base *rdns_ev;
static LIST_HEAD(, rdns_query) live = LIST_HEAD_INITIALIZER(live);

struct evdns_base *
rdns_base_new(struct event_base *base)
{
	/* The tests point this at a DNS server of their own on loopback. */
	const char *conf = getenv("TERN_RESOLV_CONF");
	struct evdns_base *dns;

	rdns_ev = base;
	dns = evdns_base_new(base, EVDNS_BASE_DISABLE_WHEN_INACTIVE |
	    (conf == NULL ? EVDNS_BASE_INITIALIZE_NAMESERVERS : 0));
	if (dns == NULL) {
		log_exc(LOG_SMTP, "smtpd: no DNS resolver (resolv.conf?); "
		    "client names stay unknown");
		return NULL;
	}
	if (conf != NULL &&
	    evdns_base_resolv_conf_parse(dns, DNS_OPTIONS_ALL, conf) != 0)
		log_exc(LOG_SMTP, "smtpd: cannot use %s for DNS", conf);
	/* The name only decorates the Received header: do not keep a
	 * client waiting for a slow zone. */
	evdns_base_set_option(dns, "timeout:", "3");
	evdns_base_set_option(dns, "attempts:", "2");
	return dns;
}

static void
rdns_free(struct rdns_query *q)
{
	LIST_REMOVE(q, entry);
	if (q->fail != NULL)
		event_free(q->fail);
	free(q->name);
	free(q);
}

void
rdns_base_free(struct evdns_base **dp)
{
	if (*dp == NULL)
		return;
	/* Requests still in flight are dropped without callbacks. */
	evdns_base_free(*dp, 0);
	*dp = NULL;
	while (!LIST_EMPTY(&live))
		rdns_free(LIST_FIRST(&live));
}

static void
rdns_deliver(struct rdns_query *q, const char *name)
{
	rdns_cb *cb = q->cb;
	void *arg = q->arg;

	q->cb = NULL;
	if (cb != NULL)
		cb(name, arg);
	rdns_free(q);
}

static void
rdns_fail_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	rdns_deliver(arg, NULL);
}

/* Report "no name" from the event loop, never from inside the call. */
static void
rdns_fail_later(struct rdns_query *q)
{
	struct timeval now = { 0, 0 };

	q->fail = evtimer_new(rdns_ev, rdns_fail_cb, q);
	if (q->fail == NULL)
		die("smtpd: cannot create an event");
	evtimer_add(q->fail, &now);
}

/* A host name we are willing to print: LDH labels, 1..253 bytes. */
static bool
rdns_name_ok(const char *n)
{
	size_t len = strlen(n);

	if (len == 0 || len > 253 || n[0] == '.' || n[0] == '-')
		return false;
	for (; *n != '\0'; n++)
		if (!isalnum((unsigned char)*n) && *n != '-' && *n != '.')
			return false;
	return true;
}

static void
rdns_fwd_cb(int result, char type, int count, int ttl, void *addrs,
    void *arg)
{
	struct rdns_query *q = arg;
	size_t size = q->family == AF_INET ? 4 : 16;
	bool match = false;

	(void)ttl;
	q->req = NULL;
	if (result == DNS_ERR_NONE &&
	    type == (q->family == AF_INET ? DNS_IPv4_A : DNS_IPv6_AAAA))
		for (int i = 0; i < count && !match; i++)
			match = memcmp((char *)addrs + (size_t)i * size, q->addr,
			    size) == 0;
	rdns_deliver(q, match ? q->name : NULL);
}

static void
rdns_ptr_cb(int result, char type, int count, int ttl, void *addrs,
    void *arg)
{
	struct rdns_query *q = arg;
	const char *name;

	(void)ttl;
	q->req = NULL;
	if (q->cb == NULL || result != DNS_ERR_NONE || type != DNS_PTR ||
	    count < 1 || (name = ((char **)addrs)[0]) == NULL ||
	    !rdns_name_ok(name)) {
		rdns_deliver(q, NULL);
		return;
	}
	q->name = xstrdup(name);
	for (char *p = q->name; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (q->family == AF_INET)
		q->req = evdns_base_resolve_ipv4(q->dns, q->name,
		    DNS_QUERY_NO_SEARCH, rdns_fwd_cb, q);
	else
		q->req = evdns_base_resolve_ipv6(q->dns, q->name,
		    DNS_QUERY_NO_SEARCH, rdns_fwd_cb, q);
	if (q->req == NULL)
		rdns_deliver(q, NULL);
}

struct rdns_query *
rdns_lookup(struct evdns_base *dns, const struct sockaddr *sa, rdns_cb *cb,
    void *arg)
{
	struct rdns_query *q = xcalloc(1, sizeof(*q));
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	q->dns = dns;
	q->cb = cb;
	q->arg = arg;
	LIST_INSERT_HEAD(&live, q, entry);
	if (sa->sa_family == AF_INET ||
	    (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))) {
		q->family = AF_INET;
		if (sa->sa_family == AF_INET)
			memcpy(q->addr,
			    &((const struct sockaddr_in *)sa)->sin_addr, 4);
		else
			memcpy(q->addr, &s6->sin6_addr.s6_addr[12], 4);
		q->req = evdns_base_resolve_reverse(dns,
		    (struct in_addr *)q->addr, 0, rdns_ptr_cb, q);
	} else if (sa->sa_family == AF_INET6) {
		q->family = AF_INET6;
		memcpy(q->addr, &s6->sin6_addr, 16);
		q->req = evdns_base_resolve_reverse_ipv6(dns,
		    (struct in6_addr *)q->addr, 0, rdns_ptr_cb, q);
	}
	if (q->req == NULL)
		rdns_fail_later(q);
	return q;
}

void
rdns_cancel(struct rdns_query **qp)
{
	struct rdns_query *q = *qp;

	if (q == NULL)
		return;
	*qp = NULL;
	q->cb = NULL;
	if (q->req != NULL)
		/* evdns still calls back (DNS_ERR_CANCEL): q goes then. */
		evdns_cancel_request(q->dns, q->req);
	else
		rdns_free(q);
}
