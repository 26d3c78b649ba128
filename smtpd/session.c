/*
 * session - the SMTP state machine: connection set-up, the read loop,
 * states, timeouts, parking and the end.  The command table is in
 * command.c, the replies and the limits they count in reply.c.
 *
 * Lifetime.  A session is freed in one place, session_end(), and only
 * from the top of a libevent callback, never from inside a command: a
 * command that ends the session calls session_close(), which stops the
 * input; the replies are flushed and session_end() runs later.  The
 * one exception to "freed at the end" is a spool commit in flight: its
 * callback must find the session, so a session that ends then only
 * drops its connection and is freed by that callback (session->gone).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "connslots.h"
#include "linebuf.h"
#include "log.h"
#include "mxaddrs.h"
#include "rdns.h"
#include "server.h"
#include "session.h"
#include "smtpd.h"
#include "tls.h"
#include "xalloc.h"

/* Unread replies beyond this stop the input until the client reads. */
#define SESSION_OUT_MAX (64 * 1024)

static const char *const state_names[ST_NSTATES] = {
	"GREET", "READY", "MAIL", "RCPT", "CHUNKING", "DATA", "BDAT", "AUTH",
	"QUIT",
};

static LIST_HEAD(, session) sessions = LIST_HEAD_INITIALIZER(sessions);

static void session_read_cb(struct bufferevent *bev, void *arg);
static void session_write_cb(struct bufferevent *bev, void *arg);
static void session_event_cb(struct bufferevent *bev, short what, void *arg);
static void session_kick_cb(evutil_socket_t fd, short what, void *arg);
static void session_timeouts(struct session *s);

/* --- state --------------------------------------------------------- */

void
session_set_state(struct session *s, enum smtp_state st)
{
	if (s->state == st)
		return;
	log_detail(LOG_SMTP, "%s: state %s -> %s", s->id,
	    state_names[s->state], state_names[st]);
	s->state = st;
}

void
txn_reset(struct session *s)
{
	struct txn *t = &s->txn;

	if (s->in_txn) {
		rx_abort(&t->rx);
		spool_env_release(&t->env);
		free(t->envid);
		free(t->ret);
		memset(t, 0, sizeof(*t));
		s->in_txn = false;
	}
	s->bdat_left = 0;
	if (s->state == ST_MAIL || s->state == ST_RCPT ||
	    s->state == ST_CHUNKING || s->state == ST_DATA ||
	    s->state == ST_BDAT)
		session_set_state(s, ST_READY);
}

static void
session_kick(struct session *s)
{
	event_active(s->kick, EV_TIMEOUT, 1);
}

void
session_park(struct session *s, enum smtp_wait w)
{
	ASSERT(s->wait == WAIT_NONE && w != WAIT_NONE);
	s->wait = w;
	session_timeouts(s);
}

static bool session_next_is_data(struct session *s, struct evbuffer *in);

void
session_resume(struct session *s)
{
	s->wait = WAIT_NONE;
	session_kick(s);
}

void
session_close(struct session *s)
{
	if (s->state == ST_QUIT)
		return;
	session_set_state(s, ST_QUIT);
	session_kick(s);
}

/*
 * The read timeout in force: the command timeout while a command, a
 * message or a TLS handshake is under way, the session timeout between
 * commands, none while we are the ones keeping the client waiting.
 * Writes always get the command timeout.
 */
static void
session_timeouts(struct session *s)
{
	int want;
	const struct timeval *rd;

	if (s->wait == WAIT_TLS)
		want = 2;
	else if (s->wait != WAIT_NONE)
		want = 0;
	else if (s->partial || s->state == ST_DATA || s->state == ST_BDAT ||
	    s->state == ST_AUTH || s->state == ST_CHUNKING)
		want = 2;
	else
		want = 1;
	if (want == s->timeout_mode)
		return;
	s->timeout_mode = want;
	rd = want == 2 ? &smtpd.command_timeout :
	    want == 1 ? &smtpd.session_timeout : NULL;
	bufferevent_set_timeouts(s->bev, rd, &smtpd.command_timeout);
}

/* --- the end ------------------------------------------------------- */

