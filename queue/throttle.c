/*
 * throttle - the reference's Throttling for what our domains send
 * (FEATURES.md SO-15): per sending domain, messages and bytes sent per
 * hour, and bounces received per hour, each limit on when the domain's
 * domain.conf turns it on (throttle_messages, throttle_bandwidth,
 * throttle_bounces).
 *
 * A user may have limits of its own (throttle_messages_per_hour and
 * throttle_bandwidth_per_hour in the users file), counted the same way
 * under "u:<address>"; its mail waits when either it or its domain is
 * over.
 *
 * Mail of a throttled domain waits for the next clock hour: its remote
 * units go back on the timer without spending an attempt, and the event
 * is logged once per domain and hour.  A message is counted once, when
 * its first remote job starts (a message to three remote domains is one
 * message sent).  A bounce is counted when the local agent delivers a
 * null-sender message to one of the domain's users: a domain that
 * suddenly draws many bounces is most likely sending spam, so its
 * sending pauses until the hour is over.
 *
 * Counters live in state_dir/throttle.db (lib/throttle), synced every
 * few seconds, so a restart keeps the hour's counts.  The file is opened
 * the first time a limit applies: a queue that throttles nobody never
 * loads Berkeley DB's pages (over a megabyte of memory).
 */
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "conf.h"
#include "queue.h"
#include "throttle.h"
#include "xalloc.h"

#define SYNC_SECONDS 2

static struct {
	struct throttle *db;
	bool tried;                /* the open was attempted (and logged) */
	struct event *sync_ev;
	char *logged;              /* "domain@hour" of the last log line */
} T;

/* The counters' file, opened on first need; NULL when it cannot be. */
static struct throttle *
tdb(void)
{
	char *path, *err = NULL;

	if (T.tried)
		return T.db;
	T.tried = true;
	path = xasprintf("%s/throttle.db", Q.state_dir);
	T.db = throttle_open(path, &err);
	if (T.db == NULL) {
		/* Without the file nothing is counted: mail flows as if no
		 * domain were throttled, which loses nothing. */
		log_exc(QLOG, "queue: throttling off: %s", err);
		free(err);
	}
	free(path);
	return T.db;
}

static void
qthrottle_sync_cb(evutil_socket_t fd, short what, void *arg)
{
	char *err = NULL;

	(void)fd; (void)what; (void)arg;
	if (T.db != NULL && throttle_sync(T.db, &err) < 0) {
		log_exc(QLOG, "queue: %s", err);
		free(err);
	}
}

void
qthrottle_init(void)
{
	struct timeval tv = { SYNC_SECONDS, 0 };

	T.sync_ev = event_new(Q.base, -1, EV_PERSIST, qthrottle_sync_cb, NULL);
	evtimer_add(T.sync_ev, &tv);
}

void
qthrottle_exit(void)
{
	if (T.sync_ev != NULL)
		event_free(T.sync_ev);
	T.sync_ev = NULL;
	throttle_close(&T.db);
	T.tried = false;
	free(T.logged);
	T.logged = NULL;
}

/* A counter that applies to a message: whose, its key, its limits. */
struct counter {
	const char *what;               /* "user", "domain" */
	char *key;                      /* "u:<address>", "d:<domain>" */
	struct throttle_limits lim;
};

static void
domain_limits(const struct acct_domain *d, struct throttle_limits *lim)
{
	unsigned long long bytes;
	const char *v, *err;
	size_t len;

	memset(lim, 0, sizeof(*lim));
	if (acct_field_bool(d->rec, d->reclen, "throttle_messages", false))
		lim->msgs = (unsigned long long)acct_field_int(d->rec,
		    d->reclen, "throttle_messages_per_hour", 5000);
	if (acct_field_bool(d->rec, d->reclen, "throttle_bandwidth", false) &&
	    (v = acct_field(d->rec, d->reclen, "throttle_bandwidth_per_hour",
	    &len)) != NULL) {
		char *s = xstrndup(v, len);

		if (conf_parse_size(s, &bytes, &err) == 0)
			lim->bytes = bytes;
		free(s);
	}
	if (acct_field_bool(d->rec, d->reclen, "throttle_bounces", false))
		lim->bounces = (unsigned long long)acct_field_int(d->rec,
		    d->reclen, "throttle_bounces_per_hour", 1000);
}

