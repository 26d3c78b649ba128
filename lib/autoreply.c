/* autoreply - rules, memory and composition of auto-replies; see .h */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "autoreply.h"
#include "buf.h"
#include "xalloc.h"

/* A memory file bigger than this is damaged; it is started afresh. */
#define AR_FILE_MAX (1024 * 1024)
/* Header values we copy into the reply are cut to this. */
#define AR_HEADER_MAX 900

/* --- rules ------------------------------------------------------------ */

/* The first token of a header value ("no", "auto-replied; x=y"). */
static bool
ar_token_is(const char *v, const char *word)
{
	size_t n = strlen(word);

	v += strspn(v, " \t");
	return strncasecmp(v, word, n) == 0 &&
	    (v[n] == '\0' || v[n] == ' ' || v[n] == '\t' || v[n] == ';' ||
	    v[n] == '(');
}

/* Local parts that are robots or list machinery (RFC 3834 section 2). */
static bool
ar_robot(const char *sender)
{
	const char *at = strrchr(sender, '@');
	size_t n = at != NULL ? (size_t)(at - sender) : strlen(sender);

	return (n == 13 && strncasecmp(sender, "mailer-daemon", 13) == 0) ||
	    (n == 8 && strncasecmp(sender, "listserv", 8) == 0) ||
	    (n == 9 && strncasecmp(sender, "majordomo", 9) == 0) ||
	    (n >= 6 && strncasecmp(sender, "owner-", 6) == 0) ||
	    (n >= 8 && strncasecmp(sender + n - 8, "-request", 8) == 0);
}

int
autoreply_allowed(const struct autoreply_facts *f, const char **why_r)
{
	if (f->sender == NULL || f->sender[0] == '\0')
		*why_r = "null sender";
	else if (f->auto_submitted != NULL &&
	    !ar_token_is(f->auto_submitted, "no"))
		*why_r = "message is Auto-Submitted";
	else if (f->precedence != NULL &&
	    (ar_token_is(f->precedence, "bulk") ||
	    ar_token_is(f->precedence, "list") ||
	    ar_token_is(f->precedence, "junk")))
		*why_r = "message has Precedence bulk, list or junk";
	else if (f->list)
		*why_r = "message came from a mailing list";
	else if (f->user != NULL && strcasecmp(f->sender, f->user) == 0)
		*why_r = "sender is the user";
	else if (ar_robot(f->sender))
		*why_r = "sender is a robot or list address";
	else
		return 1;
	return 0;
}

bool
autoreply_expired(const char *until, time_t now)
{
	char today[16];
	struct tm tm;

	if (until == NULL || until[0] == '\0')
		return false;
	localtime_r(&now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	/* Both YYYY-MM-DD: the strings sort as the dates do. */
	return strcmp(today, until) > 0;
}

/* --- memory ----------------------------------------------------------- */

struct ar_entry {
	long long t;
	const char *who;        /* points into the file's text */
	size_t len;
};

/* Parse "time sender" lines of text; damaged lines are skipped. */
static size_t
ar_parse(char *text, size_t len, struct ar_entry **e_r)
{
	struct ar_entry *e = NULL;
	size_t n = 0, cap = 0;
	char *p = text, *end = text + len;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p)), *sp, *x;
		long long t;

		if (nl == NULL)
			break;          /* a torn last line */
		*nl = '\0';
		sp = strchr(p, ' ');
		errno = 0;
		t = strtoll(p, &x, 10);
		if (sp != NULL && x == sp && errno == 0 && sp[1] != '\0') {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				e = xrealloc(e, cap * sizeof(*e));
			}
			e[n].t = t;
			e[n].who = sp + 1;
			e[n].len = (size_t)(nl - sp - 1);
			n++;
		}
		p = nl + 1;
	}
	*e_r = e;
	return n;
}

