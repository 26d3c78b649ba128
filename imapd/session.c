/*
 * session - one IMAP connection: reading commands through the incremental
 * parser, the state machine (not authenticated -> authenticated ->
 * selected -> logout, RFC 3501 section 3), the command table, untagged
 * updates and the limits (timeouts, bad commands, connections).
 *
 * A command is read whole (its literals included) before it runs; a
 * session that waits for something (the auth daemon, an AUTHENTICATE
 * line, the pause after a failed login, IDLE's DONE) stops reading and
 * session_resume() starts it again.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>

#include "auth_client.h"
#include "connslots.h"
#include "imapd.h"
#include "log.h"
#include "server.h"
#include "tls.h"
#include "xalloc.h"

static struct session *sessions;
static unsigned long session_seq;

#define AUTHED (BIT(ST_AUTH) | BIT(ST_SELECTED))
#define ANY (BIT(ST_NOAUTH) | AUTHED)

static const struct imap_cmd cmds[] = {
	{ "CAPABILITY", cmd_capability, ANY, 0 },
	{ "NOOP", cmd_noop, ANY, 0 },
	{ "LOGOUT", cmd_logout, ANY, 0 },
	{ "ID", cmd_id, ANY, 0 },
	{ "STARTTLS", cmd_starttls, BIT(ST_NOAUTH), 0 },
	{ "LOGIN", cmd_login, BIT(ST_NOAUTH), 0 },
	{ "AUTHENTICATE", cmd_authenticate, BIT(ST_NOAUTH), 0 },
	{ "ENABLE", cmd_enable, AUTHED, 0 },
	{ "NAMESPACE", cmd_namespace, AUTHED, 0 },
	{ "SELECT", cmd_select, AUTHED, 0 },
	{ "EXAMINE", cmd_select, AUTHED, 0 },
	{ "CREATE", cmd_create, AUTHED, 0 },
	{ "DELETE", cmd_delete, AUTHED, 0 },
	{ "RENAME", cmd_rename, AUTHED, 0 },
	{ "SUBSCRIBE", cmd_subscribe, AUTHED, 0 },
	{ "UNSUBSCRIBE", cmd_unsubscribe, AUTHED, 0 },
	{ "LIST", cmd_list, AUTHED, 0 },
	{ "LSUB", cmd_lsub, AUTHED, 0 },
	{ "STATUS", cmd_status, AUTHED, 0 },
	{ "APPEND", cmd_append, AUTHED, 0 },
	{ "GETQUOTAROOT", cmd_getquotaroot, AUTHED, 0 },
	{ "GETQUOTA", cmd_getquota, AUTHED, 0 },
	{ "IDLE", cmd_idle, AUTHED, 0 },
	{ "CHECK", cmd_check, BIT(ST_SELECTED), 0 },
	{ "CLOSE", cmd_close, BIT(ST_SELECTED), 0 },
	{ "UNSELECT", cmd_unselect, BIT(ST_SELECTED), 0 },
	{ "EXPUNGE", cmd_expunge, BIT(ST_SELECTED), CMD_UID },
	{ "SEARCH", cmd_search, BIT(ST_SELECTED), CMD_UID | CMD_NOEXPUNGE },
	{ "FETCH", cmd_fetch, BIT(ST_SELECTED), CMD_UID | CMD_NOEXPUNGE },
	{ "STORE", cmd_store, BIT(ST_SELECTED), CMD_UID | CMD_NOEXPUNGE },
	{ "COPY", cmd_copy, BIT(ST_SELECTED), CMD_UID },
	{ "MOVE", cmd_move, BIT(ST_SELECTED), CMD_UID },
};

static const char *const state_names[] = {
	"not-authenticated", "authenticated", "selected", "logout"
};

static void session_read(struct bufferevent *bev, void *arg);
static void session_event(struct bufferevent *bev, short what, void *arg);
static void session_timeout(evutil_socket_t fd, short what, void *arg);

/* --- output ----------------------------------------------------------- */

void
out(struct session *s, const char *fmt, ...)
{
	va_list ap;
	struct evbuffer *o = bufferevent_get_output(s->bev);

	va_start(ap, fmt);
	evbuffer_add_vprintf(o, fmt, ap);
	va_end(ap);
}

void
out_raw(struct session *s, const void *p, size_t n)
{
	bufferevent_write(s->bev, p, n);
}

