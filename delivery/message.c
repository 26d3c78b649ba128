/*
 * message - the message of a job, in its spool file at an offset.
 *
 * The header section is read once (at most DELIVERY_MAX_HEADER bytes)
 * for what delivery decides on: Delivered-To (loops), Subject,
 * Message-ID and References (auto-replies), Auto-Submitted, Precedence
 * and List-* (no auto-replies to robots and lists), X-Spam-Level (the
 * domain's forwarding and auto-reply exclusions).  Every copy then reads
 * the file again from the start of the message, so a message of any
 * size is streamed, never held in memory.
 *
 * X-Spam-Level is read as a word, none, low, medium or high, the level
 * Tern's filters give a message; a header that holds anything else
 * (SpamAssassin's stars) counts as no level.  With no header the message
 * is taken as not spam.  The filters are expected to remove such a
 * header when it comes from outside.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "delivery.h"
#include "xalloc.h"

/* An unfolded value longer than this is cut (it is only looked at). */
#define DMSG_VALUE_MAX 8192

int
dmsg_open(const struct dmsg *m, char **error_r)
{
	int fd = open(m->path, O_RDONLY | O_CLOEXEC);
	char skip[4096];
	off_t left;

	if (fd < 0) {
		*error_r = xasprintf("cannot open %s: %s", m->path,
		    strerror(errno));
		return -1;
	}
	if (lseek(fd, m->offset, SEEK_SET) == m->offset)
		return fd;
	/* Not seekable (a pipe, in tests): read up to the message. */
	for (left = m->offset; left > 0; ) {
		ssize_t n = read(fd, skip, left > (off_t)sizeof(skip) ?
		    sizeof(skip) : (size_t)left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*error_r = xasprintf("%s: cannot reach the message at "
			    "offset %lld", m->path, (long long)m->offset);
			close(fd);
			return -1;
		}
		left -= n;
	}
	return fd;
}

static char *
dmsg_trim_lower(const char *v, bool lower)
{
	const char *s = v + strspn(v, " \t");
	size_t n = strlen(s);
	char *r;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	if (n >= 2 && s[0] == '<' && s[n - 1] == '>' && lower) {
		s++;
		n -= 2;
	}
	r = xstrndup(s, n);
	if (lower)
		for (char *p = r; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
	return r;
}

static void
dmsg_keep(char **slot, const char *v)
{
	if (*slot == NULL)
		*slot = dmsg_trim_lower(v, false);
}

/* One complete header field: name and unfolded value. */
static void
dmsg_field(struct dmsg *m, const char *name, size_t nlen, const char *v)
{
#define IS(s) (nlen == sizeof(s) - 1 && strncasecmp(name, s, nlen) == 0)
	if (IS("Delivered-To")) {
		if (m->ndto < DELIVERY_MAX_DTO) {
			m->dto = xrealloc(m->dto, (m->ndto + 1) *
			    sizeof(*m->dto));
			m->dto[m->ndto++] = dmsg_trim_lower(v, true);
		}
	} else if (IS("Subject"))
		dmsg_keep(&m->subject, v);
	else if (IS("Message-ID"))
		dmsg_keep(&m->msgid, v);
	else if (IS("References"))
		dmsg_keep(&m->refs, v);
	else if (IS("Auto-Submitted"))
		dmsg_keep(&m->auto_submitted, v);
	else if (IS("Precedence"))
		dmsg_keep(&m->precedence, v);
	else if (nlen > 5 && strncasecmp(name, "List-", 5) == 0)
		m->list = true;         /* RFC 2369, RFC 2919 */
	else if (IS("X-Spam-Level")) {
		char *w = dmsg_trim_lower(v, false);

		m->spam = spam_level_parse(w, strlen(w));
		free(w);
	}
#undef IS
}

/*
 * Walk the header lines in h[0..len) (only complete lines; CRLF or LF),
 * unfolding continuation lines, until the empty line.
 */
static void
dmsg_parse(struct dmsg *m, const char *h, size_t len)
{
	struct buf field;
	const char *p = h, *end = h + len;
	size_t colon = 0;
	bool have = false;

	buf_init(&field, 256, 0);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n;

		if (nl == NULL)
			break;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0 && (p[0] == ' ' || p[0] == '\t')) {
			if (have && field.len + n < DMSG_VALUE_MAX)
				buf_append(&field, p, n);
		} else {
			if (have)
				dmsg_field(m, field.data, colon,
				    field.data + colon + 1);
			have = false;
			if (n == 0)
				break;
			buf_reset(&field);
			buf_append(&field, p, n < DMSG_VALUE_MAX ? n :
			    DMSG_VALUE_MAX);
			colon = (size_t)(strchr(field.data, ':') != NULL ?
			    strchr(field.data, ':') - field.data : 0);
			/* A line with no colon is no field: skipped. */
			have = colon > 0 && memchr(field.data, '\0',
			    field.len) == NULL;
		}
		p = nl + 1;
	}
	if (have)
		dmsg_field(m, field.data, colon, field.data + colon + 1);
	buf_release(&field);
}

/* Read up to the end of the header section, or the cap. */
static int
dmsg_read_header(int fd, struct buf *h, char **error_r)
{
	char chunk[16384];

	while (h->len < DELIVERY_MAX_HEADER) {
		size_t want = DELIVERY_MAX_HEADER - h->len;
		ssize_t n = read(fd, chunk, want < sizeof(chunk) ? want :
		    sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = xasprintf("cannot read the message: %s",
			    strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		buf_append(h, chunk, (size_t)n);
		if (memmem(h->data, h->len, "\r\n\r\n", 4) != NULL ||
		    memmem(h->data, h->len, "\n\n", 2) != NULL ||
		    (h->len >= 2 && h->data[0] == '\r' && h->data[1] == '\n'))
			break;
	}
	return 0;
}

int
dmsg_load(struct dmsg *m, const char *path, long long offset,
    char **error_r)
{
	struct buf h;
	struct stat st;
	bool reg;
	int fd, rc;

	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->path = path;
	m->offset = (off_t)offset;
	fd = dmsg_open(m, error_r);
	if (fd < 0)
		return -1;
	reg = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	if (reg && st.st_size > m->offset)
		m->size = st.st_size - m->offset;
	buf_init(&h, 4096, 0);
	rc = dmsg_read_header(fd, &h, error_r);
	if (rc == 0 && reg)
		m->fd = fd;
	else
		close(fd);
	if (rc == 0)
		dmsg_parse(m, h.data, h.len);
	buf_release(&h);
	if (rc < 0)
		dmsg_release(m);
	return rc;
}

void
dmsg_release(struct dmsg *m)
{
	for (size_t i = 0; i < m->ndto; i++)
		free(m->dto[i]);
	free(m->dto);
	free(m->subject);
	free(m->msgid);
	free(m->refs);
	free(m->auto_submitted);
	free(m->precedence);
	if (m->fd >= 0)
		close(m->fd);
	memset(m, 0, sizeof(*m));
	m->fd = -1;
}

bool
dmsg_delivered_to(const struct dmsg *m, const char *addr)
{
	for (size_t i = 0; i < m->ndto; i++)
		if (strcasecmp(m->dto[i], addr) == 0)
			return true;
	return false;
}
