/*
 * reply - what smtpd says: one-line and multi-line replies with their
 * enhanced status codes (RFC 2034, 3463), and the two limits a reply can
 * trip: smtp_max_bad_commands and smtp_max_bad_recipients (421 and close
 * at the limit).
 */
#include <stdio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>

#include "log.h"
#include "session.h"
#include "smtpd.h"
#include "xalloc.h"

static void
reply_vemit(struct session *s, int code, char sep, const char *enh,
    const char *fmt, va_list ap)
{
	char text[600];

	vsnprintf(text, sizeof(text), fmt, ap);
	/* Nothing a client sent may end our reply line early. */
	for (char *p = text; *p != '\0'; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			*p = '?';
	ASSERT(s->bev != NULL);
	if (enh != NULL)
		evbuffer_add_printf(bufferevent_get_output(s->bev),
		    "%d%c%s %s\r\n", code, sep, enh, text);
	else
		evbuffer_add_printf(bufferevent_get_output(s->bev),
		    "%d%c%s\r\n", code, sep, text);
	log_detail(LOG_SMTP, "%s: >>> %d%c%s%s%s", s->id, code, sep,
	    enh != NULL ? enh : "", enh != NULL ? " " : "", text);
}

void
reply(struct session *s, int code, const char *enh, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_vemit(s, code, ' ', enh, fmt, ap);
	va_end(ap);
}

void
reply_line(struct session *s, int code, bool last, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_vemit(s, code, last ? ' ' : '-', NULL, fmt, ap);
	va_end(ap);
}

void
reply_policy(struct session *s, const struct smtp_reply *r)
{
	reply(s, r->code, r->enh[0] != '\0' ? r->enh : NULL, "%s", r->text);
}

static void
session_count_bad(struct session *s)
{
	if (++s->bad_cmds < smtpd.max_bad_cmds)
		return;
	log_msg(LOG_SMTP, "%s: too many bad commands (%u) from %s; closing",
	    s->id, s->bad_cmds, s->ip);
	reply(s, 421, "4.7.0", "%s Too many errors, closing connection",
	    s->name);
	session_close(s);
}

void
reply_bad(struct session *s, int code, const char *enh, const char *fmt,
    ...)
{
	va_list ap;

	va_start(ap, fmt);
	reply_vemit(s, code, ' ', enh, fmt, ap);
	va_end(ap);
	session_count_bad(s);
}

void
reply_bad_rcpt(struct session *s, const struct smtp_reply *r)
{
	reply_policy(s, r);
	if (r->code < 500 || smtpd.max_bad_rcpts == 0 ||
	    ++s->bad_rcpts < smtpd.max_bad_rcpts)
		return;
	log_msg(LOG_SMTP, "%s: too many bad recipients (%u) from %s; closing",
	    s->id, s->bad_rcpts, s->ip);
	reply(s, 421, "4.7.0", "%s Too many bad recipients, closing "
	    "connection", s->name);
	session_close(s);
}
