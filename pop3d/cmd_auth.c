/*
 * cmd_auth - logging in: USER/PASS (RFC 1939) and AUTH PLAIN (RFC 5034,
 * RFC 4616), then opening the maildrop.
 *
 * pop3d never sees a password hash: the credentials go to the auth
 * daemon (lib/auth_client.h, service "pop", with the client's address
 * and the session id, so every failure is logged there with the ip and
 * counted for abuse detection), which answers with the canonical user
 * "local@domain".  A wrong password is answered -ERR [AUTH] only after
 * POP3_FAIL_DELAY_MS, on a timer; the auth daemon unreachable is
 * -ERR [SYS/TEMP].  Passwords are refused on a connection without TLS
 * unless pop_plaintext_without_tls, or pop_plaintext_loopback and a
 * client on the loopback address.  Nothing typed in a login is logged.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_client.h"
#include "buf.h"
#include "log.h"
#include "maildrop.h"
#include "pop3d.h"
#include "sasl.h"
#include "server.h"
#include "session.h"
#include "xalloc.h"

bool
auth_plain_ok(const struct session *s)
{
	return s->tls || pop3d.plain_without_tls ||
	    (s->loopback && pop3d.plain_loopback);
}

/* Refuse a password in clear; true when refused. */
static bool
auth_refuse_plain(struct session *s)
{
	if (auth_plain_ok(s))
		return false;
	reply_bad(s, "[AUTH] Plaintext authentication disallowed on "
	    "non-secure connections%s", stls_offered(s) ? "; use STLS" : "");
	return true;
}

void
auth_abort(struct session *s)
{
	auth_client_cancel(&s->auth_q);
	if (s->user != NULL) {
		explicit_bzero(s->user, strlen(s->user));
		xfree(&s->user);
	}
	if (s->state == ST_SASL)
		session_set_state(s, ST_AUTH);
}

void
auth_fail_reply(struct session *s)
{
	if (!s->fail_pending)
		return;
	s->fail_pending = false;
	reply_bad(s, "[AUTH] Authentication failed");
}

/* The auth daemon said yes: find and open the user's maildrop. */
static void
auth_open(struct session *s, const char *user)
{
	struct maildrop_opts o = {
		.sid = s->id, .login_delay_s = pop3d.login_delay_s,
		.expire_days = pop3d.expire_days,
	};
	const char *why;
	char *path, *ddir, *err = NULL;
	long long wait = 0;

	if (pop3d_mailbox(user, &path, &ddir, &why) < 0) {
		log_exc(LOG_POP, "%s: no mailbox for %s: %s", s->id, user, why);
		reply_err(s, "[SYS/TEMP] Mailbox not available");
		return;
	}
	o.domain_dir = ddir;
	switch (maildrop_open(path, &o, &s->md, &wait, &err)) {
	case MD_OK:
		s->login = xstrdup(user);
		session_set_state(s, ST_TRANS);
		log_msg(LOG_POP, "%s: %s logged in as %s (%u messages, %llu "
		    "octets)", s->id, s->ip, user, maildrop_count(s->md),
		    maildrop_live_size(s->md));
		reply_ok(s, "Logged in, %u messages (%llu octets)",
		    maildrop_count(s->md), maildrop_live_size(s->md));
		break;
	case MD_IN_USE:
		log_msg(LOG_POP, "%s: %s: mailbox of %s in use", s->id, s->ip,
		    user);
		reply_err(s, "[IN-USE] Mailbox is locked by another POP3 "
		    "session");
		break;
	case MD_LOGIN_DELAY:
		log_msg(LOG_POP, "%s: %s: %s logged in too recently", s->id,
		    s->ip, user);
		reply_err(s, "[LOGIN-DELAY] Logged in too recently, try "
		    "again in %lld seconds", wait);
		break;
	case MD_ERROR:
		log_exc(LOG_POP, "%s: mailbox of %s: %s", s->id, user, err);
		reply_err(s, "[SYS/TEMP] Cannot open the mailbox");
		break;
	}
	free(err);
	free(path);
	free(ddir);
}

