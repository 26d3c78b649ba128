/*
 * maildir - writing Maildir++ mailboxes, and their size accounting.
 *
 * A maildir is a directory with cur/, new/ and tmp/ (Maildir++ adds
 * subfolders ".Name" beside them, each a maildir too).  Delivery writes
 * the message under a unique name in tmp/, makes it durable, renames it
 * into new/ and makes new/ durable; only then is it a delivery.  Readers
 * (pop3d, imapd, any Maildir tool) never see a partial file, whatever
 * they are doing at the time: a rename is atomic, and nobody but the
 * writer opens tmp/.  No lock is taken, so a delivery never waits for a
 * reader and a reader never waits for a delivery.
 *
 * Names (the maildir convention, with Courier's and Dovecot's sizes):
 *
 *   <seconds>.M<usec>P<pid>Q<n>.<host>,S=<size>,W=<vsize>
 *
 * where <host> is the machine's name with "/" and ":" written as \057
 * and \072, <n> counts deliveries in this process, S= is the size of the
 * file and W= the size with CRLF line ends (RFC 822 size, what POP3 and
 * IMAP report).  Files keep LF line ends, as every Maildir reader
 * expects; the spool's CRLF is converted on the way in.
 *
 * Size accounting is the Maildir++ "maildirsize" file in the maildir's
 * top directory: a first line with the quota ("<bytes>S"; "0S" when there
 * is no limit), then "<bytes> <count>" lines, one appended per change
 * (negative for removals) in a single O_APPEND write, so writers need no
 * lock.  The usage is the sum of the lines.  The file is thrown away and
 * rebuilt from a scan of every folder when it is missing or damaged, when
 * its quota line is not the current quota, or when it says the maildir is
 * over quota and is older than 15 minutes (the Maildir++ rules).  Past
 * 5120 bytes Maildir++ rebuilds it too; we rewrite it with its own sum
 * instead once past 1 KB (a scan of a big new/ every few hundred
 * deliveries was a tenth of delivery's time), and scan one time in 64,
 * and always past 16 KB, to catch changes made behind our back.  The sum
 * is an estimate: a rebuild racing with an append can miss or count one
 * message twice until the next rebuild.  Files in tmp/ older than 36
 * hours (what an interrupted writer leaves) are removed during a rebuild.
 *
 * Dirs are made mode 0700 and files 0600: a maildir belongs to the mail
 * user alone.
 */
#ifndef TERN_MAILDIR_H
#define TERN_MAILDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define MAILDIR_SIZE_FILE "maildirsize"
/* Maildir++ rebuilds a maildirsize file longer than 5120 bytes.  We
 * rewrite one longer than MAILDIR_SIZE_COMPACT from its sum (every
 * delivery reads it: short is cheap), scan one time in
 * MAILDIR_SIZE_RESCAN, and always past MAILDIR_SIZE_COMPACT_MAX. */
#define MAILDIR_SIZE_MAX 5120
#define MAILDIR_SIZE_COMPACT 1024
#define MAILDIR_SIZE_COMPACT_MAX 16384
#define MAILDIR_SIZE_RESCAN 64
/* Maildir++: an over-quota maildirsize older than this is rebuilt. */
#define MAILDIR_SIZE_STALE (15 * 60)
/* What an interrupted delivery leaves in tmp/ goes after this long. */
#define MAILDIR_TMP_MAX_AGE (36 * 3600)

struct maildir_usage {
	long long bytes;
	long long count;
};

/*
 * Make dir a maildir: dir itself (and any missing parent) and its cur,
 * new and tmp, mode 0700.  What exists already is left alone.  0, or -1
 * with *error_r (malloc'd).
 */
int maildir_create(const char *dir, char **error_r);

/* One message to write into a maildir's new/. */
struct maildir_batch;

struct maildir_msg {
	/* Header lines to put first ("Return-Path: <a@b>\n..."), LF line
	 * ends, or NULL. */
	const char *prefix;
	size_t prefix_len;
	/* The message, read from here to EOF; CRLF line ends (LF alone is
	 * copied as it is).  -1: the prefix is the whole message. */
	int fd;
	/* at: read fd with pread from offset off instead, its own offset
	 * untouched (one descriptor serves every copy) */
	bool at;
	off_t off;
	/* NULL: durable when maildir_deliver returns.  Else the file waits
	 * in tmp/ for maildir_batch_commit() (see below). */
	struct maildir_batch *batch;
	/* Filled by maildir_deliver: */
	long long size;        /* S=, bytes in the file */
	long long vsize;       /* W=, bytes with CRLF line ends */
	char *name;            /* the file's name in new/ (malloc'd) */
};

