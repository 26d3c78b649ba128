/*
 * scan - the queue's walk through the spool, a little at a time.
 *
 * A full pass visits every subspool's cur/ and new/ and takes, while
 * there is room in memory (queue_active_max): every message in new/
 * (smtpd's notification was lost, or came while memory was full), and
 * every message in cur/ that is not in memory and is due: no record yet,
 * a record whose mtime (set when the message was put aside, see
 * store_evict) has passed, or a record not changed since the last "force"
 * or "reset-retries" of every message.  A new-only pass visits the new/
 * directories alone.  Each step handles at most SCAN_ENTRIES directory
 * entries and SCAN_LOADS messages and lets the event loop look at its
 * sockets before the next, so deliveries start at once even when a
 * restart finds a million messages, and agents' answers are never kept
 * waiting by a long pass.  When memory is full the pass pauses where it
 * is and goes on as messages leave.
 *
 * When: a full pass at start, after a force or reset of every message,
 * and on the queue_scan_interval timer once a message put aside is due
 * (the earliest such time is known: the last full pass saw every record
 * on disk, and each message put aside since said when it is due) or
 * every SCAN_FULL_EVERY ticks whatever happens; a new-only pass on the
 * other ticks, and when a notification found memory full.  Full passes
 * also remove records whose message is gone (a crash between the two
 * unlinks of a removal), except the first after a start, which should
 * find the first due message as fast as it can; and every full pass
 * removes the files in tmp/ a writer left unfinished (smtpd killed
 * during DATA) once they are TMP_STALE_S old.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "queue.h"
#include "queue_info.h"
#include "xalloc.h"

#define SCAN_ENTRIES 2048
#define SCAN_LOADS 64
#define SCAN_FULL_EVERY 10

static struct {
	bool active, paused, full;
	bool sweep;                 /* this pass removes orphan records */
	unsigned fulls;             /* full passes begun since the start */
	int again;                  /* 0 none, 1 new-only, 2 full */
	unsigned *subs;
	size_t nsubs, si;
	bool in_new;
	DIR *d;
	struct event *step_ev, *timer_ev;
	unsigned long long taken, waiting;
	long long started;
	long long min_next;         /* earliest record mtime skipped (s) */
	long long disk_next;        /* earliest due time of what waits on
	                             * disk, as far as we know (s) */
	unsigned ticks;
} SC = { .disk_next = LLONG_MAX };

/*
 * The next step runs after the loop has looked at the sockets again: a
 * zero timeout, not event_active(), which libevent would run in the same
 * turn and so starve agents' answers for as long as the pass lasts.
 */
static void
scan_step_later(void)
{
	static const struct timeval now = { 0, 0 };

	evtimer_add(SC.step_ev, &now);
}

static void
scan_timer_arm(void)
{
	struct timeval tv = { Q.scan_ms / 1000, Q.scan_ms % 1000 * 1000 };

	evtimer_add(SC.timer_ev, &tv);
}

/* A file in a subspool's tmp/ untouched this long has no writer any
 * more: the time Maildir gives its own tmp/. */
#define TMP_STALE_S (36 * 3600)

