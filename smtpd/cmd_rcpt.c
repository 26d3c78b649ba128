/* cmd_rcpt - RCPT TO:<path> [NOTIFY= ORCPT=] (RFC 5321, RFC 3461) */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "log.h"
#include "mxaddrs.h"
#include "server.h"
#include "session.h"
#include "smtpd.h"
#include "xalloc.h"

#define RCPT_MAX_PARAMS 8
#define ORCPT_MAX 500

/*
 * NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1),
 * into canonical upper case in out.  False if malformed.
 */
static bool
rcpt_notify(const char *v, char out[32])
{
	static const char *const words[] = { "SUCCESS", "FAILURE", "DELAY" };
	unsigned seen = 0;
	const char *p = v, *comma;
	size_t n, i;

	if (strcasecmp(v, "NEVER") == 0) {
		strcpy(out, "NEVER");
		return true;
	}
	out[0] = '\0';
	for (;;) {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		for (i = 0; i < 3; i++)
			if (strlen(words[i]) == n &&
			    strncasecmp(p, words[i], n) == 0)
				break;
		if (i == 3 || (seen & (1u << i)))
			return false;
		seen |= 1u << i;
		if (out[0] != '\0')
			strcat(out, ",");
		strcat(out, words[i]);
		if (comma == NULL)
			return true;
		p = comma + 1;
	}
}

