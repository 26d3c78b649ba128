/*
 * cmd_misc - CAPA (RFC 2449), STLS (RFC 2595), NOOP, RSET and QUIT with
 * the UPDATE state (RFC 1939).
 *
 * CAPA tells the truth about this connection: USER and SASL PLAIN only
 * where a password may be sent (TLS, or the config allows plaintext),
 * STLS only on a STARTTLS service before TLS, and after login only what
 * still applies.  LOGIN-DELAY and EXPIRE are the configured values
 * (RFC 2449 sections 6.5 and 6.7; EXPIRE NEVER when pop_expire_days is
 * 0).
 */
#include <stdlib.h>

#include <event2/bufferevent.h>

#include "log.h"
#include "maildrop.h"
#include "pop3d.h"
#include "server.h"
#include "session.h"
#include "tls.h"

bool
stls_offered(const struct session *s)
{
	return s->starttls_ok && !s->tls;
}

void
cmd_capa(struct session *s, const char *args, size_t len)
{
	bool before = s->state == ST_AUTH;

	(void)args; (void)len;
	reply_ok(s, "Capability list follows");
	reply_line(s, "TOP");
	reply_line(s, "UIDL");
	reply_line(s, "RESP-CODES");
	reply_line(s, "AUTH-RESP-CODE");
	reply_line(s, "PIPELINING");
	if (pop3d.expire_days == 0)
		reply_line(s, "EXPIRE NEVER");
	else
		reply_line(s, "EXPIRE %u", pop3d.expire_days);
	if (pop3d.login_delay_s > 0)
		reply_line(s, "LOGIN-DELAY %lld", pop3d.login_delay_s);
	if (before && auth_plain_ok(s)) {
		reply_line(s, "USER");
		reply_line(s, "SASL PLAIN");
	}
	if (before && stls_offered(s))
		reply_line(s, "STLS");
	reply_line(s, "IMPLEMENTATION Tern");
	reply_line(s, ".");
}

void
cmd_stls(struct session *s, const char *args, size_t len)
{
	struct bufferevent *t;

	(void)args; (void)len;
	if (s->tls) {
		reply_bad(s, "TLS already active");
		return;
	}
	if (!s->starttls_ok) {
		reply_bad(s, "STLS not available");
		return;
	}
	reply_ok(s, "Begin TLS negotiation");
	t = tls_bev_starttls(server_base(), server_tls_ctx(), s->bev);
	if (t == NULL) {
		log_exc(LOG_POP, "%s: cannot start TLS", s->id);
		reply_err(s, "[SYS/TEMP] TLS not available");
		session_close(s);
		return;
	}
	/* Forget what was said in clear (RFC 2595 section 4). */
	auth_abort(s);
	s->partial = false;
	session_set_bev(s, t);
	session_park(s, WAIT_TLS);
}

void
cmd_noop(struct session *s, const char *args, size_t len)
{
	(void)args; (void)len;
	reply_ok(s, "%s", "");
}

void
cmd_rset(struct session *s, const char *args, size_t len)
{
	(void)args; (void)len;
	maildrop_reset(s->md);
	s->deleted = 0;
	reply_ok(s, "%u messages (%llu octets)", maildrop_live(s->md),
	    maildrop_live_size(s->md));
}

void
cmd_quit(struct session *s, const char *args, size_t len)
{
	(void)args; (void)len;
	if (s->state == ST_AUTH) {
		reply_ok(s, "Bye");
		session_close(s);
		return;
	}
	session_set_state(s, ST_UPDATE);
	update_step(s);
}

/*
 * UPDATE: POP3_UPDATE_BATCH removals per turn of the loop; the answer
 * once all are done and the directory is on disk (RFC 1939 section 6:
 * -ERR if some could not be removed).  The lock goes with the maildrop.
 */
void
update_step(struct session *s)
{
	unsigned removed, failed;

	if (!maildrop_update(s->md, POP3_UPDATE_BATCH, &removed, &failed)) {
		session_resume(s);      /* the next batch, next turn */
		return;
	}
	maildrop_free(&s->md);
	if (removed > 0 || failed > 0)
		log_msg(LOG_POP, "%s: %s removed %u message%s%s", s->id,
		    s->login, removed, removed == 1 ? "" : "s",
		    failed > 0 ? " (some could not be)" : "");
	if (failed > 0)
		reply_err(s, "[SYS/PERM] %u message%s could not be deleted",
		    failed, failed == 1 ? "" : "s");
	else
		reply_ok(s, "Logging out, %u message%s deleted", removed,
		    removed == 1 ? "" : "s");
	session_close(s);
}
