/*
 * store - the queue's writes to the spool, batched per event-loop turn.
 *
 * Whatever happens to messages during one turn (answers from agents,
 * admin commands) queues record lines in memory and touches the message.
 * At the end of the turn the flush writes each touched record with one
 * write(), fdatasyncs it, fsyncs each cur/ directory where a record was
 * created, and only then lets each message act on what was recorded
 * (outcome_settle): so nothing is acted on before it is durable, and a
 * burst of answers costs one sync per record plus one per directory.
 *
 * A message that is finished and owes no bounce is not recorded at all:
 * it is removed (message file first, then its record), and the cur/
 * directories of the removals of the next REMOVE_SYNC_US are fsynced
 * once.  That removal, or the record line, closes the duplicate window
 * queue(8) describes (for a kill at once; for a power loss once synced).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dirsync.h"
#include "queue.h"
#include "xalloc.h"

#define WRITE_RETRY_MS 5000

/* Removals are synced this long after they happen, so that a burst of
 * finished messages costs one directory sync, not one each. */
#define REMOVE_SYNC_US 2000

struct dirset {
	unsigned *dirs;             /* subspools whose cur/ needs an fsync */
	size_t n, cap;
};

static struct {
	struct qmsg *flush, **flush_tail;
	struct qmsg *remove;
	struct event *flush_ev, *retry_ev, *rsync_ev;
	bool active;                /* flush_ev is active */
	struct dirset created;      /* new records: synced before acting */
	struct dirset removed;      /* removals: synced a moment later */
} ST;

static void
store_kick(void)
{
	if (!ST.active) {
		ST.active = true;
		event_active(ST.flush_ev, 0, 0);
	}
}

void
store_touch(struct qmsg *m)
{
	if (m->in_flush || m->removing)
		return;
	m->in_flush = true;
	m->fnext = NULL;
	*ST.flush_tail = m;
	ST.flush_tail = &m->fnext;
	store_kick();
}

static void
store_dir_dirty(struct dirset *ds, unsigned sub)
{
	for (size_t i = 0; i < ds->n; i++)
		if (ds->dirs[i] == sub)
			return;
	if (ds->n == ds->cap) {
		ds->cap = ds->cap ? ds->cap * 2 : 16;
		ds->dirs = xrealloc(ds->dirs, ds->cap * sizeof(*ds->dirs));
	}
	ds->dirs[ds->n++] = sub;
}

/* The cur/ directories of ds durable (lib/dirsync); ds emptied. */
static void
store_sync_dirs(struct dirset *ds)
{
	char **dirs = xmalloc((ds->n ? ds->n : 1) * sizeof(*dirs));

	for (size_t i = 0; i < ds->n; i++)
		dirs[i] = xasprintf("%s/%u/cur", Q.spool_dir, ds->dirs[i]);
	if (dirsync((const char *const *)dirs, ds->n) < 0)
		log_exc(QLOG, "queue: cannot sync %s%s: %s", dirs[0],
		    ds->n > 1 ? " and the other cur/ directories" : "",
		    strerror(errno));
	for (size_t i = 0; i < ds->n; i++)
		free(dirs[i]);
	free(dirs);
	ds->n = 0;
}

static void
store_rsync_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	store_sync_dirs(&ST.removed);
}

/* Append m's queued lines to its record, durably.  0 or -1 (logged; the
 * lines stay queued and the record is as it was). */
static int
store_write(struct qmsg *m)
{
	char *path = xasprintf("%s%s", m->path, QREC_SUFFIX);
	const char *p = buf_data(&m->recq);
	size_t left = buf_len(&m->recq);
	struct stat st;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		goto fail;
	if (m->rec_truncate) {
		if (ftruncate(fd, (off_t)m->rec_clean_len) < 0)
			goto fail;
		m->rec_truncate = false;
	}
	if (fstat(fd, &st) < 0)
		goto fail;
	while (left > 0) {
		ssize_t n = write(fd, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = errno;

			/* Never leave half a line behind. */
			if (ftruncate(fd, st.st_size) < 0)
				m->rec_truncate = true;
			m->rec_clean_len = (size_t)st.st_size;
			errno = e;
			goto fail;
		}
		p += n;
		left -= (size_t)n;
	}
	if (fdatasync(fd) < 0)
		goto fail;
	close(fd);
	if (!m->has_rec)
		store_dir_dirty(&ST.created, m->sub);
	m->has_rec = true;
	buf_reset(&m->recq);
	free(path);
	return 0;
fail:
	log_exc(QLOG, "%s: cannot write %s: %s; retrying", m->id, path,
	    strerror(errno));
	if (fd >= 0)
		close(fd);
	free(path);
	return -1;
}

static void
store_remove_now(void)
{
	struct qmsg *list = ST.remove, *m, *next;

	ST.remove = NULL;
	for (m = list; m != NULL; m = m->fnext) {
		char *rec = xasprintf("%s%s", m->path, QREC_SUFFIX);

		/* The message first: a record left alone is swept up by
		 * the next start's scan, a message alone is delivered
		 * again. */
		if (unlink(m->path) < 0 && errno != ENOENT)
			log_exc(QLOG, "%s: cannot remove %s: %s", m->id,
			    m->path, strerror(errno));
		if (m->has_rec && unlink(rec) < 0 && errno != ENOENT)
			log_exc(QLOG, "%s: cannot remove %s: %s", m->id, rec,
			    strerror(errno));
		free(rec);
		store_dir_dirty(&ST.removed, m->sub);
	}
	if (ST.removed.n > 0 && !evtimer_pending(ST.rsync_ev, NULL)) {
		struct timeval tv = { 0, REMOVE_SYNC_US };

		evtimer_add(ST.rsync_ev, &tv);
	}
	for (m = list; m != NULL; m = next) {
		next = m->fnext;
		log_msg(QLOG, "%s: removed", m->id);
		m->in_flush = false;
		msg_free(m);
	}
	if (list != NULL)
		scan_room();
}