/* ORCPT=addr-type;xtext, e.g. rfc822;user+40example.com (RFC 3461 4.2). */
static bool
rcpt_orcpt(const char *v, bool utf8)
{
	const char *semi = strchr(v, ';');

	if (semi == NULL || semi == v || strlen(v) > ORCPT_MAX ||
	    semi[1] == '\0')
		return false;
	for (const char *p = v; p < semi; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			return false;
	return esmtp_xtext_ok(semi + 1, utf8);
}

/* Parse the parameters into notify/orcpt; on error reply, return -1. */
static int
rcpt_params(struct session *s, char *text, char notify[32],
    const char **orcpt_r)
{
	struct esmtp_param p[RCPT_MAX_PARAMS];
	int n = esmtp_params(text, p, RCPT_MAX_PARAMS);
	bool have_notify = false;

	if (n < 0) {
		reply_bad(s, 501, "5.5.4", "Syntax error in parameters");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (strcmp(p[i].name, "NOTIFY") == 0 && !have_notify) {
			have_notify = true;
			if (p[i].value == NULL || !rcpt_notify(p[i].value, notify))
				goto bad;
		} else if (strcmp(p[i].name, "ORCPT") == 0 && *orcpt_r == NULL) {
			if (p[i].value == NULL ||
			    !rcpt_orcpt(p[i].value, s->txn.smtputf8))
				goto bad;
			*orcpt_r = p[i].value;
		} else if (strcmp(p[i].name, "NOTIFY") == 0 ||
		    strcmp(p[i].name, "ORCPT") == 0) {
			reply_bad(s, 501, "5.5.4", "Duplicate parameter %s",
			    p[i].name);
			return -1;
		} else {
			reply_bad(s, 555, "5.5.4", "Unsupported parameter %s",
			    p[i].name);
			return -1;
		}
		continue;
bad:
		reply_bad(s, 501, "5.5.4", "Invalid parameter %s", p[i].name);
		return -1;
	}
	return 0;
}

static bool
rcpt_known(const struct spool_envelope *e, const char *addr)
{
	for (size_t i = 0; i < e->nrcpts; i++)
		if (strcmp(e->rcpts[i].addr, addr) == 0)
			return true;
	return false;
}

static unsigned
rcpt_limit(const struct session *s)
{
	unsigned m = s->txn.pm.max_rcpts;

	return m != 0 && m < smtpd.max_rcpts ? m : smtpd.max_rcpts;
}

static void
rcpt_refused(struct session *s, const char *rcpt, const struct smtp_reply *r)
{
	log_msg(LOG_SMTP, "%s: recipient <%s> refused from %s: %d %s %s",
	    s->id, rcpt, s->ip, r->code, r->enh, r->text);
	reply_bad_rcpt(s, r);
}

static void
rcpt_accepted(struct session *s, const char *rcpt, const char *notify,
    const char *orcpt, const char *kind)
{
	struct txn *t = &s->txn;

	/* The same address twice would be delivered twice. */
	if (!rcpt_known(&t->env, rcpt))
		spool_env_add_rcpt(&t->env, rcpt, notify[0] != '\0' ? notify :
		    NULL, orcpt);
	log_detail(LOG_SMTP, "%s: to=<%s> (%s)", s->id, rcpt,
	    kind[0] != '\0' ? kind : "?");
	session_set_state(s, ST_RCPT);
	reply(s, 250, "2.1.5", "Ok");
}

/* A recipient parked for the backup-MX check (routing.conf [smarthost]). */
struct rcpt_wait {
	char *rcpt, *domain, *orcpt;
	char notify[32];
	struct smtp_reply refusal;      /* the answer if we are not its MX */
};

void
rcpt_wait_free(struct rcpt_wait **wp)
{
	struct rcpt_wait *w = *wp;

	if (w == NULL)
		return;
	*wp = NULL;
	free(w->rcpt);
	free(w->domain);
	free(w->orcpt);
	free(w);
}

static void
rcpt_mx_done(enum mxaddrs_status st, const struct sockaddr_storage *addrs,
    size_t n, const char *err, void *arg)
{
	struct session *s = arg;
	struct rcpt_wait *w = s->rcpt_w;
	struct policy_rcpt pr;
	struct smtp_reply r;

	s->mx_q = NULL;
	memset(&pr, 0, sizeof(pr));
	if (st == MXA_OK && policy_rcpt_backup_mx(smtpd_policy, addrs, n, &pr))
		rcpt_accepted(s, w->rcpt, w->notify, w->orcpt, pr.kind);
	else if (st == MXA_TEMPFAIL) {
		/* Maybe ours to back up: the sender should try again. */
		policy_reply(&r, 451, "4.4.3", "Cannot look up the mail "
		    "servers of %s; try again later", w->domain);
		log_msg(LOG_SMTP, "%s: recipient <%s> deferred from %s: MX "
		    "check: %s", s->id, w->rcpt, s->ip, err);
		reply_policy(s, &r);
	} else
		rcpt_refused(s, w->rcpt, &w->refusal);
	rcpt_wait_free(&s->rcpt_w);
	session_resume(s);
}

static void
rcpt_ask_mx(struct session *s, const struct addr *a, const char *notify,
    const char *orcpt, const struct smtp_reply *refusal)
{
	struct rcpt_wait *w = xcalloc(1, sizeof(*w));

	w->rcpt = addr_format(a);
	w->domain = xstrdup(a->domain);
	w->orcpt = orcpt != NULL ? xstrdup(orcpt) : NULL;
	snprintf(w->notify, sizeof(w->notify), "%s", notify);
	w->refusal = *refusal;
	s->rcpt_w = w;
	s->mx_q = mxaddrs_lookup(server_base(), w->domain, rcpt_mx_done, s);
	session_park(s, WAIT_MX);
}

void
cmd_rcpt(struct session *s, const char *args, size_t len)
{
	struct txn *t = &s->txn;
	struct policy_rcpt pr;
	struct smtp_reply r;
	struct addr a;
	const char *path, *err, *orcpt = NULL;
	char notify[32] = "", *params, *rcpt;
	size_t plen;

	if (esmtp_split(args, len, "TO:", &path, &plen, &params) < 0) {
		reply_bad(s, 501, "5.5.4", "Syntax: RCPT TO:<address> "
		    "[parameters]");
		return;
	}
	if (rcpt_params(s, params, notify, &orcpt) < 0)
		goto out;
	if (!t->smtputf8 && esmtp_has_8bit(path, plen)) {
		reply_bad(s, 553, "5.6.7", "Non-ASCII address needs SMTPUTF8");
		goto out;
	}
	if (addr_parse(path, plen, ADDR_PATH | ADDR_ALLOW_ROUTE |
	    ADDR_ALLOW_POSTMASTER | (t->smtputf8 ? ADDR_SMTPUTF8 : 0), &a,
	    &err) < 0) {
		reply_bad(s, 501, "5.1.3", "Bad recipient address syntax: %s",
		    err);
		goto out;
	}
	if (t->env.nrcpts >= rcpt_limit(s)) {
		reply(s, 452, "4.5.3", "Too many recipients");
		goto release;
	}
	memset(&pr, 0, sizeof(pr));
	if (!policy_rcpt_to(smtpd_policy, &s->client, &t->pm, &a,
	    t->env.nrcpts, &pr, &r)) {
		if (pr.ask_mx)
			rcpt_ask_mx(s, &a, notify, orcpt, &r);
		else {
			rcpt = addr_format(&a);
			rcpt_refused(s, rcpt, &r);
			free(rcpt);
		}
		goto release;
	}
	rcpt = addr_format(&a);
	rcpt_accepted(s, rcpt, notify, orcpt, pr.kind);
	free(rcpt);
release:
	addr_release(&a);
out:
	free(params);
}
