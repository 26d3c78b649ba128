/*
 * imap_index - UIDs, UIDVALIDITY, UIDNEXT and MODSEQs of one Maildir++
 * folder, kept beside it so every imapd process (and pop3d, later) agrees.
 *
 * Files in the folder (dir = the maildir or a ".Name" subfolder):
 *
 *   tern-uidlist       "T1 <uidvalidity> <uidnext> <highestmodseq>\n", then
 *                      one "<uid> <modseq> <flags|-> <basename>\n" per
 *                      message.  New UIDs and flag changes are appended
 *                      (one write() per batch, O_APPEND, under the lock);
 *                      a later line for a uid overrides an earlier one.
 *                      UIDNEXT and HIGHESTMODSEQ are the largest of the
 *                      header and the lines.  When it holds more than
 *                      twice as many lines as messages it is rewritten
 *                      (temp file, fsync, rename).
 *   tern-uidlist.lock  flock()ed exclusively while a process reads the
 *                      list and assigns UIDs: two never hand out one UID.
 *
 * Flags live in the file names (":2,<letters>", letters sorted: D draft,
 * F flagged, R answered, S seen, T deleted, then a-z for the folder's
 * keywords, see imap_keywords.h), so other maildir tools agree.  A sync
 * moves new/ files to cur/ (adding ":2,"), reads cur/ and the list, gives
 * every file without a UID the next one (in name order: maildir names
 * start with the delivery time), and gives a message whose flags differ
 * from its last line a new MODSEQ.
 *
 * Damage: a missing list is rebuilt with a new UIDVALIDITY (the UIDs are
 * gone); malformed lines (a torn last append, say) are skipped and the
 * files they named get new UIDs above all others; an unreadable header
 * means a new UIDVALIDITY.  Nothing else forces a new UIDVALIDITY.
 *
 * Memory: one compact array of struct imap_msg (24 bytes) plus one pool of
 * file names per open folder; no per-message allocation.
 */
#ifndef TERN_IMAP_INDEX_H
#define TERN_IMAP_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "imap_keywords.h"

#define IMAP_UIDLIST "tern-uidlist"
#define IMAP_UIDLIST_LOCK "tern-uidlist.lock"

/* System flags, as bits. */
#define IMAP_F_ANSWERED 0x01u
#define IMAP_F_FLAGGED  0x02u
#define IMAP_F_DELETED  0x04u
#define IMAP_F_SEEN     0x08u
#define IMAP_F_DRAFT    0x10u
#define IMAP_F_RECENT   0x20u    /* this session's view only */
#define IMAP_F_SYSTEM   0x1fu    /* \Answered ... \Draft */
/* Keyword i of the folder (letter 'a' + i), 0 <= i < IMAP_KW_MAX. */
#define IMAP_F_KW(i)    (0x40u << (i))
#define IMAP_F_KEYWORDS 0xffffffc0u
#define IMAP_F_STORED   (IMAP_F_SYSTEM | IMAP_F_KEYWORDS)   /* in names */
#define IMAP_FLAG_LETTERS_MAX 32     /* "DFRST" + a-z + NUL */

struct imap_msg {
	uint32_t uid;
	uint32_t flags;
	uint64_t modseq;
	uint32_t name;          /* offset of the file name (in cur/) in pool */
	uint32_t size;          /* RFC822.SIZE, 0 = not known yet */
};

struct imap_mbox {
	char *dir;
	uint32_t uidvalidity, uidnext;
	uint64_t highestmodseq;
	struct imap_msg *msgs;      /* by ascending uid */
	uint32_t count, alloc;
	struct buf pool;
	struct imap_keywords kw;    /* names of the letters a-z, from sync */
	/* what the last full sync saw, to skip one when nothing changed */
	struct timespec m_new, m_cur;
	long long list_size;
	time_t synced_at;
};

/* Changes a sync found, against the view held before it. */
struct imap_changes {
	uint32_t *expunged;     /* old sequence numbers, ascending */
	uint32_t nexpunged;
	uint32_t *changed;      /* new sequence numbers with other flags */
	uint32_t nchanged;
	bool uidvalidity_changed;
};

/* A folder, not read yet (count 0). */
struct imap_mbox *imap_mbox_new(const char *dir);
void imap_mbox_free(struct imap_mbox **mbp);

/*
 * Bring the view up to date with the disk, under the lock.  With ch,
 * fill it with what changed (free with imap_changes_free); messages that
 * got their UID in this sync are flagged IMAP_F_RECENT.  force: skip the
 * shortcut that trusts unchanged directory times.  0, or -1 with
 * *error_r (static; errno kept).
 */
int imap_mbox_sync(struct imap_mbox *mb, struct imap_changes *ch, bool force,
    const char **error_r);
void imap_changes_free(struct imap_changes *ch);

/* The file name in cur/ of message i (0-based). */
static inline const char *
imap_msg_name(const struct imap_mbox *mb, uint32_t i)
{
	return mb->pool.data + mb->msgs[i].name;
}

/* 0-based index of uid, or -1. */
long imap_mbox_find_uid(const struct imap_mbox *mb, uint32_t uid);

/*
 * Set message i's flags (IMAP_F_STORED bits) by renaming its file; the
 * new MODSEQ is recorded in the list (one append for the batch by
 * imap_mbox_flush_modseq).  If the file was renamed meanwhile by someone
 * else it is found again by its base name.  0, 1 (the message is gone),
 * -1 error.
 */
int imap_mbox_set_flags(struct imap_mbox *mb, uint32_t i, uint32_t flags);
/* Give the messages changed by imap_mbox_set_flags since the last call
 * their new MODSEQs in the list.  0 or -1. */
int imap_mbox_flush_modseq(struct imap_mbox *mb);

/*
 * A new file for this folder: write it to tmp/ with imap_mbox_tmp_open,
 * then imap_mbox_deliver moves it into cur/ with flags and gives it the
 * next UID at once (under the lock).  size_lf: its size on disk, size_crlf:
 * its RFC 822 size, both go into the name (S=, W=).  mtime: the INTERNALDATE
 * (0 = now).  0 + *uid_r, or -1.
 */
int imap_mbox_tmp_open(const char *dir, char **tmp_path_r);
int imap_mbox_deliver(const char *dir, const char *tmp_path, size_t size_lf,
    size_t size_crlf, uint32_t flags, time_t mtime, uint32_t *uid_r,
    uint32_t *uidvalidity_r);

/* Hard-link (or copy) message file src into folder dir with flags; the
 * new UID in *uid_r.  0 or -1. */
int imap_mbox_copy_in(const char *dir, const char *src_path,
    const char *src_name, uint32_t flags, uint32_t *uid_r,
    uint32_t *uidvalidity_r);

/* The folder's uidlist lock (flock on tern-uidlist.lock), for other
 * files kept under it (tern-keywords): an fd for imap_index_unlock, or
 * -1 (errno). */
int imap_index_lock(const char *dir);
void imap_index_unlock(int fd);

/* Create the maildir folder layout (dir, cur, new, tmp).  0 or -1. */
int imap_maildir_create(const char *dir);

/* Flag letters <-> bits. */
uint32_t imap_flags_from_name(const char *name);
void imap_flags_letters(uint32_t flags, char out[IMAP_FLAG_LETTERS_MAX]);
/* The base name: up to the ':' of ":2,". */
size_t imap_name_base_len(const char *name);
/* W= (or, failing that, S=) of a maildir name; -1 when absent. */
long long imap_name_size(const char *name, char which);

#endif
