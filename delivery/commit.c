/*
 * commit - local jobs whose mailbox copies are made durable together.
 *
 * A job writes its copies to tmp/ and leaves them in one batch shared by
 * every job this worker starts in the same turn of its event loop.  When
 * the turn's frames are all read, the batch is committed once
 * (lib/maildir_batch: data synced, renamed into new/, renames synced),
 * and only then is each job answered.  While a commit waits for the
 * disk, the queue's other connections to this worker fill with jobs, so
 * under load one commit serves several jobs; a job that comes alone
 * waits for no other.  What is promised per job does not change: a
 * failed commit leaves no copy of any of its jobs in any mailbox, and
 * each job defers the recipients that had a copy in it.
 */
#include <event2/event.h>
#include <stdlib.h>

#include "delivery.h"
#include "log.h"
#include "maildir.h"
#include "xalloc.h"

struct pending {
	struct job *jb;
	commit_done_fn *done;
	void *arg;
};

static struct maildir_batch *batch;
static struct pending *pend;
static size_t npend, cappend;
static struct event *turn_end;

static void
commit_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	commit_flush();
}

struct maildir_batch *
commit_batch(void)
{
	if (batch == NULL)
		batch = maildir_batch_new();
	return batch;
}

void
commit_add(struct job *jb, commit_done_fn *done, void *arg)
{
	if (npend == cappend) {
		cappend = cappend ? cappend * 2 : 8;
		pend = xrealloc(pend, cappend * sizeof(*pend));
	}
	pend[npend++] = (struct pending){ .jb = jb, .done = done,
	    .arg = arg };
	if (turn_end == NULL) {
		turn_end = event_new(server_base(), -1, 0, commit_cb, NULL);
		if (turn_end == NULL)
			die("delivery: cannot create an event (out of "
			    "memory?)");
	}
	/* Runs after the events already due in this turn: the other
	 * connections' frames join the batch first. */
	event_active(turn_end, EV_TIMEOUT, 0);
}

void
commit_flush(void)
{
	struct pending *v = pend;
	size_t n = npend;
	char *err = NULL;

	if (n == 0)
		return;
	pend = NULL;
	npend = cappend = 0;
	if (turn_end != NULL)
		event_del(turn_end);
	if (batch != NULL && maildir_batch_commit(batch, &err) < 0)
		log_detail(LOG_DELIVERY, "delivery: a commit of %zu job%s "
		    "failed: %s", n, n == 1 ? "" : "s", err);
	for (size_t i = 0; i < n; i++) {
		job_finish(v[i].jb, err);
		v[i].done(v[i].arg);
	}
	free(err);
	free(v);
}

void
commit_exit(void)
{
	commit_flush();
	if (turn_end != NULL)
		event_free(turn_end);
	turn_end = NULL;
	maildir_batch_free(&batch);
}