/* A string as a quoted string when it can be one, else a literal. */
void
out_string(struct session *s, const char *p, size_t n)
{
	bool quote = n < 1024;

	for (size_t i = 0; i < n && quote; i++)
		if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0' ||
		    (unsigned char)p[i] >= 0x80)
			quote = false;
	if (!quote) {
		out(s, "{%zu}\r\n", n);
		out_raw(s, p, n);
		return;
	}
	out_raw(s, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			out_raw(s, "\\", 1);
		out_raw(s, p + i, 1);
	}
	out_raw(s, "\"", 1);
}

void
tagged(struct session *s, const char *tag, const char *fmt, ...)
{
	va_list ap;
	struct evbuffer *o = bufferevent_get_output(s->bev);

	evbuffer_add_printf(o, "%s ", tag);
	va_start(ap, fmt);
	evbuffer_add_vprintf(o, fmt, ap);
	va_end(ap);
	evbuffer_add(o, "\r\n", 2);
}

const char *
session_capability(const struct session *s)
{
	static char cap[512];
	bool plain = session_plaintext_ok(s);

	snprintf(cap, sizeof(cap), "IMAP4rev1 SASL-IR LITERAL+ ID ENABLE%s "
	    "NAMESPACE UNSELECT UIDPLUS MOVE CHILDREN SPECIAL-USE QUOTA "
	    "QUOTA=RES-STORAGE CONDSTORE LIST-EXTENDED LIST-STATUS "
	    "STATUS=SIZE%s%s",
	    imapd.idle ? " IDLE" : "",
	    s->state == ST_NOAUTH && !s->tls && server_tls_ctx() != NULL ?
	    " STARTTLS" : "",
	    s->state != ST_NOAUTH ? "" : plain ? " AUTH=PLAIN AUTH=LOGIN" :
	    " LOGINDISABLED");
	return cap;
}

bool
session_plaintext_ok(const struct session *s)
{
	return s->tls || imapd.plaintext_without_tls ||
	    (imapd.plaintext_loopback && s->loopback);
}

/* --- life cycle ---------------------------------------------------------- */

void
session_timer(struct session *s, long long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(s->timer, &tv);
}

static void
session_free(struct session *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		sessions = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	idle_stop(s);
	auth_client_cancel(&s->aq);
	sasl_free(s);
	fetch_run_free(s);
	session_unselect(s);
	if (s->timer != NULL)
		event_free(s->timer);
	bufferevent_free(s->bev);
	imap_parser_free(&s->parser);
	free(s->tag);
	free(s->user);
	free(s->home);
	free(s->ddir);
	log_detail(LOG_IMAP, "%s: closed", s->id);
	free(s);
	server_session_end();
	connslots_note(imapd_conns, server_sessions());
}

/* W_OUTPUT: the client read enough of a long answer. */
static void
session_written(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if (s->wait == W_OUTPUT && s->fetch != NULL)
		fetch_continue(s);
}

void
session_wait_output(struct session *s, size_t low)
{
	s->wait = W_OUTPUT;
	bufferevent_setwatermark(s->bev, EV_WRITE, low, 0);
	bufferevent_setcb(s->bev, session_read, session_written,
	    session_event, s);
	/* a client that stops reading is cut off like an idle one */
	session_timer(s, imapd.command_timeout_ms);
}

void
session_output_done(struct session *s)
{
	bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
	bufferevent_setcb(s->bev, session_read, NULL, session_event, s);
	s->wait = W_NONE;
	session_resume(s);
}

static void
session_flushed(struct bufferevent *bev, void *arg)
{
	(void)bev;
	session_free(arg);
}

/* Say bye (when bye is not NULL), flush, then end the session. */
void
session_close(struct session *s, const char *bye)
{
	if (s->wait == W_CLOSING)
		return;
	idle_stop(s);
	if (bye != NULL)
		out(s, "* BYE %s\r\n", bye);
	s->wait = W_CLOSING;
	s->state = ST_LOGOUT;
	bufferevent_disable(s->bev, EV_READ);
	bufferevent_setcb(s->bev, NULL, session_flushed, session_event, s);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) == 0)
		session_timer(s, 0);    /* nothing to flush: end at once */
	else
		session_timer(s, 30000);
}

void
session_enter(struct session *s, enum imap_state st)
{
	log_detail(LOG_IMAP, "%s: state %s -> %s", s->id,
	    state_names[s->state], state_names[st]);
	s->state = st;
}

