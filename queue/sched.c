/*
 * sched - who goes next.
 *
 * A delivery unit (the local recipients of a message, or its remote ones
 * of one domain) is in at most one place: the timer heap until it is
 * due, a ready heap (local or remote) ordered by priority (10 first),
 * then due time, then arrival in the heap, or, for a remote domain that
 * already has its share of the remote slots, that domain's blocked heap.
 * When one of the domain's jobs ends, the best of its blocked units goes
 * back to the ready heap, so a slow domain holds at most dom_max slots
 * and never the rest.  Every operation is O(log n).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"
#include "xalloc.h"

#define RDOM_BUCKETS 4096

struct rdom {
	struct rdom *hnext;
	char *name;
	unsigned refs;             /* units that go to this domain */
	unsigned active;           /* jobs running */
	struct heap blocked;
};

static struct {
	struct heap timer, local, remote;
	struct event *timer_ev, *dispatch_ev, *retry_ev;
	long long armed;           /* due time the timer is set for; 0 none */
	bool kicked;
	struct rdom *rb[RDOM_BUCKETS];
} S;

static bool
less_timer(const struct qdu *a, const struct qdu *b)
{
	if (a->due != b->due)
		return a->due < b->due;
	return a->seq < b->seq;
}

static bool
less_ready(const struct qdu *a, const struct qdu *b)
{
	if (a->prio != b->prio)
		return a->prio > b->prio;
	if (a->due != b->due)
		return a->due < b->due;
	return a->seq < b->seq;
}

/* --- remote domains ------------------------------------------------- */

static size_t
rdom_hash(const char *s)
{
	size_t h = 5381;

	for (; *s; s++)
		h = h * 33 + (unsigned char)*s;
	return h % RDOM_BUCKETS;
}

struct rdom *
rdom_get(const char *domain)
{
	size_t k = rdom_hash(domain);
	struct rdom *r;

	for (r = S.rb[k]; r != NULL; r = r->hnext)
		if (strcmp(r->name, domain) == 0)
			break;
	if (r == NULL) {
		r = xcalloc(1, sizeof(*r));
		r->name = xstrdup(domain);
		heap_init(&r->blocked, less_ready);
		r->hnext = S.rb[k];
		S.rb[k] = r;
	}
	r->refs++;
	return r;
}

void
rdom_put(struct rdom **rp)
{
	struct rdom *r = *rp, **pp;

	*rp = NULL;
	ASSERT(r->refs > 0);
	if (--r->refs > 0)
		return;
	ASSERT(r->active == 0 && r->blocked.n == 0);
	for (pp = &S.rb[rdom_hash(r->name)]; *pp != r; pp = &(*pp)->hnext)
		ASSERT(*pp != NULL);
	*pp = r->hnext;
	heap_release(&r->blocked);
	free(r->name);
	free(r);
}

const char *
rdom_name(const struct rdom *r)
{
	return r->name;
}

/* --- placing units -------------------------------------------------- */

static void
sched_arm(void)
{
	struct qdu *top = heap_top(&S.timer);
	struct timeval tv;
	long long wait;

	if (top == NULL) {
		if (S.armed != 0)
			evtimer_del(S.timer_ev);
		S.armed = 0;
		return;
	}
	if (top->due == S.armed)
		return;
	wait = top->due - now_ms();
	if (wait < 0)
		wait = 0;
	tv.tv_sec = wait / 1000;
	tv.tv_usec = wait % 1000 * 1000;
	evtimer_add(S.timer_ev, &tv);
	S.armed = top->due;
}

void
sched_kick(void)
{
	if (S.kicked)
		return;
	S.kicked = true;
	event_active(S.dispatch_ev, 0, 0);
}

static struct heap *
sched_heap(struct qdu *d)
{
	switch (d->where) {
	case DU_TIMER:
		return &S.timer;
	case DU_READY:
		return d->dom != NULL ? &S.remote : &S.local;
	case DU_BLOCKED:
		return &d->dom->blocked;
	default:
		return NULL;
	}
}

void
sched_unlink(struct qdu *d)
{
	struct heap *h = sched_heap(d);

	ASSERT(d->where != DU_RUNNING);
	if (h != NULL) {
		heap_remove(h, d);
		if (d->where == DU_TIMER)
			sched_arm();
	}
	d->where = DU_IDLE;
}

/* When the unit's next recipient is due; LLONG_MAX if none waits. */
static long long
sched_due(const struct qdu *d)
{
	long long due = LLONG_MAX;

	for (uint32_t k = 0; k < d->n; k++) {
		const struct qrcpt *r = &d->m->r[d->ri[k]];

		if (r->state == QREC_PENDING && !r->inflight &&
		    r->next_ms < due)
			due = r->next_ms;
	}
	return due;
}

