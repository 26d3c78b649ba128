/* auth_client - asynchronous auth daemon client; see auth_client.h */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <event2/event.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "auth_client.h"
#include "ipc.h"
#include "sasl.h"
#include "xalloc.h"

/* A full listen backlog (EAGAIN) means every worker is busy hashing:
 * try again this soon, until the query's deadline. */
#define AUTH_CONNECT_RETRY_MS 10
/* LOGIN has no RFC; take PLAIN's limit (RFC 4616: 255 octets). */
#define AUTH_LOGIN_FIELD_MAX 255

struct auth_query {
	struct event_base *base;
	char *path;
	struct ipc_msg *req;        /* until it is queued on the conn */
	struct ipc_conn *conn;
	struct event *deadline;
	struct event *kick;         /* connect retry, or a deferred failure */
	auth_done_cb *cb;
	void *arg;
	const char *error;          /* set: kick reports this failure */
	bool in_cb;                 /* cancel inside cb must not free */
	char errbuf[192];
};

static void auth_client_connect(struct auth_query *q);

static void
auth_client_free(struct auth_query *q)
{
	ipc_conn_free(&q->conn);       /* safe inside the conn's callbacks */
	event_free(q->deadline);
	event_free(q->kick);
	ipc_msg_free(&q->req);
	free(q->path);
	free(q);
}

/* Tell the caller and free the query. */
static void
auth_client_finish(struct auth_query *q, enum auth_status st,
    const char *user, const char *reason)
{
	struct auth_result r = { .status = st, .user = user, .reason = reason };

	evtimer_del(q->deadline);
	evtimer_del(q->kick);
	q->in_cb = true;
	q->cb(&r, q->arg);
	auth_client_free(q);
}

static void auth_client_fail_later(struct auth_query *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* A failure found before the caller got the query back: report it from
 * the event loop, since cb never runs before auth_client_ask returns. */
static void
auth_client_fail_later(struct auth_query *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->errbuf, sizeof(q->errbuf), fmt, ap);
	va_end(ap);
	q->error = q->errbuf;
	evtimer_del(q->kick);
	event_active(q->kick, EV_TIMEOUT, 1);
}

static void
auth_client_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct auth_query *q = arg;

	(void)fd; (void)what;
	if (q->error != NULL)
		auth_client_finish(q, AUTH_TEMPFAIL, NULL, q->error);
	else
		auth_client_connect(q);
}

static void
auth_client_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct auth_query *q = arg;

	(void)fd; (void)what;
	auth_client_finish(q, AUTH_TEMPFAIL, NULL, q->conn != NULL ?
	    "auth daemon did not answer in time" :
	    "auth daemon busy: no connection in time");
}

static void
auth_client_msg_cb(struct ipc_conn *c, const struct ipc_msg *m, void *arg)
{
	struct auth_query *q = arg;
	const char *type = ipc_msg_type(m), *user, *reason;
	long long temp = 0;

	(void)c;
	if (strcmp(type, "ok") == 0) {
		user = ipc_msg_get_str(m, "user");
		if (user == NULL || user[0] == '\0')
			auth_client_finish(q, AUTH_TEMPFAIL, NULL,
			    "auth daemon sent ok without a user");
		else
			auth_client_finish(q, AUTH_OK, user, NULL);
	} else if (strcmp(type, "fail") == 0) {
		reason = ipc_msg_get_str(m, "reason");
		if (reason == NULL)
			reason = "no reason given";
		if (ipc_msg_get_int(m, "temp", &temp) == 0 && temp != 0)
			auth_client_finish(q, AUTH_TEMPFAIL, NULL, reason);
		else
			auth_client_finish(q, AUTH_FAIL, NULL, reason);
	} else {
		/* type is a valid ipc name: safe in a log line */
		snprintf(q->errbuf, sizeof(q->errbuf),
		    "unexpected reply '%s' from auth daemon", type);
		auth_client_finish(q, AUTH_TEMPFAIL, NULL, q->errbuf);
	}
}

static void
auth_client_close_cb(struct ipc_conn *c, const char *reason, void *arg)
{
	struct auth_query *q = arg;

	(void)c;
	snprintf(q->errbuf, sizeof(q->errbuf), "auth daemon connection: %s",
	    reason);
	auth_client_finish(q, AUTH_TEMPFAIL, NULL, q->errbuf);
}

/* Our name for the hello: the program's, as ipc wants it (printable
 * ASCII without spaces, at most 64). */
static const char *
auth_client_name(void)
{
	static _Thread_local char name[65];
	const char *p = program_invocation_short_name;
	size_t n = 0;

	for (; p != NULL && *p != '\0' && n < sizeof(name) - 1; p++)
		if (*p > ' ' && *p <= '~')
			name[n++] = *p;
	name[n] = '\0';
	return n > 0 ? name : "auth_client";
}

static void
auth_client_connect(struct auth_query *q)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval retry = { 0, AUTH_CONNECT_RETRY_MS * 1000 };
	int fd, e;

	if (strlen(q->path) >= sizeof(sun.sun_path)) {
		auth_client_fail_later(q, "auth socket path too long: %s",
		    q->path);
		return;
	}
	strcpy(sun.sun_path, q->path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		auth_client_fail_later(q, "socket: %s", strerror(errno));
		return;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		e = errno;
		close(fd);
		/* A Unix socket connects at once or not at all; EAGAIN is
		 * a full backlog, worth another try. */
		if (e == EAGAIN || e == EINTR)
			evtimer_add(q->kick, &retry);
		else
			auth_client_fail_later(q, "cannot connect to %s: %s",
			    q->path, strerror(e));
		return;
	}
	q->conn = ipc_conn_new(q->base, fd, auth_client_name(), AUTH_FRAME_MAX,
	    auth_client_msg_cb, auth_client_close_cb, q);
	ipc_conn_send(q->conn, q->req);
	ipc_msg_free(&q->req);
}

