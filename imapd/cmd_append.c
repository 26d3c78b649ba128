/*
 * cmd_append - APPEND mailbox [(flags)] [date-time] literal, with the
 * UIDPLUS answer [APPENDUID uidvalidity uid].  The message is written to
 * the folder's tmp/ with LF line ends, fsync'd, renamed into cur/ with
 * its flags and given its UID under the folder's lock: a crash at any
 * point leaves at most a file in tmp/, never a partial message.  The
 * user's quota (users.cdb) is checked against the maildirsize first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "imapd.h"
#include "log.h"
#include "mailbox.h"
#include "maildir.h"
#include "xalloc.h"

/* "dd-Mon-yyyy hh:mm:ss +zzzz" (day may be " d"); -1 if malformed. */
static time_t
parse_date_time(const char *s)
{
	static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm = { 0 };
	int d, y, H, M, S, z;
	char m[4], sign;

	if (sscanf(s, "%2d-%3c-%4d %2d:%2d:%2d %c%4d", &d, m, &y, &H, &M, &S,
	    &sign, &z) != 8 || (sign != '+' && sign != '-') ||
	    strlen(s) < 25 || strlen(s) > 26)
		return -1;
	m[3] = '\0';
	const char *p = strcasestr(mon, m);
	if (p == NULL || (p - mon) % 3 != 0 || d < 1 || d > 31 || H > 23 ||
	    M > 59 || S > 60 || y < 1900)
		return -1;
	tm.tm_mday = d;
	tm.tm_mon = (int)((p - mon) / 3);
	tm.tm_year = y - 1900;
	tm.tm_hour = H;
	tm.tm_min = M;
	tm.tm_sec = S;
	time_t t = timegm(&tm);
	long off = (z / 100) * 3600L + (z % 100) * 60L;
	return sign == '+' ? t - off : t + off;
}

/* Write msg (CRLF or LF) to fd with LF ends; the sizes. */
static int
write_lf(int fd, const char *msg, size_t len, size_t *lf_r, size_t *crlf_r)
{
	struct buf b;
	size_t crlf = 0;
	int rc = 0;

	buf_init(&b, len < 65536 ? len + 1 : 65536, 0);
	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\r' && i + 1 < len && msg[i + 1] == '\n')
			continue;
		if (msg[i] == '\n')
			crlf++;
		buf_putc(&b, msg[i]);
		crlf++;
		if (b.len >= 65536) {
			if (write(fd, b.data, b.len) != (ssize_t)b.len)
				rc = -1;
			*lf_r += b.len;
			buf_reset(&b);
		}
	}
	if (b.len > 0 && write(fd, b.data, b.len) != (ssize_t)b.len)
		rc = -1;
	*lf_r += b.len;
	*crlf_r = crlf;
	buf_release(&b);
	return rc;
}

void
cmd_append(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	const char *err;
	char *dir, *tmp = NULL;
	uint32_t flags = 0, nuid = 0, uv = 0;
	time_t when = 0;
	size_t i = 1;
	const struct imap_arg *flag_arg = NULL;
	struct imap_keywords kw = { 0 };

	(void)uid;
	if (n < 2 || n > 4 || !imap_arg_astring(&a[0]) ||
	    strlen(a[0].s) != a[0].len) {
		session_bad(s, tag, "APPEND mailbox [flags] [date] message");
		return;
	}
	if (a[i].type == IMAP_ARG_LIST) {
		/* syntax now; keywords once the folder is known */
		if (parse_flag_list(&a[i], &flags, &kw, NULL, false) < 0) {
			session_bad(s, tag, "Invalid flags");
			return;
		}
		flag_arg = &a[i];
		i++;
	}
	if (i < n - 1) {
		if (a[i].type != IMAP_ARG_STRING ||
		    (when = parse_date_time(a[i].s)) < 0) {
			session_bad(s, tag, "Invalid date-time");
			return;
		}
		i++;
	}
	if (i != n - 1 || a[i].type != IMAP_ARG_LITERAL) {
		session_bad(s, tag, "APPEND needs the message as a literal");
		return;
	}
	const struct imap_arg *msg = &a[i];
	if (msg->len == 0) {
		tagged(s, tag, "NO Empty message");
		return;
	}
	if ((dir = folder_dir(s, a[0].s, &err)) == NULL) {
		tagged(s, tag, "NO %s", err);
		return;
	}
	if (!folder_exists(dir)) {
		free(dir);
		tagged(s, tag, "NO [TRYCREATE] No such mailbox");
		return;
	}
	if (s->quota > 0) {
		struct maildir_usage u;
		char *e = NULL;

		if (maildir_usage(s->home, s->quota, &u, &e) == 0 &&
		    (unsigned long long)u.bytes + msg->len > s->quota) {
			free(dir);
			tagged(s, tag, "NO [OVERQUOTA] Quota exceeded");
			return;
		}
		free(e);
	}
	int kr = flag_arg != NULL ? parse_flag_list(flag_arg, &flags, &kw, dir,
	    true) : 0;
	imap_keywords_free(&kw);
	if (kr < 0) {
		free(dir);
		if (kr == FLAGS_FULL)
			tagged(s, tag, "NO [LIMIT] That folder has %d keywords "
			    "already", IMAP_KW_MAX);
		else
			tagged(s, tag, "NO [SERVERBUG] Cannot store the "
			    "keywords");
		return;
	}
	int fd = imap_mbox_tmp_open(dir, &tmp);
	size_t lf = 0, crlf = 0;
	int rc = -1;
	if (fd >= 0) {
		rc = write_lf(fd, msg->s, msg->len, &lf, &crlf);
		if (rc == 0 && fsync(fd) < 0)
			rc = -1;
		if (close(fd) < 0)
			rc = -1;
		if (rc == 0)
			rc = imap_mbox_deliver(dir, tmp, lf, crlf, flags, when,
			    &nuid, &uv);
		if (rc < 0)
			unlink(tmp);
	}
	if (rc < 0) {
		log_exc(LOG_IMAP, "%s: append to %s: %s", s->id, dir,
		    strerror(errno));
		tagged(s, tag, "NO [SERVERBUG] Cannot save the message");
	} else {
		if (s->ddir != NULL)
			mailbox_usage_add(s->ddir, s->home, (long long)lf, 1);
		if (s->mb != NULL && strcmp(s->mb->dir, dir) == 0) {
			s->mb->synced_at = 0;
			session_update(s, true);
		}
		tagged(s, tag, "OK [APPENDUID %u %u] APPEND completed", uv,
		    nuid);
	}
	free(tmp);
	free(dir);
}
