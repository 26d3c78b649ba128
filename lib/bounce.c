/* bounce - delivery status notifications; see bounce.h */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bounce.h"
#include "hex.h"
#include "queue_rec.h"
#include "xalloc.h"

/* RFC 5322 date-time, in UTC. */
static void
bounce_date(long long t, char *out, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, size, "%a, %d %b %Y %H:%M:%S +0000", &tm);
}

char *
bounce_xtext_decode(const char *s)
{
	char *out = xmalloc(strlen(s) + 1), *o = out;

	while (*s != '\0') {
		int c;

		if (s[0] == '+' && (c = hex_byte(s + 1)) >= 0) {
			/* A control character would break the header line. */
			*o++ = c < 0x20 || c == 0x7f ? '?' : (char)c;
			s += 3;
		} else
			*o++ = *s++;
	}
	*o = '\0';
	return out;
}

/*
 * The original message, from body_off: all of it (up to max bytes; -1
 * with errno EFBIG when it is longer) or, with headers_only, its header
 * block (up to and including the empty line, cut at max at a line end).
 */
static int
bounce_read_orig(const struct bounce *b, bool headers_only, size_t max,
    struct buf *out)
{
	int fd = open(b->path, O_RDONLY | O_CLOEXEC);
	char chunk[16384];
	ssize_t n;
	int rc = 0;

	if (fd < 0)
		return -1;
	if (lseek(fd, b->body_off, SEEK_SET) < 0) {
		close(fd);
		return -1;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -1;
			break;
		}
		buf_append(out, chunk, (size_t)n);
		if (headers_only) {
			const char *end = strstr(buf_str(out), "\r\n\r\n");

			if (end != NULL) {
				buf_truncate(out, (size_t)(end - buf_data(out)) + 4);
				break;
			}
		}
		if (buf_len(out) > max) {
			if (!headers_only) {
				errno = EFBIG;
				rc = -1;
				break;
			}
			/* No end of header in sight: keep whole lines. */
			buf_truncate(out, max);
			while (buf_len(out) > 0 &&
			    buf_data(out)[buf_len(out) - 1] != '\n')
				buf_truncate(out, buf_len(out) - 1);
			buf_append_str(out, "\r\n");
			break;
		}
	}
	close(fd);
	return rc;
}

static bool
bounce_8bit(const struct buf *b)
{
	for (size_t i = 0; i < buf_len(b); i++)
		if ((unsigned char)buf_data(b)[i] >= 0x80)
			return true;
	return false;
}

static bool
bounce_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static const char *
bounce_action(const struct bounce_rcpt *r)
{
	return r->action != NULL ? r->action : "failed";
}

/* Does the report speak of any recipient with this action? */
static bool
bounce_has(const struct bounce *b, const char *action)
{
	for (size_t i = 0; i < b->nrcpts; i++)
		if (strcmp(bounce_action(&b->rcpts[i]), action) == 0)
			return true;
	return false;
}

/* One paragraph per kind of outcome, each with its recipients. */
static void
bounce_human(const struct bounce *b, bool full, bool cut, struct buf *out)
{
	static const struct { const char *action, *text; } kinds[] = {
		{ "failed", "could not be delivered to the recipients below.\r\n"
		  "The server has stopped trying; the reason it was given is\r\n"
		  "shown under each address." },
		{ "delayed", "has not yet been delivered to the recipients\r\n"
		  "below.  The server is still trying and will tell you if it\r\n"
		  "gives up; you need not send it again." },
		{ "delivered", "was delivered to the recipients below." },
		{ "relayed", "was passed on to the recipients' mail servers\r\n"
		  "below, which may not report on it further." },
	};
	char date[64];

	bounce_date(b->arrival, date, sizeof(date));
	buf_printf(out, "This is the mail server at %s.\r\n\r\n",
	    b->hostname);
	for (size_t k = 0; k < sizeof(kinds) / sizeof(*kinds); k++) {
		if (!bounce_has(b, kinds[k].action))
			continue;
		buf_printf(out, "The message you sent on %s %s\r\n\r\n", date,
		    kinds[k].text);
		for (size_t i = 0; i < b->nrcpts; i++)
			if (strcmp(bounce_action(&b->rcpts[i]),
			    kinds[k].action) == 0)
				buf_printf(out, "  <%s>\r\n      %s\r\n\r\n",
				    b->rcpts[i].addr, b->rcpts[i].text != NULL ?
				    b->rcpts[i].text : kinds[k].action);
	}
	buf_printf(out, "%s\r\n",
	    full ? "Your message is attached in full." :
	    cut ? "Your message was too large to send back whole; its "
	    "header is attached." :
	    "The header of your message is attached.");
}