static void
auth_client_add(struct ipc_msg *m, const char *name, const char *val)
{
	if (val != NULL)
		ipc_msg_add_str(m, name, val);
}

struct auth_query *
auth_client_ask(struct event_base *base, const char *socket_path,
    const struct auth_request *req, int timeout_ms, auth_done_cb *cb,
    void *arg)
{
	struct auth_query *q = xcalloc(1, sizeof(*q));
	struct timeval tv;

	ASSERT(timeout_ms > 0 && cb != NULL);
	q->base = base;
	q->path = xstrdup(socket_path);
	q->cb = cb;
	q->arg = arg;
	q->req = ipc_msg_new("auth");
	auth_client_add(q->req, "mech", req->mech);
	auth_client_add(q->req, "user", req->user);
	auth_client_add(q->req, "password", req->password);
	auth_client_add(q->req, "challenge", req->challenge);
	auth_client_add(q->req, "digest", req->digest);
	auth_client_add(q->req, "service", req->service);
	auth_client_add(q->req, "ip", req->ip);
	auth_client_add(q->req, "session", req->session);
	q->deadline = evtimer_new(base, auth_client_deadline_cb, q);
	q->kick = evtimer_new(base, auth_client_kick_cb, q);
	if (q->deadline == NULL || q->kick == NULL)
		die("auth_client: cannot create events (out of memory?)");
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(q->deadline, &tv);
	auth_client_connect(q);
	return q;
}

void
auth_client_cancel(struct auth_query **qp)
{
	struct auth_query *q = *qp;

	if (q == NULL)
		return;
	*qp = NULL;
	if (!q->in_cb)
		auth_client_free(q);
}

/* --- from SASL messages to a request --- */

static void
auth_creds_free_str(char **sp)
{
	if (*sp != NULL)
		explicit_bzero(*sp, strlen(*sp));
	xfree(sp);
}

void
auth_creds_clear(struct auth_creds *c)
{
	c->mech = NULL;
	auth_creds_free_str(&c->user);
	auth_creds_free_str(&c->password);
	auth_creds_free_str(&c->challenge);
	auth_creds_free_str(&c->digest);
}

int
auth_creds_plain(struct auth_creds *c, const void *msg, size_t len,
    const char **error_r)
{
	char *authzid;

	auth_creds_clear(c);
	if (sasl_plain_parse(msg, len, &authzid, &c->user, &c->password,
	    error_r) < 0)
		return -1;
	/* Logging in as one user to act as another needs a policy for who
	 * may do that; we have none, so only the trivial case passes. */
	if (authzid[0] != '\0' && strcmp(authzid, c->user) != 0) {
		free(authzid);
		auth_creds_clear(c);
		*error_r = "proxy login not allowed";
		return -1;
	}
	free(authzid);
	c->mech = "PLAIN";
	return 0;
}

/* s[0..len) is UTF-8 without C0/C1 controls or DEL. */
static bool
auth_creds_utf8_ok(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		n = addr_utf8_len(s + i, len - i);
		if (n == 0 || (n == 1 && (p[i] < 0x20 || p[i] == 0x7f)) ||
		    (n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0))
			return false;
		i += n;
	}
	return true;
}

int
auth_creds_login(struct auth_creds *c, const void *user, size_t ulen,
    const void *password, size_t plen, const char **error_r)
{
	auth_creds_clear(c);
	if (ulen == 0) {
		*error_r = "LOGIN user name is empty";
		return -1;
	}
	if (plen == 0) {
		*error_r = "LOGIN password is empty";
		return -1;
	}
	if (ulen > AUTH_LOGIN_FIELD_MAX || plen > AUTH_LOGIN_FIELD_MAX) {
		*error_r = "LOGIN field longer than 255 octets";
		return -1;
	}
	if (memchr(user, '\0', ulen) != NULL ||
	    memchr(password, '\0', plen) != NULL) {
		*error_r = "LOGIN field contains a NUL";
		return -1;
	}
	if (!auth_creds_utf8_ok(user, ulen)) {
		*error_r = "LOGIN user name is not valid UTF-8 or contains "
		    "control characters";
		return -1;
	}
	c->user = xstrndup(user, ulen);
	c->password = xstrndup(password, plen);
	c->mech = "LOGIN";
	return 0;
}

int
auth_creds_cram(struct auth_creds *c, const char *challenge,
    const void *resp, size_t len, const char **error_r)
{
	auth_creds_clear(c);
	if (sasl_cram_parse(resp, len, &c->user, &c->digest, error_r) < 0)
		return -1;
	c->challenge = xstrdup(challenge);
	c->mech = "CRAM-MD5";
	return 0;
}

void
auth_creds_request(const struct auth_creds *c, struct auth_request *req)
{
	req->mech = c->mech;
	req->user = c->user;
	req->password = c->password;
	req->challenge = c->challenge;
	req->digest = c->digest;
}
