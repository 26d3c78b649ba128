/*
 * policy_rcpt - RCPT TO and VRFY.
 *
 * RCPT TO, in this order:
 *
 *   1. nrcpts already at m->max_rcpts                   452 4.5.3
 *   2. bare <postmaster> (RFC 5321 4.5.1)               accepted
 *   3. relay syntax in the local part (% ! quoted @),
 *      whatever the domain and whoever the client       550 5.7.1
 *   4. a local domain (hosted, or a domain alias):
 *        disabled domain                                550 5.2.1
 *        user, alias, list_address, postmaster@,
 *        catch-all, in that order; else                 550 5.1.1
 *        disabled user                                  550 5.2.1
 *        user over quota         452 4.2.2 / 552 5.2.2 (smtp_over_quota)
 *   5. a domain routing.conf forwards (incoming gateway)   accepted
 *   6. anything else (other domains, address literals):
 *        sender's domain requires SMTP auth and the
 *        client neither logged in nor is whitelisted    530 5.7.0
 *        relay not allowed                              554 5.7.1
 *          unless routing.conf has [smarthost] sections: then the
 *          caller looks the domain's MX up (out->ask_mx) and
 *          policy_rcpt_backup_mx() says whether we are its backup
 *
 * A disabled domain gets a permanent 5.2.1 ("mailbox disabled", RFC
 * 3463): the reference says such a domain receives nothing, and a 4xx
 * would only make senders retry for days before bouncing anyway.  521
 * (RFC 7504) is a greeting for hosts that take no mail at all, not an
 * answer about one domain among many.
 *
 * postmaster@ every local domain is accepted even when no user or alias
 * has that name, as RFC 5321 4.5.1 requires; delivery has to route it
 * (to the domain's domain_admin, else the system postmaster).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "routing.h"
#include "policy_int.h"
#include "xalloc.h"

/* A maildirsize file this big is overdue for recalculation (Maildir++
 * says 5120 bytes); we read no more and treat the usage as unknown. */
#define POLICY_MAILDIRSIZE_MAX (64 * 1024)

enum policy_kind {
	PK_NONE, PK_USER, PK_ALIAS, PK_LIST, PK_POSTMASTER, PK_CATCHALL,
};

static const char *const policy_kind_names[] = {
	[PK_NONE] = "", [PK_USER] = "user", [PK_ALIAS] = "alias",
	[PK_LIST] = "list", [PK_POSTMASTER] = "postmaster",
	[PK_CATCHALL] = "catchall",
};

struct policy_found {
	enum policy_kind kind;
	bool disabled;                  /* PK_USER: the account is off */
	unsigned long long quota;       /* PK_USER: bytes, 0 = none */
};