void
store_remove(struct qmsg *m)
{
	ASSERT(m->njobs == 0 && !m->cmd_running && !m->in_flush);
	m->removing = true;
	for (uint32_t k = 0; k < m->ndu; k++)
		sched_unlink(&m->du[k]);
	/* in_flush keeps store_touch away while it waits for removal. */
	m->in_flush = true;
	m->fnext = ST.remove;
	ST.remove = m;
	store_kick();
}

static void
store_retry_cb(evutil_socket_t fd, short what, void *arg);

static void
store_write_failed(struct qmsg *m)
{
	m->write_retry = true;
	if (!evtimer_pending(ST.retry_ev, NULL)) {
		struct timeval tv = { WRITE_RETRY_MS / 1000, 0 };

		evtimer_add(ST.retry_ev, &tv);
	}
}

static void
store_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct qmsg *list = ST.flush, *m, *next;

	(void)fd; (void)what; (void)arg;
	ST.active = false;
	ST.flush = NULL;
	ST.flush_tail = &ST.flush;
	for (m = list; m != NULL; m = m->fnext) {
		m->write_retry = false;
		if (msg_finished(m) && !outcome_needs_bounce(m) &&
		    m->njobs == 0 && !m->cmd_running) {
			buf_reset(&m->recq);   /* removed below instead */
			continue;
		}
		if (buf_len(&m->recq) > 0 && store_write(m) < 0)
			store_write_failed(m);
	}
	store_sync_dirs(&ST.created);
	for (m = list; m != NULL; m = next) {
		next = m->fnext;
		m->in_flush = false;
		/* An outcome that is not on disk is not acted on. */
		if (!m->write_retry)
			outcome_settle(m);
	}
	store_remove_now();
}

static void
store_retry_one(struct qmsg *m, void *arg)
{
	(void)arg;
	if (m->write_retry)
		store_touch(m);
}

static void
store_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	msg_foreach(store_retry_one, NULL);
}

void
store_evict(struct qmsg *m)
{
	char *rec = xasprintf("%s%s", m->path, QREC_SUFFIX);
	long long next = (msg_next_ms(m) + 999) / 1000;
	struct timespec ts[2] = {
		{ .tv_nsec = UTIME_OMIT },
		{ .tv_sec = (time_t)next },
	};

	/* The record's mtime tells the scan when to take it back; its
	 * ctime, that nothing happened to it since (force, reset). */
	if (utimensat(AT_FDCWD, rec, ts, 0) < 0) {
		log_exc(QLOG, "%s: cannot mark %s: %s", m->id, rec,
		    strerror(errno));
		free(rec);
		sched_msg(m);
		return;
	}
	free(rec);
	log_detail(QLOG, "%s: waits on disk for %llds", m->id,
	    next - now_s());
	scan_put_aside(next);
	msg_free(m);
	scan_room();
}

void
store_damaged(unsigned sub, const char *id, const char *why)
{
	char *dir = xasprintf("%s/damaged", Q.spool_dir);
	char *from = xasprintf("%s/%u/cur/%s", Q.spool_dir, sub, id);
	char *to = xasprintf("%s/%s", dir, id);
	char *rfrom = xasprintf("%s%s", from, QREC_SUFFIX);
	char *rto = xasprintf("%s%s", to, QREC_SUFFIX);

	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		log_exc(QLOG, "%s: cannot create %s: %s", id, dir,
		    strerror(errno));
	if (rename(from, to) < 0)
		log_exc(QLOG, "%s: damaged spool file %s cannot be moved "
		    "aside: %s (%s)", id, from, strerror(errno), why);
	else
		log_exc(QLOG, "%s: damaged spool file moved to %s: %s", id,
		    to, why);
	if (rename(rfrom, rto) < 0 && errno != ENOENT)
		log_exc(QLOG, "%s: cannot move %s aside: %s", id, rfrom,
		    strerror(errno));
	free(dir);
	free(from);
	free(to);
	free(rfrom);
	free(rto);
}

void
store_init(void)
{
	ST.flush_tail = &ST.flush;
	ST.flush_ev = event_new(Q.base, -1, 0, store_flush_cb, NULL);
	ST.retry_ev = evtimer_new(Q.base, store_retry_cb, NULL);
	ST.rsync_ev = evtimer_new(Q.base, store_rsync_cb, NULL);
}

/* Exit: write what is queued (no settling: nothing runs any more). */
void
store_exit(void)
{
	struct qmsg *m, *next;

	for (m = ST.flush; m != NULL; m = next) {
		next = m->fnext;
		m->in_flush = false;
		if (msg_finished(m) && !outcome_needs_bounce(m) &&
		    m->njobs == 0 && !m->cmd_running)
			store_remove(m);
		else if (buf_len(&m->recq) > 0)
			store_write(m);
	}
	ST.flush = NULL;
	ST.flush_tail = &ST.flush;
	store_sync_dirs(&ST.created);
	store_remove_now();
	store_sync_dirs(&ST.removed);
	if (ST.flush_ev != NULL) {
		event_free(ST.flush_ev);
		event_free(ST.retry_ev);
		event_free(ST.rsync_ev);
	}
	ST.flush_ev = ST.retry_ev = ST.rsync_ev = NULL;
	free(ST.created.dirs);
	free(ST.removed.dirs);
	memset(&ST.created, 0, sizeof(ST.created));
	memset(&ST.removed, 0, sizeof(ST.removed));
}
