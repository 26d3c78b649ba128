/*
 * dirsync - the entries of some directories (renames, removals) made
 * durable.  One directory is fsynced; several are covered by one
 * syncfs(2) of their file system instead, since every fsync ends with a
 * flush of the disk's cache of its own.  The spool's committer, the
 * queue's records and removals, and maildir deliveries all use it.
 */
#ifndef TERN_DIRSYNC_H
#define TERN_DIRSYNC_H

#include <stddef.h>

/* dirs[0..n) (repeats allowed, all on one file system): 0, or -1 with
 * errno. */
int dirsync(const char *const *dirs, size_t n);

#endif
