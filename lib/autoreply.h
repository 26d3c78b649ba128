/*
 * autoreply - automatic replies (a user's auto-responder): when one may
 * be sent, the memory that limits them to one per sender per period, and
 * the reply itself.  RFC 3834 sets the rules; delivery(8) applies them.
 *
 * Never a reply (RFC 3834 section 2, and the same list as Sieve's
 * vacation, RFC 5230 section 4.6):
 *   - to the null sender (bounces, other auto-replies);
 *   - to a message with Auto-Submitted other than "no";
 *   - to a message with Precedence bulk, list or junk, or with any of
 *     the list headers (List-Id, List-Unsubscribe, List-Post, ...);
 *   - to a sender that is the user, or whose local part is
 *     MAILER-DAEMON, LISTSERV, majordomo, owner-*, *-request (any case).
 *
 * The memory is a small text file per user, "<unix time> <sender>" per
 * line, updated under flock(2) so several delivery processes can share
 * it; a process that dies holding the lock loses it.  Entries older than
 * the period are dropped when the file is rewritten, and it never holds
 * more than AUTOREPLY_MEMORY_MAX senders (the oldest go first).
 *
 * The reply (RFC 3834 section 3): From the user, To the sender, Subject
 * the user's or "Auto: " and the original's, In-Reply-To and References
 * from the original, Auto-Submitted: auto-replied; the caller sends it
 * with the null envelope sender.
 */
#ifndef TERN_AUTOREPLY_H
#define TERN_AUTOREPLY_H

#include <stdbool.h>
#include <time.h>

struct buf;

#define AUTOREPLY_MEMORY_MAX 10000
#define AUTOREPLY_DAY (24 * 3600)

/* What the rules look at; header values unfolded, NULL when absent. */
struct autoreply_facts {
	const char *sender;             /* envelope sender, "" for <> */
	const char *user;               /* the address that would reply */
	const char *auto_submitted;
	const char *precedence;
	bool list;                      /* a List-* header is present */
};

/* 1 when a reply is allowed, else 0 and a static *why_r for the log. */
int autoreply_allowed(const struct autoreply_facts *f, const char **why_r);

/* True when until ("YYYY-MM-DD", the last day of replies, local time)
 * is before the day of now.  NULL or "" never expires. */
bool autoreply_expired(const char *until, time_t now);

/*
 * The once-per-period rule for sender, with the memory at path (created
 * mode 0600 when missing).  1: no reply went to sender within period
 * seconds, and now one is remembered as sent; 0: one did; -1 and errno
 * when the file cannot be used (the caller decides; delivery sends no
 * reply then, erring on the quiet side).
 */
int autoreply_remember(const char *path, const char *sender, time_t now,
    long long period);

struct autoreply_msg {
	const char *from;               /* the user's address */
	const char *from_name;          /* display name, or NULL */
	const char *to;                 /* the original envelope sender */
	const char *subject;            /* the user's subject, or NULL */
	const char *orig_subject;       /* the original's, or NULL */
	const char *orig_msgid;         /* the original's Message-ID */
	const char *orig_refs;          /* the original's References */
	const char *text;               /* body, "\n" = line break; NULL:
	                                 * a short default */
	const char *id;                 /* unique, for our Message-ID */
	const char *host;               /* right side of our Message-ID */
	time_t now;
};

/* Append the reply, a complete message with CRLF line ends, to out. */
void autoreply_compose(struct buf *out, const struct autoreply_msg *m);

#endif
