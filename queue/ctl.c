/*
 * ctl - queue.sock: what smtpd and adminctl say to the queue.
 *
 * Every frame is a lib/ipc request; smtpd's "new" gets no answer, every
 * other request exactly one ("ok" with fields, or "error" with message):
 *
 *   new            id, subspool: a message was committed to <n>/new
 *   spool_live     [id...]: what memory knows that the files do not:
 *                  "stopped", "active", "busy", and per message one
 *                  field "m" = "<id> <state> <next> <priority>"
 *                  (state: delivering, command, held, waiting)
 *   spool_force    id... or all=1: due now
 *   spool_reset    id... or none for every message: attempts start over
 *   spool_priority id, priority (1..10)
 *   spool_delete   id...: recipients dropped without a bounce, removed
 *   spool_hold     id..., held = 1 or 0: no new jobs for the message
 *                  until released (a job already out finishes)
 *   spool_stop / spool_start: hold every delivery / release them
 *
 * Answers list the ids that were not found in "missing".  The stopped
 * state is the file state_dir/spool.stopped; the time of the last reset
 * of every message is kept in state_dir/queue.state so a restart still
 * applies it to messages waiting on disk.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "queue.h"
#include "queue_info.h"
#include "server.h"
#include "xalloc.h"

#define CTL_MAX (8 * 1024 * 1024)
#define CTL_IDS_MAX 100000

struct ctl_conn {
	struct ctl_conn *next, *prev;
	struct ipc_conn *c;
};

static struct ctl_conn *conns;

/* --- state files ---------------------------------------------------- */

static char *
ctl_state_path(const char *name)
{
	return xasprintf("%s/%s", Q.state_dir, name);
}

void
ctl_load_state(void)
{
	char *p = ctl_state_path(QINFO_STOPPED_FILE);
	char line[128];
	FILE *f;

	Q.stopped = access(p, F_OK) == 0;
	free(p);
	if (Q.stopped)
		log_msg(QLOG, "queue: the spool is stopped (adminctl spool "
		    "start releases it)");
	p = ctl_state_path("queue.state");
	f = fopen(p, "re");
	free(p);
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "reset_all_ms ", 13) == 0)
			Q.reset_all = atoll(line + 13);
	if (f != NULL)
		fclose(f);
}

