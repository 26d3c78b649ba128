/*
 * rdns - the client's host name for the Received header and the logs:
 * a PTR lookup, confirmed by looking the name up again (A or AAAA) and
 * finding the client's address among the answers, so a client cannot
 * pick its own name by controlling its reverse zone.  Never blocks: the
 * lookups run in libevent's evdns, bounded by its timeout and attempts.
 */
#ifndef TERN_SMTPD_RDNS_H
#define TERN_SMTPD_RDNS_H

#include <sys/socket.h>

struct event_base;
struct evdns_base;
struct rdns_query;

/* name: the confirmed name, or NULL (none, no match, error, timeout);
 * valid during the call only. */
typedef void rdns_cb(const char *name, void *arg);

/* A resolver from /etc/resolv.conf (or the file named by the environment
 * variable TERN_RESOLV_CONF, for tests) with short timeouts; NULL + log
 * line if there is none. */
struct evdns_base *rdns_base_new(struct event_base *base);
/* Cancel what is left, then free the resolver and set *dp to NULL. */
void rdns_base_free(struct evdns_base **dp);

/* Look sa up; cb runs later from the event loop, exactly once unless
 * the query is cancelled. */
struct rdns_query *rdns_lookup(struct evdns_base *dns,
    const struct sockaddr *sa, rdns_cb *cb, void *arg);
/* cb will not be called; *qp (may be NULL) is set to NULL. */
void rdns_cancel(struct rdns_query **qp);

#endif
