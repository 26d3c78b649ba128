/*
 * cmd_starttls - STARTTLS (RFC 3207), on services with tls = starttls.
 *
 * Anything the client sent after the command, before the handshake, is
 * thrown away (tls_bev_starttls() drops the buffered input; the read
 * loop stops at once), so plaintext cannot be injected into the
 * encrypted session (CVE-2011-0411).  After the handshake the session
 * starts again from the greeting state: the client must EHLO again, and
 * nothing it said or did before counts (RFC 3207 section 4.2).
 */
#include <stdlib.h>

#include <event2/bufferevent.h>

#include "log.h"
#include "server.h"
#include "session.h"
#include "smtpd.h"
#include "tls.h"

bool
starttls_offered(const struct session *s)
{
	return s->starttls_ok && !s->client.tls;
}

void
cmd_starttls(struct session *s, const char *args, size_t len)
{
	struct bufferevent *t;

	(void)args; (void)len;
	if (s->client.tls) {
		reply_bad(s, 503, "5.5.1", "TLS already active");
		return;
	}
	if (!s->starttls_ok) {
		reply_bad(s, 502, "5.5.1", "STARTTLS not available");
		return;
	}
	reply(s, 220, "2.0.0", "Ready to start TLS");
	t = tls_bev_starttls(server_base(), server_tls_ctx(), s->bev);
	if (t == NULL) {
		log_exc(LOG_SMTP, "%s: cannot start TLS", s->id);
		reply(s, 454, "4.7.0", "TLS not available due to temporary "
		    "reason");
		session_close(s);
		return;
	}
	/* Forget the plaintext session: its name, its login, its line. */
	txn_reset(s);
	free(s->helo);
	s->helo = NULL;
	s->esmtp = false;
	free(s->auth_user);
	s->auth_user = NULL;
	s->client.auth_user = NULL;
	s->partial = false;
	session_set_state(s, ST_GREET);
	session_set_bev(s, t);
	session_park(s, WAIT_TLS);
}
