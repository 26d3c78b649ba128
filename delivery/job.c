/*
 * job - one "deliver" job from the queue: its message read, each
 * recipient resolved and delivered (resolve.c), and its result set.
 *
 * A recipient's result:
 *   ok      every copy it came to is on disk, and what goes elsewhere
 *           (forwarding targets, requeued addresses) is durably queued
 *           as one new message, whose id is queued_<i>;
 *   defer   nothing was done that a retry would repeat, except in the
 *           one window named in delivery(8): copies were made but the
 *           new message could not be queued (a full spool), so the
 *           retry makes those copies again;
 *   fail    nothing was delivered; the queue bounces.
 * When all a recipient came to is one address that failed (the user
 * itself, or an alias's single target), that failure is the result.
 *
 * Every line about the job starts with its queue id; each recipient's
 * outcome is one line at normal level.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "delivery.h"
#include "log.h"
#include "maildir.h"
#include "xalloc.h"

bool
job_done(const struct job *jb, const char *key)
{
	for (size_t i = 0; i < jb->ndone; i++)
		if (strcmp(jb->done[i], key) == 0)
			return true;
	return false;
}

void
job_mark_done(struct job *jb, const char *key)
{
	if (job_done(jb, key))
		return;
	if (jb->ndone == jb->capdone) {
		jb->capdone = jb->capdone ? jb->capdone * 2 : 8;
		jb->done = xrealloc(jb->done, jb->capdone * sizeof(*jb->done));
	}
	jb->done[jb->ndone++] = xstrdup(key);
}

static void
job_outcome(struct xrun *x)
{
	struct djob *dj = x->jb->dj;
	size_t i = x->rcpt, remote = 0;
	const char *err;
	char *qid = NULL;

	if (x->delivered == 0 && x->nout == 0) {
		if (x->dropped > 0)
			djob_set(dj, i, DJOB_FAIL, "5.7.1 every forwarding "
			    "target is in forwarding_blacklist");
		else
			djob_set(dj, i, DJOB_FAIL, "5.1.1 no mailbox to "
			    "deliver to");
		return;
	}
	if (x->delivered == 0 && x->nout == 1 && !x->out[0].remote) {
		djob_set(dj, i, x->out[0].st, "%s", x->out[0].text);
		return;
	}
	if (x->nout == 0) {
		if (x->delivered == 1)
			djob_set(dj, i, DJOB_OK, "2.0.0 delivered");
		else
			djob_set(dj, i, DJOB_OK, "2.0.0 delivered to %zu "
			    "mailboxes", x->delivered);
		return;
	}
	if (forward_queue(x, &qid, &err) < 0) {
		log_exc(LOG_DELIVERY, "%s: <%s>: cannot queue the copy for %zu "
		    "address%s: %s", dj->id, dj->rcpts[i].addr, x->nout,
		    x->nout == 1 ? "" : "es", err);
		djob_set(dj, i, DJOB_DEFER, "4.3.0 cannot queue the forwarded "
		    "copy");
		return;
	}
	for (size_t k = 0; k < x->nout; k++)
		remote += x->out[k].remote;
	djob_set(dj, i, DJOB_OK, "2.0.0 delivered to %zu mailbox%s, "
	    "forwarded to %zu, requeued %zu, as %s", x->delivered,
	    x->delivered == 1 ? "" : "es", remote, x->nout - remote, qid);
	free(dj->rcpts[i].queued);
	dj->rcpts[i].queued = qid;
}

static void
job_rcpt(struct job *jb, size_t i)
{
	struct djob_rcpt *r = &jb->dj->rcpts[i];
	struct xrun x = { .jb = jb, .rcpt = i };

	jb->cur = i;
	resolve_rcpt(&x, r->addr);
	job_outcome(&x);
	xrun_release(&x);
}

/*
 * The job's copies were in a batch (commit.c) that could not be made
 * durable: nothing of it stayed in any mailbox, so each recipient that
 * had a copy there is deferred instead of delivered.
 */
static void
job_not_durable(struct job *jb, const char *why)
{
	struct djob *dj = jb->dj;
	bool any = false;

	for (size_t i = 0; i < dj->nrcpts; i++)
		if (jb->in_batch[i] && dj->rcpts[i].status == DJOB_OK) {
			free(dj->rcpts[i].queued);
			dj->rcpts[i].queued = NULL;
			djob_set(dj, i, DJOB_DEFER, "4.3.0 cannot write to "
			    "the mailbox");
			any = true;
		}
	if (any)
		log_exc(LOG_DELIVERY, "%s: mailbox copies not made durable: "
		    "%s", dj->id, why);
}

struct job *
job_start(struct djob *dj, struct maildir_batch *batch)
{
	struct job *jb = xcalloc(1, sizeof(*jb));
	char *err = NULL;

	jb->dj = dj;
	jb->now = time(NULL);
	jb->in_batch = xcalloc(dj->nrcpts, sizeof(*jb->in_batch));
	log_detail(LOG_DELIVERY, "%s: job: from=<%s> nrcpt=%zu attempt=%lld",
	    dj->id, dj->sender, dj->nrcpts, dj->attempt);
	(void)settings_maps_fresh();    /* the old maps serve if it fails */
	if (dmsg_load(&jb->msg, dj->path, dj->offset, &err) < 0) {
		log_exc(LOG_DELIVERY, "%s: %s", dj->id, err);
		free(err);
		for (size_t i = 0; i < dj->nrcpts; i++)
			djob_set(dj, i, DJOB_DEFER, "4.3.0 cannot read the "
			    "message");
		return jb;
	}
	jb->loaded = true;
	jb->batch = batch;
	for (size_t i = 0; i < dj->nrcpts; i++)
		job_rcpt(jb, i);
	jb->batch = NULL;       /* it belongs to the caller */
	return jb;
}

void
job_finish(struct job *jb, const char *not_durable)
{
	struct djob *dj = jb->dj;

	if (not_durable != NULL)
		job_not_durable(jb, not_durable);
	for (size_t i = 0; i < dj->nrcpts; i++)
		log_msg(LOG_DELIVERY, "%s: to=<%s> status=%s (%s)", dj->id,
		    dj->rcpts[i].addr, djob_status_name(dj->rcpts[i].status),
		    dj->rcpts[i].text);
	free(jb->in_batch);
	for (size_t i = 0; i < jb->ndone; i++)
		free(jb->done[i]);
	free(jb->done);
	if (jb->loaded)
		dmsg_release(&jb->msg);
	free(jb);
}
