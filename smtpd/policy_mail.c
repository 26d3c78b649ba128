/*
 * policy_mail - the MAIL FROM checks, in this order:
 *
 *   1. a submission service wants a login         530 5.7.0
 *   2. smtp_blocked_senders                        554 5.7.1
 *   3. a local sender domain that is disabled      550 5.7.1
 *   4. the domain's require_smtp_auth, when
 *      smtp_auth_local_deliveries makes it cover
 *      every message (else see policy_rcpt.c)      530 5.7.0
 *   5. a logged-in user sends as someone else      553 5.7.1
 *   6. the declared SIZE against the limits        552 5.3.4
 *
 * The null reverse-path is taken from everyone, logged in or not: it is
 * how bounces travel (RFC 5321 4.5.5), and mail programs use it too for
 * read receipts (RFC 8098 section 2.1 asks for it) and vacation replies
 * (RFC 3834 section 3.3); it names nobody, so no one is impersonated.
 * Such a sender is never "a local user", so with smtp_relay =
 * local-users and smtp_relay_when_authenticated = no it cannot relay;
 * and no smtp_blocked_senders item matches it.
 *
 * Blocked senders apply to every client, logged in or whitelisted: the
 * list exists to stop one account or domain from sending.  A sender in a
 * domain alias is also checked under its primary name.
 */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "policy_int.h"
#include "xalloc.h"

static char
policy_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* s[0..len) equals the NUL-terminated t, ignoring ASCII case. */
static bool
policy_eq(const char *s, size_t len, const char *t)
{
	size_t i;

	for (i = 0; i < len && t[i] != '\0'; i++)
		if (policy_lower(s[i]) != policy_lower(t[i]))
			return false;
	return i == len && t[i] == '\0';
}

/* The logged-in user as (lower-case local part, primary domain). */
struct policy_login {
	char *local;
	char domain[256];
	bool known_domain;
};

static int
policy_login_get(struct policy *p, const char *auth_user,
    struct policy_login *u)
{
	const char *at = strrchr(auth_user, '@');
	struct policy_domain d;
	int rc;

	memset(u, 0, sizeof(*u));
	if (at == NULL || at == auth_user || at[1] == '\0' ||
	    strlen(at + 1) >= sizeof(u->domain))
		return 0;
	u->local = xstrndup(auth_user, (size_t)(at - auth_user));
	for (char *q = u->local; *q; q++)
		*q = policy_lower(*q);
	rc = policy_domain_get(p, at + 1, &d);
	if (rc < 0)
		return -1;
	u->known_domain = rc == 1;
	strcpy(u->domain, rc == 1 ? d.name : at + 1);
	for (char *q = u->domain; *q; q++)
		*q = policy_lower(*q);
	return 0;
}

/* Is the alias target t[0..len) ("local@domain") the user u? */
static int
policy_target_is(struct policy *p, const char *t, size_t len,
    const struct policy_login *u)
{
	const char *at = memrchr(t, '@', len);
	struct policy_domain d;
	char *dom;
	int rc;

	if (at == NULL || !policy_eq(t, (size_t)(at - t), u->local))
		return 0;
	if (policy_eq(at + 1, len - (size_t)(at - t) - 1, u->domain))
		return 1;
	/* The target may name the user's domain through a domain alias. */
	dom = xstrndup(at + 1, len - (size_t)(at - t) - 1);
	rc = policy_domain_get(p, dom, &d);
	free(dom);
	if (rc <= 0)
		return rc;
	return policy_eq(d.name, strlen(d.name), u->domain);
}

/*
 * May the logged-in user u use sender s (not the null path), whose
 * domain resolved to m->sender_domain when local?  Its own address, in
 * any of its domain's names; an alias of which it is a direct target;
 * anything when smtp_sender_any lists it.  1 yes, 0 no, -1 map error.
 */
static int
policy_sender_owned(struct policy *p, const char *auth_user,
    const struct policy_login *u, const struct addr *s,
    const struct policy_mail *m)
{
	const char *at = strrchr(auth_user, '@'), *targets;
	size_t len;
	int rc;

	if (at != NULL && (addrpat_match(p->conf.sender_any, u->local,
	    at + 1) || addrpat_match(p->conf.sender_any, u->local,
	    u->domain)))
		return 1;
	if (u->local == NULL || !m->sender_local_domain)
		return 0;
	if (strcmp(m->sender_domain, u->domain) == 0 &&
	    policy_eq(s->local, strlen(s->local), u->local))
		return 1;
	rc = accounts_alias(p->acct, s->local, m->sender_domain, &targets,
	    &len);
	if (rc <= 0)
		return rc;
	while (len > 0) {
		const char *nl = memchr(targets, '\n', len);
		size_t n = nl != NULL ? (size_t)(nl - targets) : len;

		rc = policy_target_is(p, targets, n, u);
		if (rc != 0)
			return rc;
		if (nl == NULL)
			break;
		len -= n + 1;
		targets = nl + 1;
	}
	return 0;
}

