/*
 * resolve - what one recipient address comes to, delivering local
 * copies on the way.
 *
 * An address in a local domain (a hosted domain, or a domain alias of
 * one: bob@example.net is bob@example.com) is, in this order:
 *
 *   1. a user: a copy in its mailbox (unless it forwards without
 *      keeping one), its forwarding targets resolved in turn, maybe an
 *      auto-reply;
 *   2. an alias: each target resolved in turn;
 *   3. postmaster@, when the domain has a domain_admin: that user;
 *   4. any other local part, when the domain enables catch-alls and
 *      names one: the catch-all address (no auto-replies from there);
 *   5. postmaster@: the system postmaster (tern.conf postmaster, else
 *      postmaster@hostname);
 *   6. unknown: 5.1.1.
 *
 * An address in any other domain is a forwarding target: collected
 * (unless forwarding_blacklist matches it) and sent on in one new
 * message per recipient (forward.c).
 *
 * Loops.  The addresses on the way down form a path; meeting one of them
 * again is a loop (5.4.6), and so is a path deeper than 20 or an address
 * the message already carries in a Delivered-To header (it came back
 * from somewhere we forwarded it).  A user who already got a copy in
 * this job is not given another, which also ends forwarding cycles
 * between users who keep their copies.
 *
 * Outcomes.  A nested address that cannot be delivered now (disabled,
 * full, unknown, a loop) is requeued: it becomes a recipient of the new
 * message, so the queue defers or bounces it alone, and the copies that
 * did go out are not repeated.  When that failure is all the recipient
 * came to, job.c reports it as the recipient's own result instead.  A
 * user whose copy fails is requeued before its forwarding is looked at,
 * so the later retry forwards it exactly once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "addrpat.h"
#include "delivery.h"
#include "log.h"
#include "xalloc.h"

/* Flags down the expansion. */
#define X_NO_AUTOREPLY 1        /* reached through the catch-all */

static void resolve_addr(struct xrun *x, const char *addr, int parent,
    int depth, unsigned flags);

static int
x_node(struct xrun *x, const char *addr, int parent)
{
	if (x->nnodes == x->capnodes) {
		x->capnodes = x->capnodes ? x->capnodes * 2 : 8;
		x->nodes = xrealloc(x->nodes, x->capnodes * sizeof(*x->nodes));
	}
	x->nodes[x->nnodes].addr = xstrdup(addr);
	x->nodes[x->nnodes].parent = parent;
	return (int)x->nnodes++;
}

/* key's mailbox has the message (now, or earlier in the job). */
static void
x_reached(struct xrun *x, const char *key)
{
	x->hits++;
	for (size_t i = 0; i < x->nreached; i++)
		if (strcmp(x->reached[i], key) == 0)
			return;
	x->reached = xrealloc(x->reached, (x->nreached + 1) *
	    sizeof(*x->reached));
	x->reached[x->nreached++] = xstrdup(key);
	x->delivered = x->nreached;
}

static bool
x_on_path(const struct xrun *x, int node, const char *key)
{
	for (; node >= 0; node = x->nodes[node].parent)
		if (strcmp(x->nodes[node].addr, key) == 0)
			return true;
	return false;
}

static struct xout *
x_out_add(struct xrun *x, const char *addr, int parent)
{
	struct xout *o;

	if (x->nout == x->capout) {
		x->capout = x->capout ? x->capout * 2 : 8;
		x->out = xrealloc(x->out, x->capout * sizeof(*x->out));
	}
	o = &x->out[x->nout++];
	memset(o, 0, sizeof(*o));
	o->addr = xstrdup(addr);
	o->parent = parent;
	return o;
}

