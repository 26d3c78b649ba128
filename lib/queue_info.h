/*
 * queue_info - the spool as seen from outside the queue manager: which
 * messages are there, and what each one's envelope and record say.
 * adminctl lists, views and searches the spool with it (whether or not
 * the queue runs); the queue finds a message by id with it.
 *
 * Subspools are the numeric directories of spool_dir: the configured
 * spool_subspools ones and any left from an earlier, larger setting.
 */
#ifndef TERN_QUEUE_INFO_H
#define TERN_QUEUE_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "queue_rec.h"
#include "spool.h"

/* File in state_dir: while it exists the spool service is stopped. */
#define QINFO_STOPPED_FILE "spool.stopped"

/*
 * The subspool numbers under spool_dir: 0 .. n-1 and any other numeric
 * directory, sorted, malloc'd; *count_r gets how many.
 */
unsigned *qinfo_subspools(const char *spool_dir, unsigned n,
    size_t *count_r);

/*
 * Where message id is: 0 and *sub_r, *in_new_r (in <n>/new, not yet
 * taken by the queue), or -1 when no subspool has it.
 */
int qinfo_find(const char *spool_dir, unsigned n, const char *id,
    unsigned *sub_r, bool *in_new_r);

/*
 * Call cb for every message in every subspool (new/ and cur/), in
 * directory order; cb returns 0 to go on, anything else stops the walk
 * and is returned.  Files that are not messages are skipped.
 */
typedef int qinfo_walk_cb(unsigned sub, const char *id, bool in_new,
    void *arg);
int qinfo_walk(const char *spool_dir, unsigned n, qinfo_walk_cb *cb,
    void *arg);

/* One message: envelope, record and what they add up to. */
struct qinfo {
	char id[SPOOL_ID_LEN + 1];
	unsigned sub;
	bool in_new;
	char *path;                  /* the message file */
	struct spool_envelope env;
	off_t body_off;
	long long size;              /* bytes of the file */
	struct qrec rec;
	unsigned attempts;           /* most attempts of any recipient */
	long long next;              /* next attempt (unix s); 0 if none */
	size_t delivered;            /* recipients delivered */
	size_t finished;             /* recipients finished any way */
	const char *status;          /* new, pending, deferred, finishing */
};

/*
 * Read message id in subspool sub (new/ when in_new) and its record.
 * delay: spool_delivery_delay in seconds (the first attempt's time).
 * 0, or -1 with *error_r (malloc'd): the file is gone or damaged.
 */
int qinfo_load(const char *spool_dir, unsigned sub, const char *id,
    bool in_new, long long delay, struct qinfo *qi, char **error_r);
void qinfo_release(struct qinfo *qi);

/* Format unix time t as "2026-11-24 23:50:01" (UTC) into out[20]. */
void qinfo_time(long long t, char out[20]);
/* Format a duration in seconds as "3d4h", "2h5m", "4m10s", "9s". */
void qinfo_age(long long secs, char *out, size_t size);

#endif