static void
auth_done(const struct auth_result *r, void *arg)
{
	struct session *s = arg;

	s->auth_q = NULL;
	switch (r->status) {
	case AUTH_OK:
		auth_open(s, r->user);
		break;
	case AUTH_FAIL:
		log_msg(LOG_POP, "%s: %s login failed: %s", s->id, s->ip,
		    r->reason);
		/* Answered later: guessing costs time, nobody else waits. */
		s->fail_pending = true;
		s->wait = WAIT_DELAY;
		session_resume_after(s, POP3_FAIL_DELAY_MS);
		return;
	case AUTH_TEMPFAIL:
		log_exc(LOG_POP, "%s: %s login not checked: %s", s->id, s->ip,
		    r->reason);
		reply_err(s, "[SYS/TEMP] Authentication service unavailable, "
		    "try again later");
		break;
	}
	session_resume(s);
}

/* Credentials complete: ask the auth daemon, park until it answers. */
static void
auth_ask(struct session *s, struct auth_creds *cr)
{
	struct auth_request req = {
		.service = "pop", .ip = s->ip, .session = s->id,
	};

	auth_creds_request(cr, &req);
	s->auth_q = auth_client_ask(server_base(), pop3d.auth_sock, &req,
	    pop3d.auth_timeout_ms, auth_done, s);
	auth_creds_clear(cr);
	session_set_state(s, ST_AUTH);
	session_park(s, WAIT_AUTH);
}

void
cmd_user(struct session *s, const char *args, size_t len)
{
	if (auth_refuse_plain(s))
		return;
	if (len > 255 || memchr(args, ' ', len) != NULL) {
		reply_bad(s, "Invalid user name");
		return;
	}
	free(s->user);
	s->user = xstrndup(args, len);
	reply_ok(s, "Send your password");
}

void
cmd_pass(struct session *s, const char *args, size_t len)
{
	struct auth_creds cr = { 0 };
	const char *err;

	if (auth_refuse_plain(s))
		return;
	if (s->user == NULL) {
		reply_bad(s, "Send USER first");
		return;
	}
	if (auth_creds_login(&cr, s->user, strlen(s->user), args, len,
	    &err) < 0) {
		log_msg(LOG_POP, "%s: %s sent a malformed login: %s", s->id,
		    s->ip, err);
		auth_abort(s);
		reply_bad(s, "[AUTH] Invalid user name or password");
		return;
	}
	xfree(&s->user);
	auth_ask(s, &cr);
}

/* A base64 PLAIN message: the initial response or the answer to "+ ". */
static void
auth_plain(struct session *s, const char *b64, size_t len)
{
	struct auth_creds cr = { 0 };
	struct buf msg;
	const char *err;

	session_set_state(s, ST_AUTH);
	if (len == 1 && b64[0] == '*') {
		reply_err(s, "Authentication cancelled");
		return;
	}
	buf_init(&msg, 256, SASL_MAX_DECODED);
	if (sasl_b64_decode(b64, len, &msg, &err) < 0 ||
	    auth_creds_plain(&cr, buf_data(&msg), buf_len(&msg), &err) < 0) {
		log_msg(LOG_POP, "%s: %s sent a malformed AUTH PLAIN: %s",
		    s->id, s->ip, err);
		explicit_bzero(msg.data, msg.len);
		buf_release(&msg);
		reply_bad(s, "[AUTH] Invalid authentication response");
		return;
	}
	explicit_bzero(msg.data, msg.len);
	buf_release(&msg);
	auth_ask(s, &cr);
}

void
auth_line(struct session *s, const char *line, size_t len)
{
	auth_plain(s, line, len);
}

void
cmd_auth(struct session *s, const char *args, size_t len)
{
	size_t mlen = 0;

	/* No mechanism: the list (the draft Outlook and others follow). */
	if (len == 0) {
		reply_ok(s, "SASL mechanisms follow");
		if (auth_plain_ok(s))
			reply_line(s, "PLAIN");
		reply_line(s, ".");
		return;
	}
	while (mlen < len && args[mlen] != ' ')
		mlen++;
	if (mlen != 5 || strncasecmp(args, "PLAIN", 5) != 0) {
		reply_bad(s, "Unsupported authentication mechanism");
		return;
	}
	if (auth_refuse_plain(s))
		return;
	if (mlen < len) {
		auth_plain(s, args + mlen + 1, len - mlen - 1);
		return;
	}
	session_set_state(s, ST_SASL);
	reply_line(s, "+ ");
}