/* Read all of fd (at most AR_FILE_MAX); NULL when bigger. */
static char *
ar_read_all(int fd, size_t *len_r)
{
	struct stat st;
	char *text;
	ssize_t n;

	if (fstat(fd, &st) < 0 || st.st_size > AR_FILE_MAX)
		return NULL;
	text = xmalloc((size_t)st.st_size + 1);
	n = pread(fd, text, (size_t)st.st_size, 0);
	if (n < 0) {
		free(text);
		return NULL;
	}
	text[n] = '\0';
	*len_r = (size_t)n;
	return text;
}

/* Rewrite the file in place with the live entries and the new one. */
static int
ar_rewrite(int fd, const struct ar_entry *e, size_t n, const char *sender,
    time_t now, long long period)
{
	struct buf b;
	size_t keep = 0, first = 0;
	int rc;

	for (size_t i = 0; i < n; i++)
		if (e[i].t > now - period)
			keep++;
	/* Over the cap: the oldest lines (the first ones) go. */
	if (keep >= AUTOREPLY_MEMORY_MAX)
		first = keep - AUTOREPLY_MEMORY_MAX + 1;
	buf_init(&b, 4096, 0);
	for (size_t i = 0, live = 0; i < n; i++) {
		if (e[i].t <= now - period || live++ < first)
			continue;
		buf_printf(&b, "%lld %.*s\n", e[i].t, (int)e[i].len, e[i].who);
	}
	buf_printf(&b, "%lld %s\n", (long long)now, sender);
	rc = ftruncate(fd, 0) == 0 &&
	    pwrite(fd, b.data, b.len, 0) == (ssize_t)b.len ? 0 : -1;
	buf_release(&b);
	return rc;
}

int
autoreply_remember(const char *path, const char *sender, time_t now,
    long long period)
{
	struct ar_entry *e = NULL;
	char *text = NULL;
	size_t len = 0, n;
	int fd, rc = 1, err = 0;
	bool seen = false;

	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	text = ar_read_all(fd, &len);
	if (text == NULL)
		len = 0;        /* damaged or huge: start afresh */
	n = text != NULL ? ar_parse(text, len, &e) : 0;
	for (size_t i = 0; i < n && !seen; i++)
		seen = e[i].t > now - period && e[i].len == strlen(sender) &&
		    strncasecmp(e[i].who, sender, e[i].len) == 0;
	if (seen)
		rc = 0;
	else if (ar_rewrite(fd, e, n, sender, now, period) < 0) {
		rc = -1;
		err = errno;
	}
	free(e);
	free(text);
	close(fd);              /* releases the lock */
	if (rc < 0)
		errno = err;
	return rc;
}

/* --- composition ------------------------------------------------------ */

static bool
ar_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

static void
ar_base64(struct buf *out, const unsigned char *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		buf_putc(out, tab[v >> 18 & 63]);
		buf_putc(out, tab[v >> 12 & 63]);
		buf_putc(out, i + 1 < n ? tab[v >> 6 & 63] : '=');
		buf_putc(out, i + 2 < n ? tab[v & 63] : '=');
	}
}

