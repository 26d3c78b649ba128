/*
 * cmd_quota - QUOTA (RFC 9208): one quota root "" holding every folder
 * of the user, STORAGE in KiB, from the user's quota in users.cdb and the
 * Maildir++ maildirsize file (lib/maildir.h).  SETQUOTA is not offered:
 * quotas are the administrator's (adminctl).
 */
#include <stdlib.h>
#include <string.h>

#include "imapd.h"
#include "maildir.h"

static void
quota_line(struct session *s)
{
	struct maildir_usage u = { 0 };
	char *err = NULL;

	if (s->quota == 0) {
		out(s, "* QUOTA \"\" ()\r\n");
		return;
	}
	if (maildir_usage(s->home, s->quota, &u, &err) < 0)
		free(err);
	out(s, "* QUOTA \"\" (STORAGE %llu %llu)\r\n",
	    (unsigned long long)(u.bytes > 0 ? u.bytes : 0) / 1024,
	    s->quota / 1024);
}

void
cmd_getquotaroot(struct session *s, const char *tag, struct imap_arg *a,
    size_t n, bool uid)
{
	(void)uid;
	if (n != 1 || !imap_arg_astring(&a[0])) {
		session_bad(s, tag, "GETQUOTAROOT mailbox");
		return;
	}
	out(s, "* QUOTAROOT ");
	out_mailbox(s, folder_is_inbox(a[0].s) ? "INBOX" : a[0].s);
	out(s, " \"\"\r\n");
	quota_line(s);
	tagged(s, tag, "OK GETQUOTAROOT completed");
}

void
cmd_getquota(struct session *s, const char *tag, struct imap_arg *a,
    size_t n, bool uid)
{
	(void)uid;
	if (n != 1 || !imap_arg_astring(&a[0])) {
		session_bad(s, tag, "GETQUOTA root");
		return;
	}
	if (a[0].len != 0) {
		tagged(s, tag, "NO [NONEXISTENT] No such quota root");
		return;
	}
	quota_line(s);
	tagged(s, tag, "OK GETQUOTA completed");
}
