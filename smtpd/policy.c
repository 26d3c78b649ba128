/*
 * policy - loading, reloading, the connect-time check and the helpers the
 * MAIL (policy_mail.c) and RCPT/VRFY (policy_rcpt.c) checks share.
 *
 * Lists are parsed here, once per load: a bad item in smtp_whitelist,
 * smtp_blacklist, smtp_auth_bypass (lib/iplist), smtp_blocked_senders or
 * smtp_sender_any (lib/addrpat) stops smtpd from starting, naming the key
 * and the item; after SIGHUP a bad list is logged and the old lists stay
 * in force (a typo must not open the relay or drop the blacklist).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "policy_int.h"
#include "routing.h"
#include "xalloc.h"

static void
policy_conf_release(struct policy_conf *pc)
{
	iplist_free(&pc->white);
	iplist_free(&pc->black);
	iplist_free(&pc->bypass);
	addrpat_free(&pc->blocked);
	addrpat_free(&pc->sender_any);
	xfree(&pc->mail_dir);
}

static int
policy_conf_iplist(const char *key, struct iplist **l_r, char **error_r)
{
	size_t n;
	const char *const *items = conf_list(key, &n);
	char *err = NULL;

	*l_r = iplist_new(items, n, &err);
	if (*l_r != NULL)
		return 0;
	*error_r = xasprintf("%s: %s", key, err);
	free(err);
	return -1;
}

static int
policy_conf_addrpat(const char *key, struct addrpat **p_r, char **error_r)
{
	size_t n;
	const char *const *items = conf_list(key, &n);
	char *err = NULL;

	*p_r = addrpat_new(items, n, &err);
	if (*p_r != NULL)
		return 0;
	*error_r = xasprintf("%s: %s", key, err);
	free(err);
	return -1;
}

static enum policy_relay
policy_conf_relay(void)
{
	const char *v = conf_str("smtp_relay");

	if (strcmp(v, "nobody") == 0)
		return RELAY_NOBODY;
	if (strcmp(v, "local-domains") == 0)
		return RELAY_LOCAL_DOMAINS;
	if (strcmp(v, "anyone") == 0)
		return RELAY_ANYONE;
	if (strcmp(v, "local-users") == 0)
		return RELAY_LOCAL_USERS;
	BUG("smtp_relay: unexpected value %s", v);
}

/* Read every policy key of the loaded tern.conf into *pc (zeroed first);
 * on error *pc holds nothing. */
static int
policy_conf_load(struct policy_conf *pc, char **error_r)
{
	memset(pc, 0, sizeof(*pc));
	if (policy_conf_iplist("smtp_whitelist", &pc->white, error_r) < 0 ||
	    policy_conf_iplist("smtp_blacklist", &pc->black, error_r) < 0 ||
	    policy_conf_iplist("smtp_auth_bypass", &pc->bypass,
	    error_r) < 0 ||
	    policy_conf_addrpat("smtp_blocked_senders", &pc->blocked,
	    error_r) < 0 ||
	    policy_conf_addrpat("smtp_sender_any", &pc->sender_any,
	    error_r) < 0) {
		policy_conf_release(pc);
		return -1;
	}
	pc->mail_dir = xstrdup(conf_str("mail_dir"));
	pc->relay = policy_conf_relay();
	pc->relay_when_auth = conf_bool("smtp_relay_when_authenticated");
	pc->auth_local_deliveries = conf_bool("smtp_auth_local_deliveries");
	pc->over_quota_permanent =
	    strcmp(conf_str("smtp_over_quota"), "permanent") == 0;
	pc->max_size = conf_size("smtp_max_message_size");
	pc->max_rcpts = (unsigned)conf_int("smtp_max_recipients");
	return 0;
}

/* routing.conf's forwarded domains are relayed for anyone (the incoming
 * gateway role); a file with a mistake keeps the previous table. */
static void
policy_routing(struct policy *p)
{
	char *path = routing_default_path(), *err = NULL;
	struct routing *r = routing_load(path, &err);

	if (r == NULL) {
		log_exc(LOG_SMTP, "%s; %s", err, p->routing != NULL ?
		    "the previous routing stays in force" :
		    "no forwarded domains");
		free(err);
	} else {
		routing_free(&p->routing);
		p->routing = r;
	}
	free(path);
}

struct policy *
policy_new(const char **error_r)
{
	/* The interface wants a const error; keep the last one here. */
	static char errbuf[512];
	struct policy *p = xcalloc(1, sizeof(*p));
	char *err = NULL, *dir;
	const char *aerr;

	if (policy_conf_load(&p->conf, &err) < 0) {
		snprintf(errbuf, sizeof(errbuf), "%s", err);
		free(err);
		free(p);
		*error_r = errbuf;
		return NULL;
	}
	policy_routing(p);
	dir = xasprintf("%s/maps", conf_str("state_dir"));
	p->acct = accounts_open(dir, ACCT_PUBLIC, &aerr);
	if (p->acct == NULL) {
		snprintf(errbuf, sizeof(errbuf), "account maps in %s: %s", dir,
		    aerr);
		*error_r = errbuf;
		policy_free(&p);
	}
	free(dir);
	return p;
}