static int
ctl_save_state(void)
{
	char *p = ctl_state_path("queue.state");
	char *tmp = xasprintf("%s.tmp", p);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	char text[64];
	int n = snprintf(text, sizeof(text), "reset_all_ms %lld\n", Q.reset_all);
	int rc = -1;

	if (fd >= 0 && write(fd, text, (size_t)n) == n && fsync(fd) == 0 &&
	    rename(tmp, p) == 0)
		rc = 0;
	else
		log_exc(QLOG, "queue: cannot save %s: %s", p, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(tmp);
	free(p);
	return rc;
}

static int
ctl_set_stopped(bool stop)
{
	char *p = ctl_state_path(QINFO_STOPPED_FILE);
	int rc = 0, fd;

	if (stop) {
		fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
		if (fd < 0)
			rc = -1;
		else
			close(fd);
	} else if (unlink(p) < 0 && errno != ENOENT)
		rc = -1;
	if (rc < 0)
		log_exc(QLOG, "queue: cannot %s %s: %s", stop ? "create" :
		    "remove", p, strerror(errno));
	free(p);
	return rc;
}

/* --- replies -------------------------------------------------------- */

static void
ctl_error(struct ipc_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
ctl_error(struct ipc_conn *c, const char *fmt, ...)
{
	struct ipc_msg *r = ipc_msg_new("error");
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	ipc_msg_add_str(r, "message", text);
	ipc_conn_send(c, r);
	ipc_msg_free(&r);
	free(text);
}

/* The ids a request names ("id" fields, in order). */
static const char **
ctl_ids(const struct ipc_msg *m, size_t *n_r)
{
	size_t n = 0, count = ipc_msg_count(m);
	const char **ids = xcalloc(count + 1, sizeof(*ids));

	for (size_t i = 0; i < count && n < CTL_IDS_MAX; i++) {
		const char *name;
		const void *val;
		size_t len;

		ipc_msg_field(m, i, &name, &val, &len);
		if (strcmp(name, "id") == 0 && strlen(val) == len)
			ids[n++] = val;
	}
	*n_r = n;
	return ids;
}

/* The message id, in memory or taken from the spool for the request. */
static struct qmsg *
ctl_msg_get(const char *id)
{
	struct qmsg *m = msg_find(id);
	unsigned sub;
	bool in_new, full;

	if (m != NULL || !qrec_id_valid(id))
		return m;
	if (qinfo_find(Q.spool_dir, Q.nsub, id, &sub, &in_new) < 0)
		return NULL;
	msg_take(sub, id, in_new, true, &full);
	m = msg_find(id);
	return m != NULL && !m->removing ? m : NULL;
}

/* --- operations on one message -------------------------------------- */

static void
ctl_op_force(struct qmsg *m, void *arg)
{
	long long now = now_ms();

	(void)arg;
	for (uint32_t i = 0; i < m->nr; i++)
		if (m->r[i].state == QREC_PENDING && m->r[i].next_ms > now)
			m->r[i].next_ms = now;
	sched_msg(m);
}

static void
ctl_op_reset(struct qmsg *m, void *arg)
{
	long long now = now_s();

	(void)arg;
	for (uint32_t i = 0; i < m->nr; i++)
		if (m->r[i].state == QREC_PENDING) {
			m->r[i].attempts = 0;
			m->r[i].last = now;
			if (!m->r[i].inflight)
				m->r[i].next_ms = now * 1000;
		}
	qrec_put_reset(&m->recq, now);
	store_touch(m);
}

static void
ctl_op_delete(struct qmsg *m, void *arg)
{
	(void)arg;
	for (uint32_t i = 0; i < m->nr; i++)
		outcome_drop(m, i, "deleted by the administrator");
	store_touch(m);
}

static void
ctl_op_priority(struct qmsg *m, void *arg)
{
	int prio = *(int *)arg;

	m->prio_admin = prio;
	qrec_put_prio(&m->recq, prio);
	store_touch(m);
}

static void
ctl_op_hold(struct qmsg *m, void *arg)
{
	bool held = *(bool *)arg;

	if (m->held == held)
		return;
	m->held = held;
	qrec_put_hold(&m->recq, held);
	store_touch(m);
	sched_msg(m);
}

/* Apply op to every id the request names; answer with the count. */
static void
ctl_each(struct ipc_conn *c, const struct ipc_msg *req, const char *what,
    void (*op)(struct qmsg *m, void *arg), void *arg)
{
	struct ipc_msg *r = ipc_msg_new("ok");
	size_t n, done = 0;
	const char **ids = ctl_ids(req, &n);

	for (size_t i = 0; i < n; i++) {
		struct qmsg *m = ctl_msg_get(ids[i]);

		if (m == NULL) {
			ipc_msg_add_str(r, "missing", ids[i]);
			continue;
		}
		op(m, arg);
		log_msg(QLOG, "%s: %s by the administrator", m->id, what);
		done++;
	}
	ipc_msg_add_int(r, "count", (long long)done);
	ipc_conn_send(c, r);
	ipc_msg_free(&r);
	free(ids);
}

static void
ctl_all(struct ipc_conn *c, void (*op)(struct qmsg *m, void *arg))
{
	struct ipc_msg *r = ipc_msg_new("ok");

	msg_foreach(op, NULL);
	ipc_msg_add_int(r, "count", Q.nmsgs);
	ipc_conn_send(c, r);
	ipc_msg_free(&r);
	/* Messages waiting on disk: the scan takes them (scan_due). */
	scan_start();
}

/* --- requests ------------------------------------------------------- */

static void
ctl_new(const struct ipc_msg *m)
{
	const char *id = ipc_msg_get_str(m, "id");
	long long sub;
	bool full;

	if (id == NULL || !qrec_id_valid(id) ||
	    ipc_msg_get_int(m, "subspool", &sub) < 0 || sub < 0 ||
	    sub > 1000000) {
		log_exc(QLOG, "queue: malformed 'new' notification ignored");
		return;
	}
	if (Q.draining)
		return;              /* the next start finds it in new/ */
	if (msg_take((unsigned)sub, id, true, false, &full) == 0 && full)
		Q.backlog = true;
}

struct live {
	struct ipc_msg *r;
};

static void
ctl_live_one(struct qmsg *m, void *arg)
{
	struct live *l = arg;
	char v[128];

	snprintf(v, sizeof(v), "%s %s %lld %d", m->id,
	    m->njobs > 0 ? "delivering" :
	    m->cmd_running || m->cmd_waiting ? "command" :
	    m->held ? "held" : "waiting",
	    (msg_next_ms(m) + 999) / 1000, msg_prio(m, NULL));
	ipc_msg_add_str(l->r, "m", v);
}

static void
ctl_live(struct ipc_conn *c, const struct ipc_msg *req)
{
	struct live l = { ipc_msg_new("ok") };
	size_t n;
	const char **ids = ctl_ids(req, &n);

	ipc_msg_add_int(l.r, "stopped", Q.stopped);
	ipc_msg_add_int(l.r, "active", Q.nmsgs);
	ipc_msg_add_int(l.r, "busy", agent_busy());
	if (n == 0)
		msg_foreach(ctl_live_one, &l);
	for (size_t i = 0; i < n; i++) {
		struct qmsg *m = msg_find(ids[i]);

		if (m != NULL)
			ctl_live_one(m, &l);
	}
	ipc_conn_send(c, l.r);
	ipc_msg_free(&l.r);
	free(ids);
}

static void
ctl_stop_start(struct ipc_conn *c, bool stop)
{
	struct ipc_msg *r;

	if (ctl_set_stopped(stop) < 0) {
		ctl_error(c, "cannot record the spool state in %s",
		    Q.state_dir);
		return;
	}
	if (Q.stopped != stop)
		log_msg(QLOG, "queue: spool %s by the administrator",
		    stop ? "stopped" : "started");
	Q.stopped = stop;
	if (!stop)
		sched_kick();
	r = ipc_msg_new("ok");
	ipc_msg_add_int(r, "stopped", stop);
	ipc_conn_send(c, r);
	ipc_msg_free(&r);
}

static void
ctl_priority(struct ipc_conn *c, const struct ipc_msg *req)
{
	long long p;
	int prio;

	if (ipc_msg_get_int(req, "priority", &p) < 0 || p < 1 || p > 10) {
		ctl_error(c, "priority must be 1 to 10");
		return;
	}
	prio = (int)p;
	ctl_each(c, req, "priority changed", ctl_op_priority, &prio);
}

static void
ctl_msg(struct ipc_conn *c, const struct ipc_msg *m, void *arg)
{
	const char *t = ipc_msg_type(m);
	size_t n;
	const char **ids;

	(void)arg;
	if (strcmp(t, "new") == 0) {
		ctl_new(m);
	} else if (strcmp(t, "spool_live") == 0) {
		ctl_live(c, m);
	} else if (strcmp(t, "spool_force") == 0) {
		long long all = 0;

		if (ipc_msg_get_int(m, "all", &all) == 0 && all) {
			Q.force_all = now_ms();
			log_msg(QLOG, "queue: every message forced by the "
			    "administrator");
			ctl_all(c, ctl_op_force);
		} else
			ctl_each(c, m, "forced", ctl_op_force, NULL);
	} else if (strcmp(t, "spool_reset") == 0) {
		ids = ctl_ids(m, &n);
		free(ids);
		if (n > 0) {
			ctl_each(c, m, "retries reset", ctl_op_reset, NULL);
			return;
		}
		Q.reset_all = now_ms();
		ctl_save_state();
		log_msg(QLOG, "queue: retries of every message reset by the "
		    "administrator");
		ctl_all(c, ctl_op_reset);
	} else if (strcmp(t, "spool_priority") == 0) {
		ctl_priority(c, m);
	} else if (strcmp(t, "spool_delete") == 0) {
		ctl_each(c, m, "deleted", ctl_op_delete, NULL);
	} else if (strcmp(t, "spool_hold") == 0) {
		long long v = 1;
		bool held;

		ipc_msg_get_int(m, "held", &v);
		held = v != 0;
		ctl_each(c, m, held ? "held" : "released", ctl_op_hold, &held);
	} else if (strcmp(t, "spool_stop") == 0) {
		ctl_stop_start(c, true);
	} else if (strcmp(t, "spool_start") == 0) {
		ctl_stop_start(c, false);
	} else {
		log_exc(QLOG, "queue: unknown request '%s' from %s", t,
		    ipc_conn_peer(c) != NULL ? ipc_conn_peer(c) : "?");
		ctl_error(c, "unknown request '%s'", t);
	}
}

static void
ctl_conn_end(struct ctl_conn *cc)
{
	if (cc->prev != NULL)
		cc->prev->next = cc->next;
	else
		conns = cc->next;
	if (cc->next != NULL)
		cc->next->prev = cc->prev;
	ipc_conn_free(&cc->c);
	free(cc);
	server_session_end();
}

static void
ctl_close(struct ipc_conn *c, const char *reason, void *arg)
{
	(void)c;
	if (strcmp(reason, "peer closed") != 0)
		log_exc(QLOG, "queue: control connection: %s", reason);
	ctl_conn_end(arg);
}

void
ctl_client(evutil_socket_t fd)
{
	struct ctl_conn *cc = xcalloc(1, sizeof(*cc));

	cc->c = ipc_conn_new(Q.base, fd, "queue", CTL_MAX, ctl_msg, ctl_close,
	    cc);
	cc->next = conns;
	if (conns != NULL)
		conns->prev = cc;
	conns = cc;
}

void
ctl_close_all(void)
{
	while (conns != NULL)
		ctl_conn_end(conns);
}

void
ctl_init(void)
{
	ctl_load_state();
}

void
ctl_exit(void)
{
	ctl_close_all();
}
