/* cmd_ehlo - EHLO and HELO (RFC 5321 4.1.1.1), and what EHLO offers */
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "smtpd.h"
#include "xalloc.h"

/*
 * The client's name for itself goes into the Received header and the
 * envelope, so it must be one token of printable ASCII.  Domain syntax
 * is not enforced: too many real clients send "localhost.localdomain",
 * bare host names or a literal without brackets.
 */
static bool
ehlo_name_ok(const char *args, size_t len)
{
	if (len == 0 || len > 255)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)args[i] <= ' ' ||
		    (unsigned char)args[i] >= 0x7f)
			return false;
	return true;
}

/* Both commands reset the transaction and record the name. */
static bool
ehlo_common(struct session *s, const char *verb, const char *args,
    size_t len)
{
	if (!ehlo_name_ok(args, len)) {
		reply_bad(s, 501, "5.5.4", "Syntax: %s hostname", verb);
		return false;
	}
	txn_reset(s);
	free(s->helo);
	s->helo = xstrndup(args, len);
	session_set_state(s, ST_READY);
	return true;
}

void
cmd_ehlo(struct session *s, const char *args, size_t len)
{
	if (!ehlo_common(s, "EHLO", args, len))
		return;
	s->esmtp = true;
	reply_line(s, 250, false, "%s Hello %s [%s]", s->name, s->helo, s->ip);
	reply_line(s, 250, false, "PIPELINING");
	/* RFC 1870: SIZE 0 (or no number) means "no fixed limit". */
	reply_line(s, 250, false, "SIZE %llu", smtpd.max_size);
	reply_line(s, 250, false, "8BITMIME");
	reply_line(s, 250, false, "ENHANCEDSTATUSCODES");
	reply_line(s, 250, false, "DSN");
	reply_line(s, 250, false, "SMTPUTF8");
	reply_line(s, 250, false, "BINARYMIME");
	if (starttls_offered(s))
		reply_line(s, 250, false, "STARTTLS");
	if (auth_offered(s))
		auth_ehlo_line(s, false);
	reply_line(s, 250, true, "CHUNKING");
}

void
cmd_helo(struct session *s, const char *args, size_t len)
{
	if (!ehlo_common(s, "HELO", args, len))
		return;
	s->esmtp = false;
	reply(s, 250, NULL, "%s", s->name);
}