void
session_accept(evutil_socket_t fd, const struct sockaddr *sa,
    socklen_t salen, const char *tls)
{
	struct session *s = xcalloc(1, sizeof(*s));

	(void)salen;
	snprintf(s->id, sizeof(s->id), "i%lx%lx", (unsigned long)getpid(),
	    ++session_seq);
	s->ino_fd = -1;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, s->ip, sizeof(s->ip));
		s->loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, s->ip, sizeof(s->ip));
		s->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
	} else {
		strcpy(s->ip, "local");
		s->loopback = true;
	}
	if (strcmp(tls, "implicit") == 0) {
		s->bev = tls_bev_accept(server_base(), server_tls_ctx(), fd);
		s->tls = true;
	} else
		s->bev = bufferevent_socket_new(server_base(), fd,
		    BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL) {
		close(fd);
		free(s);
		server_session_end();
	connslots_note(imapd_conns, server_sessions());
		return;
	}
	s->parser = imap_parser_new(imapd.max_line, imapd.max_literal);
	s->timer = evtimer_new(server_base(), session_timeout, s);
	s->next = sessions;
	if (sessions != NULL)
		sessions->prev = s;
	sessions = s;
	bufferevent_setcb(s->bev, session_read, NULL, session_event, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, 256 * 1024);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	log_detail(LOG_IMAP, "%s: connect from %s%s", s->id, s->ip,
	    s->tls ? " (TLS)" : "");
	unsigned now;

	if (connslots_over(imapd_conns, server_sessions(), imapd.max_conn,
	    imapd.max_conn_share, &now)) {
		log_msg(LOG_IMAP, "%s: too many connections (%u), ip=%s",
		    s->id, now - 1, s->ip);
		session_close(s, "Too many connections, try later");
		return;
	}
	if (server_draining()) {
		session_close(s, "Server shutting down");
		return;
	}
	out(s, "* OK [CAPABILITY %s] Tern IMAP ready\r\n",
	    session_capability(s));
	session_timer(s, imapd.command_timeout_ms);
}

/* After STARTTLS: the session's callbacks on its new bufferevent. */
void
session_rebind(struct session *s)
{
	bufferevent_setcb(s->bev, session_read, NULL, session_event, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, 256 * 1024);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

void
session_free_all(void)
{
	while (sessions != NULL)
		session_free(sessions);
}

void
session_drain_all(void)
{
	for (struct session *s = sessions, *n; s != NULL; s = n) {
		n = s->next;
		if (s->wait == W_NONE || s->wait == W_IDLE)
			session_close(s, "Server shutting down");
	}
}

static void
session_event(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_ERROR)
		log_detail(LOG_IMAP, "%s: connection error", s->id);
	session_free(s);
}

static void
session_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	(void)fd;
	(void)what;
	switch (s->wait) {
	case W_CLOSING:
		session_free(s);
		return;
	case W_DELAY:
		s->wait = W_NONE;
		tagged(s, s->tag, "NO [AUTHENTICATIONFAILED] "
		    "Authentication failed");
		free(s->tag);
		s->tag = NULL;
		session_resume(s);
		return;
	case W_IDLE:
		log_detail(LOG_IMAP, "%s: idle timeout", s->id);
		session_close(s, "IDLE timed out");
		return;
	default:
		log_detail(LOG_IMAP, "%s: timeout", s->id);
		session_close(s, "Autologout; idle for too long");
		return;
	}
}

/* --- commands ------------------------------------------------------------ */

void
session_bad(struct session *s, const char *tag, const char *why)
{
	tagged(s, tag, "BAD %s", why);
	if (++s->bad >= imapd.max_bad) {
		log_msg(LOG_IMAP, "%s: too many bad commands, ip=%s", s->id,
		    s->ip);
		session_close(s, "Too many invalid commands");
	}
}

/* Untagged news about the selected folder (RFC 3501 section 7). */
void
session_update(struct session *s, bool expunges)
{
	struct imap_changes ch;
	const char *err;
	uint32_t before;

	if (s->mb == NULL || !expunges)
		return;
	before = s->mb->count;
	if (imap_mbox_sync(s->mb, &ch, false, &err) < 0) {
		log_exc(LOG_IMAP, "%s: %s: %s", s->id, s->mb->dir, err);
		return;
	}
	if (ch.uidvalidity_changed) {
		imap_changes_free(&ch);
		session_close(s, "UIDVALIDITY changed, please reselect");
		return;
	}
	if (ch.nexpunged > 0)
		mcache_prune(s);
	flags_announce(s);
	for (uint32_t k = 0; k < ch.nexpunged; k++)
		out(s, "* %u EXPUNGE\r\n", ch.expunged[k] - k);
	if (s->mb->count != before - ch.nexpunged) {
		uint32_t recent = 0;

		for (uint32_t i = 0; i < s->mb->count; i++)
			if (s->mb->msgs[i].flags & IMAP_F_RECENT)
				recent++;
		out(s, "* %u EXISTS\r\n* %u RECENT\r\n", s->mb->count, recent);
	}
	for (uint32_t k = 0; k < ch.nchanged; k++) {
		const struct imap_msg *m = &s->mb->msgs[ch.changed[k] - 1];

		out(s, "* %u FETCH (", ch.changed[k]);
		out_flags(s, m);
		out(s, " UID %u", m->uid);
		if (s->condstore)
			out(s, " MODSEQ (%llu)",
			    (unsigned long long)m->modseq);
		out(s, ")\r\n");
	}
	imap_changes_free(&ch);
}