/* Is s blocked, as written or, for a domain alias, by its primary? */
static bool
policy_blocked(struct policy *p, const struct addr *s,
    const struct policy_mail *m)
{
	if (addrpat_match(p->conf.blocked, s->local, s->domain))
		return true;
	return m->sender_local_domain &&
	    strcmp(m->sender_domain, s->domain) != 0 &&
	    addrpat_match(p->conf.blocked, s->local, m->sender_domain);
}

/* Fill the sender facts of *m from the domain (and user) lookups. */
static int
policy_sender_facts(struct policy *p, const struct addr *s,
    struct policy_mail *m, struct policy_domain *d)
{
	const char *v;
	size_t len;
	int rc = policy_domain_get(p, s->domain, d);

	if (rc <= 0)
		return rc;
	m->sender_local_domain = true;
	strcpy(m->sender_domain, d->name);
	m->sender_requires_auth = d->require_auth;
	rc = accounts_user(p->acct, s->local, d->name, &v, &len);
	if (rc == 0)
		rc = accounts_alias(p->acct, s->local, d->name, &v, &len);
	if (rc < 0)
		return -1;
	m->sender_local_user = rc == 1;
	return 1;
}

static void
policy_limits(struct policy *p, const struct policy_domain *d,
    struct policy_mail *m)
{
	m->max_size = p->conf.max_size;
	m->max_rcpts = p->conf.max_rcpts;
	if (d == NULL)
		return;
	if (d->max_size > 0 && (m->max_size == 0 || d->max_size < m->max_size))
		m->max_size = d->max_size;
	if (d->max_rcpts > 0 && (m->max_rcpts == 0 || d->max_rcpts <
	    m->max_rcpts))
		m->max_rcpts = (unsigned)d->max_rcpts;
}

static bool
policy_size(const struct policy_mail *m, unsigned long long size,
    struct smtp_reply *r)
{
	if (m->max_size > 0 && size > m->max_size)
		return policy_reply(r, 552, "5.3.4", "Message size exceeds "
		    "fixed maximum message size (%llu bytes)", m->max_size);
	return true;
}

/* Checks 2 to 5 for a sender that is not the null path. */
static bool
policy_sender(struct policy *p, const struct policy_client *c,
    const struct addr *s, struct policy_mail *m, struct policy_domain *d,
    struct smtp_reply *r)
{
	struct policy_login u;
	int rc;

	rc = policy_sender_facts(p, s, m, d);
	if (rc < 0)
		return policy_tempfail(r);
	if (policy_blocked(p, s, m))
		return policy_reply(r, 554, "5.7.1", "<%.200s@%.200s>: "
		    "Sender address blocked", s->local, s->domain);
	if (rc == 0)
		d = NULL;
	policy_limits(p, d, m);
	/* A disabled domain sends nothing (the reference's rule), also
	 * not through a client that claims its addresses without a
	 * login: its users cannot log in anyway.  5.7.1, not 5.2.1: the
	 * sender is not a mailbox we are asked to deliver to. */
	if (d != NULL && d->disabled)
		return policy_reply(r, 550, "5.7.1", "<%.200s@%.200s>: Sender "
		    "domain is disabled", s->local, s->domain);
	if (d != NULL && d->require_auth && p->conf.auth_local_deliveries &&
	    !policy_authenticated(p, c) && !m->whitelisted)
		return policy_reply(r, 530, "5.7.0", "Authentication "
		    "required");
	if (c->auth_user == NULL)
		return true;
	if (policy_login_get(p, c->auth_user, &u) < 0)
		return policy_tempfail(r);
	rc = policy_sender_owned(p, c->auth_user, &u, s, m);
	free(u.local);
	if (rc < 0)
		return policy_tempfail(r);
	if (rc == 0)
		return policy_reply(r, 553, "5.7.1", "Sender address not "
		    "owned by user <%.200s>", c->auth_user);
	return true;
}

bool
policy_mail_from(struct policy *p, const struct policy_client *c,
    const struct addr *sender, unsigned long long size,
    struct policy_mail *m, struct smtp_reply *r)
{
	struct policy_domain d;

	memset(m, 0, sizeof(*m));
	m->whitelisted = policy_client_in(p->conf.white, c);
	m->bypass = policy_client_in(p->conf.bypass, c);
	m->size = size;
	policy_limits(p, NULL, m);
	/* RFC 8314 and the reference: a submission service takes nothing
	 * before a login, not even from smtp_auth_bypass clients. */
	if (c->submission && c->auth_user == NULL)
		return policy_reply(r, 530, "5.7.0", "Authentication "
		    "required");
	if (!sender->null_path) {
		if (sender->local == NULL || sender->domain == NULL)
			return policy_reply(r, 553, "5.1.7", "Sender address "
			    "needs a domain");
		if (!policy_sender(p, c, sender, m, &d, r))
			return false;
	}
	return policy_size(m, size, r);
}