static void
session_end(struct session *s)
{
	if (s->commit_pending) {
		/* The commit callback will come for s: drop only the
		 * connection now, the rest then (see message.c). */
		if (!s->gone) {
			s->gone = true;
			bufferevent_free(s->bev);
			s->bev = NULL;
			event_del(s->kick);
		}
		return;
	}
	log_msg(LOG_SMTP, "%s: disconnect from %s (%llu message%s)", s->id,
	    s->ip, s->msgs, s->msgs == 1 ? "" : "s");
	if (s->under_cb != NULL && s->bev != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(
		    bufferevent_get_underlying(s->bev)), s->under_cb);
	LIST_REMOVE(s, entry);
	auth_abort(s);
	rdns_cancel(&s->rdns_q);
	mxaddrs_cancel(&s->mx_q);
	rcpt_wait_free(&s->rcpt_w);
	txn_reset(s);
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	linebuf_free(&s->lb);
	event_free(s->kick);
	free(s->rdns);
	free(s->name);
	free(s->helo);
	free(s->tls_desc);
	free(s->auth_user);
	free(s);
	server_session_end();
	connslots_note(smtpd_conns, server_sessions());
}

/* The commit callback's way back in when the session has gone. */
void
session_commit_done(struct session *s)
{
	s->commit_pending = false;
	if (s->gone)
		session_end(s);
}

/* Every reply out, on the TLS layer and on the socket below it. */
static bool
session_flushed(struct session *s)
{
	struct bufferevent *under = bufferevent_get_underlying(s->bev);

	return evbuffer_get_length(bufferevent_get_output(s->bev)) == 0 &&
	    (under == NULL ||
	    evbuffer_get_length(bufferevent_get_output(under)) == 0);
}

/* The socket under a STARTTLS layer drained: look again. */
static void
session_under_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct session *s = arg;

	(void)info;
	if (evbuffer_get_length(buf) == 0)
		session_kick(s);
}

/*
 * ST_QUIT: the replies go out, then the session ends; a client that
 * reads nothing gets the command timeout, no more.
 */
static void
session_finish(struct session *s)
{
	struct bufferevent *under;
	struct timeval now, left;

	event_base_gettimeofday_cached(server_base(), &now);
	if (!s->closing) {
		s->closing = true;
		bufferevent_disable(s->bev, EV_READ);
		timeradd(&now, &smtpd.command_timeout, &s->close_by);
		under = bufferevent_get_underlying(s->bev);
		if (under != NULL)
			s->under_cb = evbuffer_add_cb(
			    bufferevent_get_output(under), session_under_cb, s);
	}
	if (session_flushed(s) || !timercmp(&now, &s->close_by, <)) {
		session_end(s);
		return;
	}
	timersub(&s->close_by, &now, &left);
	event_add(s->kick, &left);
}

/* After input processing, from the top of a callback. */
static void
session_settle(struct session *s)
{
	if (s->state == ST_QUIT)
		session_finish(s);
	else
		session_timeouts(s);
}

/* --- input --------------------------------------------------------- */

/* Handle everything buffered, in order, until parked, closed or dry. */
static void
session_input(struct session *s)
{
	struct evbuffer *in;
	const char *line;
	size_t len;
	unsigned flags;
	bool had;

	while (s->wait == WAIT_NONE && s->state != ST_QUIT) {
		if (evbuffer_get_length(bufferevent_get_output(s->bev)) >
		    SESSION_OUT_MAX) {
			session_park(s, WAIT_OUTPUT);
			break;
		}
		in = bufferevent_get_input(s->bev);
		if (s->state == ST_DATA || s->state == ST_BDAT) {
			if (data_input(s, in))
				break;
			continue;
		}
		if (s->rdns_q != NULL && session_next_is_data(s, in)) {
			session_park(s, WAIT_RDNS);
			break;
		}
		had = evbuffer_get_length(in) > 0;
		switch (linebuf_get(s->lb, in, &line, &len, &flags)) {
		case LINE_MORE:
			if (had)
				s->partial = true;
			goto out;
		case LINE_TOO_LONG:
			s->partial = false;
			command_too_long(s);
			break;
		case LINE_OK:
			s->partial = false;
			s->last_crlf = !(flags & LINE_F_BARE_LF);
			if (s->state == ST_AUTH)
				auth_line(s, line, len);
			else
				command_run(s, line, len, flags);
			break;
		}
	}
out:
	/* A client that shut its side after its last command (nc -N,
	 * printf | ...) still gets every reply; then we close too. */
	if (s->eof && s->wait == WAIT_NONE && s->state != ST_QUIT) {
		log_detail(LOG_SMTP, "%s: client done sending in state %s",
		    s->id, state_names[s->state]);
		session_close(s);
	}
	session_settle(s);
}