static const struct imap_cmd *
cmd_find(const char *name)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcasecmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

static void
session_command(struct session *s)
{
	struct imap_arg *a;
	size_t n;
	const char *err, *tag = imap_parser_tag(s->parser);
	const struct imap_cmd *c;
	bool uid = false;

	if (imap_parser_args(s->parser, &a, &n, &err) < 0) {
		session_bad(s, tag != NULL ? tag : "*", err);
		return;
	}
	if (n == 0 || tag == NULL || a[0].type != IMAP_ARG_ATOM) {
		session_bad(s, "*", "Missing or invalid tag");
		return;
	}
	if (n < 2 || a[1].type != IMAP_ARG_ATOM) {
		session_bad(s, tag, "Missing command");
		return;
	}
	const char *name = a[1].s;
	a += 2;
	n -= 2;
	if (strcasecmp(name, "UID") == 0) {
		if (n == 0 || a[0].type != IMAP_ARG_ATOM) {
			session_bad(s, tag, "UID what?");
			return;
		}
		uid = true;
		name = a[0].s;
		a++;
		n--;
	}
	c = cmd_find(name);
	if (c == NULL || (uid && !(c->flags & CMD_UID))) {
		session_bad(s, tag, "Unknown command");
		return;
	}
	if (!(c->states & BIT(s->state))) {
		session_bad(s, tag, s->state == ST_NOAUTH ?
		    "Log in first" : "Not allowed in this state");
		return;
	}
	log_detail(LOG_IMAP, "%s: %s%s", s->id, uid ? "UID " : "", c->name);
	c->fn(s, tag, a, n, uid);
}

/* A command came back from the parser: run it and tidy up. */
static void
session_dispatch(struct session *s, enum imap_parse_status st)
{
	bool fatal, toobig;
	const char *tag;

	if (st == IMAP_PARSE_ERROR) {
		const char *e = imap_parser_error(s->parser, &fatal, &toobig);

		tag = imap_parser_tag(s->parser);
		if (fatal) {
			log_msg(LOG_IMAP, "%s: %s, ip=%s", s->id, e, s->ip);
			session_close(s, toobig ? "[TOOBIG] Literal too big" :
			    "Line too long");
			return;
		}
		if (toobig)
			tagged(s, tag != NULL ? tag : "*",
			    "NO [TOOBIG] Literal too big");
		else
			session_bad(s, tag != NULL ? tag : "*", e);
		imap_parser_reset(s->parser);
		return;
	}
	switch (s->wait) {
	case W_SASL: {
		size_t len;
		const char *line = imap_parser_line(s->parser, &len);

		sasl_line(s, line, len);
		break;
	}
	case W_IDLE: {
		size_t len;
		const char *line = imap_parser_line(s->parser, &len);

		idle_line(s, line, len);
		break;
	}
	default:
		session_command(s);
		break;
	}
	if (s->wait == W_CLOSING)
		return;
	imap_parser_reset(s->parser);
	if (s->wait == W_SASL || s->wait == W_IDLE)
		imap_parser_set_raw(s->parser);
}

void
session_resume(struct session *s)
{
	session_read(s->bev, s);
}

static void
session_read(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (s->wait == W_NONE || s->wait == W_SASL || s->wait == W_IDLE) {
		struct evbuffer_iovec v;
		enum imap_parse_status st;
		size_t used;

		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1 || v.iov_len == 0)
			break;
		used = imap_parser_feed(s->parser, v.iov_base, v.iov_len, &st);
		evbuffer_drain(in, used);
		if (st == IMAP_PARSE_MORE)
			continue;
		if (st == IMAP_PARSE_LITERAL) {
			out(s, "+ Ready for literal data\r\n");
			continue;
		}
		session_dispatch(s, st);
		if (s->starttls_done) {
			/* the old plain buffer is gone: read the new one */
			s->starttls_done = false;
			return;
		}
	}
	if (s->wait == W_NONE) {
		imap_parser_trim(s->parser);
		session_timer(s, imapd.command_timeout_ms);
	}
}
