/*
 * session - the POP3 state machine: connection set-up, the read loop,
 * the command table, replies, limits, timeouts, parking and the end.
 *
 * Lifetime.  A session is freed in one place, session_end(), and only
 * from the top of a libevent callback, never from inside a command: a
 * command that ends the session calls session_close(), which stops the
 * input; the replies are flushed and session_end() runs later.
 *
 * RFC 1939 section 6: only QUIT in TRANSACTION removes messages.  A
 * session that ends any other way (timeout, a client gone, too many
 * errors, a drain, a crash) releases the maildrop with nothing deleted.
 */
#include <netdb.h>
#include <sys/queue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
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

#include "linebuf.h"
#include "log.h"
#include "maildrop.h"
#include "connslots.h"
#include "pop3d.h"
#include "server.h"
#include "session.h"
#include "tls.h"
#include "xalloc.h"

#define BIT(st) (1u << (st))
#define IN_AUTH  BIT(ST_AUTH)
#define IN_TRANS BIT(ST_TRANS)

/* Command flags. */
#define CMD_SECRET 1u     /* log the verb only (PASS, AUTH) */
#define CMD_NOARGS 2u     /* takes no argument */
#define CMD_ARGS   4u     /* needs one */
#define CMD_RAW    8u     /* the argument as sent, blanks kept (PASS) */

struct command {
	const char *verb;
	cmd_fn *fn;
	unsigned states;      /* where it is legal */
	unsigned flags;
};

static const struct command commands[] = {
	{ "CAPA", cmd_capa, IN_AUTH | IN_TRANS, CMD_NOARGS },
	{ "USER", cmd_user, IN_AUTH, CMD_ARGS },
	{ "PASS", cmd_pass, IN_AUTH, CMD_ARGS | CMD_SECRET | CMD_RAW },
	{ "AUTH", cmd_auth, IN_AUTH, CMD_SECRET },
	{ "STLS", cmd_stls, IN_AUTH, CMD_NOARGS },
	{ "QUIT", cmd_quit, IN_AUTH | IN_TRANS, CMD_NOARGS },
	{ "STAT", cmd_stat, IN_TRANS, CMD_NOARGS },
	{ "LIST", cmd_list, IN_TRANS, 0 },
	{ "UIDL", cmd_uidl, IN_TRANS, 0 },
	{ "RETR", cmd_retr, IN_TRANS, CMD_ARGS },
	{ "TOP",  cmd_top,  IN_TRANS, CMD_ARGS },
	{ "DELE", cmd_dele, IN_TRANS, CMD_ARGS },
	{ "NOOP", cmd_noop, IN_TRANS, CMD_NOARGS },
	{ "RSET", cmd_rset, IN_TRANS, CMD_NOARGS },
};

static const char *const state_names[ST_NSTATES] = {
	"AUTHORIZATION", "SASL", "TRANSACTION", "UPDATE", "QUIT",
};

static LIST_HEAD(, session) sessions = LIST_HEAD_INITIALIZER(sessions);

static void session_io_cb(struct bufferevent *bev, void *arg);
static void session_event_cb(struct bufferevent *bev, short what, void *arg);
static void session_kick_cb(evutil_socket_t fd, short what, void *arg);

/* --- replies ------------------------------------------------------- */

