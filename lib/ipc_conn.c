/* ipc_conn - the ipc framing on a libevent bufferevent; see ipc.h */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ipc.h"
#include "xalloc.h"

struct ipc_conn {
	struct bufferevent *bev;
	size_t max;
	ipc_msg_cb *on_msg;
	ipc_close_cb *on_close;
	void *arg;
	char *peer;             /* peer's name once its hello has arrived */
	struct buf out;         /* reused to encode outgoing frames */
	int busy;               /* > 0 while inside one of our callbacks */
	bool closed;            /* on_close has been called */
	bool free_pending;      /* ipc_conn_free() was called while busy */
	char reason[160];
};

static void
ipc_conn_destroy(struct ipc_conn *c)
{
	bufferevent_free(c->bev);
	buf_release(&c->out);
	free(c->peer);
	free(c);
}

/* The conn is dead: stop all I/O and tell the owner, exactly once. */
static void
ipc_conn_close(struct ipc_conn *c, const char *reason)
{
	if (c->closed || c->free_pending)
		return;
	c->closed = true;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	c->on_close(c, reason, c->arg);
}

/* Hand one decoded frame on; the first must be the peer's hello. */
static void
ipc_conn_dispatch(struct ipc_conn *c, const struct ipc_msg *m)
{
	const char *err;

	if (c->peer != NULL) {
		c->on_msg(c, m, c->arg);
		return;
	}
	if (ipc_hello_check(m, &err) < 0) {
		/* err may live in a per-thread buffer that on_close reuses */
		snprintf(c->reason, sizeof(c->reason), "%s", err);
		ipc_conn_close(c, c->reason);
		return;
	}
	c->peer = xstrdup(ipc_msg_get_str(m, "name"));
}

/* Decode and dispatch one frame; false if none is complete or we stop. */
static bool
ipc_conn_read_one(struct ipc_conn *c, struct evbuffer *in)
{
	unsigned char hdr[4];
	struct ipc_msg *m = NULL;
	const char *err = NULL;
	size_t len = evbuffer_get_length(in), used, n, want;
	enum ipc_status st;

	if (len < 4)
		return false;
	evbuffer_copyout(in, hdr, 4);
	n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
	    (size_t)hdr[2] << 8 | hdr[3];
	if (n <= c->max && len - 4 < n)
		return false;           /* wait for the rest of the frame */
	/* An oversized prefix makes ipc_decode fail on its 4 bytes alone. */
	want = n <= c->max ? 4 + n : 4;
	st = ipc_decode(evbuffer_pullup(in, (ssize_t)want), want, c->max, &m,
	    &used, &err);
	if (st != IPC_OK) {
		ASSERT(st == IPC_ERROR);
		snprintf(c->reason, sizeof(c->reason), "%s", err);
		ipc_conn_close(c, c->reason);
		return false;
	}
	evbuffer_drain(in, used);
	ipc_conn_dispatch(c, m);
	ipc_msg_free(&m);
	return true;
}

static void
ipc_conn_leave(struct ipc_conn *c)
{
	if (--c->busy == 0 && c->free_pending)
		ipc_conn_destroy(c);
}

static void
ipc_conn_readcb(struct bufferevent *bev, void *arg)
{
	struct ipc_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	c->busy++;
	while (!c->closed && !c->free_pending && ipc_conn_read_one(c, in))
		;
	ipc_conn_leave(c);
}

static void
ipc_conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct ipc_conn *c = arg;

	c->busy++;
	if (what & BEV_EVENT_EOF)
		snprintf(c->reason, sizeof(c->reason), "%s",
		    evbuffer_get_length(bufferevent_get_input(bev)) > 0 ?
		    "peer closed mid-frame" : "peer closed");
	else if (what & BEV_EVENT_ERROR)
		snprintf(c->reason, sizeof(c->reason), "%s error: %s",
		    what & BEV_EVENT_READING ? "read" : "write",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	else
		snprintf(c->reason, sizeof(c->reason), "event 0x%x", what);
	ipc_conn_close(c, c->reason);
	ipc_conn_leave(c);
}

struct ipc_conn *
ipc_conn_new(struct event_base *base, int fd, const char *myname, size_t max,
    ipc_msg_cb *on_msg, ipc_close_cb *on_close, void *arg)
{
	struct ipc_conn *c = xcalloc(1, sizeof(*c));
	struct ipc_msg *hello;

	ASSERT(max >= IPC_MAX_MIN && max <= IPC_MAX_MAX);
	ASSERT(on_msg != NULL && on_close != NULL);
	if (evutil_make_socket_nonblocking(fd) < 0)
		die("ipc: cannot make fd %d non-blocking", fd);
	c->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		die("ipc: cannot create a bufferevent (out of memory?)");
	c->max = max;
	c->on_msg = on_msg;
	c->on_close = on_close;
	c->arg = arg;
	buf_init(&c->out, 256, 0);
	bufferevent_setcb(c->bev, ipc_conn_readcb, NULL, ipc_conn_eventcb, c);
	/* A peer can make us hold one whole frame unread, never more. */
	bufferevent_setwatermark(c->bev, EV_READ, 0, max + 4);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	hello = ipc_hello_new(myname);
	ipc_conn_send(c, hello);
	ipc_msg_free(&hello);
	return c;
}

void
ipc_conn_send(struct ipc_conn *c, const struct ipc_msg *m)
{
	if (c->closed || c->free_pending)
		return;
	buf_reset(&c->out);
	ipc_msg_encode(m, &c->out);
	if (bufferevent_write(c->bev, buf_data(&c->out), buf_len(&c->out)) < 0)
		die("ipc: cannot queue %zu bytes (out of memory?)",
		    buf_len(&c->out));
	/* Don't keep a huge one-off frame's buffer for the conn's life. */
	if (c->out.size > 65536) {
		buf_release(&c->out);
		buf_init(&c->out, 256, 0);
	}
}

const char *
ipc_conn_peer(const struct ipc_conn *c)
{
	return c->peer;
}

void
ipc_conn_free(struct ipc_conn **cp)
{
	struct ipc_conn *c = *cp;

	if (c == NULL)
		return;
	*cp = NULL;
	if (c->busy > 0) {
		/* Inside our callback: the caller's frame still uses c. */
		c->free_pending = true;
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		return;
	}
	ipc_conn_destroy(c);
}