static char
policy_lc(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool
policy_same(const char *s, size_t len, const char *t)
{
	size_t i;

	for (i = 0; i < len && t[i] != '\0'; i++)
		if (policy_lc(s[i]) != policy_lc(t[i]))
			return false;
	return i == len && t[i] == '\0';
}

/* list_address is a local part of the domain or a full address. */
static bool
policy_is_list(const struct policy_domain *d, const char *local)
{
	size_t len;
	const char *v = acct_field(d->rec, d->reclen, "list_address", &len);
	const char *at;

	if (v == NULL || len == 0)
		return false;
	at = memrchr(v, '@', len);
	if (at == NULL)
		return policy_same(v, len, local);
	return policy_same(v, (size_t)(at - v), local) &&
	    policy_same(at + 1, len - (size_t)(at - v) - 1, d->name);
}

/* Who is local@d?  0 (f->kind may be PK_NONE), or -1 on a map error. */
static int
policy_resolve(struct policy *p, const struct policy_domain *d,
    const char *local, struct policy_found *f)
{
	const char *v;
	size_t len;
	int rc;

	memset(f, 0, sizeof(*f));
	rc = accounts_user(p->acct, local, d->name, &v, &len);
	if (rc == 1) {
		long long q = acct_field_int(v, len, "quota", 0);

		f->kind = PK_USER;
		f->disabled = acct_field_bool(v, len, "disabled", false);
		f->quota = q > 0 ? (unsigned long long)q : 0;
		return 0;
	}
	if (rc == 0)
		rc = accounts_alias(p->acct, local, d->name, &v, &len);
	if (rc < 0) {
		log_exc(LOG_SMTP, "account maps: lookup of %.200s@%s failed",
		    local, d->name);
		return -1;
	}
	if (rc == 1)
		f->kind = PK_ALIAS;
	else if (policy_is_list(d, local))
		f->kind = PK_LIST;
	else if (policy_same(local, strlen(local), "postmaster"))
		f->kind = PK_POSTMASTER;
	else if (d->catchalls && (v = acct_field(d->rec, d->reclen,
	    "catchall", &len)) != NULL && len > 0)
		f->kind = PK_CATCHALL;
	return 0;
}

/*
 * Sum the "<bytes> <count>" lines after the first (the quota definition)
 * of a Maildir++ maildirsize file in buf[0..len).  Deletions are
 * negative lines.  -1 when a line is malformed or the sum overflows.
 */
static int
policy_maildirsize_sum(const char *buf, size_t len, long long *used_r)
{
	const char *p = memchr(buf, '\n', len), *end = buf + len;
	long long sum = 0;

	if (p == NULL) {
		*used_r = 0;    /* only the definition: nothing counted */
		return 0;
	}
	for (p++; p < end; ) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl != NULL ? nl : end;
		char line[64], *e;
		long long bytes, count;

		if (eol - p >= (long)sizeof(line))
			return -1;
		memcpy(line, p, (size_t)(eol - p));
		line[eol - p] = '\0';
		p = eol + 1;
		if (line[0] == '\0')
			continue;
		errno = 0;
		bytes = strtoll(line, &e, 10);
		if (e == line || *e != ' ' || errno != 0)
			return -1;
		count = strtoll(e + 1, &e, 10);
		(void)count;
		if (*e != '\0' || errno != 0 ||
		    __builtin_add_overflow(sum, bytes, &sum))
			return -1;
	}
	*used_r = sum < 0 ? 0 : sum;
	return 0;
}

/*
 * Bytes used by the maildir at dir: 0 when it has no maildirsize yet
 * (nothing delivered, or a quota never computed), -1 when the file
 * cannot be read or makes no sense (then we accept: delivery will
 * recalculate; refusing mail on a broken cache would be worse).
 */
static int
policy_maildir_used(const char *dir, long long *used_r)
{
	char *path = xasprintf("%s/maildirsize", dir);
	char *buf = NULL;
	struct stat st;
	ssize_t n = -1;
	int fd, rc = -1;

	*used_r = 0;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			rc = 0;
		else
			log_exc(LOG_SMTP, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > POLICY_MAILDIRSIZE_MAX) {
		log_detail(LOG_SMTP, "%s: not a regular file of at most %d "
		    "bytes; quota not checked", path, POLICY_MAILDIRSIZE_MAX);
		goto out;
	}
	buf = xmalloc(POLICY_MAILDIRSIZE_MAX + 1);
	n = read(fd, buf, POLICY_MAILDIRSIZE_MAX + 1);
	if (n < 0 || n > POLICY_MAILDIRSIZE_MAX)
		log_exc(LOG_SMTP, "%s: cannot read it whole", path);
	else if (policy_maildirsize_sum(buf, (size_t)n, used_r) < 0)
		log_exc(LOG_SMTP, "%s: malformed; quota not checked", path);
	else
		rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(path);
	return rc;
}