static void
bounce_status(const struct bounce *b, struct buf *out)
{
	char date[64], code[16];

	buf_append_str(out, "Content-Type: message/delivery-status\r\n\r\n");
	buf_printf(out, "Reporting-MTA: dns; %s\r\n", b->hostname);
	if (b->envid != NULL) {
		char *e = bounce_xtext_decode(b->envid);

		buf_printf(out, "Original-Envelope-Id: %s\r\n", e);
		free(e);
	}
	bounce_date(b->arrival, date, sizeof(date));
	buf_printf(out, "Arrival-Date: %s\r\n", date);
	for (size_t i = 0; i < b->nrcpts; i++) {
		const struct bounce_rcpt *r = &b->rcpts[i];
		const char *action = bounce_action(r);
		const char *def = strcmp(action, "failed") == 0 ? "5.0.0" :
		    strcmp(action, "delayed") == 0 ? "4.0.0" : "2.0.0";
		const char *text = r->text != NULL ? r->text : def;

		buf_append_str(out, "\r\n");
		if (r->orcpt != NULL) {
			char *o = bounce_xtext_decode(r->orcpt);

			buf_printf(out, "Original-Recipient: %s%s\r\n",
			    strchr(o, ';') != NULL ? "" : "rfc822;", o);
			free(o);
		}
		buf_printf(out, "Final-Recipient: %s; %s\r\n",
		    bounce_ascii(r->addr) ? "rfc822" : "utf-8", r->addr);
		buf_printf(out, "Action: %s\r\n", action);
		qrec_status_code(text, def, code, sizeof(code));
		buf_printf(out, "Status: %s\r\n", code);
		/* An SMTP reply ("550 5.1.1 ...") is a remote server's
		 * word; anything else is ours. */
		if (isdigit((unsigned char)text[0]) &&
		    isdigit((unsigned char)text[1]) &&
		    isdigit((unsigned char)text[2]) && text[3] == ' ')
			buf_printf(out, "Diagnostic-Code: smtp; %s\r\n", text);
		else
			buf_printf(out, "Diagnostic-Code: x-tern; %s\r\n", text);
		if (r->last > 0) {
			bounce_date(r->last, date, sizeof(date));
			buf_printf(out, "Last-Attempt-Date: %s\r\n", date);
		}
	}
}

/* The original as the report carries it: whole or its header block. */
static int
bounce_orig(const struct bounce *b, struct buf *orig, bool *full_r,
    bool *cut_r, const char **error_r)
{
	*full_r = b->ret != NULL && strcasecmp(b->ret, "FULL") == 0;
	*cut_r = false;
	if (*full_r && bounce_read_orig(b, false, BOUNCE_FULL_MAX, orig) < 0) {
		if (errno != EFBIG) {
			*error_r = "cannot read the original message";
			return -1;
		}
		*full_r = false;
		*cut_r = true;
		buf_reset(orig);
	}
	if (!*full_r && bounce_read_orig(b, true, BOUNCE_HDRS_MAX, orig) < 0) {
		*error_r = "cannot read the original message";
		return -1;
	}
	return 0;
}

