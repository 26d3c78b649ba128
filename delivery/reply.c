/*
 * reply - a user's auto-responder (users file: autoreply, autoreply_*).
 *
 * After a user got the message (or had it forwarded), a reply goes to
 * the envelope sender when: autoreply = yes and autoreply_until is not
 * past; the message is not at or above the domain's
 * autoresponder_exclusions spam level; lib/autoreply's RFC 3834 rules
 * allow it; and, when the domain sets autoresponder_once_per_day (the
 * default), no reply went to that sender in the last 24 hours (memory:
 * tern-autoreply in the user's mailbox).  Mail that reached the user
 * through the catch-all gets no reply (resolve.c).
 *
 * The reply is queued like any message: null envelope sender (so nothing
 * answers it), one recipient, param kind=autoreply, and the domain's
 * priority_autoresponders as its priority when set.  A reply that cannot
 * be queued is logged and forgotten; the delivery itself stands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoreply.h"
#include "buf.h"
#include "delivery.h"
#include "log.h"
#include "maildir.h"
#include "spool.h"
#include "xalloc.h"

#define REPLY_MEMORY_FILE "tern-autoreply"

/* A record value as a fresh string, or NULL. */
static char *
reply_field(const char *rec, size_t len, const char *key)
{
	size_t n;
	const char *v = acct_field(rec, len, key, &n);

	return v != NULL && n > 0 ? xstrndup(v, n) : NULL;
}

/* Every reason not to reply, cheapest first; NULL when we may. */
static const char *
reply_refused(struct job *jb, const struct ldomain *d, const char *key,
    const char *urec, size_t ulen)
{
	struct autoreply_facts f = {
		.sender = jb->dj->sender,
		.user = key,
		.auto_submitted = jb->msg.auto_submitted,
		.precedence = jb->msg.precedence,
		.list = jb->msg.list,
	};
	char *until;
	const char *why;
	bool expired;

	until = reply_field(urec, ulen, "autoreply_until");
	expired = autoreply_expired(until, jb->now);
	free(until);
	if (expired)
		return "autoreply_until has passed";
	if (autoreply_allowed(&f, &why) == 0)
		return why;
	if (jb->msg.spam != SPAM_NONE && (int)jb->msg.spam >=
	    domain_exclusion(d, "autoresponder_exclusions"))
		return "spam level at the domain's autoresponder_exclusions";
	return NULL;
}

/* The once-a-day memory; true when this sender may have a reply. */
static bool
reply_once(struct job *jb, const struct ldomain *d, const char *key)
{
	const char *at = strrchr(key, '@');
	char *local, *udir, *path, *err = NULL;
	int r = -1;

	if (!acct_field_bool(d->rec, d->reclen, "autoresponder_once_per_day",
	    true))
		return true;
	local = xstrndup(key, (size_t)(at - key));
	udir = local_mailbox(d, local);
	/* A user who forwards everything may have no mailbox yet. */
	if (maildir_create(udir, &err) == 0) {
		path = xasprintf("%s/%s", udir, REPLY_MEMORY_FILE);
		r = autoreply_remember(path, jb->dj->sender, jb->now,
		    AUTOREPLY_DAY);
		if (r < 0)
			log_exc(LOG_DELIVERY, "%s: <%s>: %s: %m; no auto-reply",
			    jb->dj->id, key, path);
		free(path);
	} else {
		log_exc(LOG_DELIVERY, "%s: <%s>: %s", jb->dj->id, key, err);
		free(err);
	}
	free(udir);
	free(local);
	if (r == 0)
		log_detail(LOG_DELIVERY, "%s: <%s>: no auto-reply: <%s> had "
		    "one today", jb->dj->id, key, jb->dj->sender);
	return r == 1;
}

static void
reply_send(struct job *jb, const struct ldomain *d, const char *key,
    const char *urec, size_t ulen)
{
	struct spool_envelope e;
	struct buf text;
	char *subject = reply_field(urec, ulen, "autoreply_subject");
	char *body = reply_field(urec, ulen, "autoreply_text");
	char *name = reply_field(urec, ulen, "name");
	char *uniq = maildir_unique(), *qid = NULL;
	long long prio = acct_field_int(d->rec, d->reclen,
	    "priority_autoresponders", 0);
	struct autoreply_msg m = {
		.from = key, .from_name = name, .to = jb->dj->sender,
		.subject = subject, .orig_subject = jb->msg.subject,
		.orig_msgid = jb->msg.msgid, .orig_refs = jb->msg.refs,
		.text = body, .id = uniq, .host = D.names.host, .now = jb->now,
	};
	const char *err;

	buf_init(&text, 1024, 0);
	autoreply_compose(&text, &m);
	spool_env_init(&e);
	e.time = (long long)jb->now;
	spool_env_set_sender(&e, "");
	spool_env_add_rcpt(&e, jb->dj->sender, NULL, NULL);
	spool_env_set_param(&e, "kind", "autoreply");
	spool_env_set_param(&e, "parent", jb->dj->id);
	if (prio > 0) {
		char num[32];

		snprintf(num, sizeof(num), "%lld", prio);
		spool_env_set_param(&e, "priority", num);
	}
	if (forward_spool(&e, text.data, text.len, -1, &qid, &err) < 0)
		log_exc(LOG_DELIVERY, "%s: <%s>: cannot queue the auto-reply "
		    "to <%s>: %s", jb->dj->id, key, jb->dj->sender, err);
	else
		log_msg(LOG_DELIVERY, "%s: <%s>: auto-reply to <%s> queued as "
		    "%s", jb->dj->id, key, jb->dj->sender, qid);
	spool_env_release(&e);
	buf_release(&text);
	free(qid);
	free(uniq);
	free(name);
	free(body);
	free(subject);
}

void
reply_maybe(struct job *jb, const struct ldomain *d, const char *key,
    const char *urec, size_t ulen)
{
	const char *why;

	if (!acct_field_bool(urec, ulen, "autoreply", false))
		return;
	why = reply_refused(jb, d, key, urec, ulen);
	if (why != NULL) {
		log_detail(LOG_DELIVERY, "%s: <%s>: no auto-reply: %s",
		    jb->dj->id, key, why);
		return;
	}
	if (reply_once(jb, d, key))
		reply_send(jb, d, key, urec, ulen);
}
