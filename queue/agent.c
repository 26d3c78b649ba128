/*
 * agent - the delivery agents, seen from the queue: a pool of
 * connections per agent socket (state_dir/delivery.sock for local
 * delivery, state_dir/smtp-out.sock for remote), one job at a time on
 * each, spoken in lib/djob frames.  Nothing here blocks: a connect to a
 * Unix socket succeeds or fails at once, and answers arrive as events.
 *
 * Failures, and what they cost the recipients:
 *   - the socket is not there or refuses (master is not running the
 *     agent): a local job waits and is tried again shortly, without
 *     spending an attempt; a remote one is deferred ("4.4.1") like any
 *     failed attempt, the normal retry path;
 *   - the connection closes before the agent said hello: the job never
 *     reached it; it waits and is tried again, no attempt spent;
 *   - the agent dies or closes during the job, answers nonsense, or takes
 *     longer than queue_job_timeout: every recipient of the job is
 *     deferred (the agent may have delivered some: the duplicate window
 *     queue(8) names).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "queue.h"
#include "xalloc.h"

#define RESULT_MAX (16u * 1024 * 1024)
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 10000

struct aconn;

struct apool {
	const char *what;           /* "local", "remote" */
	const char *sockname;
	char *path;
	bool remote;
	unsigned max;
	unsigned busy;              /* jobs running */
	struct aconn *all;          /* every connection */
	struct aconn *idle;         /* connected, no job */
	long long down_until;       /* ms; no new job before */
	long long backoff;
	bool down_logged;
};

struct aconn {
	struct aconn *next, *prev;  /* pool->all */
	struct aconn *idle_next;
	struct apool *p;
	struct ipc_conn *c;
	struct qjob *job;
};

struct qjob {
	struct qdu *d;
	struct aconn *ac;
	struct event *timeout;
	struct djob dj;
	uint32_t *ri;               /* the recipients, in frame order */
};

static struct apool pools[2] = {
	{ .what = "local", .sockname = "delivery.sock" },
	{ .what = "remote", .sockname = "smtp-out.sock", .remote = true },
};

static struct apool *
agent_pool(bool remote)
{
	return &pools[remote ? 1 : 0];
}

void
agent_config(void)
{
	for (int i = 0; i < 2; i++) {
		free(pools[i].path);
		pools[i].path = xasprintf("%s/%s", Q.state_dir,
		    pools[i].sockname);
	}
	pools[0].max = Q.local_max;
	pools[1].max = Q.remote_max;
	pools[1].remote = true;
}

void
agent_init(void)
{
	agent_config();
}

bool
agent_can_start(bool remote)
{
	struct apool *p = agent_pool(remote);

	return p->busy < p->max && now_ms() >= p->down_until;
}

unsigned
agent_busy(void)
{
	return pools[0].busy + pools[1].busy;
}

long long
agent_retry_ms(void)
{
	long long now = now_ms(), best = BACKOFF_MAX_MS;

	for (int i = 0; i < 2; i++)
		if (pools[i].down_until > now &&
		    pools[i].down_until - now < best)
			best = pools[i].down_until - now;
	return best < 10 ? 10 : best;
}

static void
agent_down(struct apool *p, const char *why)
{
	p->backoff = p->backoff == 0 ? BACKOFF_MIN_MS :
	    p->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : p->backoff * 2;
	p->down_until = now_ms() + p->backoff;
	if (!p->down_logged)
		log_exc(QLOG, "queue: the %s delivery agent is not reachable "
		    "at %s: %s; its mail waits", p->what, p->path, why);
	p->down_logged = true;
}

static void
agent_up(struct apool *p)
{
	if (p->down_logged)
		log_msg(QLOG, "queue: the %s delivery agent is reachable "
		    "again", p->what);
	p->down_logged = false;
	p->backoff = 0;
	p->down_until = 0;
}

/* --- connections ---------------------------------------------------- */

static void agent_msg(struct ipc_conn *c, const struct ipc_msg *m,
    void *arg);
static void agent_close(struct ipc_conn *c, const char *reason, void *arg);

static void
agent_idle_remove(struct aconn *ac)
{
	struct aconn **pp;

	for (pp = &ac->p->idle; *pp != NULL; pp = &(*pp)->idle_next)
		if (*pp == ac) {
			*pp = ac->idle_next;
			break;
		}
	ac->idle_next = NULL;
}

static void
agent_conn_free(struct aconn *ac)
{
	struct apool *p = ac->p;

	ASSERT(ac->job == NULL);
	agent_idle_remove(ac);
	if (ac->prev != NULL)
		ac->prev->next = ac->next;
	else
		p->all = ac->next;
	if (ac->next != NULL)
		ac->next->prev = ac->prev;
	ipc_conn_free(&ac->c);
	free(ac);
}