/* A nested address that is requeued with its reason. */
static void
x_fail(struct xrun *x, const char *addr, int parent, enum djob_status st,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
x_fail(struct xrun *x, const char *addr, int parent, enum djob_status st,
    const char *fmt, ...)
{
	struct xout *o;
	va_list ap;

	for (size_t i = 0; i < x->nout; i++)
		if (!x->out[i].remote && strcmp(x->out[i].addr, addr) == 0)
			return;
	o = x_out_add(x, addr, parent);
	o->st = st;
	va_start(ap, fmt);
	if (vasprintf(&o->text, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	log_detail(LOG_DELIVERY, "%s: <%s>: %s: %s", x->jb->dj->id, addr,
	    djob_status_name(st), o->text);
}

static void
x_remote(struct xrun *x, const struct addr *a, const char *addr,
    int parent)
{
	struct xout *o;

	if (addrpat_match(D.fwd_blacklist, a->local, a->domain)) {
		x->dropped++;
		log_msg(LOG_DELIVERY, "%s: <%s>: not forwarded: "
		    "forwarding_blacklist", x->jb->dj->id, addr);
		return;
	}
	/* The spool holds no blanks in addresses (a quoted local part
	 * may have one): such a target could never be queued. */
	for (const char *p = addr; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f) {
			x->dropped++;
			log_exc(LOG_DELIVERY, "%s: <%s>: not forwarded: the "
			    "spool cannot hold this address", x->jb->dj->id,
			    addr);
			return;
		}
	for (size_t i = 0; i < x->nout; i++)
		if (x->out[i].remote && strcasecmp(x->out[i].addr, addr) == 0)
			return;
	o = x_out_add(x, addr, parent);
	o->remote = true;
	o->st = DJOB_OK;
	log_detail(LOG_DELIVERY, "%s: <%s>: forwarding target",
	    x->jb->dj->id, addr);
}

static enum djob_status
x_disabled_status(void)
{
	return D.disabled_bounce ? DJOB_FAIL : DJOB_DEFER;
}

static const char *
x_disabled_code(void)
{
	return D.disabled_bounce ? "5.2.1" : "4.2.1";
}

/* A user's forwarding targets ("a@b,c@d"), each resolved below node. */
static size_t
x_forwards(struct xrun *x, const char *fwd, size_t flen, int node,
    int depth, unsigned flags)
{
	size_t before = x->nout + x->hits;
	char *list = xstrndup(fwd, flen), *save = NULL;

	for (char *t = strtok_r(list, ",", &save); t != NULL;
	    t = strtok_r(NULL, ",", &save))
		if (*t != '\0')
			resolve_addr(x, t, node, depth + 1, flags);
	free(list);
	return x->nout + x->hits - before;
}

static void
x_user(struct xrun *x, const struct ldomain *d, const char *local,
    const char *key, const char *urec, size_t ulen, int node, int depth,
    unsigned flags)
{
	int parent = x->nodes[node].parent;
	size_t flen = 0;
	const char *fwd = acct_field(urec, ulen, "forward", &flen);
	bool keep = acct_field_bool(urec, ulen, "forward_keep", true);
	enum djob_status st;
	char *text = NULL;

	if (acct_field_bool(urec, ulen, "disabled", false)) {
		x_fail(x, key, parent, x_disabled_status(),
		    "%s mailbox disabled", x_disabled_code());
		return;
	}
	if (fwd != NULL && flen > 0 && x->jb->msg.spam != SPAM_NONE &&
	    (int)x->jb->msg.spam >= domain_exclusion(d,
	    "forwarding_exclusions")) {
		log_detail(LOG_DELIVERY, "%s: <%s>: not forwarded: spam level "
		    "at the domain's forwarding_exclusions", x->jb->dj->id,
		    key);
		fwd = NULL;
	}
	if (fwd == NULL || flen == 0)
		keep = true;
	if (keep) {
		st = local_deliver(x->jb, d, local, key, urec, ulen, &text);
		if (st != DJOB_OK) {
			x_fail(x, key, parent, st, "%s", text);
			free(text);
			return;
		}
		free(text);
		job_mark_done(x->jb, key);
		x_reached(x, key);
	}
	if (!(flags & X_NO_AUTOREPLY))
		reply_maybe(x->jb, d, key, urec, ulen);
	if (fwd == NULL || flen == 0)
		return;
	/* Forwarding that reaches nobody (every target blacklisted) must
	 * not lose the message: it stays here instead. */
	if (x_forwards(x, fwd, flen, node, depth, flags) == 0 && !keep) {
		st = local_deliver(x->jb, d, local, key, urec, ulen, &text);
		if (st != DJOB_OK)
			x_fail(x, key, parent, st, "%s", text);
		else {
			job_mark_done(x->jb, key);
			x_reached(x, key);
		}
		free(text);
	}
}

static void
x_alias(struct xrun *x, const char *targets, size_t tlen, int node,
    int depth, unsigned flags)
{
	char *list = xstrndup(targets, tlen), *save = NULL;

	for (char *t = strtok_r(list, "\n", &save); t != NULL;
	    t = strtok_r(NULL, "\n", &save))
		if (*t != '\0')
			resolve_addr(x, t, node, depth + 1, flags);
	free(list);
}

/* Not a user nor an alias: postmaster, the catch-all, or unknown. */
static void
x_other(struct xrun *x, const struct ldomain *d, const char *local,
    const char *key, int node, int depth, unsigned flags)
{
	int parent = x->nodes[node].parent;
	bool pm = strcasecmp(local, "postmaster") == 0;
	size_t len;
	const char *v;

	if (pm && (v = acct_field(d->rec, d->reclen, "domain_admin",
	    &len)) != NULL && len > 0) {
		char *admin = xasprintf("%.*s@%s", (int)len, v, d->name);

		resolve_addr(x, admin, node, depth + 1, flags);
		free(admin);
		return;
	}
	if (acct_field_bool(d->rec, d->reclen, "enable_catchalls", false) &&
	    (v = acct_field(d->rec, d->reclen, "catchall", &len)) != NULL &&
	    len > 0) {
		char *to = xstrndup(v, len);

		log_detail(LOG_DELIVERY, "%s: <%s>: to the catch-all <%s>",
		    x->jb->dj->id, key, to);
		resolve_addr(x, to, node, depth + 1, flags | X_NO_AUTOREPLY);
		free(to);
		return;
	}
	if (pm && strcasecmp(D.postmaster, key) != 0) {
		resolve_addr(x, D.postmaster, node, depth + 1, flags);
		return;
	}
	x_fail(x, key, parent, DJOB_FAIL, "5.1.1 user unknown");
}

static void
x_local(struct xrun *x, const struct ldomain *d, const char *local,
    const char *key, int parent, int depth, unsigned flags)
{
	const char *rec;
	size_t len;
	int node, rc;

	/* A copy made already ends the walk: also what stops users who
	 * forward to each other (and keep copies) going round. */
	if (job_done(x->jb, key)) {
		/* that copy may still wait in the job's batch */
		if (x->jb->batch != NULL)
			x->jb->in_batch[x->jb->cur] = true;
		x_reached(x, key);
		return;
	}
	if (x_on_path(x, parent, key)) {
		x_fail(x, key, parent, DJOB_FAIL, "5.4.6 alias or forwarding "
		    "loop");
		return;
	}
	if (dmsg_delivered_to(&x->jb->msg, key)) {
		x_fail(x, key, parent, DJOB_FAIL, "5.4.6 mail loop: already "
		    "delivered to %s", key);
		return;
	}
	node = x_node(x, key, parent);
	if (acct_field_bool(d->rec, d->reclen, "disabled", false)) {
		x_fail(x, key, parent, x_disabled_status(),
		    "%s mailbox disabled (domain disabled)", x_disabled_code());
		return;
	}
	rc = accounts_user(D.acct, local, d->name, &rec, &len);
	if (rc == 1) {
		x_user(x, d, local, key, rec, len, node, depth, flags);
		return;
	}
	if (rc == 0)
		rc = accounts_alias(D.acct, local, d->name, &rec, &len);
	if (rc == 1) {
		log_detail(LOG_DELIVERY, "%s: <%s>: alias", x->jb->dj->id,
		    key);
		x_alias(x, rec, len, node, depth, flags);
	} else if (rc == 0)
		x_other(x, d, local, key, node, depth, flags);
	else
		x_fail(x, key, parent, DJOB_DEFER, "4.3.0 account maps "
		    "unreadable");
}

static void
resolve_addr(struct xrun *x, const char *addr, int parent, int depth,
    unsigned flags)
{
	struct acct_domain ad;
	struct ldomain d;
	struct addr a;
	const char *why;
	char *key;
	int rc;

	if (depth > DELIVERY_MAX_DEPTH) {
		x_fail(x, addr, parent, DJOB_FAIL, "5.4.6 alias or forwarding "
		    "loop (more than %d levels)", DELIVERY_MAX_DEPTH);
		return;
	}
	if (addr_parse(addr, strlen(addr), ADDR_SMTPUTF8 |
	    ADDR_ALLOW_POSTMASTER, &a, &why) < 0) {
		x_fail(x, addr, parent, DJOB_FAIL, "5.1.3 bad address: %s",
		    why);
		return;
	}
	if (a.domain == NULL) {         /* RCPT TO:<postmaster> */
		addr_release(&a);
		resolve_addr(x, D.postmaster, parent, depth + 1, flags);
		return;
	}
	rc = accounts_domain(D.acct, a.domain, &ad);
	if (rc < 0)
		x_fail(x, addr, parent, DJOB_DEFER, "4.3.0 account maps "
		    "unreadable");
	else if (rc == 0 && depth == 0)
		/* The queue sends us its local recipients only: our maps
		 * and its disagree (a rebuild between the two).  Forwarding
		 * it out could send it round between us. */
		x_fail(x, addr, parent, DJOB_DEFER, "4.3.5 %s is not a local "
		    "domain here", a.domain);
	else if (rc == 0)
		x_remote(x, &a, addr, parent);
	else {
		/* ad.name lives until the next lookup: keep our own. */
		d.name = xstrdup(ad.name);
		d.rec = ad.rec;
		d.reclen = ad.reclen;
		key = acct_key(a.local, d.name);
		x_local(x, &d, a.local, key, parent, depth, flags);
		free(key);
		free(d.name);
	}
	addr_release(&a);
}

void
resolve_rcpt(struct xrun *x, const char *addr)
{
	resolve_addr(x, addr, -1, 0, 0);
}

void
xrun_release(struct xrun *x)
{
	for (size_t i = 0; i < x->nnodes; i++)
		free(x->nodes[i].addr);
	free(x->nodes);
	for (size_t i = 0; i < x->nout; i++) {
		free(x->out[i].addr);
		free(x->out[i].text);
	}
	free(x->out);
	for (size_t i = 0; i < x->nreached; i++)
		free(x->reached[i]);
	free(x->reached);
	memset(x, 0, sizeof(*x));
}