static void
sched_ready(struct qdu *d)
{
	d->where = DU_READY;
	heap_push(d->dom != NULL ? &S.remote : &S.local, d);
	sched_kick();
}

/* Put d where it belongs now (it is not running). */
static void
sched_place(struct qdu *d, long long now)
{
	struct qmsg *m = d->m;
	long long due = sched_due(d);
	int prio;

	if (due == LLONG_MAX || m->cmd_waiting || m->cmd_running ||
	    m->removing || m->held) {
		sched_unlink(d);
		return;
	}
	prio = msg_prio(m, d);
	/* Already where it should be: keep its place in line. */
	if ((d->where == DU_READY || d->where == DU_BLOCKED) && due <= now &&
	    d->prio == prio)
		return;
	if (d->where == DU_TIMER && d->due == due && due > now)
		return;
	sched_unlink(d);
	d->due = due;
	d->prio = prio;
	d->seq = ++Q.seq;
	if (due > now) {
		d->where = DU_TIMER;
		heap_push(&S.timer, d);
		sched_arm();
	} else
		sched_ready(d);
}

void
sched_msg(struct qmsg *m)
{
	long long now = now_ms();

	for (uint32_t k = 0; k < m->ndu; k++)
		if (m->du[k].where != DU_RUNNING)
			sched_place(&m->du[k], now);
}

/* --- running -------------------------------------------------------- */

void
sched_job_done(struct qdu *d)
{
	struct rdom *r = d->dom;

	ASSERT(d->where == DU_RUNNING);
	d->where = DU_IDLE;
	if (r != NULL) {
		ASSERT(r->active > 0);
		r->active--;
		if (r->blocked.n > 0 && r->active < Q.dom_max)
			sched_ready(heap_pop(&r->blocked));
	}
	sched_kick();
}

/* One unit from a ready heap to an agent: false to stop this heap. */
static bool
sched_start(struct heap *h)
{
	struct qdu *d = heap_pop(h);
	long long until;

	d->where = DU_IDLE;
	if (d->dom != NULL && (until = qthrottle_hold(d->m)) > 0) {
		/* The sender's domain is over its hour: wait for the next
		 * one, spending no attempt. */
		d->due = until;
		d->where = DU_TIMER;
		heap_push(&S.timer, d);
		sched_arm();
		return true;
	}
	if (d->dom != NULL && d->dom->active >= Q.dom_max) {
		d->where = DU_BLOCKED;
		heap_push(&d->dom->blocked, d);
		return true;
	}
	if (agent_start(d) < 0) {
		/* The agent is not there: try again in a moment, without
		 * spending one of the recipients' attempts. */
		d->where = DU_READY;
		heap_push(h, d);
		if (!evtimer_pending(S.retry_ev, NULL)) {
			long long ms = agent_retry_ms();
			struct timeval tv = { ms / 1000, ms % 1000 * 1000 };

			evtimer_add(S.retry_ev, &tv);
		}
		return false;
	}
	if (d->where == DU_RUNNING && d->dom != NULL)
		d->dom->active++;
	return true;
}

static void
sched_dispatch_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	S.kicked = false;
	if (Q.stopped || Q.draining)
		return;
	while (S.local.n > 0 && agent_can_start(false))
		if (!sched_start(&S.local))
			break;
	while (S.remote.n > 0 && agent_can_start(true))
		if (!sched_start(&S.remote))
			break;
}

static void
sched_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	long long now = now_ms();
	struct qdu *d;

	(void)fd; (void)what; (void)arg;
	S.armed = 0;
	while ((d = heap_top(&S.timer)) != NULL && d->due <= now) {
		heap_pop(&S.timer);
		d->where = DU_IDLE;
		sched_place(d, now);
	}
	sched_arm();
}

static void
sched_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	sched_kick();
}

void
sched_init(void)
{
	heap_init(&S.timer, less_timer);
	heap_init(&S.local, less_ready);
	heap_init(&S.remote, less_ready);
	S.timer_ev = evtimer_new(Q.base, sched_timer_cb, NULL);
	S.dispatch_ev = event_new(Q.base, -1, 0, sched_dispatch_cb, NULL);
	S.retry_ev = evtimer_new(Q.base, sched_retry_cb, NULL);
}

void
sched_exit(void)
{
	heap_release(&S.timer);
	heap_release(&S.local);
	heap_release(&S.remote);
	if (S.timer_ev != NULL) {
		event_free(S.timer_ev);
		event_free(S.dispatch_ev);
		event_free(S.retry_ev);
	}
	S.timer_ev = NULL;
}
