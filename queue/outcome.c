/*
 * outcome - what an agent's answer means for a recipient, and what a
 * message does next once its record is durable (settle): bounce the
 * recipients that failed, go back to the scheduler, wait on disk
 * (evict), or leave the spool (remove).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounce.h"
#include "queue.h"
#include "queue_info.h"
#include "xalloc.h"

#define BOUNCE_RETRY_MS (60 * 1000)

static struct event *bounce_retry_ev;

/* A diagnostic as we keep and log it: no control characters, bounded. */
static char *
outcome_clean(const char *text)
{
	size_t n = 0;
	char *out;

	if (text == NULL || *text == '\0')
		text = "4.0.0 no reason given";
	out = xstrndup(text, QREC_TEXT_MAX);
	for (char *p = out; *p != '\0'; p++, n++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return out;
}

static const char *
outcome_route(const struct qmsg *m, const struct qrcpt *r)
{
	if (r->du == NO_DU)
		return "-";
	return m->du[r->du].dom != NULL ? "remote" : "local";
}

static void
outcome_set_text(struct qrcpt *r, char *text)
{
	free(r->text);
	r->text = text;
}

static void
outcome_fail(struct qmsg *m, uint32_t i, char *text, long long now)
{
	struct qrcpt *r = &m->r[i];

	r->state = QREC_FAIL;
	r->last = now;
	qrec_put_done(&m->recq, i, now, QREC_FAIL, text);
	log_msg(QLOG, "%s: to=<%s> failed (%s): %s%s", m->id, r->addr,
	    outcome_route(m, r), text, m->sender[0] == '\0' ?
	    " (no bounce to the null sender)" :
	    !qrec_notify_failure(r->notify) ? " (no bounce: NOTIFY)" : "");
	outcome_set_text(r, text);
}

static void
outcome_defer(struct qmsg *m, uint32_t i, char *text, long long now)
{
	struct qrcpt *r = &m->r[i];
	char code[16], wait[32], *t;
	long long next;

	r->attempts++;
	r->last = now;
	qrec_status_code(text, "4.0.0", code, sizeof(code));
	if (strcmp(code + 1, ".4.3") == 0 && r->attempts >= Q.dns_bounce) {
		/* The reference's "attempts before bouncing DNS errors". */
		t = xasprintf("%s (gave up after %u attempts)", text,
		    r->attempts);
		free(text);
		outcome_fail(m, i, t, now);
		return;
	}
	if (r->attempts > Q.nretry) {
		t = xasprintf("4.4.7 retries exhausted after %u attempts; "
		    "last error: %s", r->attempts, text);
		free(text);
		if (strlen(t) > QREC_TEXT_MAX)
			t[QREC_TEXT_MAX] = '\0';
		outcome_fail(m, i, t, now);
		return;
	}
	next = now_ms() + Q.retry_ms[r->attempts - 1];
	r->next_ms = next;
	qrec_put_defer(&m->recq, i, now, (next + 999) / 1000, r->attempts,
	    text);
	qinfo_age(Q.retry_ms[r->attempts - 1] / 1000, wait, sizeof(wait));
	log_msg(QLOG, "%s: to=<%s> deferred (%s, attempt %u, next in %s): %s",
	    m->id, r->addr, outcome_route(m, r), r->attempts, wait, text);
	outcome_set_text(r, text);
}

void
outcome_rcpt(struct qmsg *m, uint32_t i, enum djob_status st,
    const char *text)
{
	struct qrcpt *r = &m->r[i];
	long long now = now_s();
	char *t;

	ASSERT(i < m->nr);
	r->inflight = false;
	if (r->state != QREC_PENDING) {
		/* Deleted while the agent worked on it. */
		log_detail(QLOG, "%s: to=<%s> %s after it was %s; ignored",
		    m->id, r->addr, djob_status_name(st),
		    qrec_state_name(r->state));
		return;
	}
	t = outcome_clean(text);
	switch (st) {
	case DJOB_OK:
		r->state = QREC_OK;
		r->last = now;
		qrec_put_done(&m->recq, i, now, QREC_OK, t);
		log_msg(QLOG, "%s: to=<%s> delivered (%s): %s", m->id, r->addr,
		    outcome_route(m, r), t);
		if (r->du != NO_DU && m->du[r->du].dom == NULL)
			qthrottle_bounce(m, r->addr);
		outcome_set_text(r, t);
		break;
	case DJOB_FAIL:
		outcome_fail(m, i, t, now);
		break;
	case DJOB_DEFER:
		outcome_defer(m, i, t, now);
		break;
	}
}

void
outcome_drop(struct qmsg *m, uint32_t i, const char *why)
{
	struct qrcpt *r = &m->r[i];
	long long now = now_s();

	if (r->state != QREC_PENDING)
		return;
	r->state = QREC_DROP;
	r->last = now;
	qrec_put_done(&m->recq, i, now, QREC_DROP, why);
	log_msg(QLOG, "%s: to=<%s> dropped: %s", m->id, r->addr, why);
	outcome_set_text(r, xstrdup(why));
}

/* --- bounces -------------------------------------------------------- */

/*
 * The report recipient r of m is owed now (RFC 3461 NOTIFY), or NULL:
 * "failed" for a failure (NOTIFY absent or FAILURE), "delivered" or
 * "relayed" for a success with NOTIFY=SUCCESS, "delayed" once for a
 * recipient with NOTIFY=DELAY still pending spool_delay_warning after
 * arrival.  Never to the null sender.
 */
static const char *
outcome_report(const struct qmsg *m, const struct qrcpt *r)
{
	if (m->sender[0] == '\0')
		return NULL;
	switch (r->state) {
	case QREC_FAIL:
		return !r->bounced && qrec_notify_failure(r->notify) ?
		    "failed" : NULL;
	case QREC_OK:
		if (r->bounced || !qrec_notify_has(r->notify, "SUCCESS"))
			return NULL;
		/* The remote agent hands the mail on; whether the next
		 * server reports further we cannot promise. */
		return r->du != NO_DU && m->du[r->du].dom != NULL ?
		    "relayed" : "delivered";
	case QREC_PENDING:
		return !r->warned && !r->inflight && Q.delay_warn_ms > 0 &&
		    r->attempts > 0 && qrec_notify_has(r->notify, "DELAY") &&
		    now_ms() - m->arrival * 1000 >= Q.delay_warn_ms ?
		    "delayed" : NULL;
	default:
		return NULL;
	}
}

bool
outcome_needs_bounce(const struct qmsg *m)
{
	for (uint32_t i = 0; i < m->nr; i++)
		if (outcome_report(m, &m->r[i]) != NULL)
			return true;
	return false;
}

/* Queue one report for every failed recipient not yet reported. */
static int
outcome_bounce(struct qmsg *m)
{
	struct bounce_rcpt *br = xcalloc(m->nr, sizeof(*br));
	size_t *idx = xcalloc(m->nr, sizeof(*idx)), n = 0;
	size_t *widx = xcalloc(m->nr, sizeof(*widx)), nw = 0;
	struct bounce b = {
		.id = m->id, .path = m->path, .body_off = m->body_off,
		.sender = m->sender, .envid = m->envid, .ret = m->ret,
		.smtputf8 = m->smtputf8, .arrival = m->arrival,
		.hostname = Q.hostname,
	};
	char bid[SPOOL_ID_LEN + 1];
	const char *err;
	bool full;
	int rc;

	for (uint32_t i = 0; i < m->nr; i++) {
		const struct qrcpt *r = &m->r[i];
		const char *action = outcome_report(m, r);

		if (action == NULL)
			continue;
		br[n + nw].addr = r->addr;
		br[n + nw].orcpt = r->orcpt;
		br[n + nw].text = r->text;
		br[n + nw].last = r->last;
		br[n + nw].action = action;
		if (strcmp(action, "delayed") == 0)
			widx[nw++] = i;
		else
			idx[n++] = i;
	}
	b.rcpts = br;
	b.nrcpts = n + nw;
	rc = bounce_queue(Q.spool, &b, bid, &err);
	if (rc < 0) {
		log_exc(QLOG, "%s: cannot queue a bounce to <%s>: %s; trying "
		    "again later", m->id, m->sender, err);
		m->bounce_retry = true;
		if (!evtimer_pending(bounce_retry_ev, NULL)) {
			struct timeval tv = { BOUNCE_RETRY_MS / 1000, 0 };

			evtimer_add(bounce_retry_ev, &tv);
		}
	} else {
		for (size_t k = 0; k < n; k++)
			m->r[idx[k]].bounced = true;
		for (size_t k = 0; k < nw; k++)
			m->r[widx[k]].warned = true;
		log_msg(QLOG, "%s: %s %s to <%s> for %zu recipient(s)", m->id,
		    n == 0 ? "delay warning" : "bounce", bid, m->sender,
		    n + nw);
		/* When the message stays, the record says the report is
		 * out, so a restart does not send it twice. */
		if (!msg_finished(m)) {
			if (n > 0)
				qrec_put_bounce(&m->recq, bid, idx, n);
			if (nw > 0)
				qrec_put_warn(&m->recq, bid, widx, nw);
			store_touch(m);
		}
		if (msg_take(spool_subspool_of(Q.spool, bid), bid, true, false,
		    &full) == 0 && full)
			Q.backlog = true;
	}
	free(br);
	free(idx);
	free(widx);
	return rc;
}

static void
outcome_bounce_retry_one(struct qmsg *m, void *arg)
{
	(void)arg;
	if (m->bounce_retry) {
		m->bounce_retry = false;
		store_touch(m);
	}
}

static void
outcome_bounce_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	msg_foreach(outcome_bounce_retry_one, NULL);
}

/* --- settling ------------------------------------------------------- */

bool
outcome_evictable(const struct qmsg *m)
{
	long long next = msg_next_ms(m);

	return m->has_rec && !m->rec_truncate && m->njobs == 0 &&
	    !m->cmd_running && !m->cmd_waiting && next != 0 &&
	    next - now_ms() > Q.scan_ms;
}

void
outcome_settle(struct qmsg *m)
{
	if (m->removing)
		return;
	if (!m->bounce_retry && outcome_needs_bounce(m))
		outcome_bounce(m);
	if (m->njobs > 0 || m->cmd_running || m->in_flush) {
		sched_msg(m);
		return;
	}
	if (msg_finished(m)) {
		if (!outcome_needs_bounce(m))
			store_remove(m);
		return;
	}
	if (outcome_evictable(m))
		store_evict(m);
	else
		sched_msg(m);
}

void
outcome_init(void)
{
	bounce_retry_ev = evtimer_new(Q.base, outcome_bounce_retry_cb, NULL);
}

void
outcome_exit(void)
{
	if (bounce_retry_ev != NULL)
		event_free(bounce_retry_ev);
	bounce_retry_ev = NULL;
}
