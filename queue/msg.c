/*
 * msg - the messages the queue holds in memory: taking one from the
 * spool (envelope + record), its delivery units (one per route), its
 * priority, the id hash, and letting it go.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accounts.h"
#include "queue.h"
#include "xalloc.h"

static struct {
	struct qmsg **b;
	size_t nb;                 /* buckets, a power of two */
} H;

static size_t
msg_hash(const char *id)
{
	size_t h = 1469598103934665603ULL;

	for (; *id; id++)
		h = (h ^ (unsigned char)*id) * 1099511628211ULL;
	return h;
}

void
msg_init(void)
{
	H.nb = 1024;
	H.b = xcalloc(H.nb, sizeof(*H.b));
}

static void
msg_rehash(size_t nb)
{
	struct qmsg **b = xcalloc(nb, sizeof(*b));

	for (size_t i = 0; i < H.nb; i++)
		while (H.b[i] != NULL) {
			struct qmsg *m = H.b[i];
			size_t k = msg_hash(m->id) & (nb - 1);

			H.b[i] = m->hnext;
			m->hnext = b[k];
			b[k] = m;
		}
	free(H.b);
	H.b = b;
	H.nb = nb;
}

struct qmsg *
msg_find(const char *id)
{
	struct qmsg *m = H.b[msg_hash(id) & (H.nb - 1)];

	while (m != NULL && strcmp(m->id, id) != 0)
		m = m->hnext;
	return m;
}

static void
msg_insert(struct qmsg *m)
{
	size_t k;

	if (Q.nmsgs + 1 > H.nb * 2)
		msg_rehash(H.nb * 2);
	k = msg_hash(m->id) & (H.nb - 1);
	m->hnext = H.b[k];
	H.b[k] = m;
	Q.nmsgs++;
}

static void
msg_unhash(struct qmsg *m)
{
	struct qmsg **pp = &H.b[msg_hash(m->id) & (H.nb - 1)];

	while (*pp != m) {
		ASSERT(*pp != NULL);
		pp = &(*pp)->hnext;
	}
	*pp = m->hnext;
	Q.nmsgs--;
}

void
msg_foreach(void (*fn)(struct qmsg *m, void *arg), void *arg)
{
	for (size_t i = 0; i < H.nb; i++)
		for (struct qmsg *m = H.b[i], *next; m != NULL; m = next) {
			next = m->hnext;
			fn(m, arg);
		}
}

/* --- priorities ----------------------------------------------------- */

static int
msg_prio_field(const struct acct_domain *d, const char *key, int def)
{
	long long v;

	if (d == NULL)
		return def;
	v = acct_field_int(d->rec, d->reclen, key, def);
	return v >= 0 && v <= 10 ? (int)v : def;
}

/*
 * The reference's rules: a message that says what it is (a list, an
 * automatic reply, a report, an event) gets that kind's priority, an
 * over-size one the over-size priority, any other its sending domain's
 * standard priority.  Settings come from the sender's domain when it is
 * one of ours, else the domain.conf defaults (5, nothing else set).
 */
static void
msg_prio_init(struct qmsg *m, const struct spool_envelope *e)
{
	static const struct { const char *kind, *key; } kinds[] = {
		{ "list", "priority_lists" },
		{ "autoreply", "priority_autoresponders" },
		{ "report", "priority_reports" },
		{ "event", "priority_events" },
	};
	const char *at = strrchr(m->sender, '@');
	const char *p = spool_env_param(e, "priority");
	const char *kind = spool_env_param(e, "kind");
	struct acct_domain dom, *d = NULL;
	long long thr = 2 * 1024 * 1024;
	int v = 0;

	if (at != NULL && Q.acct != NULL &&
	    accounts_domain(Q.acct, at + 1, &dom) == 1) {
		d = &dom;
		thr = acct_field_int(d->rec, d->reclen, "oversize_threshold",
		    thr);
	}
	m->prio_second = msg_prio_field(d, "priority_second_attempt", 0);
	m->prio_third = msg_prio_field(d, "priority_third_attempt", 0);
	if (p != NULL && (v = atoi(p)) >= 1 && v <= 10) {
		m->prio_base = v;
		return;
	}
	v = 0;
	for (size_t i = 0; kind != NULL && i < sizeof(kinds) / sizeof(*kinds);
	    i++)
		if (strcmp(kind, kinds[i].kind) == 0)
			v = msg_prio_field(d, kinds[i].key, 0);
	if (v == 0 && m->size > thr)
		v = msg_prio_field(d, "priority_oversize", 0);
	if (v == 0)
		v = msg_prio_field(d, "priority_standard", 5);
	m->prio_base = v >= 1 && v <= 10 ? v : 5;
}

