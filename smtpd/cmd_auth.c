/*
 * cmd_auth - AUTH (RFC 4954) with PLAIN (RFC 4616), LOGIN and CRAM-MD5
 * (RFC 2195).  smtpd runs the exchange; the auth daemon, which alone
 * reads password hashes, says yes or no (lib/auth_client.h).
 *
 * Offered only inside TLS unless smtp_auth_without_tls; LOGIN not at all
 * with smtp_disable_auth_login.  Not during a transaction, not twice.
 * Nothing of the exchange (user names typed, passwords, digests) is
 * logged; a successful login logs the canonical user.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth_client.h"
#include "buf.h"
#include "log.h"
#include "sasl.h"
#include "server.h"
#include "session.h"
#include "smtpd.h"
#include "xalloc.h"

struct auth_xchg {
	unsigned mech;          /* MECH_* */
	int step;               /* LOGIN: 0 user name next, 1 password */
	char *challenge;        /* CRAM-MD5 */
	struct buf *user;       /* LOGIN: the user name given */
};

static const struct {
	const char *name;
	unsigned bit;
} mechs[] = {
	{ "PLAIN", MECH_PLAIN },
	{ "LOGIN", MECH_LOGIN },
	{ "CRAM-MD5", MECH_CRAM },
};

bool
auth_offered(const struct session *s)
{
	return smtpd.mechs != 0 && (s->client.tls || smtpd.auth_without_tls);
}

void
auth_ehlo_line(struct session *s, bool last)
{
	char line[64] = "AUTH";

	for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (smtpd.mechs & mechs[i].bit) {
			strcat(line, " ");
			strcat(line, mechs[i].name);
		}
	reply_line(s, 250, last, "%s", line);
}

static void
auth_xchg_free(struct auth_xchg **axp)
{
	struct auth_xchg *ax = *axp;

	if (ax == NULL)
		return;
	free(ax->challenge);
	if (ax->user != NULL)
		explicit_bzero(ax->user->data, ax->user->len);
	buf_free(&ax->user);
	xfree(axp);
}

void
auth_abort(struct session *s)
{
	auth_client_cancel(&s->auth_q);
	auth_xchg_free(&s->ax);
}

/* The exchange is over without asking the daemon. */
static void
auth_stop(struct session *s)
{
	auth_xchg_free(&s->ax);
	session_set_state(s, ST_READY);
}

static void
auth_done(const struct auth_result *r, void *arg)
{
	struct session *s = arg;
	const char *mech = s->ax->mech == MECH_PLAIN ? "PLAIN" :
	    s->ax->mech == MECH_LOGIN ? "LOGIN" : "CRAM-MD5";

	s->auth_q = NULL;
	switch (r->status) {
	case AUTH_OK:
		s->auth_user = xstrdup(r->user);
		s->client.auth_user = s->auth_user;
		log_msg(LOG_SMTP, "%s: %s logged in as %s (%s)", s->id, s->ip,
		    s->auth_user, mech);
		auth_stop(s);
		reply(s, 235, "2.7.0", "Authentication successful");
		break;
	case AUTH_FAIL:
		log_msg(LOG_SMTP, "%s: %s login failed (%s): %s", s->id, s->ip,
		    mech, r->reason);
		auth_stop(s);
		reply_bad(s, 535, "5.7.8", "Authentication credentials invalid");
		break;
	case AUTH_TEMPFAIL:
		log_exc(LOG_SMTP, "%s: %s login not checked (%s): %s", s->id,
		    s->ip, mech, r->reason);
		auth_stop(s);
		reply(s, 454, "4.7.0", "Temporary authentication failure");
		break;
	}
	session_resume(s);
}

/* Credentials complete: ask the auth daemon, park until it answers. */
static void
auth_ask(struct session *s, struct auth_creds *cr)
{
	struct auth_request req = {
		.service = "smtp", .ip = s->ip, .session = s->id,
	};

	auth_creds_request(cr, &req);
	s->auth_q = auth_client_ask(server_base(), smtpd.auth_sock, &req,
	    smtpd.auth_timeout_ms, auth_done, s);
	auth_creds_clear(cr);
	session_park(s, WAIT_AUTH);
}

