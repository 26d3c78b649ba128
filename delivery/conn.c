/*
 * conn - one connection from the queue manager (lib/djob.h).
 *
 * Each "deliver" frame is a job.  The remote agent runs it right here to
 * its end and answers with one "result" frame.  The local agent runs it
 * up to its mailbox copies, which wait in tmp/ for the commit that ends
 * this turn of the event loop (commit.c), shared with the jobs that came
 * on the other connections meanwhile; the result goes out after it.  The
 * queue sends a connection's next job only after its result.  A frame
 * that is not a well-formed job closes the connection (logged at
 * exceptions level): the queue then treats the job as deferred, which is
 * always safe.
 *
 * On a drain (SIGTERM) no new job is started; each connection is closed
 * one turn of the event loop later, once the last result has been handed
 * to the socket.  (A queue that stopped reading could still miss that
 * result; it then retries the job, which can repeat copies but never
 * loses one.)
 */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "delivery.h"
#include "remote.h"
#include "ipc.h"
#include "log.h"
#include "xalloc.h"

struct conn {
	struct conn *next, *prev;      /* every open connection */
	struct ipc_conn *ipc;
	struct event *closer;          /* the drain's deferred close */
	unsigned long long id;
	/* local: the job awaiting commit, and the frame its strings are
	 * in (a copy: the one read is gone when conn_msg returns) */
	struct djob dj;
	struct ipc_msg *frame;
	bool waiting;
};

static struct conn *conns;
static unsigned long long conn_ids;

static void
conn_end(struct conn *c)
{
	/* copies of its job may wait in tmp/: made durable and answered
	 * before the connection goes */
	if (c->waiting)
		commit_flush();
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	ipc_conn_free(&c->ipc);        /* safe inside its callbacks */
	if (c->closer != NULL)
		event_free(c->closer);
	free(c);
	server_session_end();
}

static const char *
conn_peer(const struct conn *c)
{
	const char *p = ipc_conn_peer(c->ipc);

	return p != NULL ? p : "(no hello yet)";
}

static void
conn_answer(struct conn *c, struct djob *dj)
{
	struct ipc_msg *r = djob_result_encode(dj);

	ipc_conn_send(c->ipc, r);
	ipc_msg_free(&r);
	djob_release(dj);
}

static void
conn_committed(void *arg)
{
	struct conn *c = arg;

	c->waiting = false;
	conn_answer(c, &c->dj);
	ipc_msg_free(&c->frame);
}

static void
conn_job(struct conn *c, const struct ipc_msg *m)
{
	struct djob dj;
	const char *err;

	if (c->waiting) {
		log_exc(LOG_DELIVERY, "delivery: connection %llu from %s: a "
		    "job before the last one's result; closing", c->id,
		    conn_peer(c));
		conn_end(c);
		return;
	}
	if (!D.remote)
		m = c->frame = ipc_msg_copy(m);
	if (djob_decode(m, &dj, &err) < 0) {
		log_exc(LOG_DELIVERY, "delivery: connection %llu from %s: %s; "
		    "closing", c->id, conn_peer(c), err);
		ipc_msg_free(&c->frame);
		conn_end(c);
		return;
	}
	if (D.remote) {
		remote_run(&dj);
		conn_answer(c, &dj);
		return;
	}
	c->dj = dj;
	c->waiting = true;
	commit_add(job_start(&c->dj, commit_batch()), conn_committed, c);
}

static void
conn_msg(struct ipc_conn *ic, const struct ipc_msg *m, void *arg)
{
	struct conn *c = arg;

	(void)ic;
	if (server_draining()) {
		log_msg(LOG_DELIVERY, "delivery: stopping; job on connection "
		    "%llu not started", c->id);
		conn_end(c);
	} else if (strcmp(ipc_msg_type(m), "deliver") == 0)
		conn_job(c, m);
	else {
		/* The type is a valid ipc name: safe to log as is. */
		log_exc(LOG_DELIVERY, "delivery: connection %llu from %s: "
		    "unexpected frame '%s'; closing", c->id, conn_peer(c),
		    ipc_msg_type(m));
		conn_end(c);
	}
}

static void
conn_close(struct ipc_conn *ic, const char *reason, void *arg)
{
	struct conn *c = arg;

	(void)ic;
	/* The usual end: the queue hung up. */
	if (strcmp(reason, "peer closed") != 0)
		log_exc(LOG_DELIVERY, "delivery: connection %llu from %s: %s",
		    c->id, conn_peer(c), reason);
	conn_end(c);
}

void
conn_start(evutil_socket_t fd, const struct sockaddr *sa, socklen_t salen,
    const struct server_listener *l)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	(void)sa; (void)salen; (void)l;
	c->id = ++conn_ids;
	c->ipc = ipc_conn_new(server_base(), fd, "delivery",
	    (size_t)conf_size("ipc_max_frame"), conn_msg, conn_close, c);
	c->next = conns;
	if (conns != NULL)
		conns->prev = c;
	conns = c;
	log_detail(LOG_DELIVERY, "delivery: connection %llu opened", c->id);
}

static void
conn_closer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what;
	conn_end(arg);
}

void
conn_drain(void)
{
	static const struct timeval now = { 0, 0 };

	for (struct conn *c = conns; c != NULL; c = c->next) {
		if (c->closer != NULL)
			continue;
		c->closer = evtimer_new(server_base(), conn_closer_cb, c);
		if (c->closer == NULL)
			die("delivery: cannot create a timer (out of memory?)");
		evtimer_add(c->closer, &now);
	}
}

void
conn_exit(void)
{
	commit_flush();
	while (conns != NULL)
		conn_end(conns);
	commit_exit();
}
