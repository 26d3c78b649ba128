/*
 * mxaddrs - the addresses a domain's mail goes to: each MX host's A and
 * AAAA records, or the domain's own when it has no MX.  smtpd asks this
 * to decide whether it is a backup MX for the domain (routing.conf
 * [smarthost]).
 *
 * lib/dns blocks, so lookups run in one helper thread, in the order
 * asked, each name bounded by dns_timeout and dns_retries (the servers of
 * dns_servers, as for remote delivery); answers come back through the
 * event loop.  A lookup looks at the first 10 MX hosts at most and stops
 * after two that do not answer, so a client never waits for minutes; a
 * domain whose lookup failed is answered "try later" at once for 30 s.
 * Nothing here touches the event loop from the thread but
 * event_active().
 */
#ifndef TERN_SMTPD_MXADDRS_H
#define TERN_SMTPD_MXADDRS_H

#include <stddef.h>
#include <sys/socket.h>

struct event_base;
struct mxaddrs_query;

enum mxaddrs_status {
	MXA_OK,          /* addrs found */
	MXA_NONE,        /* no such domain, null MX, or no address at all */
	MXA_TEMPFAIL,    /* the DNS did not answer; ask again later */
};

#define MXA_MAX 32

/* addrs/err are valid during the call only; err is for logs. */
typedef void mxaddrs_cb(enum mxaddrs_status st,
    const struct sockaddr_storage *addrs, size_t n, const char *err,
    void *arg);

/* Take the dns_* keys (at start and after every reload; the thread
 * applies them before its next lookup; a bad one is logged there). */
void mxaddrs_config(void);
/* cb runs later from base's loop, exactly once unless cancelled. */
struct mxaddrs_query *mxaddrs_lookup(struct event_base *base,
    const char *domain, mxaddrs_cb *cb, void *arg);
/* cb will not be called; *qp (may be NULL) is set to NULL. */
void mxaddrs_cancel(struct mxaddrs_query **qp);
/* At exit: no more callbacks; the thread is joined when idle, else left
 * to end with the process. */
void mxaddrs_stop(void);

#endif
