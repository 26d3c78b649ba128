/* cmd_misc - RSET, NOOP, QUIT, HELP, VRFY and EXPN (RFC 5321 4.1.1) */
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "addr.h"
#include "session.h"
#include "smtpd.h"
#include "xalloc.h"

void
cmd_rset(struct session *s, const char *args, size_t len)
{
	(void)args; (void)len;
	txn_reset(s);
	reply(s, 250, "2.0.0", "Ok");
}

void
cmd_noop(struct session *s, const char *args, size_t len)
{
	(void)args; (void)len;
	reply(s, 250, "2.0.0", "Ok");
}

void
cmd_quit(struct session *s, const char *args, size_t len)
{
	(void)args; (void)len;
	reply(s, 221, "2.0.0", "%s Bye", s->name);
	session_close(s);
}

void
cmd_help(struct session *s, const char *args, size_t len)
{
	(void)args; (void)len;
	reply(s, 214, "2.0.0", "Commands: EHLO HELO MAIL RCPT DATA BDAT RSET "
	    "NOOP QUIT HELP VRFY EXPN AUTH STARTTLS; see RFC 5321");
}

/* The argument of VRFY or EXPN as an address; replies on error. */
static int
misc_address(struct session *s, const char *verb, const char *args,
    size_t len, struct addr *a)
{
	const char *err;

	if (len == 0) {
		reply_bad(s, 501, "5.5.4", "Syntax: %s address", verb);
		return -1;
	}
	if (addr_parse(args, len, ADDR_PATH | ADDR_NO_BRACKETS_OK |
	    ADDR_SMTPUTF8, a, &err) < 0) {
		reply_bad(s, 501, "5.1.3", "Bad address syntax: %s", err);
		return -1;
	}
	return 0;
}

/* Off by default: it tells harvesters which addresses exist. */
void
cmd_vrfy(struct session *s, const char *args, size_t len)
{
	struct smtp_reply r;
	struct addr a;

	if (!smtpd.vrfy) {
		reply(s, 252, "2.5.2", "Cannot VRFY user, but will accept "
		    "message and attempt delivery");
		return;
	}
	if (misc_address(s, "VRFY", args, len, &a) < 0)
		return;
	policy_vrfy(smtpd_policy, &a, &r);
	reply_policy(s, &r);
	addr_release(&a);
}

/* Each alias target as one line of a 250 reply. */
static void
misc_expn_list(struct session *s, const char *t, size_t len)
{
	const char *end = t + len, *nl, *prev = NULL;
	int plen = 0;

	for (; t < end; t = nl + 1) {
		nl = memchr(t, '\n', (size_t)(end - t));
		if (nl == NULL)
			nl = end;
		if (nl == t)
			continue;
		if (prev != NULL)
			reply_line(s, 250, false, "2.1.5 <%.*s>", plen, prev);
		prev = t;
		plen = (int)(nl - t);
	}
	if (prev != NULL)
		reply_line(s, 250, true, "2.1.5 <%.*s>", plen, prev);
	else
		reply(s, 550, "5.1.1", "No such user or alias");
}

/* Off by default; when on, only for clients that logged in. */
void
cmd_expn(struct session *s, const char *args, size_t len)
{
	struct accounts *acc;
	struct acct_domain d;
	struct addr a;
	const char *t;
	size_t tlen;
	char *full;

	if (!smtpd.expn) {
		reply(s, 502, "5.5.1", "EXPN not available");
		return;
	}
	if (s->auth_user == NULL) {
		reply(s, 530, "5.7.0", "Authentication required");
		return;
	}
	if (misc_address(s, "EXPN", args, len, &a) < 0)
		return;
	acc = smtpd_accounts();
	if (acc == NULL || a.domain == NULL)
		reply(s, 451, "4.3.0", "Cannot look the address up now");
	else if (accounts_domain(acc, a.domain, &d) != 1)
		reply(s, 550, "5.1.1", "Not a local address");
	else if (accounts_alias(acc, a.local, d.name, &t, &tlen) == 1 &&
	    tlen > 0)
		misc_expn_list(s, t, tlen);
	else if (accounts_user(acc, a.local, d.name, &t, &tlen) == 1) {
		full = xasprintf("%s@%s", a.local, d.name);
		reply(s, 250, "2.1.5", "<%s>", full);
		free(full);
	} else
		reply(s, 550, "5.1.1", "No such user or alias");
	addr_release(&a);
}