static void
session_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	session_input(arg);
}

static void
session_write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if (s->state == ST_QUIT)
		session_finish(s);
	else if (s->wait == WAIT_OUTPUT)
		session_resume(s);
}

static void
session_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd; (void)what;
	if (s->state == ST_QUIT)
		session_finish(s);
	else
		session_input(s);
}

/* --- connection set-up ------------------------------------------- */

void
session_greet(struct session *s)
{
	reply(s, 220, NULL, "%s ESMTP Tern", s->name);
}

static void
session_rdns_done(const char *name, void *arg)
{
	struct session *s = arg;

	s->rdns_q = NULL;
	if (name != NULL)
		s->rdns = xstrdup(name);
	log_detail(LOG_SMTP, "%s: %s is %s", s->id, s->ip,
	    name != NULL ? name : "unknown");
	if (s->wait == WAIT_RDNS)
		session_resume(s);
}

/*
 * Is the next command in the input DATA or BDAT?  The client's name is
 * needed only from there on (Received header, envelope), so the lookup
 * runs while the greeting, EHLO, MAIL and RCPT go on, and only a message
 * waits for it.
 */
static bool
session_next_is_data(struct session *s, struct evbuffer *in)
{
	unsigned char *p;
	size_t n = evbuffer_get_length(in);

	if (s->partial || n < 4)
		return false;
	p = evbuffer_pullup(in, n < 5 ? (ev_ssize_t)n : 5);
	if (p == NULL || (strncasecmp((char *)p, "DATA", 4) != 0 &&
	    strncasecmp((char *)p, "BDAT", 4) != 0))
		return false;
	return n == 4 || p[4] == ' ' || p[4] == '\r' || p[4] == '\n';
}

/* Limits and lists, then the greeting, with the client's name looked
 * up meanwhile. */
static void
session_start(struct session *s)
{
	struct smtp_reply r;

	unsigned now;

	if (connslots_over(smtpd_conns, server_sessions(), smtpd.max_conn,
	    smtpd.max_conn_share, &now)) {
		log_msg(LOG_SMTP, "%s: too many connections (%u); refusing %s",
		    s->id, now - 1, s->ip);
		reply(s, 421, "4.3.2", "%s Too many connections, try again "
		    "later", s->name);
		session_close(s);
		return;
	}
	if (!policy_connect(smtpd_policy, &s->client, &r)) {
		log_msg(LOG_SMTP, "%s: refused %s: %d %s %s", s->id, s->ip,
		    r.code, r.enh, r.text);
		reply_policy(s, &r);
		session_close(s);
		return;
	}
	if (smtpd.reverse_dns && smtpd_dns != NULL)
		s->rdns_q = rdns_lookup(smtpd_dns,
		    (const struct sockaddr *)&s->client.addr, session_rdns_done,
		    s);
	session_greet(s);
}

/* A TLS handshake finished (implicit TLS or STARTTLS). */
static void
session_tls_up(struct session *s)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);

	free(s->tls_desc);
	s->tls_desc = tls_describe(ssl);
	s->client.tls = true;
	log_msg(LOG_SMTP, "%s: TLS %s", s->id, s->tls_desc);
	s->wait = WAIT_NONE;
	if (!s->started) {
		s->started = true;
		session_start(s);       /* implicit TLS: now we speak */
	}
	if (s->wait == WAIT_NONE)
		session_resume(s);
}

