/*
 * queue_rec - the per-recipient record the queue manager keeps beside
 * each message it owns: spool_dir/<n>/cur/<id>.rec.
 *
 * The message file is never modified (spool.h); everything that happens
 * to it later is appended here, one text line per fact, each line written
 * with one write() and made durable (fdatasync) before the queue acts on
 * it.  Only the queue writes records; adminctl reads them.  Lines:
 *
 *   t <i> <time> <next> <attempts> <text>   recipient i was deferred at
 *                                           <time>; next attempt <next>
 *   d <i> <time> ok|fail|drop <text>        recipient i is finished:
 *                                           delivered, failed (bounce
 *                                           due), or dropped (no bounce:
 *                                           deleted, null sender ...)
 *   b <bounce-id> <i>[,<i>...]              a report for these recipients
 *                                           (failed, or delivered with
 *                                           NOTIFY=SUCCESS) is durably in
 *                                           the spool
 *   w <report-id> <i>[,<i>...]              a delay warning for these
 *                                           pending recipients is durably
 *                                           in the spool
 *   p <priority>                            the admin set the priority
 *   h 1|0                                   the admin held the message
 *                                           (1) or released it (0)
 *   r <time>                                retries reset: every pending
 *                                           recipient starts again, due
 *                                           at <time>
 *
 * <i> is the recipient's index in the envelope (0-based); times are unix
 * seconds; <text> is the rest of the line (a diagnostic that starts with
 * an enhanced status code) with control characters replaced.  A last
 * line without its LF (a crash mid-write) is ignored, and so is a line
 * that does not parse or names a recipient the envelope lacks; the
 * writer truncates a torn tail before appending again (clean_len).
 */
#ifndef TERN_QUEUE_REC_H
#define TERN_QUEUE_REC_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

#define QREC_SUFFIX ".rec"
/* Longest diagnostic kept on a line; longer ones are cut. */
#define QREC_TEXT_MAX 900
/* A record larger than this is damaged (a loop gone wrong). */
#define QREC_MAX (64u * 1024 * 1024)

enum qrec_state {
	QREC_PENDING,    /* not finished: never tried, or deferred */
	QREC_OK,         /* delivered */
	QREC_FAIL,       /* failed for good: the sender gets a bounce */
	QREC_DROP,       /* finished without delivery or bounce */
};

struct qrec_rcpt {
	enum qrec_state state;
	bool bounced;          /* a "b" line covers it */
	bool warned;           /* a "w" line covers it */
	unsigned attempts;     /* delivery attempts made */
	long long last;        /* time of the last attempt or reset; 0 none */
	long long next;        /* next attempt; 0 = the first one (arrival
	                        * plus the delivery delay) */
	char *text;            /* last diagnostic (malloc'd), or NULL */
};

struct qrec {
	struct qrec_rcpt *r;
	size_t n;
	int prio;              /* set by a "p" line; 0 = none */
	bool held;             /* the last "h" line said 1 */
	size_t clean_len;      /* bytes up to the end of the last whole line */
	size_t torn;           /* bytes after it (a torn last line) */
	size_t bad;            /* lines ignored as unparsable */
	bool exists;           /* the file was there */
};

/* n recipients, all pending. */
void qrec_init(struct qrec *q, size_t n);
void qrec_release(struct qrec *q);

/* Apply one line (without its LF) to q. */
void qrec_apply(struct qrec *q, const char *line, size_t len);
/* Apply a whole record (whole lines; a tail without LF is torn). */
void qrec_apply_all(struct qrec *q, const char *data, size_t len);

/*
 * Read the record at path into q (qrec_init'ed with the envelope's
 * recipient count).  A missing file is a record with no lines (0,
 * q->exists false).  -1 and *error_r (malloc'd) when it cannot be read.
 */
int qrec_read(const char *path, struct qrec *q, char **error_r);

/* Line builders: each appends one whole line, LF included, to b. */
void qrec_put_defer(struct buf *b, size_t i, long long t, long long next,
    unsigned attempts, const char *text);
void qrec_put_done(struct buf *b, size_t i, long long t,
    enum qrec_state st, const char *text);
void qrec_put_bounce(struct buf *b, const char *bounce_id,
    const size_t *idx, size_t n);
/* The same for a delay warning ("w"). */
void qrec_put_warn(struct buf *b, const char *report_id, const size_t *idx,
    size_t n);
void qrec_put_prio(struct buf *b, int prio);
void qrec_put_reset(struct buf *b, long long t);
void qrec_put_hold(struct buf *b, bool held);

/* "pending", "delivered", "failed", "dropped". */
const char *qrec_state_name(enum qrec_state s);

/* True if name is a queue id (SPOOL_ID_LEN upper-case hex digits). */
bool qrec_id_valid(const char *name);

/*
 * Does recipient notify text (the RCPT NOTIFY= value, NULL when none
 * was given) ask for a failure report?  RFC 3461: absent means FAILURE.
 */
bool qrec_notify_failure(const char *notify);
/* Does notify list word ("SUCCESS", "DELAY")?  Absent: no. */
bool qrec_notify_has(const char *notify, const char *word);

/*
 * The enhanced status code a diagnostic starts with ("5.1.1" from
 * "5.1.1 user unknown", also after an SMTP reply code "550 5.1.1 ..."),
 * copied into code (at least 12 bytes); def when there is none.
 */
void qrec_status_code(const char *text, const char *def, char *code,
    size_t size);

#endif