static void
reply_emit(struct session *s, const char *status, const char *fmt,
    va_list ap)
{
	char text[512];

	vsnprintf(text, sizeof(text), fmt, ap);
	/* Nothing a client sent may end or split our reply line. */
	for (char *p = text; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	evbuffer_add_printf(bufferevent_get_output(s->bev), "%s%s%s\r\n",
	    status, *status != '\0' && *text != '\0' ? " " : "", text);
	log_detail(LOG_POP, "%s: >>> %s%s%s", s->id, status,
	    *status != '\0' && *text != '\0' ? " " : "", text);
}

void
reply_ok(struct session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_emit(s, "+OK", fmt, ap);
	va_end(ap);
}

void
reply_err(struct session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_emit(s, "-ERR", fmt, ap);
	va_end(ap);
}

void
reply_line(struct session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_emit(s, "", fmt, ap);
	va_end(ap);
}

void
reply_bad(struct session *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_emit(s, "-ERR", fmt, ap);
	va_end(ap);
	if (++s->bad_cmds < pop3d.max_bad)
		return;
	log_msg(LOG_POP, "%s: too many bad commands (%u) from %s; closing",
	    s->id, s->bad_cmds, s->ip);
	reply_err(s, "Too many bad commands, closing the connection");
	session_close(s);
}

/* --- state and waits ----------------------------------------------- */

void
session_set_state(struct session *s, enum pop3_state st)
{
	if (s->state == st)
		return;
	log_detail(LOG_POP, "%s: state %s -> %s", s->id,
	    state_names[s->state], state_names[st]);
	s->state = st;
}

/*
 * The read timeout runs while we wait for the client (a command, the
 * rest of a line, a TLS handshake), not while it waits for us or reads
 * a long answer; the write timeout always runs, so a client that stops
 * reading is dropped after pop_command_timeout too.
 */
static void
session_timeouts(struct session *s)
{
	bool theirs = s->wait == WAIT_NONE || s->wait == WAIT_TLS;

	bufferevent_set_timeouts(s->bev, theirs ? &pop3d.timeout : NULL,
	    &pop3d.timeout);
}

void
session_park(struct session *s, enum pop3_wait w)
{
	static const char *const what[] = {
		"nothing", "the TLS handshake", "the auth daemon",
		"the failed-login delay",
	};

	ASSERT(s->wait == WAIT_NONE && w != WAIT_NONE);
	/* Not for every pause of a long RETR: the log would be huge. */
	if (w != WAIT_OUTPUT)
		log_detail(LOG_POP, "%s: waiting for %s", s->id, what[w]);
	s->wait = w;
	session_timeouts(s);
}

/* From the top of the next callback: never re-enter a command. */
void
session_resume(struct session *s)
{
	event_active(s->kick, EV_TIMEOUT, 1);
	s->wait = WAIT_NONE;
}

void
session_resume_after(struct session *s, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	ASSERT(s->wait == WAIT_DELAY);
	event_add(s->kick, &tv);
}

void
session_close(struct session *s)
{
	if (s->state == ST_QUIT)
		return;
	session_set_state(s, ST_QUIT);
	event_active(s->kick, EV_TIMEOUT, 1);
}

void
session_stream(struct session *s, struct stream *st)
{
	ASSERT(s->stream == NULL);
	s->stream = st;
}

static void
session_stream_end(struct session *s, bool complete)
{
	struct stream *st = s->stream;

	s->stream = NULL;
	if (st != NULL)
		st->done(s, st, complete);
}

/* --- the end ------------------------------------------------------- */

static void
session_end(struct session *s)
{
	unsigned removed, failed;

	/* QUIT was received: its deletions are carried out even though
	 * the client did not wait for the answer. */
	if (s->md != NULL && s->state == ST_UPDATE)
		maildrop_update(s->md, 0, &removed, &failed);
	log_msg(LOG_POP, "%s: disconnect from %s%s%s (retr %llu msgs/%llu "
	    "bytes, dele %u)", s->id, s->ip, s->login != NULL ? " user " : "",
	    s->login != NULL ? s->login : "", s->retr_msgs, s->retr_bytes,
	    s->deleted);
	LIST_REMOVE(s, entry);
	session_stream_end(s, false);
	auth_abort(s);
	maildrop_free(&s->md);
	bufferevent_free(s->bev);
	linebuf_free(&s->lb);
	event_free(s->kick);
	free(s->user);
	free(s->login);
	free(s);
	server_session_end();
	connslots_note(pop3d_conns, server_sessions());
}

/* The socket under a STLS layer drained: look again (session_finish). */
static void
session_under_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	(void)info;
	if (evbuffer_get_length(buf) == 0)
		event_active(((struct session *)arg)->kick, EV_TIMEOUT, 1);
}