/* Is the user's mailbox full, counting the declared size? */
static bool
policy_over_quota(struct policy *p, const struct policy_domain *d,
    const char *local, unsigned long long quota, unsigned long long size)
{
	size_t flen;
	const char *folder = acct_field(d->rec, d->reclen, "folder_path",
	    &flen);
	char *dir, *lower;
	long long used;
	bool full = false;

	if (quota == 0)
		return false;
	/* A local part that cannot be one directory name has no maildir
	 * we should open (rebuild does not create such users anyway). */
	if (strchr(local, '/') != NULL || local[0] == '.' ||
	    local[0] == '"')
		return false;
	lower = xstrdup(local);
	for (char *q = lower; *q; q++)
		*q = policy_lc(*q);
	if (folder != NULL && flen > 0)
		dir = xasprintf("%.*s/%s", (int)flen, folder, lower);
	else
		dir = xasprintf("%s/%s/%s", p->conf.mail_dir, d->name, lower);
	if (policy_maildir_used(dir, &used) == 0) {
		unsigned long long u = (unsigned long long)used;

		full = u >= quota || (size > 0 && size > quota - u);
	}
	free(dir);
	free(lower);
	return full;
}

/* "local@domain" of a parsed address, for replies; caller frees. */
static char *
policy_addr_text(const struct addr *a)
{
	return addr_format(a);
}

static bool
policy_refuse_addr(struct smtp_reply *r, int code, const char *enh,
    const struct addr *a, const char *what)
{
	char *s = policy_addr_text(a);

	policy_reply(r, code, enh, "<%.200s>: %s", s, what);
	free(s);
	return false;
}

static void
policy_rcpt_kind(struct policy_rcpt *out, bool local, const char *kind)
{
	out->local = local;
	snprintf(out->kind, sizeof(out->kind), "%s", kind);
}

static bool
policy_rcpt_local(struct policy *p, const struct policy_mail *m,
    const struct addr *rcpt, const struct policy_domain *d,
    struct policy_rcpt *out, struct smtp_reply *r)
{
	struct policy_found f;

	if (d->disabled)
		return policy_refuse_addr(r, 550, "5.2.1", rcpt, "Mailbox "
		    "unavailable (domain disabled)");
	if (policy_resolve(p, d, rcpt->local, &f) < 0)
		return policy_tempfail(r);
	if (f.kind == PK_NONE)
		return policy_refuse_addr(r, 550, "5.1.1", rcpt,
		    "User unknown");
	if (f.kind == PK_USER && f.disabled)
		return policy_refuse_addr(r, 550, "5.2.1", rcpt, "Mailbox "
		    "unavailable (account disabled)");
	if (f.kind == PK_USER && policy_over_quota(p, d, rcpt->local,
	    f.quota, m->size)) {
		if (p->conf.over_quota_permanent)
			return policy_refuse_addr(r, 552, "5.2.2", rcpt,
			    "Mailbox full");
		return policy_refuse_addr(r, 452, "4.2.2", rcpt,
		    "Mailbox full, try again later");
	}
	policy_rcpt_kind(out, true, policy_kind_names[f.kind]);
	return true;
}

/* May this client send to a domain we do not host?  See smtp_relay in
 * tern.conf(5); the whitelist always may, smtp_relay = anyone lets
 * everyone, and the rest needs a login or smtp_auth_bypass. */
static bool
policy_relay_ok(struct policy *p, const struct policy_client *c,
    const struct policy_mail *m)
{
	bool authed = c->auth_user != NULL || m->bypass;

	if (m->whitelisted || p->conf.relay == RELAY_ANYONE)
		return true;
	if (!authed)
		return false;
	if (p->conf.relay_when_auth)
		return true;
	switch (p->conf.relay) {
	case RELAY_LOCAL_USERS:
		return m->sender_local_user;
	case RELAY_LOCAL_DOMAINS:
		return m->sender_local_domain;
	default:
		return false;
	}
}

bool
policy_rcpt_to(struct policy *p, const struct policy_client *c,
    const struct policy_mail *m, const struct addr *rcpt, size_t nrcpts,
    struct policy_rcpt *out, struct smtp_reply *r)
{
	struct policy_domain d;
	int rc;

