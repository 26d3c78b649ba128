/*
 * cmd_auth - the commands of the not-authenticated state and the ones
 * that are legal everywhere: CAPABILITY, NOOP, LOGOUT, ID, STARTTLS,
 * LOGIN, AUTHENTICATE PLAIN/LOGIN (SASL-IR too), ENABLE, NAMESPACE.
 *
 * Passwords go to the auth daemon (lib/auth_client.h), which logs failed
 * logins with the client's address for abuse detection.  Without TLS they
 * are refused (LOGINDISABLED) unless imap_plaintext_without_tls, or the
 * client is on loopback and imap_plaintext_loopback.  A failed login is
 * answered after a pause (a timer: the process goes on serving others).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>

#include "auth_client.h"
#include "imapd.h"
#include "log.h"
#include "mailbox.h"
#include "maildir.h"
#include "sasl.h"
#include "server.h"
#include "tls.h"
#include "xalloc.h"

#define FAIL_DELAY_MS 500

struct sasl_state {
	int mech;               /* 0 PLAIN, 1 LOGIN */
	int step;
	struct buf *user;
};

void
cmd_capability(struct session *s, const char *tag, struct imap_arg *a,
    size_t n, bool uid)
{
	(void)a; (void)uid;
	if (n != 0) {
		session_bad(s, tag, "CAPABILITY takes no arguments");
		return;
	}
	out(s, "* CAPABILITY %s\r\n", session_capability(s));
	tagged(s, tag, "OK CAPABILITY completed");
}

void
cmd_noop(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	(void)a; (void)n; (void)uid;
	session_update(s, true);
	tagged(s, tag, "OK NOOP completed");
}

void
cmd_logout(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	(void)a; (void)n; (void)uid;
	out(s, "* BYE Logging out\r\n");
	tagged(s, tag, "OK LOGOUT completed");
	session_close(s, NULL);
}

void
cmd_id(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	(void)uid;
	if (n != 1 || (a[0].type != IMAP_ARG_NIL &&
	    a[0].type != IMAP_ARG_LIST)) {
		session_bad(s, tag, "ID takes a list or NIL");
		return;
	}
	out(s, "* ID (\"name\" \"Tern\" \"vendor\" \"Tern\")\r\n");
	tagged(s, tag, "OK ID completed");
}

void
cmd_enable(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	bool any = false;

	(void)uid;
	if (n == 0) {
		session_bad(s, tag, "ENABLE what?");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (a[i].type != IMAP_ARG_ATOM) {
			session_bad(s, tag, "ENABLE takes atoms");
			return;
		}
		if (strcasecmp(a[i].s, "CONDSTORE") == 0 && !s->condstore) {
			s->condstore = true;
			if (!any)
				out(s, "* ENABLED");
			out(s, " CONDSTORE");
			any = true;
		}
	}
	if (any)
		out(s, "\r\n");
	else
		out(s, "* ENABLED\r\n");
	tagged(s, tag, "OK ENABLE completed");
}

void
cmd_namespace(struct session *s, const char *tag, struct imap_arg *a,
    size_t n, bool uid)
{
	(void)a; (void)uid;
	if (n != 0) {
		session_bad(s, tag, "NAMESPACE takes no arguments");
		return;
	}
	out(s, "* NAMESPACE ((\"\" \".\")) NIL NIL\r\n");
	tagged(s, tag, "OK NAMESPACE completed");
}

void
cmd_starttls(struct session *s, const char *tag, struct imap_arg *a,
    size_t n, bool uid)
{
	struct bufferevent *t;

	(void)a; (void)uid;
	if (n != 0) {
		session_bad(s, tag, "STARTTLS takes no arguments");
		return;
	}
	if (s->tls || server_tls_ctx() == NULL) {
		tagged(s, tag, "BAD TLS not available");
		return;
	}
	tagged(s, tag, "OK Begin TLS negotiation now");
	t = tls_bev_starttls(server_base(), server_tls_ctx(), s->bev);
	if (t == NULL) {
		session_close(s, "TLS failed");
		return;
	}
	s->bev = t;
	s->tls = true;
	s->starttls_done = true;
	imap_parser_reset(s->parser);
	session_rebind(s);
}

/* --- logins ------------------------------------------------------------ */

static void
login_success(struct session *s, const char *user)
{
	const char *at = strrchr(user, '@');
	struct acct_domain d;
	char *local, *err = NULL;
	const char *rec;
	size_t len;

	if (at == NULL || accounts_domain(imapd_accounts, at + 1, &d) != 1) {
		log_exc(LOG_IMAP, "%s: no domain for %s", s->id, user);
		tagged(s, s->tag, "NO [UNAVAILABLE] Mailbox not available");
		return;
	}
	local = xstrndup(user, (size_t)(at - user));
	s->home = mailbox_path(&d, local);
	s->ddir = mailbox_domain_dir(&d);
	if (accounts_user(imapd_accounts, local, d.name, &rec, &len) == 1)
		s->quota = (unsigned long long)acct_field_int(rec, len,
		    "quota", 0);
	free(local);
	if (maildir_create(s->home, &err) < 0) {
		log_exc(LOG_IMAP, "%s: %s", s->id, err);
		free(err);
		free(s->home);
		s->home = NULL;
		tagged(s, s->tag, "NO [SERVERBUG] Cannot open the mailbox");
		return;
	}
	s->user = xstrdup(user);
	folders_init_user(s);
	session_enter(s, ST_AUTH);
	log_msg(LOG_IMAP, "%s: login user=%s ip=%s%s", s->id, user, s->ip,
	    s->tls ? " tls" : "");
	tagged(s, s->tag, "OK [CAPABILITY %s] Logged in",
	    session_capability(s));
}

