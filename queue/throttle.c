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
 * few seconds, so a restart keeps the hour's counts.
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
	struct event *sync_ev;
	char *logged;              /* "domain@hour" of the last log line */
} T;

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
	char *path = xasprintf("%s/throttle.db", Q.state_dir);
	char *err = NULL;
	struct timeval tv = { SYNC_SECONDS, 0 };

	T.db = throttle_open(path, &err);
	if (T.db == NULL) {
		/* Without the file nothing is counted: mail flows as if no
		 * domain were throttled, which loses nothing. */
		log_exc(QLOG, "queue: throttling off: %s", err);
		free(err);
	}
	free(path);
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
	free(T.logged);
	T.logged = NULL;
}

/* The sender's domain when it is one of ours with a limit on, with its
 * limits; NULL otherwise. */
static const char *
qthrottle_limits(const struct qmsg *m, struct acct_domain *d,
    struct throttle_limits *lim)
{
	const char *at = strrchr(m->sender, '@');
	unsigned long long bytes;
	const char *v, *err;
	size_t len;

	memset(lim, 0, sizeof(*lim));
	if (T.db == NULL || at == NULL || Q.acct == NULL ||
	    accounts_domain(Q.acct, at + 1, d) != 1)
		return NULL;
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
	if (lim->msgs == 0 && lim->bytes == 0 && lim->bounces == 0)
		return NULL;
	return d->name;
}

static long long qthrottle_domain_hold(const struct qmsg *m);

/* The sender when it is one of our users with limits of its own. */
static bool
qthrottle_user(const struct qmsg *m, struct throttle_limits *lim,
    char **key_r)
{
	const char *at = strrchr(m->sender, '@');
	struct acct_domain d;
	const char *rec;
	size_t len;
	char *local;

	memset(lim, 0, sizeof(*lim));
	if (T.db == NULL || at == NULL || Q.acct == NULL ||
	    accounts_domain(Q.acct, at + 1, &d) != 1)
		return false;
	local = xstrndup(m->sender, (size_t)(at - m->sender));
	if (accounts_user(Q.acct, local, d.name, &rec, &len) == 1) {
		lim->msgs = (unsigned long long)acct_field_int(rec, len,
		    "throttle_messages_per_hour", 0);
		lim->bytes = (unsigned long long)acct_field_int(rec, len,
		    "throttle_bandwidth_per_hour", 0);
	}
	*key_r = xasprintf("u:%s@%s", local, d.name);
	free(local);
	if (lim->msgs == 0 && lim->bytes == 0) {
		free(*key_r);
		return false;
	}
	return true;
}

/* 0, or when key may send again (ms); logs once per key and hour. */
static long long
qthrottle_check(const char *what, const char *name, const char *key,
    const struct throttle_limits *lim)
{
	const char *which;
	time_t until;
	char *mark;

	if (throttle_allow(T.db, key, lim, (time_t)now_s(), &until, &which))
		return 0;
	mark = xasprintf("%s@%lld", key, (long long)until);
	if (T.logged == NULL || strcmp(T.logged, mark) != 0) {
		struct throttle_count c = throttle_get(T.db, key,
		    (time_t)now_s());

		log_msg(QLOG, "queue: %s %s throttled (%s per hour "
		    "reached: %llu messages, %llu bytes sent, %llu bounces "
		    "received); its mail waits for the next hour", what, name,
		    which, c.msgs, c.bytes, c.bounces);
		free(T.logged);
		T.logged = mark;
	} else
		free(mark);
	return (long long)until * 1000;
}

long long
qthrottle_hold(const struct qmsg *m)
{
	struct throttle_limits ulim;
	char *ukey;
	long long until = 0;

	if (qthrottle_user(m, &ulim, &ukey)) {
		until = qthrottle_check("user", ukey + 2, ukey, &ulim);
		free(ukey);
		if (until > 0)
			return until;
	}
	return qthrottle_domain_hold(m);
}

static long long
qthrottle_domain_hold(const struct qmsg *m)
{
	struct acct_domain d;
	struct throttle_limits lim;
	const char *dom = qthrottle_limits(m, &d, &lim);
	long long until;
	char *key;

	if (dom == NULL)
		return 0;
	key = xasprintf("d:%s", dom);
	until = qthrottle_check("domain", dom, key, &lim);
	free(key);
	return until;
}

void
qthrottle_charge(struct qmsg *m)
{
	struct acct_domain d;
	struct throttle_limits lim;
	const char *dom;
	char *key;

	struct throttle_limits ulim;
	char *ukey;

	if (m->throttle_counted)
		return;
	m->throttle_counted = true;
	if (qthrottle_user(m, &ulim, &ukey)) {
		throttle_charge(T.db, ukey, (unsigned long long)m->size,
		    (time_t)now_s());
		free(ukey);
	}
	if ((dom = qthrottle_limits(m, &d, &lim)) == NULL)
		return;
	key = xasprintf("d:%s", dom);
	throttle_charge(T.db, key, (unsigned long long)m->size,
	    (time_t)now_s());
	free(key);
}

void
qthrottle_bounce(const struct qmsg *m, const char *rcpt)
{
	const char *at = strrchr(rcpt, '@');
	struct acct_domain d;
	char *key;

	if (T.db == NULL || *m->sender != '\0' || at == NULL ||
	    Q.acct == NULL || accounts_domain(Q.acct, at + 1, &d) != 1 ||
	    !acct_field_bool(d.rec, d.reclen, "throttle_bounces", false))
		return;
	key = xasprintf("d:%s", d.name);
	throttle_bounce(T.db, key, (time_t)now_s());
	free(key);
}