	memset(out, 0, sizeof(*out));
	/* RFC 5321 4.5.3.1.8: 452 tells the client to send the rest in
	 * another transaction. */
	if (m->max_rcpts > 0 && nrcpts >= m->max_rcpts)
		return policy_reply(r, 452, "4.5.3", "Too many recipients");
	if (rcpt->null_path || rcpt->local == NULL)
		return policy_reply(r, 553, "5.1.3", "Bad recipient address");
	if (rcpt->domain == NULL) {
		policy_rcpt_kind(out, true, "postmaster");
		return true;
	}
	/* "a%b@us", "a!b@us", "\"a@b\"@us": whatever the domain, we
	 * refuse rather than guess which part is the destination. */
	if (addr_has_relay_chars(rcpt))
		return policy_refuse_addr(r, 550, "5.7.1", rcpt,
		    "Relay syntax not allowed");
	rc = policy_domain_get(p, rcpt->domain, &d);
	if (rc < 0)
		return policy_tempfail(r);
	if (rc == 1)
		return policy_rcpt_local(p, m, rcpt, &d, out, r);
	/* Domains we are the incoming gateway for (routing.conf [forward]):
	 * taken from anyone, as for our own; their server judges the
	 * recipient. */
	if (routing_forward(p->routing, rcpt->domain) != NULL) {
		policy_rcpt_kind(out, false, "forward");
		return true;
	}
	/* The domain's require_smtp_auth covers mail its addresses send
	 * to other domains (see policy_mail.c for local recipients). */
	if (m->sender_requires_auth && !policy_authenticated(p, c) &&
	    !m->whitelisted)
		return policy_reply(r, 530, "5.7.0", "Authentication "
		    "required");
	if (!policy_relay_ok(p, c, m)) {
		out->ask_mx = p->routing != NULL && p->routing->nsh > 0 &&
		    rcpt->domain[0] != '[';
		return policy_refuse_addr(r, 554, "5.7.1", rcpt,
		    "Relaying denied");
	}
	policy_rcpt_kind(out, false, "remote");
	return true;
}

bool
policy_rcpt_backup_mx(struct policy *p, const struct sockaddr_storage *addrs,
    size_t n, struct policy_rcpt *out)
{
	bool grey;

	for (size_t i = 0; i < n; i++)
		if (p->routing != NULL && routing_smarthost_primary(p->routing,
		    (const struct sockaddr *)&addrs[i], &grey)) {
			policy_rcpt_kind(out, false, "backup-mx");
			out->ask_mx = false;
			return true;
		}
	return false;
}

void
policy_vrfy(struct policy *p, const struct addr *a, struct smtp_reply *r)
{
	struct policy_domain d;
	struct policy_found f;
	int rc;

	if (a->null_path || a->local == NULL) {
		policy_reply(r, 553, "5.1.3", "Bad address");
		return;
	}
	if (a->domain == NULL) {
		policy_reply(r, 250, "2.1.5", "<%.200s>", a->local);
		return;
	}
	if (addr_has_relay_chars(a)) {
		policy_refuse_addr(r, 550, "5.7.1", a, "Relay syntax not "
		    "allowed");
		return;
	}
	rc = policy_domain_get(p, a->domain, &d);
	if (rc < 0) {
		policy_tempfail(r);
		return;
	}
	if (rc == 0) {
		policy_reply(r, 252, "2.1.5", "Cannot VRFY user, but will "
		    "accept message");
		return;
	}
	if (d.disabled) {
		policy_refuse_addr(r, 550, "5.2.1", a, "Mailbox unavailable "
		    "(domain disabled)");
		return;
	}
	if (policy_resolve(p, &d, a->local, &f) < 0) {
		policy_tempfail(r);
		return;
	}
	switch (f.kind) {
	case PK_NONE:
		policy_refuse_addr(r, 550, "5.1.1", a, "User unknown");
		break;
	case PK_CATCHALL:
		/* Saying 250 would claim the address exists; saying 550
		 * would be false (RCPT takes it). */
		policy_reply(r, 252, "2.1.5", "Cannot VRFY user, but will "
		    "accept message");
		break;
	case PK_USER:
		if (f.disabled) {
			policy_refuse_addr(r, 550, "5.2.1", a, "Mailbox "
			    "unavailable (account disabled)");
			break;
		}
		/* fall through */
	default: {
		char *s = policy_addr_text(a);

		policy_reply(r, 250, "2.1.5", "<%.200s>", s);
		free(s);
		break;
	}
	}
}