void
policy_reload(struct policy *p)
{
	struct policy_conf pc;
	char *err = NULL;
	const char *aerr;

	if (policy_conf_load(&pc, &err) < 0) {
		log_exc(LOG_SMTP, "reload: %s; the previous policy settings "
		    "stay in force", err);
		free(err);
	} else {
		policy_conf_release(&p->conf);
		p->conf = pc;
	}
	if (accounts_reopen(p->acct, &aerr) < 0)
		log_exc(LOG_SMTP, "reload: account maps: %s; using the maps "
		    "opened before", aerr);
	policy_routing(p);
}

void
policy_free(struct policy **pp)
{
	struct policy *p = *pp;

	if (p == NULL)
		return;
	policy_conf_release(&p->conf);
	accounts_free(&p->acct);
	routing_free(&p->routing);
	xfree(pp);
}

bool
policy_client_in(const struct iplist *l, const struct policy_client *c)
{
	if (c->addrlen == 0)
		return false;
	return iplist_match(l, (const struct sockaddr *)&c->addr);
}

bool
policy_connect(struct policy *p, const struct policy_client *c,
    struct smtp_reply *r)
{
	/* The whitelist wins: an admin who lists a relay partner in both
	 * (say a /24 blacklisted with one trusted host in it) means the
	 * narrower trust.  smtp_auth_bypass does not: bypass is about
	 * logging in, not about being let in. */
	if (policy_client_in(p->conf.white, c))
		return true;
	if (policy_client_in(p->conf.black, c))
		return policy_reply(r, 554, "5.7.1", "Access denied");
	return true;
}

bool
policy_authenticated(struct policy *p, const struct policy_client *c)
{
	return c->auth_user != NULL || policy_client_in(p->conf.bypass, c);
}

bool
policy_tempfail(struct smtp_reply *r)
{
	return policy_reply(r, 451, "4.3.0", "Temporary lookup failure, "
	    "try again later");
}

int
policy_domain_get(struct policy *p, const char *domain,
    struct policy_domain *d)
{
	struct acct_domain ad;
	int rc;

	/* An address literal is never one of ours: we do not take mail
	 * for our own IP addresses (RFC 5321 allows it, nothing needs it,
	 * and it is one more way to spell a relay). */
	if (domain == NULL || domain[0] == '[' || domain[0] == '\0')
		return 0;
	rc = accounts_domain(p->acct, domain, &ad);
	if (rc < 0) {
		log_exc(LOG_SMTP, "domains map: lookup of %s failed", domain);
		return -1;
	}
	if (rc == 0 || d == NULL)
		return rc;
	if (strlen(ad.name) >= sizeof(d->name)) {
		log_exc(LOG_SMTP, "domains map: name too long: %.80s...",
		    ad.name);
		return -1;
	}
	strcpy(d->name, ad.name);
	d->rec = ad.rec;
	d->reclen = ad.reclen;
	d->disabled = acct_field_bool(ad.rec, ad.reclen, "disabled", false);
	d->require_auth = acct_field_bool(ad.rec, ad.reclen,
	    "require_smtp_auth", false);
	d->catchalls = acct_field_bool(ad.rec, ad.reclen, "enable_catchalls",
	    false);
	d->max_size = (unsigned long long)acct_field_int(ad.rec, ad.reclen,
	    "max_message_size", 0);
	d->max_rcpts = (unsigned long long)acct_field_int(ad.rec, ad.reclen,
	    "max_recipients", 0);
	return 1;
}

/*
 * The text may hold what a client sent (addresses); anything that could
 * break the reply line (CR, LF, other controls) becomes '?'.  A text cut
 * at the end of the buffer loses a partial UTF-8 character too.
 */
bool
policy_reply(struct smtp_reply *r, int code, const char *enh,
    const char *fmt, ...)
{
	va_list ap;
	int n;

	r->code = code;
	snprintf(r->enh, sizeof(r->enh), "%s", enh);
	va_start(ap, fmt);
	n = vsnprintf(r->text, sizeof(r->text), fmt, ap);
	va_end(ap);
	if (n < 0)
		r->text[0] = '\0';
	for (char *q = r->text; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			*q = '?';
	if (n >= (int)sizeof(r->text)) {
		size_t len = strlen(r->text), i = len;

		/* Back up over continuation bytes to the lead byte; drop
		 * it if its sequence does not fit in what is left. */
		while (i > 0 && ((unsigned char)r->text[i - 1] & 0xc0) == 0x80)
			i--;
		if (i > 0 && (unsigned char)r->text[i - 1] >= 0xc0) {
			unsigned char lead = (unsigned char)r->text[i - 1];
			size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;

			if (len - (i - 1) < need)
				r->text[i - 1] = '\0';
		}
	}
	return false;
}