static struct aconn *
agent_connect(struct apool *p, const char **error_r)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct aconn *ac;
	int fd;

	if (strlen(p->path) >= sizeof(sun.sun_path)) {
		*error_r = "socket path too long";
		return NULL;
	}
	strcpy(sun.sun_path, p->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = strerror(errno);
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		/* EAGAIN: the listen backlog is full; the same as busy. */
		*error_r = strerror(errno);
		close(fd);
		return NULL;
	}
	ac = xcalloc(1, sizeof(*ac));
	ac->p = p;
	ac->c = ipc_conn_new(Q.base, fd, "queue", RESULT_MAX, agent_msg,
	    agent_close, ac);
	ac->next = p->all;
	if (p->all != NULL)
		p->all->prev = ac;
	p->all = ac;
	return ac;
}

/* --- jobs ----------------------------------------------------------- */

/* The job is over (its outcome is applied): the unit and the message
 * go back to the scheduler, the connection to the idle list if good. */
static void
agent_job_finish(struct qjob *j, bool conn_ok)
{
	struct qdu *d = j->d;
	struct qmsg *m = d->m;
	struct aconn *ac = j->ac;

	event_free(j->timeout);
	for (uint32_t k = 0; k < j->dj.nrcpts; k++)
		m->r[j->ri[k]].inflight = false;
	djob_release(&j->dj);
	free(j->ri);
	free(j);
	d->job = NULL;
	ASSERT(m->njobs > 0 && ac->p->busy > 0);
	m->njobs--;
	ac->p->busy--;
	ac->job = NULL;
	if (conn_ok) {
		ac->idle_next = ac->p->idle;
		ac->p->idle = ac;
	}
	/* The flush first: what the agent said is made durable before
	 * the freed slot takes the next job (a shorter duplicate window). */
	store_touch(m);
	sched_job_done(d);
	if (Q.draining)
		queue_drained_check();
}

/* Every recipient of the job gets the same outcome. */
static void
agent_job_all(struct qjob *j, enum djob_status st, const char *text)
{
	for (uint32_t k = 0; k < j->dj.nrcpts; k++)
		outcome_rcpt(j->d->m, j->ri[k], st, text);
}

/* The job never reached the agent: its recipients wait, unspent. */
static void
agent_job_requeue(struct qjob *j)
{
	long long when = now_ms() + agent_retry_ms();

	for (uint32_t k = 0; k < j->dj.nrcpts; k++) {
		struct qrcpt *r = &j->d->m->r[j->ri[k]];

		if (r->next_ms < when)
			r->next_ms = when;
	}
}

static void
agent_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qjob *j = arg;
	struct aconn *ac = j->ac;
	char text[128];

	(void)fd; (void)what;
	log_exc(QLOG, "%s: no answer from the %s delivery agent within %llds; "
	    "job given up", j->d->m->id, ac->p->what,
	    Q.job_timeout_ms / 1000);
	snprintf(text, sizeof(text), "4.4.2 no answer from the delivery "
	    "agent within %llds", Q.job_timeout_ms / 1000);
	agent_job_all(j, DJOB_DEFER, text);
	agent_job_finish(j, false);
	agent_conn_free(ac);
}

static void
agent_msg(struct ipc_conn *c, const struct ipc_msg *msg, void *arg)
{
	struct aconn *ac = arg;
	struct qjob *j = ac->job;
	const char *err;

	(void)c;
	if (j == NULL) {
		log_exc(QLOG, "queue: unexpected '%s' frame from the %s "
		    "delivery agent; closing", ipc_msg_type(msg), ac->p->what);
		agent_conn_free(ac);
		return;
	}
	if (djob_result_decode(msg, &j->dj, &err) < 0) {
		log_exc(QLOG, "%s: bad answer from the %s delivery agent: %s",
		    j->d->m->id, ac->p->what, err);
		agent_job_all(j, DJOB_DEFER, "4.3.0 bad answer from the "
		    "delivery agent");
		agent_job_finish(j, false);
		agent_conn_free(ac);
		return;
	}
	for (uint32_t k = 0; k < j->dj.nrcpts; k++) {
		const struct djob_rcpt *r = &j->dj.rcpts[k];

		outcome_rcpt(j->d->m, j->ri[k], r->status, r->text);
		if (r->queued != NULL)
			log_msg(QLOG, "%s: to=<%s> passed on as %s",
			    j->d->m->id, r->addr, r->queued);
	}
	agent_job_finish(j, true);
}

static void
agent_close(struct ipc_conn *c, const char *reason, void *arg)
{
	struct aconn *ac = arg;
	struct qjob *j = ac->job;
	char text[200];

	if (j != NULL) {
		if (ipc_conn_peer(c) == NULL) {
			/* Not even a hello: the job never got there. */
			agent_down(ac->p, reason);
			agent_job_requeue(j);
		} else {
			log_exc(QLOG, "%s: the %s delivery agent went away "
			    "during the job: %s", j->d->m->id, ac->p->what,
			    reason);
			snprintf(text, sizeof(text), "4.3.0 delivery agent "
			    "went away (%s)", reason);
			agent_job_all(j, DJOB_DEFER, text);
		}
		agent_job_finish(j, false);
	} else if (strcmp(reason, "peer closed") != 0)
		log_exc(QLOG, "queue: %s delivery agent connection: %s",
		    ac->p->what, reason);
	agent_conn_free(ac);
}