/* One decoded client message for the mechanism in progress. */
static void
auth_step(struct session *s, const char *msg, size_t len)
{
	struct auth_xchg *ax = s->ax;
	struct auth_creds cr = { 0 };
	const char *err = NULL;
	int rc = 0;

	switch (ax->mech) {
	case MECH_PLAIN:
		rc = auth_creds_plain(&cr, msg, len, &err);
		break;
	case MECH_LOGIN:
		if (ax->step == 0) {
			ax->user = buf_new(len + 1);
			buf_append(ax->user, msg, len);
			ax->step = 1;
			reply(s, 334, NULL, "UGFzc3dvcmQ6");   /* Password: */
			return;
		}
		rc = auth_creds_login(&cr, buf_data(ax->user),
		    buf_len(ax->user), msg, len, &err);
		break;
	case MECH_CRAM:
		rc = auth_creds_cram(&cr, ax->challenge, msg, len, &err);
		break;
	}
	if (rc < 0) {
		log_msg(LOG_SMTP, "%s: %s sent a malformed AUTH response: %s",
		    s->id, s->ip, err);
		auth_stop(s);
		reply_bad(s, 501, "5.5.2", "Invalid authentication response");
		return;
	}
	auth_ask(s, &cr);
}

/* Base64 from the client: an initial response or an answer to 334. */
static void
auth_response(struct session *s, const char *b64, size_t len)
{
	struct buf msg;
	const char *err;

	if (len == 1 && b64[0] == '*') {
		auth_stop(s);
		reply(s, 501, "5.0.0", "Authentication cancelled");
		return;
	}
	buf_init(&msg, 256, SASL_MAX_DECODED);
	if (sasl_b64_decode(b64, len, &msg, &err) < 0) {
		buf_release(&msg);
		auth_stop(s);
		reply_bad(s, 501, "5.5.2", "Cannot decode response");
		return;
	}
	auth_step(s, buf_data(&msg), buf_len(&msg));
	explicit_bzero(msg.data, msg.len);
	buf_release(&msg);
}

void
auth_line(struct session *s, const char *line, size_t len)
{
	auth_response(s, line, len);
}

void
cmd_auth(struct session *s, const char *args, size_t len)
{
	size_t mlen = 0, i;
	struct buf *b64;
	const char *ir;

	if (s->auth_user != NULL) {
		reply_bad(s, 503, "5.5.1", "Already authenticated");
		return;
	}
	if (!auth_offered(s)) {
		if (smtpd.mechs != 0 && starttls_offered(s))
			reply_bad(s, 538, "5.7.11", "Encryption required for "
			    "requested authentication mechanism");
		else
			reply_bad(s, 502, "5.5.1", "AUTH not available");
		return;
	}
	while (mlen < len && args[mlen] != ' ')
		mlen++;
	for (i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		if (strlen(mechs[i].name) == mlen &&
		    strncasecmp(args, mechs[i].name, mlen) == 0 &&
		    (smtpd.mechs & mechs[i].bit))
			break;
	if (i == sizeof(mechs) / sizeof(mechs[0])) {
		reply_bad(s, 504, "5.5.4", "Unrecognized authentication type");
		return;
	}
	ir = mlen < len ? args + mlen + 1 : NULL;
	if (ir != NULL && mechs[i].bit == MECH_CRAM) {
		reply_bad(s, 501, "5.5.2", "CRAM-MD5 takes no initial "
		    "response");
		return;
	}
	s->ax = xcalloc(1, sizeof(*s->ax));
	s->ax->mech = mechs[i].bit;
	session_set_state(s, ST_AUTH);
	if (ir != NULL) {
		auth_response(s, ir, len - (size_t)(ir - args));
		return;
	}
	switch (s->ax->mech) {
	case MECH_PLAIN:
		reply(s, 334, NULL, "%s", "");
		break;
	case MECH_LOGIN:
		reply(s, 334, NULL, "VXNlcm5hbWU6");         /* Username: */
		break;
	case MECH_CRAM:
		s->ax->challenge = sasl_cram_challenge(s->name);
		b64 = buf_new(128);
		sasl_b64_encode(s->ax->challenge, strlen(s->ax->challenge),
		    b64);
		reply(s, 334, NULL, "%s", buf_str(b64));
		buf_free(&b64);
		break;
	}
}
