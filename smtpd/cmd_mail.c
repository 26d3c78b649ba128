/*
 * cmd_mail - MAIL FROM:<path> [SIZE= BODY= SMTPUTF8 RET= ENVID= AUTH=]
 * (RFC 5321, 1870, 6152, 3030, 6531, 3461, 4954).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "log.h"
#include "session.h"
#include "smtpd.h"
#include "xalloc.h"

#define MAIL_MAX_PARAMS 16
#define ENVID_MAX 100           /* RFC 3461 4.4 */

struct mail_draft {
	unsigned long long size;
	enum smtp_body body;
	bool smtputf8;
	const char *ret;
	const char *envid;
	unsigned seen;              /* bit per parameter kind */
};

/* Parse one parameter into d; on error reply and return -1. */
static int
mail_param(struct session *s, struct mail_draft *d,
    const struct esmtp_param *p)
{
	static const char *const known[] = {
		"SIZE", "BODY", "SMTPUTF8", "RET", "ENVID", "AUTH",
	};
	unsigned k;
	char *end;

	for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
		if (strcmp(p->name, known[k]) == 0)
			break;
	if (k == sizeof(known) / sizeof(known[0])) {
		reply_bad(s, 555, "5.5.4", "Unsupported parameter %s", p->name);
		return -1;
	}
	if (d->seen & (1u << k)) {
		reply_bad(s, 501, "5.5.4", "Duplicate parameter %s", p->name);
		return -1;
	}
	d->seen |= 1u << k;
	if ((k == 2) != (p->value == NULL))
		goto bad;
	switch (k) {
	case 0:                                 /* SIZE */
		if (p->value[0] < '0' || p->value[0] > '9')
			goto bad;
		errno = 0;
		d->size = strtoull(p->value, &end, 10);
		if (*end != '\0')
			goto bad;
		if (errno == ERANGE)
			d->size = ~0ULL;        /* too big anyway */
		break;
	case 1:                                 /* BODY */
		if (strcasecmp(p->value, "7BIT") == 0)
			d->body = BODY_7BIT;
		else if (strcasecmp(p->value, "8BITMIME") == 0)
			d->body = BODY_8BITMIME;
		else if (strcasecmp(p->value, "BINARYMIME") == 0)
			d->body = BODY_BINARYMIME;
		else
			goto bad;
		break;
	case 2:                                 /* SMTPUTF8 */
		d->smtputf8 = true;
		break;
	case 3:                                 /* RET */
		if (strcasecmp(p->value, "FULL") == 0)
			d->ret = "FULL";
		else if (strcasecmp(p->value, "HDRS") == 0)
			d->ret = "HDRS";
		else
			goto bad;
		break;
	case 4:                                 /* ENVID */
		if (strlen(p->value) > ENVID_MAX ||
		    !esmtp_xtext_ok(p->value, false))
			goto bad;
		d->envid = p->value;
		break;
	case 5:         /* AUTH=: we trust no other server's word; ignored */
		if (strcmp(p->value, "<>") != 0 &&
		    !esmtp_xtext_ok(p->value, true))
			goto bad;
		break;
	}
	return 0;
bad:
	reply_bad(s, 501, "5.5.4", "Invalid parameter %s", p->name);
	return -1;
}

static int
mail_params(struct session *s, char *text, struct mail_draft *d)
{
	struct esmtp_param p[MAIL_MAX_PARAMS];
	int n = esmtp_params(text, p, MAIL_MAX_PARAMS);

	if (n < 0) {
		reply_bad(s, 501, "5.5.4", "Syntax error in parameters");
		return -1;
	}
	for (int i = 0; i < n; i++)
		if (mail_param(s, d, &p[i]) < 0)
			return -1;
	return 0;
}


/* Record the accepted MAIL as the new transaction. */
static void
mail_begin(struct session *s, const struct addr *a, const struct mail_draft *d,
    const struct policy_mail *pm)
{
	struct txn *t = &s->txn;
	char *sender = addr_format(a);

	memset(t, 0, sizeof(*t));
	spool_env_init(&t->env);
	spool_env_set_sender(&t->env, sender);
	t->pm = *pm;
	t->declared_size = d->size;
	t->max_size = smtpd.max_size;
	if (pm->max_size != 0 && (t->max_size == 0 || pm->max_size < t->max_size))
		t->max_size = pm->max_size;
	t->body = d->body;
	t->smtputf8 = d->smtputf8;
	t->envid = d->envid != NULL ? xstrdup(d->envid) : NULL;
	t->ret = d->ret != NULL ? xstrdup(d->ret) : NULL;
	s->in_txn = true;
	log_detail(LOG_SMTP, "%s: from=<%s> size=%llu", s->id, sender, d->size);
	free(sender);
}

void
cmd_mail(struct session *s, const char *args, size_t len)
{
	struct mail_draft d = { .body = BODY_7BIT };
	struct policy_mail pm;
	struct smtp_reply r;
	struct addr a = { 0 };
	const char *path, *err;
	size_t plen;
	char *params;

	if (esmtp_split(args, len, "FROM:", &path, &plen, &params) < 0) {
		reply_bad(s, 501, "5.5.4", "Syntax: MAIL FROM:<address> "
		    "[parameters]");
		return;
	}
	/* d points into params until mail_begin() copies what it keeps. */
	if (mail_params(s, params, &d) < 0)
		goto out;
	if (smtpd.max_size != 0 && d.size > smtpd.max_size) {
		reply(s, 552, "5.3.4", "Message size exceeds fixed maximum "
		    "message size (%llu)", smtpd.max_size);
		goto out;
	}
	if (!d.smtputf8 && esmtp_has_8bit(path, plen)) {
		reply_bad(s, 553, "5.6.7", "Non-ASCII address needs SMTPUTF8");
		goto out;
	}
	if (addr_parse(path, plen, ADDR_PATH | ADDR_ALLOW_NULL |
	    (d.smtputf8 ? ADDR_SMTPUTF8 : 0), &a, &err) < 0) {
		reply_bad(s, 501, "5.1.7", "Bad sender address syntax: %s", err);
		goto out;
	}
	if (smtpd.submission &&
	    !policy_authenticated(smtpd_policy, &s->client)) {
		reply(s, 530, "5.7.0", "Authentication required");
		goto out;
	}
	memset(&pm, 0, sizeof(pm));
	if (!policy_mail_from(smtpd_policy, &s->client, &a, d.size, &pm, &r)) {
		log_msg(LOG_SMTP, "%s: sender refused from %s: %d %s %s",
		    s->id, s->ip, r.code, r.enh, r.text);
		reply_policy(s, &r);
		goto out;
	}
	mail_begin(s, &a, &d, &pm);
	session_set_state(s, ST_MAIL);
	reply(s, 250, "2.1.0", "Ok");
out:
	addr_release(&a);
	free(params);
}