static struct aconn *
agent_get_conn(struct apool *p, const char **error_r)
{
	struct aconn *ac = p->idle;

	if (ac != NULL) {
		p->idle = ac->idle_next;
		ac->idle_next = NULL;
		return ac;
	}
	return agent_connect(p, error_r);
}

/* Send du d's recipients ri[0..n) to the agent on ac; the job owns ri. */
static void
agent_job_send(struct qdu *d, struct aconn *ac, uint32_t *ri, uint32_t n,
    unsigned attempt)
{
	struct qmsg *m = d->m;
	struct ipc_msg *msg;
	struct timeval tv;
	struct qjob *j = xcalloc(1, sizeof(*j));
	const char *via = NULL;

	j->d = d;
	j->ac = ac;
	j->ri = ri;
	j->dj.id = m->id;
	j->dj.path = m->path;
	j->dj.offset = m->body_off;
	j->dj.sender = m->sender;
	j->dj.attempt = attempt;
	j->dj.envid = m->envid;
	j->dj.ret = m->ret;
	j->dj.body = m->body;
	j->dj.smtputf8 = m->smtputf8;
	j->dj.nrcpts = n;
	j->dj.rcpts = xcalloc(n, sizeof(*j->dj.rcpts));
	for (uint32_t k = 0; k < n; k++) {
		struct qrcpt *r = &m->r[ri[k]];

		j->dj.rcpts[k].addr = r->addr;
		j->dj.rcpts[k].notify = r->notify;
		j->dj.rcpts[k].orcpt = r->orcpt;
		j->dj.rcpts[k].status = DJOB_DEFER;
		r->inflight = true;
	}
	if (route_fill(d, &j->dj, &via) > 0)
		log_detail(QLOG, "%s: routed via %s (%s%s)", m->id, via,
		    j->dj.relays[0].hosts, j->dj.nrelays > 1 ? ", ..." : "");
	msg = djob_encode(&j->dj);
	/* The relay strings live in the frame now, not in the job. */
	route_release(&j->dj);
	ipc_conn_send(ac->c, msg);
	ipc_msg_free(&msg);
	j->timeout = evtimer_new(Q.base, agent_timeout_cb, j);
	tv.tv_sec = Q.job_timeout_ms / 1000;
	tv.tv_usec = Q.job_timeout_ms % 1000 * 1000;
	evtimer_add(j->timeout, &tv);
	ac->job = j;
	d->job = j;
	d->where = DU_RUNNING;
	m->njobs++;
	ac->p->busy++;
}

int
agent_start(struct qdu *d)
{
	struct apool *p = agent_pool(d->dom != NULL);
	struct qmsg *m = d->m;
	struct aconn *ac;
	long long now = now_ms();
	unsigned attempt = 0;
	uint32_t *ri = xmalloc(d->n * sizeof(*ri)), n = 0;
	const char *err;

	for (uint32_t k = 0; k < d->n; k++) {
		struct qrcpt *r = &m->r[d->ri[k]];

		if (r->state == QREC_PENDING && !r->inflight &&
		    r->next_ms <= now) {
			ri[n++] = d->ri[k];
			if (r->attempts > attempt)
				attempt = r->attempts;
		}
	}
	if (n == 0) {
		free(ri);
		sched_msg(m);
		return 0;
	}
	ac = agent_get_conn(p, &err);
	if (ac == NULL) {
		if (!p->remote) {
			agent_down(p, err);
			free(ri);
			return -1;
		}
		for (uint32_t k = 0; k < n; k++)
			outcome_rcpt(m, ri[k], DJOB_DEFER, "4.4.1 remote "
			    "delivery agent not available");
		free(ri);
		store_touch(m);
		return 0;
	}
	agent_up(p);
	if (p->remote)
		qthrottle_charge(m);
	agent_job_send(d, ac, ri, n, attempt + 1);
	log_detail(QLOG, "%s: to the %s agent%s%s: %u recipient(s), attempt "
	    "%u", m->id, p->what, d->dom != NULL ? " for " : "",
	    d->dom != NULL ? rdom_name(d->dom) : "", n, attempt + 1);
	return 0;
}

void
agent_exit(void)
{
	for (int i = 0; i < 2; i++) {
		struct apool *p = &pools[i];

		while (p->all != NULL) {
			struct aconn *ac = p->all;
			struct qjob *j = ac->job;

			if (j != NULL) {
				/* Abandoned: the next start tries again. */
				struct qmsg *m = j->d->m;

				for (uint32_t k = 0; k < j->dj.nrcpts; k++)
					m->r[j->ri[k]].inflight = false;
				event_free(j->timeout);
				djob_release(&j->dj);
				free(j->ri);
				j->d->job = NULL;
				sched_job_done(j->d);
				m->njobs--;
				p->busy--;
				ac->job = NULL;
				free(j);
			}
			agent_conn_free(ac);
		}
		free(p->path);
		p->path = NULL;
	}
}
