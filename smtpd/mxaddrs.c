/* mxaddrs - a domain's mail server addresses, off the event loop; see
 * mxaddrs.h */
#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include "conf.h"
#include "dns.h"
#include "log.h"
#include "mxaddrs.h"
#include "xalloc.h"

/* A client waits for the answer (its RCPT is parked): look at no more
 * hosts than this, and give up after this many that do not answer. */
#define MXA_HOSTS_MAX 10
#define MXA_TEMPFAIL_MAX 2
/* A domain whose lookup failed is answered "try later" at once for this
 * long: while the DNS is down, each RCPT would wait out its timeouts. */
#define MXA_FAIL_TTL 30
#define MXA_FAIL_SLOTS 64

struct mxaddrs_query {
	TAILQ_ENTRY(mxaddrs_query) entry;
	char *domain;
	mxaddrs_cb *cb;                 /* NULL: cancelled */
	void *arg;
	struct event *done_ev;
	enum mxaddrs_status st;
	struct sockaddr_storage addrs[MXA_MAX];
	size_t n;
	char err[300];
};

TAILQ_HEAD(mxq_list, mxaddrs_query);

/* Everything below is shared with the thread: under lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_t thread;
static bool running, stopping, busy;
static struct mxq_list todo = TAILQ_HEAD_INITIALIZER(todo);
/* The dns_* keys as last read, and how many times they changed. */
static struct {
	char **servers;
	size_t n;
	int timeout_s, tries;
	unsigned gen;
} cfg;

void
mxaddrs_config(void)
{
	size_t n;
	const char *const *servers = conf_list("dns_servers", &n);
	char **copy = xcalloc(n + 1, sizeof(*copy));
	char **old;

	for (size_t i = 0; i < n; i++)
		copy[i] = xstrdup(servers[i]);
	pthread_mutex_lock(&lock);
	old = cfg.servers;
	cfg.servers = copy;
	cfg.n = n;
	cfg.timeout_s = (int)(conf_time_ms("dns_timeout") / 1000);
	cfg.tries = (int)conf_int("dns_retries");
	cfg.gen++;
	pthread_mutex_unlock(&lock);
	for (size_t i = 0; old != NULL && old[i] != NULL; i++)
		free(old[i]);
	free(old);
}

/* In the thread: apply a changed configuration (called under lock). */
static void
apply_config(unsigned *applied)
{
	const char *why;

	if (*applied == cfg.gen)
		return;
	*applied = cfg.gen;
	if (dns_config((const char *const *)cfg.servers, cfg.n, cfg.timeout_s,
	    cfg.tries, &why) < 0)
		log_exc(LOG_SMTP, "dns_servers: %s; the system's resolver is "
		    "used for MX checks", why);
}

static void
add_addrs(struct mxaddrs_query *q, const char *host, unsigned *tempfail)
{
	size_t n;
	char err[300];
	enum dns_status st = dns_addrs(host, 25, q->addrs + q->n,
	    MXA_MAX - q->n, &n, err, sizeof(err));

	if (st == DNS_OK)
		q->n += n;
	else if (st == DNS_TEMPFAIL) {
		(*tempfail)++;
		snprintf(q->err, sizeof(q->err), "%s", err);
	}
}

/* Domains whose lookup failed lately; the thread's alone. */
static struct {
	char domain[DNS_NAME_MAX];
	time_t until;
} failed[MXA_FAIL_SLOTS];
static size_t failed_next;

static bool
failed_lately(const char *domain)
{
	time_t now = time(NULL);

	for (size_t i = 0; i < MXA_FAIL_SLOTS; i++)
		if (failed[i].until > now &&
		    strcasecmp(failed[i].domain, domain) == 0)
			return true;
	return false;
}

static void
failed_note(const char *domain)
{
	size_t i = failed_next++ % MXA_FAIL_SLOTS;

	snprintf(failed[i].domain, sizeof(failed[i].domain), "%s", domain);
	failed[i].until = time(NULL) + MXA_FAIL_TTL;
}

static void resolve_now(struct mxaddrs_query *q);

/* In the thread, without the lock. */
static void
resolve(struct mxaddrs_query *q)
{
	if (failed_lately(q->domain)) {
		q->st = MXA_TEMPFAIL;
		snprintf(q->err, sizeof(q->err), "%s: the DNS did not answer "
		    "a moment ago", q->domain);
		return;
	}
	resolve_now(q);
	if (q->st == MXA_TEMPFAIL)
		failed_note(q->domain);
}

