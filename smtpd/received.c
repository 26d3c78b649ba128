/*
 * received - the Received header smtpd puts on top of every message
 * (RFC 5321 4.4, protocol names from RFC 3848 and RFC 6531):
 *
 *   Received: from HELO (NAME [IP])
 *   	by US (Tern) with ESMTPSA id QID
 *   	(using TLSv1.3 TLS_AES_256_GCM_SHA384 (256 bits))
 *   	for <rcpt>; Tue, 25 Nov 2025 10:11:12 +0000
 *
 * NAME is the client's confirmed reverse DNS name or "unknown".  The A
 * in the protocol says the client logged in; which user stays out unless
 * smtp_received_auth_user says otherwise.  "for" names the recipient
 * only when there is exactly one, so a message to many does not show
 * each recipient the others.
 */
#include <string.h>
#include <time.h>

#include "buf.h"
#include "session.h"
#include "smtpd.h"

static const char *
received_proto(const struct session *s)
{
	static const char *const names[2][2][2] = {
		/* [utf8][tls][auth] */
		{ { "ESMTP", "ESMTPA" }, { "ESMTPS", "ESMTPSA" } },
		{ { "UTF8SMTP", "UTF8SMTPA" }, { "UTF8SMTPS", "UTF8SMTPSA" } },
	};

	if (!s->esmtp)
		return s->client.tls ? "SMTPS" : "SMTP";
	return names[s->txn.smtputf8][s->client.tls][s->auth_user != NULL];
}

int
received_write(struct session *s, struct spool_file *f)
{
	struct buf *b = buf_new(512);
	char date[64];
	struct tm tm;
	time_t now = time(NULL);
	int rc;

	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf_printf(b, "Received: from %s (%s [%s%s])\r\n", s->helo,
	    s->rdns != NULL ? s->rdns : "unknown",
	    strchr(s->ip, ':') != NULL ? "IPv6:" : "", s->ip);
	buf_printf(b, "\tby %s (Tern) with %s id %s\r\n", s->name,
	    received_proto(s), s->txn.qid);
	if (s->client.tls && s->tls_desc != NULL)
		buf_printf(b, "\t(using %s)\r\n", s->tls_desc);
	if (s->auth_user != NULL && smtpd.received_auth_user)
		buf_printf(b, "\t(authenticated as %s)\r\n", s->auth_user);
	if (s->txn.env.nrcpts == 1)
		buf_printf(b, "\tfor <%s>; %s\r\n", s->txn.env.rcpts[0].addr,
		    date);
	else
		buf_printf(b, "\t; %s\r\n", date);
	rc = spool_file_write(f, buf_data(b), buf_len(b));
	buf_free(&b);
	return rc;
}
