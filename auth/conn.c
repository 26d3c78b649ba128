/*
 * conn - one connection from a daemon that asks about logins.
 *
 * Each frame is answered before the next is read: the check runs right
 * here, blocking this worker for the length of one hash.  That is the
 * point of the pool: the network daemons never wait on a hash, and a
 * worker busy hashing simply does not accept; the others do.
 */
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "auth_client.h"
#include "conf.h"
#include "ipc.h"
#include "log.h"
#include "server.h"
#include "xalloc.h"

struct conn {
	struct conn *next, *prev;      /* every open connection */
	struct ipc_conn *ipc;
	struct event *idle;
	unsigned long long id;         /* for exception lines */
};

static struct conn *conns;
static unsigned long long conn_ids;

static void
conn_end(struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	ipc_conn_free(&c->ipc);        /* safe inside its callbacks */
	event_free(c->idle);
	free(c);
	server_session_end();
}

/*
 * A caller gives up on an answer after auth_timeout, so a connection
 * quiet for that long has been forgotten by its peer; closing it keeps a
 * confused client from holding fds (and a drain) for ever.
 */
static void
conn_idle_arm(struct conn *c)
{
	long long ms = conf_time_ms("auth_timeout");
	struct timeval tv = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000 };

	evtimer_add(c->idle, &tv);
}

static void
conn_idle_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd; (void)what;
	log_detail(LOG_AUTHD, "auth: connection %llu idle, closed", c->id);
	conn_end(c);
}

static void
conn_reply_fail(struct conn *c, const char *reason, bool temp)
{
	struct ipc_msg *r = ipc_msg_new("fail");

	ipc_msg_add_str(r, "reason", reason);
	ipc_msg_add_int(r, "temp", temp ? 1 : 0);
	ipc_conn_send(c->ipc, r);
	ipc_msg_free(&r);
}

static void
conn_request(struct conn *c, const struct ipc_msg *m)
{
	struct auth_check chk;
	struct auth_verdict v = { 0 };
	struct ipc_msg *r;
	const char *err;

	if (request_parse(m, &chk, &err) < 0) {
		request_log_malformed(&chk, ipc_conn_peer(c->ipc), err);
		conn_reply_fail(c, "malformed request", false);
		return;
	}
	verify_check(&chk, &v);
	request_log(&chk, &v);
	if (v.ok) {
		r = ipc_msg_new("ok");
		ipc_msg_add_str(r, "user", v.user);
		ipc_conn_send(c->ipc, r);
		ipc_msg_free(&r);
	} else
		conn_reply_fail(c, v.reason, v.temp);
	verify_verdict_clear(&v);
}

static void
conn_msg(struct ipc_conn *ic, const struct ipc_msg *m, void *arg)
{
	struct conn *c = arg;
	struct auth_check none = { 0 };
	char *why;

	(void)ic;
	if (strcmp(ipc_msg_type(m), "auth") == 0)
		conn_request(c, m);
	else {
		/* The type is a valid ipc name: safe to log as is. */
		why = xasprintf("unknown request type '%s'", ipc_msg_type(m));
		request_log_malformed(&none, ipc_conn_peer(c->ipc), why);
		free(why);
		conn_reply_fail(c, "malformed request", false);
	}
	conn_idle_arm(c);
}

static void
conn_close(struct ipc_conn *ic, const char *reason, void *arg)
{
	struct conn *c = arg;

	(void)ic;
	/* The usual end: the caller read its answer and hung up. */
	if (strcmp(reason, "peer closed") != 0)
		log_exc(LOG_AUTHD, "auth: connection %llu from %s: %s", c->id,
		    ipc_conn_peer(c->ipc) != NULL ? ipc_conn_peer(c->ipc) :
		    "(no hello yet)", reason);
	conn_end(c);
}

void
conn_start(evutil_socket_t fd, const struct sockaddr *sa, socklen_t salen,
    const struct server_listener *l)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	(void)sa; (void)salen; (void)l;
	c->id = ++conn_ids;
	c->idle = evtimer_new(server_base(), conn_idle_cb, c);
	if (c->idle == NULL)
		die("auth: cannot create a timer (out of memory?)");
	c->ipc = ipc_conn_new(server_base(), fd, "auth", AUTH_FRAME_MAX,
	    conn_msg, conn_close, c);
	c->next = conns;
	if (conns != NULL)
		conns->prev = c;
	conns = c;
	conn_idle_arm(c);
}

void
conn_exit(void)
{
	while (conns != NULL)
		conn_end(conns);
}