static void
auth_done(const struct auth_result *r, void *arg)
{
	struct session *s = arg;

	s->aq = NULL;
	s->wait = W_NONE;
	if (r->status == AUTH_OK) {
		login_success(s, r->user);
	} else if (r->status == AUTH_TEMPFAIL) {
		log_exc(LOG_IMAP, "%s: auth unavailable: %s", s->id,
		    r->reason);
		tagged(s, s->tag, "NO [UNAVAILABLE] Authentication "
		    "temporarily unavailable");
	} else {
		log_detail(LOG_IMAP, "%s: login failed ip=%s: %s", s->id,
		    s->ip, r->reason);
		s->wait = W_DELAY;
		session_timer(s, FAIL_DELAY_MS);
		if (++s->bad >= imapd.max_bad) {
			s->wait = W_NONE;
			session_close(s, "Too many failed logins");
		}
		return;
	}
	free(s->tag);
	s->tag = NULL;
	session_resume(s);
}

static void
auth_ask(struct session *s, const char *tag, struct auth_creds *cr)
{
	struct auth_request req = { .service = "imap", .ip = s->ip,
	    .session = s->id };

	auth_creds_request(cr, &req);
	free(s->tag);
	s->tag = xstrdup(tag);
	s->wait = W_AUTH;
	s->aq = auth_client_ask(server_base(), imapd.auth_sock, &req,
	    imapd.auth_timeout_ms, auth_done, s);
	auth_creds_clear(cr);
}

void
cmd_login(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	struct auth_creds cr = { 0 };
	const char *err;

	(void)uid;
	if (n != 2 || !imap_arg_astring(&a[0]) || !imap_arg_astring(&a[1])) {
		session_bad(s, tag, "LOGIN user password");
		return;
	}
	if (!session_plaintext_ok(s)) {
		tagged(s, tag, "NO [PRIVACYREQUIRED] Use STARTTLS first");
		return;
	}
	if (auth_creds_login(&cr, a[0].s, a[0].len, a[1].s, a[1].len,
	    &err) < 0) {
		tagged(s, tag, "NO [AUTHENTICATIONFAILED] %s", err);
		return;
	}
	auth_ask(s, tag, &cr);
}

void
sasl_free(struct session *s)
{
	if (s->sasl == NULL)
		return;
	if (s->sasl->user != NULL)
		explicit_bzero(s->sasl->user->data, s->sasl->user->len);
	buf_free(&s->sasl->user);
	free(s->sasl);
	s->sasl = NULL;
}

/* One decoded SASL message: the step after it, or the request. */
static void
sasl_step(struct session *s, const char *msg, size_t len)
{
	struct auth_creds cr = { 0 };
	const char *err;
	int rc;

	if (s->sasl->mech == 0) {
		rc = auth_creds_plain(&cr, msg, len, &err);
	} else if (s->sasl->step == 0) {
		s->sasl->user = buf_new(len + 1);
		buf_append(s->sasl->user, msg, len);
		s->sasl->step = 1;
		s->wait = W_SASL;
		out(s, "+ UGFzc3dvcmQ6\r\n");
		return;
	} else {
		rc = auth_creds_login(&cr, s->sasl->user->data,
		    s->sasl->user->len, msg, len, &err);
	}
	sasl_free(s);
	if (rc < 0) {
		s->wait = W_NONE;
		tagged(s, s->tag, "NO [AUTHENTICATIONFAILED] %s", err);
		return;
	}
	char *tag = xstrdup(s->tag);
	auth_ask(s, tag, &cr);
	free(tag);
}

static void
sasl_decode_step(struct session *s, const char *b64, size_t len)
{
	struct buf *dec = buf_new(64);
	const char *err;

	if (sasl_b64_decode(b64, len, dec, &err) < 0) {
		s->wait = W_NONE;
		sasl_free(s);
		tagged(s, s->tag, "BAD Invalid base64");
	} else
		sasl_step(s, dec->data, dec->len);
	explicit_bzero(dec->data, dec->len);
	buf_free(&dec);
}

void
sasl_line(struct session *s, const char *line, size_t len)
{
	s->wait = W_NONE;
	if (len == 1 && line[0] == '*') {
		sasl_free(s);
		tagged(s, s->tag, "BAD Authentication cancelled");
		return;
	}
	sasl_decode_step(s, line, len);
}

void
cmd_authenticate(struct session *s, const char *tag, struct imap_arg *a,
    size_t n, bool uid)
{
	int mech;

	(void)uid;
	if (n < 1 || n > 2 || a[0].type != IMAP_ARG_ATOM ||
	    (n == 2 && a[1].type != IMAP_ARG_ATOM)) {
		session_bad(s, tag, "AUTHENTICATE mechanism [initial]");
		return;
	}
	if (strcasecmp(a[0].s, "PLAIN") == 0)
		mech = 0;
	else if (strcasecmp(a[0].s, "LOGIN") == 0)
		mech = 1;
	else {
		tagged(s, tag, "NO Unsupported mechanism");
		return;
	}
	if (!session_plaintext_ok(s)) {
		tagged(s, tag, "NO [PRIVACYREQUIRED] Use STARTTLS first");
		return;
	}
	sasl_free(s);
	s->sasl = xcalloc(1, sizeof(*s->sasl));
	s->sasl->mech = mech;
	free(s->tag);
	s->tag = xstrdup(tag);
	if (n == 2) {
		sasl_decode_step(s, a[1].s, a[1].len);
		return;
	}
	s->wait = W_SASL;
	out(s, mech == 0 ? "+ \r\n" : "+ VXNlcm5hbWU6\r\n");
}