/* Text for a header, as one line: controls become blanks, cut long. */
static char *
ar_clean(const char *s)
{
	size_t n = strlen(s);
	char *r;

	if (n > AR_HEADER_MAX)
		n = AR_HEADER_MAX;
	r = xstrndup(s, n);
	for (char *p = r; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return r;
}

/* A header value of our own: as is when ASCII, else RFC 2047 words of
 * at most 45 input bytes, never splitting a UTF-8 character. */
static void
ar_header_text(struct buf *out, const char *s)
{
	size_t n = strlen(s);

	if (ar_ascii(s, n)) {
		buf_append(out, s, n);
		return;
	}
	for (size_t i = 0; i < n; ) {
		size_t k = n - i > 45 ? 45 : n - i;

		while (i + k < n && k > 1 &&
		    ((unsigned char)s[i + k] & 0xc0) == 0x80)
			k--;
		if (i > 0)
			buf_append_str(out, "\r\n ");
		buf_append_str(out, "=?UTF-8?B?");
		ar_base64(out, (const unsigned char *)s + i, k);
		buf_append_str(out, "?=");
		i += k;
	}
}

/* A display name as a quoted-string, or nothing when it is not plain
 * printable ASCII (an encoded phrase is not worth the risk here). */
static void
ar_from(struct buf *out, const char *name, const char *addr)
{
	bool plain = name != NULL && name[0] != '\0';

	for (const char *p = name; plain && *p != '\0'; p++)
		plain = (unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f;
	buf_append_str(out, "From: ");
	if (plain) {
		buf_putc(out, '"');
		for (const char *p = name; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_putc(out, '\\');
			buf_putc(out, *p);
		}
		buf_append_str(out, "\" ");
	}
	buf_printf(out, "<%s>\r\n", addr);
}

/* The body: the user's text with "\n" as line breaks. */
static void
ar_body_text(struct buf *b, const char *text)
{
	if (text == NULL || text[0] == '\0')
		text = "This is an automatic reply: your message has been "
		    "received.";
	for (const char *p = text; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] == 'n') {
			buf_append_str(b, "\r\n");
			p++;
		} else
			buf_putc(b, *p);
	}
	buf_append_str(b, "\r\n");
}

static bool
ar_long_lines(const char *s, size_t n)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		run = s[i] == '\n' ? 0 : run + 1;
		if (run > 900)
			return true;
	}
	return false;
}

static void
ar_threading(struct buf *out, const struct autoreply_msg *m)
{
	char *id, *refs;

	if (m->orig_msgid == NULL)
		return;
	id = ar_clean(m->orig_msgid + strspn(m->orig_msgid, " \t"));
	if (id[0] != '<' || strchr(id, '>') == NULL || strlen(id) > 250) {
		free(id);
		return;
	}
	*(strchr(id, '>') + 1) = '\0';
	buf_printf(out, "In-Reply-To: %s\r\n", id);
	refs = m->orig_refs != NULL ? ar_clean(m->orig_refs) : NULL;
	if (refs != NULL && strlen(refs) + strlen(id) < AR_HEADER_MAX)
		buf_printf(out, "References: %s %s\r\n", refs, id);
	else
		buf_printf(out, "References: %s\r\n", id);
	free(refs);
	free(id);
}

void
autoreply_compose(struct buf *out, const struct autoreply_msg *m)
{
	struct buf body;
	char date[64];
	struct tm tm;

	localtime_r(&m->now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf_printf(out, "Date: %s\r\n", date);
	ar_from(out, m->from_name, m->from);
	buf_printf(out, "To: <%s>\r\n", m->to);
	buf_append_str(out, "Subject: ");
	if (m->subject != NULL && m->subject[0] != '\0') {
		char *s = ar_clean(m->subject);

		ar_header_text(out, s);
		free(s);
	} else if (m->orig_subject != NULL) {
		/* Already in header form (encoded words, if any). */
		char *s = ar_clean(m->orig_subject + strspn(m->orig_subject,
		    " \t"));

		buf_printf(out, "Auto: %s", s);
		free(s);
	} else
		buf_append_str(out, "Automatic reply");
	buf_printf(out, "\r\nMessage-ID: <%s@%s>\r\n", m->id, m->host);
	ar_threading(out, m);
	buf_append_str(out, "Auto-Submitted: auto-replied\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n");
	buf_init(&body, 512, 0);
	ar_body_text(&body, m->text);
	if (ar_ascii(body.data, body.len) && !ar_long_lines(body.data,
	    body.len)) {
		buf_append_str(out, "Content-Transfer-Encoding: 7bit\r\n\r\n");
		buf_append(out, body.data, body.len);
	} else {
		buf_append_str(out,
		    "Content-Transfer-Encoding: base64\r\n\r\n");
		for (size_t i = 0; i < body.len; i += 57) {
			ar_base64(out, (const unsigned char *)body.data + i,
			    body.len - i > 57 ? 57 : body.len - i);
			buf_append_str(out, "\r\n");
		}
	}
	buf_release(&body);
}
