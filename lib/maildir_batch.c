/* maildir_batch - deliveries made durable together; see maildir.h */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dirsync.h"
#include "maildir.h"
#include "xalloc.h"

/* Below this many files, fsyncs of each are cheaper than syncfs, which
 * also waits for everything else dirty on the file system; from two on,
 * the disk cache flush each fsync ends with costs more. */
#define BATCH_SYNCFS_MIN 2

struct bent {
	int fd;                 /* open until committed */
	char *tmp, *dst, *newdir;
	long long size;
	bool moved;             /* in new/, and its maildirsize line added */
};

struct maildir_batch {
	struct bent *v;
	size_t n, alloc;
};

struct maildir_batch *
maildir_batch_new(void)
{
	return xcalloc(1, sizeof(struct maildir_batch));
}

size_t
maildir_batch_size(const struct maildir_batch *b)
{
	return b->n;
}

void
maildir_batch_pending(const struct maildir_batch *b, const char *dir,
    struct maildir_usage *u)
{
	size_t dl = strlen(dir);

	u->bytes = u->count = 0;
	for (size_t i = 0; b != NULL && i < b->n; i++)
		if (strncmp(b->v[i].newdir, dir, dl) == 0 &&
		    strcmp(b->v[i].newdir + dl, "/new") == 0) {
			u->bytes += b->v[i].size;
			u->count++;
		}
}

void
maildir_batch_add(struct maildir_batch *b, int fd, char *tmp, char *dst,
    char *newdir, long long size)
{
	if (b->n == b->alloc) {
		b->alloc = b->alloc ? b->alloc * 2 : 16;
		b->v = xrealloc(b->v, b->alloc * sizeof(*b->v));
	}
	/* a batch this big commits by syncfs, through the first file's
	 * descriptor: the others need none (a job may reach thousands) */
	if (b->n >= BATCH_SYNCFS_MIN) {
		close(fd);
		fd = -1;
		for (size_t i = 1; i < b->n; i++)
			if (b->v[i].fd >= 0) {
				close(b->v[i].fd);
				b->v[i].fd = -1;
			}
	}
	b->v[b->n++] = (struct bent){ .fd = fd, .tmp = tmp, .dst = dst,
	    .newdir = newdir, .size = size };
}

/* A line for e's copy (sign +1) or against it (-1) in its maildir's
 * maildirsize. */
static void
batch_account(const struct bent *e, int sign)
{
	size_t n = strlen(e->newdir) - strlen("/new");
	char *dir = xasprintf("%.*s", (int)n, e->newdir);

	maildir_usage_add(dir, sign * e->size, sign);
	free(dir);
}

/* Forget every entry; with undo, remove what it left on disk. */
static void
batch_clear(struct maildir_batch *b, bool undo)
{
	for (size_t i = 0; i < b->n; i++) {
		struct bent *e = &b->v[i];

		if (e->fd >= 0)
			close(e->fd);
		if (undo && e->moved)
			batch_account(e, -1);
		if (undo)
			unlink(e->moved ? e->dst : e->tmp);
		free(e->tmp);
		free(e->dst);
		free(e->newdir);
	}
	b->n = 0;
}

/* Every entry's data (many: one syncfs; few: fdatasync each). */
static int
batch_sync_data(struct maildir_batch *b, const char **what)
{
	if (b->n >= BATCH_SYNCFS_MIN) {
		*what = "syncfs";
		return syncfs(b->v[0].fd);
	}
	*what = "fdatasync";
	for (size_t i = 0; i < b->n; i++)
		if (fdatasync(b->v[i].fd) < 0)
			return -1;
	return 0;
}

/* Every new/ the entries went to (lib/dirsync: one fsync, or one
 * syncfs for several). */
static int
batch_sync_dirs(const struct maildir_batch *b)
{
	const char **dirs = xmalloc(b->n * sizeof(*dirs));
	int rc;

	for (size_t i = 0; i < b->n; i++)
		dirs[i] = b->v[i].newdir;
	rc = dirsync(dirs, b->n);
	free(dirs);
	return rc;
}

int
maildir_batch_commit(struct maildir_batch *b, char **error_r)
{
	const char *what;

	if (b->n == 0)
		return 0;
	if (batch_sync_data(b, &what) < 0) {
		*error_r = xasprintf("%s: %s", what, strerror(errno));
		goto undo;
	}
	for (size_t i = 0; i < b->n; i++) {
		if (b->v[i].fd >= 0) {
			close(b->v[i].fd);
			b->v[i].fd = -1;
		}
		if (maildir_rename_new(b->v[i].tmp, b->v[i].dst) < 0) {
			*error_r = xasprintf("cannot move %s into new/: %s",
			    b->v[i].tmp, strerror(errno));
			goto undo;
		}
		b->v[i].moved = true;
		/* the line right after the move, as maildir_deliver does
		 * alone: a rebuild from a scan in between is short of it,
		 * not over */
		batch_account(&b->v[i], 1);
	}
	if (batch_sync_dirs(b) < 0) {
		*error_r = xasprintf("sync of new/: %s", strerror(errno));
		goto undo;
	}
	batch_clear(b, false);
	return 0;
undo:
	/* not durable: take it all back, so a retry makes no duplicate */
	batch_clear(b, true);
	return -1;
}

void
maildir_batch_free(struct maildir_batch **bp)
{
	struct maildir_batch *b = *bp;

	if (b == NULL)
		return;
	batch_clear(b, true);
	free(b->v);
	xfree(bp);
}