int
msg_prio(const struct qmsg *m, const struct qdu *du)
{
	unsigned att = 0;

	if (m->prio_admin != 0)
		return m->prio_admin;
	/* du NULL: the message as a whole (its most tried recipient). */
	for (uint32_t k = 0; k < (du != NULL ? du->n : m->nr); k++) {
		const struct qrcpt *r = &m->r[du != NULL ? du->ri[k] : k];

		if (r->state == QREC_PENDING && r->attempts > att)
			att = r->attempts;
	}
	/* att attempts made: the next is attempt att + 1. */
	if (att >= 2 && m->prio_third != 0)
		return m->prio_third;
	if (att >= 1 && m->prio_second != 0)
		return m->prio_second;
	return m->prio_base;
}

unsigned
msg_attempts(const struct qmsg *m)
{
	unsigned a = 0;

	for (uint32_t i = 0; i < m->nr; i++)
		if (m->r[i].attempts > a)
			a = m->r[i].attempts;
	return a;
}

long long
msg_next_ms(const struct qmsg *m)
{
	long long n = 0;

	for (uint32_t i = 0; i < m->nr; i++)
		if (m->r[i].state == QREC_PENDING &&
		    (n == 0 || m->r[i].next_ms < n))
			n = m->r[i].next_ms;
	return n;
}

bool
msg_finished(const struct qmsg *m)
{
	for (uint32_t i = 0; i < m->nr; i++)
		if (m->r[i].state == QREC_PENDING)
			return false;
	return true;
}

/* --- routes --------------------------------------------------------- */

/* The remote domain of addr, or NULL when it is delivered here. */
static const char *
msg_remote_domain(const char *id, const char *addr)
{
	const char *at = strrchr(addr, '@');
	struct acct_domain d;
	int rc;

	if (at == NULL)               /* a bare postmaster: ours */
		return NULL;
	if (Q.acct == NULL)
		return at + 1;
	rc = accounts_domain(Q.acct, at + 1, &d);
	if (rc < 0) {
		/* A corrupt map: keep the mail here rather than send
		 * our users' mail out. */
		log_exc(QLOG, "%s: cannot look up domain %s; delivering "
		    "locally", id, at + 1);
		return NULL;
	}
	return rc == 1 ? NULL : at + 1;
}

static void
msg_routes(struct qmsg *m)
{
	m->du = xcalloc(m->nr, sizeof(*m->du));
	m->ndu = 0;
	for (uint32_t i = 0; i < m->nr; i++) {
		struct qrcpt *r = &m->r[i];
		const char *dom;
		uint32_t k;

		r->du = NO_DU;
		if (r->state != QREC_PENDING)
			continue;
		dom = msg_remote_domain(m->id, r->addr);
		for (k = 0; k < m->ndu; k++)
			if (dom == NULL ? m->du[k].dom == NULL :
			    m->du[k].dom != NULL &&
			    strcmp(rdom_name(m->du[k].dom), dom) == 0)
				break;
		if (k == m->ndu) {
			struct qdu *d = &m->du[m->ndu++];

			d->m = m;
			d->dom = dom != NULL ? rdom_get(dom) : NULL;
			d->ri = xcalloc(m->nr, sizeof(*d->ri));
			d->where = DU_IDLE;
		}
		m->du[k].ri[m->du[k].n++] = i;
		r->du = k;
	}
	for (uint32_t k = 0; k < m->ndu; k++)
		m->du[k].ri = xrealloc(m->du[k].ri,
		    m->du[k].n * sizeof(*m->du[k].ri));
}

/* --- taking a message ----------------------------------------------- */

static char *
msg_param(const struct spool_envelope *e, const char *name)
{
	const char *v = spool_env_param(e, name);

	return v != NULL ? xstrdup(v) : NULL;
}

/*
 * A reset of every message or a force of every message happened since
 * this one's recipients were last tried: it applies now.
 */
