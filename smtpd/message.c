/*
 * message - the spool side of a transaction: open the message file with
 * its envelope and Received header when the data starts, and at its
 * end either refuse it (nothing stays behind) or commit it and answer
 * 250 with the queue id once the file and its directory are on disk.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "queue_notify.h"
#include "server.h"
#include "session.h"
#include "smtpd.h"
#include "xalloc.h"

static const char *const body_names[] = { "7BIT", "8BITMIME", "BINARYMIME" };

/* Envelope facts the queue, bounces and the logs need later. */
static void
message_params(struct session *s)
{
	struct spool_envelope *e = &s->txn.env;
	char num[32];

	spool_env_set_param(e, "client", s->ip);
	if (s->rdns != NULL)
		spool_env_set_param(e, "client_name", s->rdns);
	spool_env_set_param(e, "helo", s->helo);
	spool_env_set_param(e, "auth", s->auth_user != NULL ? s->auth_user :
	    "");
	spool_env_set_param(e, "body", body_names[s->txn.body]);
	spool_env_set_param(e, "smtputf8", s->txn.smtputf8 ? "yes" : "no");
	if (s->txn.envid != NULL)
		spool_env_set_param(e, "envid", s->txn.envid);
	if (s->txn.ret != NULL)
		spool_env_set_param(e, "ret", s->txn.ret);
	if (s->txn.declared_size != 0) {
		snprintf(num, sizeof(num), "%llu", s->txn.declared_size);
		spool_env_set_param(e, "size", num);
	}
	spool_env_set_param(e, "service", server_service());
	spool_env_set_param(e, "session", s->id);
	if (s->client.tls && s->tls_desc != NULL) {
		/* "TLSv1.3 TLS_AES_256_GCM_SHA384 (256 bits)": no blanks
		 * allowed in the spool, keep version/cipher. */
		char *t = xstrdup(s->tls_desc), *sp = strchr(t, ' ');

		if (sp != NULL) {
			*sp = '/';
			sp = strchr(sp, ' ');
			if (sp != NULL)
				*sp = '\0';
		}
		spool_env_set_param(e, "tls", t);
		free(t);
	} else
		spool_env_set_param(e, "tls", "none");
}

int
message_open(struct session *s, bool dot_mode, bool binary)
{
	struct txn *t = &s->txn;
	struct spool_file *f;
	const char *err;

	message_params(s);
	f = spool_file_new(smtpd_spool, &t->env, &err);
	if (f == NULL) {
		log_exc(LOG_SMTP, "%s: cannot create a spool file: %s", s->id,
		    err);
		return -1;
	}
	memcpy(t->qid, spool_file_id(f), sizeof(t->qid));
	if (received_write(s, f) < 0) {
		log_exc(LOG_SMTP, "%s: cannot write spool file: %m", t->qid);
		spool_file_abort(&f);
		return -1;
	}
	log_msg(LOG_SMTP, "%s: session=%s client=%s from=<%s> nrcpt=%zu", t->qid,
	    s->id, s->ip, t->env.sender, t->env.nrcpts);
	rx_start(&t->rx, f, dot_mode, binary, smtpd.bare_reject,
	    smtpd.text_max, t->max_size, smtpd.max_hops,
	    dot_mode ? s->last_crlf : true);
	return 0;
}

/* The message went wrong while it arrived; say why, keep nothing. */
static void
message_refuse(struct session *s)
{
	const struct rx *r = &s->txn.rx;
	struct smtp_reply rep;

	if (r->write_errno != 0)
		policy_reply(&rep, 452, "4.3.1", "Insufficient system storage");
	else if (r->too_big)
		policy_reply(&rep, 552, "5.3.4", "Message too big (limit %llu "
		    "bytes)", s->txn.max_size);
	else if (r->too_long)
		policy_reply(&rep, 554, "5.6.0", "Message has a line longer "
		    "than %zu bytes", smtpd.text_max + 2);
	else if (r->bare)
		policy_reply(&rep, 554, "5.6.0", "Message contains bare CR "
		    "or LF");
	else
		policy_reply(&rep, 554, "5.4.6", "Too many hops (%u Received "
		    "headers), possible mail loop", r->hops);
	if (r->write_errno != 0)
		log_exc(LOG_SMTP, "%s: cannot write the spool file: %s",
		    s->txn.qid, strerror(r->write_errno));
	log_msg(LOG_SMTP, "%s: refused from %s: %d %s %s", s->txn.qid, s->ip,
	    rep.code, rep.enh, rep.text);
	reply_policy(s, &rep);
	txn_reset(s);
}

static void
message_committed(bool ok, const char *error, void *arg)
{
	struct session *s = arg;
	struct txn *t = &s->txn;

	if (ok) {
		log_msg(LOG_SMTP, "%s: queued size=%llu nrcpt=%zu%s", t->qid,
		    t->rx.size, t->env.nrcpts, s->gone ?
		    " (client already gone)" : "");
		queue_notify(t->qid, spool_subspool_of(smtpd_spool, t->qid));
	} else
		log_exc(LOG_SMTP, "%s: cannot commit to the spool: %s", t->qid,
		    error);
	if (s->gone) {
		session_commit_done(s);
		return;
	}
	s->commit_pending = false;
	if (ok) {
		s->msgs++;
		reply(s, 250, "2.0.0", "Ok: queued as %s", t->qid);
	} else
		reply(s, 452, "4.3.1", "Insufficient system storage");
	txn_reset(s);
	session_resume(s);
}

void
message_end(struct session *s)
{
	struct spool_file *f;

	if (rx_failed(&s->txn.rx)) {
		message_refuse(s);
		return;
	}
	f = rx_take_file(&s->txn.rx);
	ASSERT(f != NULL);
	s->commit_pending = true;
	session_park(s, WAIT_COMMIT);
	spool_file_commit_async(&f, server_base(), message_committed, s);
}