/*
 * ST_QUIT: the replies go out, on every layer, then the session ends; a
 * client that reads nothing gets pop_command_timeout, no more.
 */
static void
session_finish(struct session *s)
{
	struct timeval now, left;
	bool flushed = true;

	event_base_gettimeofday_cached(server_base(), &now);
	if (!s->closing) {
		s->closing = true;
		bufferevent_disable(s->bev, EV_READ);
		timeradd(&now, &pop3d.timeout, &s->close_by);
		for (struct bufferevent *u = bufferevent_get_underlying(s->bev);
		    u != NULL; u = bufferevent_get_underlying(u))
			evbuffer_add_cb(bufferevent_get_output(u),
			    session_under_cb, s);
	}
	for (struct bufferevent *b = s->bev; b != NULL;
	    b = bufferevent_get_underlying(b))
		if (evbuffer_get_length(bufferevent_get_output(b)) > 0)
			flushed = false;
	if (flushed || !timercmp(&now, &s->close_by, <)) {
		session_end(s);
		return;
	}
	timersub(&s->close_by, &now, &left);
	event_add(s->kick, &left);
}

/* --- input --------------------------------------------------------- */

static const struct command *
session_find(const char *verb, size_t len)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strlen(commands[i].verb) == len &&
		    strncasecmp(commands[i].verb, verb, len) == 0)
			return &commands[i];
	return NULL;
}

static void
session_command(struct session *s, const char *line, size_t len,
    unsigned flags)
{
	const struct command *c;
	size_t vlen = 0, alen;
	const char *args;

	while (vlen < len && line[vlen] != ' ')
		vlen++;
	c = session_find(line, vlen);
	log_detail(LOG_POP, "%s: <<< %.*s", s->id,
	    (int)(c != NULL && (c->flags & CMD_SECRET) ? vlen : len), line);
	if (flags & (LINE_F_NUL | LINE_F_BARE_CR)) {
		reply_bad(s, "Invalid characters in command");
		return;
	}
	if (c == NULL) {
		reply_bad(s, "Unknown command");
		return;
	}
	if (server_draining() && s->state == ST_AUTH) {
		reply_err(s, "[SYS/TEMP] Server shutting down, try again "
		    "later");
		session_close(s);
		return;
	}
	if (!(c->states & BIT(s->state))) {
		reply_bad(s, s->state == ST_AUTH ? "Not logged in" :
		    "Not allowed after login");
		return;
	}
	/* RFC 1939: one space before an argument; PASS keeps the rest as
	 * sent (a password may hold blanks), the others are trimmed. */
	args = vlen < len ? line + vlen + 1 : line + len;
	alen = len - (size_t)(args - line);
	if (!(c->flags & CMD_RAW)) {
		while (alen > 0 && *args == ' ') {
			args++;
			alen--;
		}
		while (alen > 0 && (args[alen - 1] == ' ' ||
		    args[alen - 1] == '\t'))
			alen--;
	}
	if ((c->flags & CMD_NOARGS) && alen > 0) {
		reply_bad(s, "%s takes no argument", c->verb);
		return;
	}
	if ((c->flags & CMD_ARGS) && alen == 0) {
		reply_bad(s, "%s needs an argument", c->verb);
		return;
	}
	c->fn(s, args, alen);
}

static void
session_too_long(struct session *s)
{
	if (s->state == ST_SASL) {
		auth_abort(s);
		session_set_state(s, ST_AUTH);
	}
	reply_bad(s, "Line too long");
}

static bool
session_reading(const struct session *s)
{
	return s->wait == WAIT_NONE && (s->state == ST_AUTH ||
	    s->state == ST_SASL || s->state == ST_TRANS);
}