static void
session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		session_tls_up(s);
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) &&
	    s->state != ST_QUIT) {
		log_msg(LOG_SMTP, "%s: timeout in state %s from %s", s->id,
		    state_names[s->state], s->ip);
		reply(s, 421, "4.4.2", "%s Error: timeout exceeded", s->name);
		session_close(s);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		unsigned long e = bufferevent_get_openssl_error(s->bev);

		if (e != 0)
			log_msg(LOG_SMTP, "%s: TLS error from %s: %s", s->id,
			    s->ip, ERR_reason_error_string(e) ?
			    ERR_reason_error_string(e) : "unknown");
		else
			log_detail(LOG_SMTP, "%s: connection error: %s", s->id,
			    evutil_socket_error_to_string(
			    EVUTIL_SOCKET_ERROR()));
	} else if ((what & BEV_EVENT_EOF) && s->state != ST_QUIT &&
	    s->wait != WAIT_TLS) {
		/* Maybe only half-closed: answer what is buffered first. */
		s->eof = true;
		session_kick(s);
		return;
	}
	session_end(s);
}

void
session_set_bev(struct session *s, struct bufferevent *bev)
{
	s->bev = bev;
	s->timeout_mode = -1;
	linebuf_watermark(bev, smtpd.cmd_max);
	bufferevent_setcb(bev, session_read_cb, session_write_cb,
	    session_event_cb, s);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void
session_make_id(char id[SESSION_ID_LEN + 1])
{
	static unsigned counter;

	snprintf(id, SESSION_ID_LEN + 1, "%08llX%04lX%04X",
	    (unsigned long long)time(NULL) & 0xffffffffULL,
	    (unsigned long)getpid() & 0xffff, counter++ & 0xffff);
}

void
session_accept(int fd, const struct sockaddr *sa, socklen_t salen,
    const char *listener_tls)
{
	struct session *s = xcalloc(1, sizeof(*s));
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	bool implicit = strcmp(listener_tls, "implicit") == 0;

	session_make_id(s->id);
	if (implicit)
		s->bev = tls_bev_accept(server_base(), server_tls_ctx(), fd);
	else
		s->bev = bufferevent_socket_new(server_base(), fd,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (s->bev == NULL) {
		log_exc(LOG_SMTP, "%s: cannot set up the connection", s->id);
		close(fd);
		free(s);
		server_session_end();
		return;
	}
	if ((size_t)salen > sizeof(s->client.addr))
		salen = sizeof(s->client.addr);
	memcpy(&s->client.addr, sa, salen);
	s->client.addrlen = salen;
	s->client.submission = smtpd.submission;
	hostnames_ip_text(sa, s->ip);
	if (getsockname(fd, (struct sockaddr *)&local, &llen) < 0)
		local.ss_family = AF_UNSPEC;
	s->name = xstrdup(hostnames_for(&smtpd.names,
	    (struct sockaddr *)&local));
	s->starttls_ok = strcmp(listener_tls, "starttls") == 0 &&
	    server_tls_ctx() != NULL;
	s->state = ST_GREET;
	s->last_crlf = true;
	s->lb = linebuf_new(smtpd.cmd_max);
	s->kick = event_new(server_base(), -1, 0, session_kick_cb, s);
	if (s->kick == NULL)
		die("smtpd: cannot create an event");
	session_set_bev(s, s->bev);
	LIST_INSERT_HEAD(&sessions, s, entry);
	log_msg(LOG_SMTP, "%s: connect from %s to %s (%s)", s->id, s->ip,
	    server_service(), s->name);
	if (implicit)
		session_park(s, WAIT_TLS);
	else {
		s->started = true;
		session_start(s);
	}
	session_settle(s);
}

/* --- drain and exit ------------------------------------------------- */

void
session_drain_all(void)
{
	struct session *s;

	LIST_FOREACH(s, &sessions, entry) {
		if (s->gone || s->state == ST_QUIT || s->wait != WAIT_NONE ||
		    s->partial ||
		    (s->state != ST_GREET && s->state != ST_READY))
			continue;
		reply(s, 421, "4.3.2", "%s Service shutting down, closing "
		    "connection", s->name);
		session_close(s);
	}
}

void
session_free_all(void)
{
	struct session *s = LIST_FIRST(&sessions), *next;

	for (; s != NULL; s = next) {
		next = LIST_NEXT(s, entry);
		session_end(s);     /* commits in flight end in their cb */
	}
}

bool
session_any_left(void)
{
	return !LIST_EMPTY(&sessions);
}