static void
msg_apply_global(struct qmsg *m)
{
	long long now = now_s();
	bool reset = false;

	for (uint32_t i = 0; i < m->nr; i++) {
		struct qrcpt *r = &m->r[i];

		if (r->state == QREC_PENDING && r->attempts > 0 &&
		    r->last * 1000 <= Q.reset_all)
			reset = true;
	}
	if (reset) {
		for (uint32_t i = 0; i < m->nr; i++)
			if (m->r[i].state == QREC_PENDING) {
				m->r[i].attempts = 0;
				m->r[i].last = now;
				m->r[i].next_ms = now * 1000;
			}
		qrec_put_reset(&m->recq, now);
	}
	for (uint32_t i = 0; i < m->nr; i++) {
		struct qrcpt *r = &m->r[i];
		long long last = r->last != 0 ? r->last : m->arrival;

		if (r->state == QREC_PENDING && last * 1000 <= Q.force_all &&
		    r->next_ms > now * 1000)
			r->next_ms = now * 1000;
	}
}

static struct qmsg *
msg_build(unsigned sub, const char *id, char *path,
    struct spool_envelope *e, off_t off, long long size, struct qrec *rec)
{
	struct qmsg *m = xcalloc(1, sizeof(*m));

	snprintf(m->id, sizeof(m->id), "%s", id);
	m->sub = sub;
	m->path = path;
	m->arrival = e->time;
	m->body_off = off;
	m->size = size;
	m->sender = e->sender;
	e->sender = NULL;
	m->envid = msg_param(e, "envid");
	m->ret = msg_param(e, "ret");
	m->body = msg_param(e, "body");
	m->smtputf8 = msg_param(e, "smtputf8");
	/* most messages never get a record line: room when one comes */
	buf_init(&m->recq, 0, 0);
	m->nr = (uint32_t)e->nrcpts;
	m->r = xcalloc(m->nr, sizeof(*m->r));
	/* The recipients' strings in one block: a queue holding thousands
	 * of messages pays one allocation per message, not three per
	 * recipient. */
	size_t total = 0;
	for (uint32_t i = 0; i < m->nr; i++)
		total += strlen(e->rcpts[i].addr) + 1 +
		    (e->rcpts[i].notify ? strlen(e->rcpts[i].notify) + 1 : 0) +
		    (e->rcpts[i].orcpt ? strlen(e->rcpts[i].orcpt) + 1 : 0);
	char *p = m->strs = xmalloc(total > 0 ? total : 1);
	for (uint32_t i = 0; i < m->nr; i++) {
		struct qrcpt *r = &m->r[i];
		struct qrec_rcpt *q = &rec->r[i];

		r->addr = p;
		p = stpcpy(p, e->rcpts[i].addr) + 1;
		if (e->rcpts[i].notify != NULL) {
			r->notify = p;
			p = stpcpy(p, e->rcpts[i].notify) + 1;
		}
		if (e->rcpts[i].orcpt != NULL) {
			r->orcpt = p;
			p = stpcpy(p, e->rcpts[i].orcpt) + 1;
		}
		r->state = q->state;
		r->bounced = q->bounced;
		r->warned = q->warned;
		r->attempts = q->attempts;
		r->last = q->last;
		r->next_ms = q->next != 0 ? q->next * 1000 :
		    m->arrival * 1000 + Q.delay_ms;
		r->text = q->text;
		q->text = NULL;
	}
	msg_prio_init(m, e);
	m->prio_admin = rec->prio;
	m->held = rec->held;
	m->has_rec = rec->exists;
	m->rec_truncate = rec->torn > 0;
	m->rec_clean_len = rec->clean_len;
	return m;
}