static void
resolve_now(struct mxaddrs_query *q)
{
	struct dns_mx mx[DNS_MX_MAX];
	size_t n;
	unsigned tempfail = 0;

	switch (dns_mx(q->domain, mx, DNS_MX_MAX, &n, q->err,
	    sizeof(q->err))) {
	case DNS_NOTFOUND:
	case DNS_NULLMX:
		q->st = MXA_NONE;
		return;
	case DNS_TEMPFAIL:
		q->st = MXA_TEMPFAIL;
		return;
	case DNS_OK:
		break;
	}
	if (n == 0)
		add_addrs(q, q->domain, &tempfail);
	for (size_t i = 0; i < n && i < MXA_HOSTS_MAX && q->n < MXA_MAX &&
	    tempfail < MXA_TEMPFAIL_MAX; i++)
		add_addrs(q, mx[i].name, &tempfail);
	/* Some host not answering only matters when nothing was found. */
	q->st = q->n > 0 ? MXA_OK : tempfail > 0 ? MXA_TEMPFAIL : MXA_NONE;
	if (q->st == MXA_NONE)
		snprintf(q->err, sizeof(q->err), "no address for the mail "
		    "servers of %s", q->domain);
}

static void *
worker(void *unused)
{
	unsigned applied = 0;

	(void)unused;
	pthread_mutex_lock(&lock);
	for (;;) {
		while (!stopping && TAILQ_EMPTY(&todo))
			pthread_cond_wait(&wake, &lock);
		if (stopping)
			break;
		struct mxaddrs_query *q = TAILQ_FIRST(&todo);

		TAILQ_REMOVE(&todo, q, entry);
		apply_config(&applied);
		busy = true;
		pthread_mutex_unlock(&lock);
		resolve(q);
		pthread_mutex_lock(&lock);
		busy = false;
		/* After mxaddrs_stop the loop may be gone: q stays with this
		 * thread's stack until the process ends. */
		if (stopping)
			break;
		/* done_ev belongs to the loop; activating it is safe
		 * from here (libevent threading is on, see spool.h). */
		event_active(q->done_ev, 0, 0);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void
query_free(struct mxaddrs_query *q)
{
	event_free(q->done_ev);
	free(q->domain);
	free(q);
}

/* In the loop: the thread is done with q. */
static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mxaddrs_query *q = arg;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&lock);
	mxaddrs_cb *cb = q->cb;
	pthread_mutex_unlock(&lock);
	if (cb != NULL)
		cb(q->st, q->addrs, q->n, q->err, q->arg);
	query_free(q);
}

struct mxaddrs_query *
mxaddrs_lookup(struct event_base *base, const char *domain, mxaddrs_cb *cb,
    void *arg)
{
	struct mxaddrs_query *q = xcalloc(1, sizeof(*q));

	q->domain = xstrdup(domain);
	q->cb = cb;
	q->arg = arg;
	q->done_ev = event_new(base, -1, 0, done_cb, q);
	if (evthread_make_base_notifiable(base) < 0)
		die("cannot make the event base notifiable");
	pthread_mutex_lock(&lock);
	if (!running) {
		if (pthread_create(&thread, NULL, worker, NULL) != 0)
			die("cannot start the MX lookup thread");
		running = true;
	}
	TAILQ_INSERT_TAIL(&todo, q, entry);
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	return q;
}

void
mxaddrs_cancel(struct mxaddrs_query **qp)
{
	struct mxaddrs_query *q = *qp, *t;
	bool waiting = false;

	if (q == NULL)
		return;
	*qp = NULL;
	pthread_mutex_lock(&lock);
	TAILQ_FOREACH(t, &todo, entry)
		if (t == q)
			waiting = true;
	if (waiting)
		TAILQ_REMOVE(&todo, q, entry);
	q->cb = NULL;
	pthread_mutex_unlock(&lock);
	/* Not yet taken: ours to free.  Taken: done_cb frees it. */
	if (waiting)
		query_free(q);
}

void
mxaddrs_stop(void)
{
	struct mxaddrs_query *q;
	bool join;

	pthread_mutex_lock(&lock);
	stopping = true;
	join = running && !busy;
	while ((q = TAILQ_FIRST(&todo)) != NULL) {
		TAILQ_REMOVE(&todo, q, entry);
		query_free(q);
	}
	pthread_cond_broadcast(&wake);
	pthread_mutex_unlock(&lock);
	if (join)
		pthread_join(thread, NULL);
	else if (running)
		/* a lookup is under way: at most dns_timeout x dns_retries
		 * per name; the process ends without waiting for it */
		pthread_detach(thread);
	running = false;
}