/*
 * Deliver m into dir/new as described above: when it returns 0 the file
 * and new/ are on disk.  -1 with *error_r (malloc'd) and nothing left
 * behind in tmp/ or new/ on any failure (a full disk, a read error).
 */
int maildir_deliver(const char *dir, struct maildir_msg *m, char **error_r);

/* Free what maildir_deliver put in m (the name). */
void maildir_msg_release(struct maildir_msg *m);

/*
 * Deliveries made durable together, for a job with many recipients.
 * maildir_deliver with m->batch writes the file into tmp/ and hands it to
 * the batch; maildir_batch_commit then makes every file's data durable,
 * moves them into their new/ and makes the moves durable: the data of two
 * files or more by one syncfs(2), the moves by lib/dirsync, instead of
 * two fsyncs each (the order is the same: data before the rename, the
 * rename before success).  Each copy's maildirsize line is added as it is
 * moved into new/, and taken back if the commit then fails.  If anything
 * fails, nothing of the batch is left in any new/ and -1 says so (the job
 * defers every recipient whose copy was in it).  A batch freed without a
 * commit leaves nothing.
 */
struct maildir_batch *maildir_batch_new(void);
int maildir_batch_commit(struct maildir_batch *b, char **error_r);
void maildir_batch_free(struct maildir_batch **bp);
/* Shared with maildir_batch.c: rename without replacing (link + unlink
 * where RENAME_NOREPLACE is missing). */
int maildir_rename_new(const char *from, const char *to);
/* Files waiting in b (0 after a commit). */
size_t maildir_batch_size(const struct maildir_batch *b);
/* For maildir_deliver: take the written file fd (tmp/ path tmp, to go to
 * dst in newdir, size bytes); all three are the batch's from now on. */
void maildir_batch_add(struct maildir_batch *b, int fd, char *tmp,
    char *dst, char *newdir, long long size);
/* What b holds for the maildir at dir, still in its tmp/: neither a
 * scan nor its maildirsize counts it yet (the commit adds each copy's
 * line to the maildirsize as it moves the copy into new/). */
void maildir_batch_pending(const struct maildir_batch *b, const char *dir,
    struct maildir_usage *u);

/*
 * The usage of the maildir at dir with quota limit (bytes, 0 = none):
 * from its maildirsize, rebuilt first when the rules above say so.
 * 0, or -1 with *error_r (malloc'd) when dir cannot be scanned.
 */
int maildir_usage(const char *dir, unsigned long long limit,
    struct maildir_usage *u, char **error_r);

/*
 * The usage of dir as its maildirsize says, whatever quota line it has;
 * a scan (nothing written) when there is no usable file.  For sums over
 * many maildirs (a domain's usage).  0, or -1 with *error_r.
 */
int maildir_usage_peek(const char *dir, struct maildir_usage *u,
    char **error_r);

/*
 * Note a change in dir's maildirsize: bytes and count added (negative
 * for an expunge).  Nothing is written when the file does not exist (the
 * next maildir_usage() builds it).  Errors are ignored: the file is an
 * estimate that the rules above rebuild.
 */
void maildir_usage_add(const char *dir, long long bytes, long long count);

/* Scan every folder of dir (cur/ and new/ of the top and of each
 * ".Name"), counting S= from names where present, else file sizes. */
int maildir_scan(const char *dir, struct maildir_usage *u, char **error_r);

/*
 * The maildirsize file format on its own, for other size files kept the
 * same way (lib/mailbox's domain usage).  sizefile_read: 1 and *u when
 * the file at path is usable for limit (limit < 0: any quota line), 2 and
 * *u when it is long but sound (write *u back with sizefile_write instead
 * of scanning), 0 when it must be rebuilt (or does not exist).
 * sizefile_write: a new file with limit's quota line and one line of u,
 * written beside path and renamed over it; 0 or -1 with *error_r.
 * sizefile_add: one line appended when the file exists.
 */
int maildir_sizefile_read(const char *path, long long limit,
    struct maildir_usage *u);
int maildir_sizefile_write(const char *path, unsigned long long limit,
    const struct maildir_usage *u, char **error_r);
void maildir_sizefile_add(const char *path, long long bytes,
    long long count);

/* The unique part of a new file name ("<sec>.M<usec>P<pid>Q<n>.<host>"),
 * malloc'd.  Also used for other files that must not collide. */
char *maildir_unique(void);

#endif