static void
scan_sweep_tmp(void)
{
	time_t now = time(NULL), cutoff = now - TMP_STALE_S;

	for (size_t i = 0; i < SC.nsubs; i++) {
		char *p = xasprintf("%s/%u/tmp", Q.spool_dir, SC.subs[i]);
		DIR *d = opendir(p);
		struct dirent *de;
		struct stat st;

		while (d != NULL && (de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.' ||
			    fstatat(dirfd(d), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
			    st.st_mtime >= cutoff)
				continue;
			if (unlinkat(dirfd(d), de->d_name, 0) == 0)
				log_msg(QLOG, "queue: removed %s/%s, left "
				    "unfinished %lld hours ago", p, de->d_name,
				    (long long)(now - st.st_mtime) / 3600);
		}
		if (d != NULL)
			closedir(d);
		free(p);
	}
}

static void
scan_begin(bool full)
{
	if (Q.draining)
		return;
	if (SC.active) {
		if (SC.again < (full ? 2 : 1))
			SC.again = full ? 2 : 1;
		return;
	}
	free(SC.subs);
	SC.subs = qinfo_subspools(Q.spool_dir, Q.nsub, &SC.nsubs);
	if (full)
		scan_sweep_tmp();
	SC.active = true;
	SC.full = full;
	SC.sweep = full && SC.fulls++ > 0;
	SC.paused = false;
	SC.si = 0;
	SC.in_new = !full;
	SC.taken = SC.waiting = 0;
	SC.min_next = LLONG_MAX;
	SC.started = now_ms();
	/* What was announced so far is in new/, where this pass looks. */
	Q.backlog = false;
	scan_step_later();
}

void
scan_start(void)
{
	scan_begin(true);
}

void
scan_put_aside(long long next)
{
	if (next < SC.disk_next)
		SC.disk_next = next;
	if (SC.active && SC.full && next < SC.min_next)
		SC.min_next = next;
}

static void
scan_done(void)
{
	int again = SC.again;

	SC.active = false;
	SC.again = 0;
	if (SC.full)
		SC.disk_next = SC.min_next;
	log_detail(QLOG, "queue: %s spool scan done in %lldms: %llu taken, "
	    "%llu waiting on disk, %u in memory", SC.full ? "full" :
	    "new-only", now_ms() - SC.started, SC.taken, SC.waiting, Q.nmsgs);
	if (again != 0)
		scan_begin(again == 2);
	else if (Q.backlog && Q.nmsgs < Q.active_max)
		scan_begin(false);
}

/* A record whose message is nowhere: a removal cut short by a crash. */
static void
scan_orphan(unsigned sub, const char *name)
{
	char id[SPOOL_ID_LEN + 1], *p;
	struct stat st;
	bool there;

	if (strlen(name) != SPOOL_ID_LEN + strlen(QREC_SUFFIX) ||
	    strcmp(name + SPOOL_ID_LEN, QREC_SUFFIX) != 0)
		return;
	memcpy(id, name, SPOOL_ID_LEN);
	id[SPOOL_ID_LEN] = '\0';
	if (!qrec_id_valid(id))
		return;
	p = xasprintf("%s/%u/cur/%s", Q.spool_dir, sub, id);
	there = stat(p, &st) == 0;
	free(p);
	if (there)
		return;
	p = xasprintf("%s/%u/new/%s", Q.spool_dir, sub, id);
	there = stat(p, &st) == 0;
	free(p);
	if (there)
		return;
	p = xasprintf("%s/%u/cur/%s", Q.spool_dir, sub, name);
	if (unlink(p) == 0)
		log_msg(QLOG, "%s: record of a removed message swept up", id);
	free(p);
}

/* Is the message in cur/ (not in memory) due?  Its record says. */
static bool
scan_due(unsigned sub, const char *id)
{
	char *rec = xasprintf("%s/%u/cur/%s%s", Q.spool_dir, sub, id,
	    QREC_SUFFIX);
	struct stat st;
	long long since = Q.force_all > Q.reset_all ? Q.force_all :
	    Q.reset_all;
	bool due;

	if (stat(rec, &st) < 0)
		due = errno == ENOENT;       /* never tried: take it */
	else {
		due = st.st_mtime <= now_s() ||
		    (long long)st.st_ctim.tv_sec * 1000 +
		    st.st_ctim.tv_nsec / 1000000 <= since;
		if (!due && st.st_mtime < SC.min_next)
			SC.min_next = st.st_mtime;
	}
	free(rec);
	return due;
}

/* One directory entry; true if a message was taken. */
static bool
scan_entry(unsigned sub, const char *name)
{
	bool full;

	if (!qrec_id_valid(name)) {
		if (!SC.in_new && SC.sweep)
			scan_orphan(sub, name);
		return false;
	}
	if (!SC.in_new) {
		if (msg_find(name) != NULL)
			return false;
		if (!scan_due(sub, name)) {
			SC.waiting++;
			return false;
		}
	}
	if (msg_take(sub, name, SC.in_new, false, &full) == 1) {
		SC.taken++;
		return true;
	}
	return false;
}

static void
scan_next_dir(void)
{
	if (SC.d != NULL)
		closedir(SC.d);
	SC.d = NULL;
	if (SC.in_new) {
		SC.si++;
		SC.in_new = !SC.full;
	} else
		SC.in_new = true;
}

static void
scan_step_cb(evutil_socket_t fd, short what, void *arg)
{
	unsigned entries = 0, loads = 0;
	struct dirent *de;

	(void)fd; (void)what; (void)arg;
	if (!SC.active || SC.paused || Q.draining)
		return;
	while (entries < SCAN_ENTRIES && loads < SCAN_LOADS) {
		if (Q.nmsgs >= Q.active_max) {
			SC.paused = true;
			return;
		}
		if (SC.d == NULL) {
			char *p;

			if (SC.si >= SC.nsubs) {
				scan_done();
				return;
			}
			p = xasprintf("%s/%u/%s", Q.spool_dir, SC.subs[SC.si],
			    SC.in_new ? "new" : "cur");
			SC.d = opendir(p);
			if (SC.d == NULL && errno != ENOENT)
				log_exc(QLOG, "queue: cannot read %s: %s", p,
				    strerror(errno));
			free(p);
			if (SC.d == NULL) {
				scan_next_dir();
				continue;
			}
		}
		de = readdir(SC.d);
		if (de == NULL) {
			scan_next_dir();
			continue;
		}
		entries++;
		if (scan_entry(SC.subs[SC.si], de->d_name))
			loads++;
	}
	scan_step_later();
}

void
scan_room(void)
{
	if (Q.nmsgs >= Q.active_max || Q.draining)
		return;
	if (SC.active && SC.paused) {
		SC.paused = false;
		scan_step_later();
	} else if (!SC.active && Q.backlog)
		scan_begin(false);
}

static void
scan_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	SC.ticks++;
	scan_begin(now_s() >= SC.disk_next || SC.ticks % SCAN_FULL_EVERY == 0);
	scan_timer_arm();
}

void
scan_init(void)
{
	SC.step_ev = evtimer_new(Q.base, scan_step_cb, NULL);
	SC.timer_ev = evtimer_new(Q.base, scan_timer_cb, NULL);
	scan_timer_arm();
	scan_start();
}

void
scan_exit(void)
{
	if (SC.d != NULL)
		closedir(SC.d);
	SC.d = NULL;
	free(SC.subs);
	SC.subs = NULL;
	if (SC.step_ev != NULL) {
		event_free(SC.step_ev);
		event_free(SC.timer_ev);
	}
	SC.step_ev = SC.timer_ev = NULL;
}