static bool
limited(const struct throttle_limits *lim)
{
	return lim->msgs != 0 || lim->bytes != 0 || lim->bounces != 0;
}

static void
counters_free(struct counter *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].key);
}

/* The counters m's sender is held to: its own (users file) and its
 * domain's (domain.conf), each only when it has a limit on.  Returns
 * how many were filled; free their keys with counters_free(). */
static size_t
counters_of(const struct qmsg *m, struct counter out[2])
{
	const char *at = strrchr(m->sender, '@');
	struct acct_domain d;
	const char *rec;
	size_t len, n = 0;
	char *local;

	if (at == NULL || Q.acct == NULL ||
	    accounts_domain(Q.acct, at + 1, &d) != 1)
		return 0;
	local = xstrndup(m->sender, (size_t)(at - m->sender));
	memset(&out[n].lim, 0, sizeof(out[n].lim));
	if (accounts_user(Q.acct, local, d.name, &rec, &len) == 1) {
		out[n].lim.msgs = (unsigned long long)acct_field_int(rec, len,
		    "throttle_messages_per_hour", 0);
		out[n].lim.bytes = (unsigned long long)acct_field_int(rec, len,
		    "throttle_bandwidth_per_hour", 0);
	}
	if (limited(&out[n].lim)) {
		out[n].what = "user";
		out[n++].key = xasprintf("u:%s@%s", local, d.name);
	}
	free(local);
	domain_limits(&d, &out[n].lim);
	if (limited(&out[n].lim)) {
		out[n].what = "domain";
		out[n++].key = xasprintf("d:%s", d.name);
	}
	if (n > 0 && tdb() == NULL) {
		counters_free(out, n);
		return 0;
	}
	return n;
}

/* 0, or when key may send again (ms); logs once per key and hour. */
static long long
qthrottle_check(const struct counter *c)
{
	const char *which;
	time_t until;
	char *mark;

	if (throttle_allow(T.db, c->key, &c->lim, (time_t)now_s(), &until,
	    &which))
		return 0;
	mark = xasprintf("%s@%lld", c->key, (long long)until);
	if (T.logged == NULL || strcmp(T.logged, mark) != 0) {
		struct throttle_count cnt = throttle_get(T.db, c->key,
		    (time_t)now_s());

		log_msg(QLOG, "queue: %s %s throttled (%s per hour "
		    "reached: %llu messages, %llu bytes sent, %llu bounces "
		    "received); its mail waits for the next hour", c->what,
		    c->key + 2, which, cnt.msgs, cnt.bytes, cnt.bounces);
		free(T.logged);
		T.logged = mark;
	} else
		free(mark);
	return (long long)until * 1000;
}

long long
qthrottle_hold(const struct qmsg *m)
{
	struct counter c[2];
	size_t n = counters_of(m, c);
	long long until = 0;

	for (size_t i = 0; i < n && until == 0; i++)
		until = qthrottle_check(&c[i]);
	counters_free(c, n);
	return until;
}

void
qthrottle_charge(struct qmsg *m)
{
	struct counter c[2];
	size_t n;

	if (m->throttle_counted)
		return;
	m->throttle_counted = true;
	n = counters_of(m, c);
	for (size_t i = 0; i < n; i++)
		throttle_charge(T.db, c[i].key, (unsigned long long)m->size,
		    (time_t)now_s());
	counters_free(c, n);
}

void
qthrottle_bounce(const struct qmsg *m, const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');
	struct acct_domain d;
	char *key;

	if (*m->sender != '\0' || at == NULL ||
	    Q.acct == NULL || accounts_domain(Q.acct, at + 1, &d) != 1 ||
	    !acct_field_bool(d.rec, d.reclen, "throttle_bounces", false) ||
	    tdb() == NULL)
		return;
	key = xasprintf("d:%s", d.name);
	throttle_bounce(T.db, key, (time_t)now_s());
	free(key);
}