/* Handle everything buffered, in order, until parked, closed or dry. */
static void
session_input(struct session *s)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	const char *line;
	size_t len;
	unsigned flags;
	bool had;

	while (session_reading(s)) {
		if (evbuffer_get_length(out) >= POP3_OUT_HIGH) {
			session_park(s, WAIT_OUTPUT);
			break;
		}
		if (s->stream != NULL) {
			if (s->stream->fill(s, s->stream, out))
				session_stream_end(s, true);
			continue;
		}
		had = evbuffer_get_length(bufferevent_get_input(s->bev)) > 0;
		switch (linebuf_get(s->lb, bufferevent_get_input(s->bev),
		    &line, &len, &flags)) {
		case LINE_MORE:
			s->partial = had || s->partial;
			goto out;
		case LINE_TOO_LONG:
			s->partial = false;
			session_too_long(s);
			break;
		case LINE_OK:
			s->partial = false;
			if (s->state == ST_SASL)
				auth_line(s, line, len);
			else
				session_command(s, line, len, flags);
			break;
		}
		out = bufferevent_get_output(s->bev);    /* STLS swaps it */
	}
out:
	if (s->state == ST_QUIT)
		session_finish(s);
	else
		session_timeouts(s);
}

/*
 * Bytes arrived, or the output drained to POP3_OUT_LOW (to nothing once
 * closing): libevent's read and write callbacks are both this.
 */
static void
session_io_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	if (s->wait == WAIT_OUTPUT && evbuffer_get_length(
	    bufferevent_get_output(bev)) <= POP3_OUT_LOW)
		s->wait = WAIT_NONE;
	if (s->state == ST_QUIT)
		session_finish(s);
	else
		session_input(s);
}

static void
session_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd; (void)what;
	if (s->state == ST_QUIT) {
		session_finish(s);
		return;
	}
	if (s->wait == WAIT_DELAY) {
		s->wait = WAIT_NONE;
		auth_fail_reply(s);
	}
	if (s->state == ST_UPDATE)
		update_step(s);
	session_input(s);
}

/* --- connection set-up ------------------------------------------- */

static void
session_start(struct session *s)
{
	s->started = true;
	unsigned now;

	if (connslots_over(pop3d_conns, server_sessions(), pop3d.max_conn,
	    pop3d.max_conn_share, &now)) {
		log_msg(LOG_POP, "%s: too many connections (%u); refusing %s",
		    s->id, now - 1, s->ip);
		reply_err(s, "[SYS/TEMP] Too many connections, try again "
		    "later");
		session_close(s);
		return;
	}
	if (server_draining()) {
		reply_err(s, "[SYS/TEMP] Server shutting down, try again "
		    "later");
		session_close(s);
		return;
	}
	reply_ok(s, "Tern POP3 server ready");
}

/* A TLS handshake finished (implicit TLS or STLS). */
static void
session_tls_up(struct session *s)
{
	char *desc = tls_describe(bufferevent_openssl_get_ssl(s->bev));

	log_msg(LOG_POP, "%s: TLS %s", s->id, desc);
	free(desc);
	s->tls = true;
	s->wait = WAIT_NONE;
	if (!s->started)
		session_start(s);       /* implicit TLS: now we speak */
	session_resume(s);
}

/* The connection is gone or broken: say why in the log, and end. */
static void
session_lost(struct session *s, short what)
{
	unsigned long e = (what & BEV_EVENT_ERROR) ?
	    bufferevent_get_openssl_error(s->bev) : 0;
	const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;

	if (e != 0)
		log_msg(LOG_POP, "%s: TLS error from %s: %s", s->id, s->ip,
		    why != NULL ? why : "unknown");
	else if (what & BEV_EVENT_ERROR)
		log_detail(LOG_POP, "%s: connection error: %s", s->id,
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	else if (what & BEV_EVENT_TIMEOUT)
		log_msg(LOG_POP, "%s: %s stopped reading; closing", s->id,
		    s->ip);
	else if (s->state != ST_QUIT)
		log_detail(LOG_POP, "%s: client closed in state %s", s->id,
		    state_names[s->state]);
	session_end(s);
}

static void
session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		session_tls_up(s);
	else if (what == (BEV_EVENT_READING | BEV_EVENT_TIMEOUT) &&
	    s->state != ST_QUIT) {
		/* RFC 1939 section 3: an autologout timer, and no UPDATE. */
		log_msg(LOG_POP, "%s: %s idle in %s; closing", s->id, s->ip,
		    state_names[s->state]);
		reply_err(s, "Disconnected for inactivity");
		session_close(s);
	} else
		session_lost(s, what);
}

