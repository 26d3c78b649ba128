/*
 * dns - MX and address lookups for the remote delivery agent, through the
 * servers of the tern.conf key dns_servers (the reference's DNS servers;
 * IPv4 "ip" or "ip:port", IPv6 "ip6" or "[ip6]:port") or, when it is
 * empty, the system's resolver configuration.  Blocking, bounded by
 * dns_timeout and dns_retries: it runs in the delivery agents, one job
 * per process at a time, and in smtpd's MX-check thread
 * (smtpd/mxaddrs.c), never in an event loop.  Not thread-safe: one thread
 * per process uses it.  Built on glibc's libresolv.
 *
 * Answers with records are cached in the process for their smallest TTL
 * (at most an hour), answers that a name or record does not exist for a
 * minute; a server that does not answer is asked again next time.
 *
 * NXDOMAIN and "no such record" are told apart from a server that does
 * not answer, so a misspelt domain can be bounced early (the queue's
 * spool_dns_bounce_attempts) while a resolver outage never bounces.
 */
#ifndef TERN_DNS_H
#define TERN_DNS_H

#include <stddef.h>
#include <sys/socket.h>

enum dns_status {
	DNS_OK,          /* answers found (dns_mx: maybe none: no MX) */
	DNS_NOTFOUND,    /* NXDOMAIN, or no record of the kind asked */
	DNS_NULLMX,      /* RFC 7505: the domain accepts no mail */
	DNS_TEMPFAIL,    /* no answer, SERVFAIL, a broken answer */
};

#define DNS_NAME_MAX 256
#define DNS_MX_MAX 32
#define DNS_ADDR_MAX 16

struct dns_mx {
	char name[DNS_NAME_MAX];
	unsigned pref;
};

/*
 * Resolver settings: servers ("192.0.2.53", "127.0.0.1:5353",
 * "2001:db8::53", "[::1]:5353"), at most 3, none for the system's;
 * per-try timeout in seconds, tries.  Cached answers are forgotten.
 * 0, or -1 with *why_r naming the bad item.
 */
int dns_config(const char *const *servers, size_t n, int timeout_s,
    int tries, const char **why_r);

/*
 * The MX hosts of domain, lowest preference first (equal ones in a random
 * order, new at each call: RFC 5321 5.1 spreads the load).  DNS_OK with
 * *n_r = 0: the domain exists but has no MX (deliver to its own address,
 * RFC 5321 5.1).  err gets a reason for logs and bounces when the status
 * is not DNS_OK.
 */
enum dns_status dns_mx(const char *domain, struct dns_mx *out, size_t max,
    size_t *n_r, char *err, size_t errlen);

/* IPv4 and IPv6 addresses of host (an IP literal is returned as is),
 * each with port set. */
enum dns_status dns_addrs(const char *host, unsigned port,
    struct sockaddr_storage *out, size_t max, size_t *n_r, char *err,
    size_t errlen);


#endif