/* The file is in cur/: read it and its record, or move it aside. */
static int
msg_load(unsigned sub, const char *id, char *path, bool fresh, bool force)
{
	struct spool_envelope e;
	struct qrec rec;
	struct stat st;
	struct qmsg *m;
	char *err = NULL, *recpath;
	off_t off;
	bool attempted = false;
	int fd;

	/* A file we cannot open (permissions, no fds left) is not damaged:
	 * it stays where it is for the next scan. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (errno != ENOENT)
			log_exc(QLOG, "%s: cannot read %s: %s", id, path,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
		free(path);
		return 0;
	}
	close(fd);
	if (spool_read_envelope(path, &e, &off, &err) < 0) {
		store_damaged(sub, id, err);
		free(err);
		free(path);
		return -1;
	}
	if (strcmp(e.id, id) != 0) {
		store_damaged(sub, id, "the envelope names another id");
		spool_env_release(&e);
		free(path);
		return -1;
	}
	qrec_init(&rec, e.nrcpts);
	recpath = xasprintf("%s%s", path, QREC_SUFFIX);
	if (qrec_read(recpath, &rec, &err) < 0) {
		store_damaged(sub, id, err);
		free(err);
		free(recpath);
		qrec_release(&rec);
		spool_env_release(&e);
		free(path);
		return -1;
	}
	free(recpath);
	if (rec.bad > 0)
		log_exc(QLOG, "%s: %zu record lines ignored as unreadable", id,
		    rec.bad);
	m = msg_build(sub, id, path, &e, off, (long long)st.st_size, &rec);
	qrec_release(&rec);
	spool_env_release(&e);
	msg_apply_global(m);
	msg_routes(m);
	msg_insert(m);
	for (uint32_t i = 0; i < m->nr; i++)
		if (m->r[i].attempts > 0 || m->r[i].state != QREC_PENDING)
			attempted = true;
	if (fresh)
		log_msg(QLOG, "%s: from=<%s> size=%lld nrcpt=%u priority=%d "
		    "(queued)", m->id, m->sender, m->size, m->nr,
		    msg_prio(m, NULL));
	else
		log_detail(QLOG, "%s: from=<%s> size=%lld nrcpt=%u attempts=%u "
		    "(taken from the spool)", m->id, m->sender, m->size, m->nr,
		    msg_attempts(m));
	if (m->recq.len > 0 || msg_finished(m) || outcome_needs_bounce(m))
		store_touch(m);
	else if (Q.cmd_argv != NULL && !attempted)
		cmd_start(m);
	else if (!force && outcome_evictable(m))
		/* Its record's mtime was stale (a crash before it was set):
		 * back to disk, marked right this time. */
		store_evict(m);
	else
		sched_msg(m);
	return 1;
}

int
msg_take(unsigned sub, const char *id, bool from_new, bool force,
    bool *full_r)
{
	char *cur;

	*full_r = false;
	if (msg_find(id) != NULL)
		return 0;
	if (!force && Q.nmsgs >= Q.active_max) {
		*full_r = true;
		return 0;
	}
	cur = xasprintf("%s/%u/cur/%s", Q.spool_dir, sub, id);
	if (from_new) {
		char *nw = xasprintf("%s/%u/new/%s", Q.spool_dir, sub, id);
		int rc = rename(nw, cur);

		/* Not made durable: after a crash the message is simply
		 * found in new/ again and taken again. */
		if (rc < 0 && errno != ENOENT)
			log_exc(QLOG, "%s: cannot move %s to cur/: %s", id, nw,
			    strerror(errno));
		free(nw);
		if (rc < 0) {
			free(cur);
			return 0;
		}
	}
	return msg_load(sub, id, cur, from_new, force);
}

void
msg_free(struct qmsg *m)
{
	ASSERT(m->njobs == 0 && !m->cmd_running && !m->in_flush);
	if (m->cmd_waiting)
		cmd_forget(m);
	for (uint32_t k = 0; k < m->ndu; k++) {
		sched_unlink(&m->du[k]);
		if (m->du[k].dom != NULL)
			rdom_put(&m->du[k].dom);
		free(m->du[k].ri);
	}
	free(m->du);
	msg_unhash(m);
	for (uint32_t i = 0; i < m->nr; i++)
		free(m->r[i].text);
	free(m->strs);
	free(m->r);
	free(m->path);
	free(m->sender);
	free(m->envid);
	free(m->ret);
	free(m->body);
	free(m->smtputf8);
	buf_release(&m->recq);
	free(m);
}

void
msg_reload(void)
{
	const char *err;

	if (Q.acct != NULL && accounts_reopen(Q.acct, &err) < 0)
		log_exc(QLOG, "queue: cannot reopen the account maps: %s", err);
}

static void
msg_exit_one(struct qmsg *m, void *arg)
{
	(void)arg;
	msg_free(m);
}

void
msg_exit(void)
{
	if (H.b == NULL)
		return;
	msg_foreach(msg_exit_one, NULL);
	free(H.b);
	H.b = NULL;
}
