/*
 * bounce - delivery status notifications (RFC 3464) for recipients the
 * queue manager gave up on, written into the spool like any message.
 *
 * The report is multipart/report; report-type=delivery-status with three
 * parts: a few lines for people, a message/delivery-status part
 * (Reporting-MTA, Original-Envelope-Id, Arrival-Date; per recipient
 * Original-Recipient from ORCPT, Final-Recipient, Action, Status,
 * Diagnostic-Code, Last-Attempt-Date) and the original message: its
 * header as text/rfc822-headers (RET=HDRS, the default), or all of it as
 * message/rfc822 (RET=FULL) when it is at most BOUNCE_FULL_MAX bytes.
 *
 * It comes from MAILER-DAEMON@hostname with the null envelope sender (so
 * it can never bounce in turn), goes to the original envelope sender,
 * and carries "Auto-Submitted: auto-replied" (RFC 3834).  One report may
 * speak of recipients that failed, are delayed (still being tried), were
 * delivered, or were relayed to a server that reports no further (RFC
 * 3461 NOTIFY=SUCCESS,DELAY).  Whether a recipient deserves a report at
 * all (null sender, NOTIFY) is the caller's decision.
 */
#ifndef TERN_BOUNCE_H
#define TERN_BOUNCE_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"
#include "spool.h"

/* Biggest original sent back whole for RET=FULL; beyond it, headers. */
#define BOUNCE_FULL_MAX (4u * 1024 * 1024)
/* Most bytes of the original header block sent back. */
#define BOUNCE_HDRS_MAX (256u * 1024)

struct bounce_rcpt {
	const char *addr;       /* the recipient as the envelope had it */
	const char *orcpt;      /* ORCPT= as given (xtext), or NULL */
	const char *text;       /* diagnostic: "5.1.1 user unknown" */
	long long last;         /* last attempt (unix s), 0 if unknown */
	const char *action;     /* RFC 3464 Action: "failed" (NULL),
	                         * "delayed", "delivered" or "relayed" */
};

struct bounce {
	const char *id;         /* queue id of the original */
	const char *path;       /* its spool file */
	off_t body_off;         /* where the message starts in it */
	const char *sender;     /* original envelope sender: gets the report */
	const char *envid;      /* ENVID= (xtext) or NULL */
	const char *ret;        /* "FULL", "HDRS" or NULL (= HDRS) */
	const char *smtputf8;   /* original's smtputf8 param, or NULL */
	long long arrival;      /* when the original was accepted */
	const char *hostname;   /* ours: Reporting-MTA, MAILER-DAEMON@ */
	const struct bounce_rcpt *rcpts;
	size_t nrcpts;
};

/*
 * Build the report for b and commit it to spool s (durable in <n>/new
 * when this returns 0).  id_r gets the new message's queue id.  -1 and
 * *error_r (static text) when the original cannot be read or the spool
 * refuses the write; nothing is left behind then.
 */
int bounce_queue(struct spool *s, const struct bounce *b,
    char id_r[SPOOL_ID_LEN + 1], const char **error_r);

/*
 * The same report as text, without the spool (tests, previews): the
 * whole message with CRLF line ends into out.  id is the report's own
 * queue id (its Message-ID); now the time it is dated.  0 or -1.
 */
int bounce_format(const struct bounce *b, const char *id, long long now,
    struct buf *out, const char **error_r);

/* Decode xtext (RFC 3461: "+XX" is a byte); malloc'd. */
char *bounce_xtext_decode(const char *s);

#endif