static void
bounce_build(const struct bounce *b, const char *id, long long now,
    const struct buf *orig, bool full, bool cut, struct buf *out)
{
	struct buf human;
	char date[64], boundary[80];
	const char *subject = bounce_has(b, "failed") ?
	    "Undeliverable: message returned to sender" :
	    bounce_has(b, "delayed") ? "Delayed: message not yet delivered" :
	    "Delivered: delivery report";

	snprintf(boundary, sizeof(boundary), "=_report_%s_%lld", id, now);
	bounce_date(now, date, sizeof(date));
	buf_printf(out,
	    "From: Mail Delivery System <MAILER-DAEMON@%s>\r\n"
	    "To: <%s>\r\n"
	    "Subject: %s\r\n"
	    "Date: %s\r\n"
	    "Message-ID: <%s@%s>\r\n"
	    "Auto-Submitted: auto-replied\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/report; report-type=delivery-status;\r\n"
	    "\tboundary=\"%s\"\r\n"
	    "\r\n"
	    "This is a MIME-formatted delivery status notification.\r\n"
	    "\r\n--%s\r\n",
	    b->hostname, b->sender, subject, date, id, b->hostname, boundary,
	    boundary);
	buf_init(&human, 1024, 0);
	bounce_human(b, full, cut, &human);
	buf_printf(out, "Content-Type: text/plain; charset=%s\r\n",
	    bounce_8bit(&human) ? "utf-8" : "us-ascii");
	if (bounce_8bit(&human))
		buf_append_str(out, "Content-Transfer-Encoding: 8bit\r\n");
	buf_append_str(out, "\r\n");
	buf_append(out, buf_data(&human), buf_len(&human));
	buf_release(&human);
	buf_printf(out, "\r\n--%s\r\n", boundary);
	bounce_status(b, out);
	buf_printf(out, "\r\n--%s\r\n", boundary);
	buf_printf(out, "Content-Type: %s\r\n",
	    full ? "message/rfc822" : "text/rfc822-headers");
	if (bounce_8bit(orig))
		buf_append_str(out, "Content-Transfer-Encoding: 8bit\r\n");
	buf_append_str(out, "\r\n");
	buf_append(out, buf_data(orig), buf_len(orig));
	if (buf_len(orig) < 2 ||
	    memcmp(buf_data(orig) + buf_len(orig) - 2, "\r\n", 2) != 0)
		buf_append_str(out, "\r\n");
	buf_printf(out, "\r\n--%s--\r\n", boundary);
}

int
bounce_format(const struct bounce *b, const char *id, long long now,
    struct buf *out, const char **error_r)
{
	struct buf orig;
	bool full, cut;
	int rc;

	buf_init(&orig, 8192, 0);
	rc = bounce_orig(b, &orig, &full, &cut, error_r);
	if (rc == 0)
		bounce_build(b, id, now, &orig, full, cut, out);
	buf_release(&orig);
	return rc;
}

int
bounce_queue(struct spool *s, const struct bounce *b,
    char id_r[SPOOL_ID_LEN + 1], const char **error_r)
{
	struct spool_envelope e;
	struct spool_file *f = NULL;
	struct buf orig, out;
	bool full, cut;
	int rc = -1;

	buf_init(&orig, 8192, 0);
	buf_init(&out, 16384, 0);
	spool_env_init(&e);
	if (bounce_orig(b, &orig, &full, &cut, error_r) < 0)
		goto out;
	e.time = (long long)time(NULL);
	spool_env_set_sender(&e, "");
	spool_env_add_rcpt(&e, b->sender, "NEVER", NULL);
	spool_env_set_param(&e, "kind", "dsn");
	spool_env_set_param(&e, "bounce_of", b->id);
	spool_env_set_param(&e, "body", bounce_8bit(&orig) ? "8BITMIME" :
	    "7BIT");
	spool_env_set_param(&e, "smtputf8", !bounce_ascii(b->sender) ||
	    (b->smtputf8 != NULL && strcmp(b->smtputf8, "yes") == 0 &&
	    bounce_8bit(&orig)) ? "yes" : "no");
	f = spool_file_new(s, &e, error_r);
	if (f == NULL)
		goto out;
	bounce_build(b, e.id, e.time, &orig, full, cut, &out);
	if (spool_file_write(f, buf_data(&out), buf_len(&out)) < 0) {
		*error_r = strerror(errno);
		spool_file_abort(&f);
		goto out;
	}
	memcpy(id_r, e.id, SPOOL_ID_LEN + 1);
	rc = spool_file_commit(&f, error_r);
out:
	buf_release(&orig);
	buf_release(&out);
	spool_env_release(&e);
	return rc;
}
