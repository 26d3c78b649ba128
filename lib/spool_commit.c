/*
 * spool_commit - group commit in a background thread.
 *
 * Sessions that finish DATA at about the same time hand their files to
 * one committer thread per process.  It takes everything queued, makes
 * the data durable with one syncfs() for the group (one fdatasync when
 * alone), renames each file into new/, and makes the renames durable
 * (lib/dirsync: an fsync of the one new/ touched, one syncfs for
 * several).  Only then is each session told, in its own event loop, so
 * no 250 leaves before its own file and directory are durable, and a
 * burst of N messages costs two disk flushes instead of 2N.
 */
#include <errno.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dirsync.h"
#include "spool.h"
#include "spool_int.h"
#include "xalloc.h"

struct spool_job {
	struct spool_job *next;
	struct spool_file *file;
	struct event *done_ev;      /* activated from the thread */
	spool_commit_cb *cb;
	void *arg;
	bool ok;
	const char *error;
};

void
spool_committer_init(struct spool *s)
{
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
}

static void
spool_job_done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct spool_job *j = arg;

	(void)fd; (void)what;
	event_free(j->done_ev);
	j->cb(j->ok, j->ok ? NULL : j->error, j->arg);
	free(j);
}

static void
spool_job_finish(struct spool_job *j)
{
	struct spool_file *f = j->file;

	if (f->fd >= 0) {
		close(f->fd);
		unlink(f->tmp);
	}
	free(f->tmp);
	buf_release(&f->wbuf);
	free(f);
	j->file = NULL;
	event_active(j->done_ev, 0, 0);
}

/* Data of every job durable: syncfs once for a group, fdatasync alone. */
static void
spool_group_sync(struct spool_job *jobs)
{
	bool group = jobs->next != NULL;
	const char *err;

	if (group) {
		int rc = 0;

		for (struct spool_job *j = jobs; j != NULL; j = j->next)
			if (spool_file_sync_data_nosync(j->file, &j->error) < 0)
				j->ok = false;
		for (struct spool_job *j = jobs; j != NULL; j = j->next)
			if (j->ok) {
				rc = syncfs(j->file->fd);
				break;
			}
		err = rc < 0 ? strerror(errno) : NULL;
		for (struct spool_job *j = jobs; j != NULL; j = j->next) {
			if (!j->ok)
				continue;
			if (err != NULL) {
				j->ok = false;
				j->error = err;
			} else if (close(j->file->fd) < 0) {
				j->ok = false;
				j->error = strerror(errno);
			} else
				j->file->fd = -1;
		}
		return;
	}
	if (spool_file_sync_data(jobs->file, &jobs->error) < 0)
		jobs->ok = false;
}

static void
spool_group_commit(struct spool *s, struct spool_job *jobs)
{
	const char **dirs;
	size_t n = 0;

	for (struct spool_job *j = jobs; j != NULL; j = j->next, n++)
		j->ok = true;
	dirs = xmalloc(n * sizeof(*dirs));
	n = 0;
	spool_group_sync(jobs);
	for (struct spool_job *j = jobs; j != NULL; j = j->next) {
		if (j->ok && spool_file_publish(j->file, &j->error) < 0)
			j->ok = false;
		if (j->ok)
			dirs[n++] = s->new_dirs[j->file->sub];
	}
	if (dirsync(dirs, n) < 0) {
		const char *err = strerror(errno);

		for (struct spool_job *j = jobs; j != NULL; j = j->next)
			if (j->ok) {
				j->ok = false;
				j->error = err;
			}
	}
	free(dirs);
	while (jobs != NULL) {
		struct spool_job *next = jobs->next;

		spool_job_finish(jobs);
		jobs = next;
	}
}

static void *
spool_committer(void *arg)
{
	struct spool *s = arg;
	struct spool_job *jobs, *rev;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (s->queue == NULL && !s->stopping)
			pthread_cond_wait(&s->wake, &s->lock);
		if (s->queue == NULL)
			break;
		jobs = s->queue;
		s->queue = NULL;
		pthread_mutex_unlock(&s->lock);
		/* The queue is LIFO; commit in arrival order. */
		for (rev = NULL; jobs != NULL;) {
			struct spool_job *next = jobs->next;
			jobs->next = rev;
			rev = jobs;
			jobs = next;
		}
		spool_group_commit(s, rev);
		pthread_mutex_lock(&s->lock);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

void
spool_file_commit_async(struct spool_file **fp, struct event_base *base,
    spool_commit_cb *cb, void *arg)
{
	struct spool *s = (*fp)->spool;
	struct spool_job *j = xcalloc(1, sizeof(*j));

	j->file = *fp;
	*fp = NULL;
	j->cb = cb;
	j->arg = arg;
	j->done_ev = event_new(base, -1, 0, spool_job_done_cb, j);
	/* event_active() from the committer thread wakes base only when
	 * libevent threading was on before base was made (server_main does
	 * it, see spool.h); otherwise the callback would wait for unrelated
	 * traffic. */
	if (evthread_make_base_notifiable(base) < 0)
		die("cannot make the event base notifiable");
	pthread_mutex_lock(&s->lock);
	if (!s->thread_running) {
		if (pthread_create(&s->thread, NULL, spool_committer, s) != 0)
			die("cannot start the spool committer thread");
		s->thread_running = true;
	}
	j->next = s->queue;
	s->queue = j;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
}

void
spool_committer_stop(struct spool *s)
{
	pthread_mutex_lock(&s->lock);
	s->stopping = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	if (s->thread_running)
		pthread_join(s->thread, NULL);
	s->thread_running = false;
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
}
