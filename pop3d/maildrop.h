/*
 * maildrop - pop3d's view of one user's Maildir (the INBOX of Maildir++).
 *
 * A POP3 session sees a snapshot: maildrop_open() locks the maildir for
 * this session alone, reads new/ and cur/ once (moving new/ files to cur/
 * with the ":2," info suffix, as Maildir readers do for mail a client has
 * seen listed) and numbers the messages 1..n in delivery order.  Mail
 * that arrives later, and flags IMAP changes, do not alter the numbering;
 * the next session sees the new mail.  Delivery and IMAP go on meanwhile:
 * the lock is ours only (other POP3 sessions), and a file another reader
 * renamed (a flag change) is looked for again under its new name.
 *
 * The lock is flock() on "tern-pop3.lock" in the maildir: held while the
 * maildrop is open, released by maildrop_free() or by the kernel when the
 * process dies, so a crash never leaves a mailbox locked.  The file's
 * modification time is the user's last POP3 login (LOGIN-DELAY).
 *
 * Sizes are RFC 5322 octets with CRLF line ends (what RETR sends before
 * dot-stuffing): the W= field of the file name, else counted once from
 * the file and kept in "tern-pop3.sizes" so later sessions need not read
 * the message again.  LIST and STAT never open a message.
 *
 * UIDL is the file's base name (the unique part before ':'), which no
 * reader ever changes, so it is stable across sessions and restarts.  A
 * base name RFC 1939 cannot carry (over 70 octets, or outside 0x21-0x7E)
 * is replaced by the hex SHA-256 of it, cut to 40 digits: still stable.
 *
 * Deletion: maildrop_delete() only marks; the files go in the UPDATE
 * state (maildrop_update()) after QUIT, and the directory is fsynced
 * before the +OK.  A session that ends any other way, a crash included,
 * deletes nothing.  Every removal (UPDATE, EXPIRE) is noted in the
 * maildirsize and the domain's usage (lib/mailbox.h).
 *
 * Memory: one small struct per message and one pool for the names, so a
 * 100,000-message mailbox costs about 10 MB and one readdir() pass.
 */
#ifndef TERN_POP3D_MAILDROP_H
#define TERN_POP3D_MAILDROP_H

#include <stdbool.h>
#include <stddef.h>

#define MAILDROP_LOCK_FILE  "tern-pop3.lock"
#define MAILDROP_SIZES_FILE "tern-pop3.sizes"
/* Longest UIDL (RFC 1939 section 7: 1 to 70 octets). */
#define MAILDROP_UIDL_MAX 70

struct maildrop;

struct maildrop_opts {
	const char *sid;            /* session id, for log lines */
	const char *domain_dir;     /* the domain's folder (lib/mailbox.h):
	                             * removals are noted in its usage */
	long long login_delay_s;    /* LOGIN-DELAY; 0 = none */
	unsigned expire_days;       /* EXPIRE; 0 = never */
};

enum maildrop_status {
	MD_OK,
	MD_IN_USE,          /* another POP3 session holds the lock */
	MD_LOGIN_DELAY,     /* last login too recent; *wait_r seconds left */
	MD_ERROR,           /* *error_r says why (malloc'd) */
};

/*
 * Open the maildir at path (created with tmp/, new/ and cur/ if it does
 * not exist yet: a user with no mail so far has an empty maildrop), lock
 * it, check and record the login time, remove messages past EXPIRE, and
 * list the messages.  MD_OK and *md_r; otherwise nothing is held.
 */
enum maildrop_status maildrop_open(const char *path,
    const struct maildrop_opts *o, struct maildrop **md_r,
    long long *wait_r, char **error_r);
/* Release the lock and free; *mdp may be NULL; sets it to NULL.  Marks
 * not yet carried out by maildrop_update() are forgotten. */
void maildrop_free(struct maildrop **mdp);

/* Messages listed at login: numbered 1..maildrop_count(). */
unsigned maildrop_count(const struct maildrop *md);
/* Messages not marked deleted, and their total size. */
unsigned maildrop_live(const struct maildrop *md);
unsigned long long maildrop_live_size(const struct maildrop *md);

/* For 1 <= n <= count. */
bool maildrop_deleted(const struct maildrop *md, unsigned n);
unsigned long long maildrop_size(const struct maildrop *md, unsigned n);
/* The UIDL of message n into buf (NUL-terminated); returns its length. */
size_t maildrop_uidl(const struct maildrop *md, unsigned n,
    char buf[MAILDROP_UIDL_MAX + 1]);

/* Mark n deleted (DELE); false if it already was. */
bool maildrop_delete(struct maildrop *md, unsigned n);
/* Unmark every message (RSET). */
void maildrop_reset(struct maildrop *md);

/*
 * Open message n for reading: an fd (O_RDONLY, close-on-exec) the caller
 * closes.  A file renamed by another reader since the scan is found
 * again.  -1 with errno ENOENT when the message is gone (expunged by
 * IMAP), other errno values for other failures.
 */
int maildrop_open_msg(struct maildrop *md, unsigned n);
/* Add the Seen flag ('S') to message n's file name (RETR), so IMAP shows
 * it as read.  Failures are logged and otherwise ignored. */
void maildrop_set_seen(struct maildrop *md, unsigned n);

/*
 * The UPDATE state: unlink up to budget of the messages marked deleted
 * (0 = no limit).  Returns false while some are left (call again), true
 * once all were handled and the directory is fsynced; *removed_r and
 * *failed_r then count the files removed (or already gone) and those
 * that could not be.  Marks are consumed: a second run does nothing.
 */
bool maildrop_update(struct maildrop *md, unsigned budget,
    unsigned *removed_r, unsigned *failed_r);

#endif