void
session_set_bev(struct session *s, struct bufferevent *bev)
{
	s->bev = bev;
	linebuf_watermark(bev, POP3_LINE_MAX);
	bufferevent_setwatermark(bev, EV_WRITE, POP3_OUT_LOW, 0);
	bufferevent_setcb(bev, session_io_cb, session_io_cb, session_event_cb,
	    s);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

/* The client's address as text (an IPv4-mapped IPv6 one as IPv4), and
 * whether it is a loopback address. */
static void
session_peer(struct session *s, const struct sockaddr *sa, socklen_t salen)
{
	static const char mapped[] = "::ffff:";
	const char *p = s->ip;

	if (getnameinfo(sa, salen, s->ip, sizeof(s->ip), NULL, 0,
	    NI_NUMERICHOST) != 0) {
		snprintf(s->ip, sizeof(s->ip), "unknown");
		return;
	}
	if (strncasecmp(p, mapped, sizeof(mapped) - 1) == 0 &&
	    strchr(p + sizeof(mapped) - 1, '.') != NULL)
		memmove(s->ip, p + sizeof(mapped) - 1,
		    strlen(p + sizeof(mapped) - 1) + 1);
	s->loopback = strncmp(s->ip, "127.", 4) == 0 ||
	    strcmp(s->ip, "::1") == 0;
}

void
session_accept(int fd, const struct sockaddr *sa, socklen_t salen,
    const char *listener_tls)
{
	static unsigned serial;
	static const int one = 1;
	struct session *s = xcalloc(1, sizeof(*s));
	bool implicit = strcmp(listener_tls, "implicit") == 0;

	/* Unique enough to follow one session through the logs. */
	snprintf(s->id, sizeof(s->id), "P%05lX%06lX%04X",
	    (unsigned long)getpid() & 0xfffff,
	    (unsigned long)time(NULL) & 0xffffff, serial++ & 0xffff);
	session_peer(s, sa, salen);
	/* Answers are written whole; without this the last segment of
	 * each one waits for the client's delayed ACK (Nagle). */
	if (sa->sa_family != AF_UNIX)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (implicit)
		s->bev = tls_bev_accept(server_base(), server_tls_ctx(), fd);
	else
		s->bev = bufferevent_socket_new(server_base(), fd,
		    BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (s->bev == NULL) {
		log_exc(LOG_POP, "%s: cannot set up the connection from %s",
		    s->id, s->ip);
		close(fd);
		free(s);
		server_session_end();
	connslots_note(pop3d_conns, server_sessions());
		return;
	}
	s->starttls_ok = strcmp(listener_tls, "starttls") == 0 &&
	    server_tls_ctx() != NULL;
	s->lb = linebuf_new(POP3_LINE_MAX);
	s->kick = event_new(server_base(), -1, 0, session_kick_cb, s);
	if (s->kick == NULL)
		die("pop3d: cannot create an event");
	session_set_bev(s, s->bev);
	LIST_INSERT_HEAD(&sessions, s, entry);
	log_msg(LOG_POP, "%s: connect from %s to %s", s->id, s->ip,
	    server_service());
	if (implicit)
		session_park(s, WAIT_TLS);
	else
		session_start(s);
	if (s->state == ST_QUIT)
		session_finish(s);
	else
		session_timeouts(s);
}

/* --- drain and exit ------------------------------------------------- */

void
session_drain_all(void)
{
	struct session *s;

	LIST_FOREACH(s, &sessions, entry) {
		if (s->state != ST_AUTH || s->wait != WAIT_NONE ||
		    s->partial || !s->started)
			continue;
		reply_err(s, "[SYS/TEMP] Server shutting down, try again "
		    "later");
		session_close(s);
	}
}

void
session_free_all(void)
{
	while (!LIST_EMPTY(&sessions))
		session_end(LIST_FIRST(&sessions));
}
