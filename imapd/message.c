/*
 * message - one message of the selected folder read into memory with
 * CRLF line ends (files keep LF, as every maildir reader expects), its
 * header fields, sizes and dates; sequence-set arguments.
 *
 * FETCH and SEARCH read only the header when that is all they need;
 * otherwise the message is read whole here.  A big message fetched whole
 * never comes here: cmd_fetch.c sends it from the file as it reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imapd.h"
#include "mime.h"
#include "xalloc.h"

static int
open_msg(struct session *s, uint32_t i)
{
	char *p = xasprintf("%s/cur/%s", s->mb->dir, imap_msg_name(s->mb, i));
	int fd = open(p, O_RDONLY | O_CLOEXEC);

	free(p);
	return fd;
}

/* Where the header ends (after its blank line) in d[0..len), or 0. */
static size_t
header_end(const char *d, size_t len, size_t from)
{
	if (len >= 2 && memcmp(d, "\r\n", 2) == 0)
		return 2;
	from = from > 3 ? from - 3 : 0;
	const char *e = len > from ?
	    memmem(d + from, len - from, "\r\n\r\n", 4) : NULL;

	return e != NULL ? (size_t)(e - d) + 4 : 0;
}

int
message_load(struct session *s, uint32_t i, struct message *m,
    bool header_only)
{
	char b[65536];
	ssize_t r;
	int fd = open_msg(s, i);
	char prev = 0;
	struct stat st;
	size_t end = 0;

	/* a header is rarely over a few KB: read that much at a time */
	size_t chunk = header_only ? 8192 : sizeof(b), hint = 4096;

	/* whole: room for the CRLFs of 60-byte lines, to allocate once */
	if (!header_only && fd >= 0 && fstat(fd, &st) == 0 && st.st_size > 0 &&
	    st.st_size < 256 * 1024 * 1024)
		hint = (size_t)st.st_size + (size_t)st.st_size / 30 + 16;
	buf_init(&m->data, header_only ? chunk + 512 : hint, 0);
	m->hdr_len = 0;
	m->whole = !header_only;
	if (fd < 0)
		return -1;
	while ((r = read(fd, b, chunk)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		size_t before = m->data.len;

		mime_crlf_append_chunk(&m->data, b, (size_t)r, &prev);
		if (header_only &&
		    (end = header_end(m->data.data, m->data.len, before)) > 0) {
			m->data.len = end;
			break;
		}
	}
	close(fd);
	if (end == 0) {
		/* read to the end: the whole message, header or not */
		m->whole = true;
		end = header_end(m->data.data, m->data.len, 0);
	}
	m->hdr_len = end > 0 ? end : m->data.len;
	if (m->whole && m->data.len < (size_t)UINT32_MAX)
		s->mb->msgs[i].size = (uint32_t)m->data.len;
	return 0;
}

void
message_release(struct message *m)
{
	buf_release(&m->data);
}

uint32_t
message_size(struct session *s, uint32_t i)
{
	struct imap_msg *mm = &s->mb->msgs[i];
	long long w;
	struct message m;

	if (mm->size != 0)
		return mm->size;
	w = imap_name_size(imap_msg_name(s->mb, i), 'W');
	if (w >= 0 && w < UINT32_MAX) {
		mm->size = (uint32_t)w;
		return mm->size;
	}
	if (message_load(s, i, &m, false) == 0)
		mm->size = (uint32_t)m.data.len;
	message_release(&m);
	return mm->size;
}

time_t
message_date(struct session *s, uint32_t i)
{
	struct stat st;
	char *p = xasprintf("%s/cur/%s", s->mb->dir, imap_msg_name(s->mb, i));
	time_t t = stat(p, &st) == 0 ? st.st_mtime : 0;

	free(p);
	if (t == 0) {
		/* the name starts with the delivery time */
		t = (time_t)strtoll(imap_msg_name(s->mb, i), NULL, 10);
	}
	return t;
}

/* Length of the field starting at h (with its continuation lines). */
static size_t
field_len(const char *h, size_t left)
{
	size_t i = 0;

	for (;;) {
		const char *nl = memchr(h + i, '\n', left - i);

		if (nl == NULL)
			return left;
		i = (size_t)(nl - h) + 1;
		if (i >= left || (h[i] != ' ' && h[i] != '\t'))
			return i;
	}
}

static bool
field_named(const char *f, size_t flen, const char *name, size_t nlen)
{
	return flen > nlen && f[nlen] == ':' && strncasecmp(f, name, nlen) == 0;
}

char *
header_get(const char *h, size_t hlen, const char *name)
{
	size_t i = 0, nl = strlen(name);

	while (i < hlen) {
		size_t fl = field_len(h + i, hlen - i);

		if (fl == 2 && h[i] == '\r')
			break;
		if (field_named(h + i, fl, name, nl)) {
			struct buf b;

			buf_init(&b, fl, 0);
			for (size_t k = nl + 1; k < fl; k++) {
				char c = h[i + k];

				if (c != '\r' && c != '\n')
					buf_putc(&b, c == '\t' ? ' ' : c);
			}
			char *r = buf_steal(&b);
			buf_release(&b);
			char *p = r;
			while (*p == ' ')
				p++;
			memmove(r, p, strlen(p) + 1);
			return r;
		}
		i += fl;
	}
	return NULL;
}

int
seqset_arg(struct session *s, const char *tag, const struct imap_arg *a,
    bool uid, struct imap_seqset *set)
{
	if (a->type != IMAP_ARG_ATOM || imap_seqset_parse(a->s, set) < 0) {
		session_bad(s, tag, "Invalid sequence set");
		return -1;
	}
	/* RFC 3501 9: a sequence number beyond the last message is BAD */
	for (size_t k = 0; k < set->n && !uid; k++)
		if ((set->r[k].lo != UINT32_MAX &&
		    set->r[k].lo > s->mb->count) ||
		    (set->r[k].hi != UINT32_MAX &&
		    set->r[k].hi > s->mb->count)) {
			imap_seqset_free(set);
			session_bad(s, tag, "Invalid message sequence number");
			return -1;
		}
	return 0;
}

bool
msg_in_set(struct session *s, const struct imap_seqset *set, uint32_t i,
    bool uid)
{
	if (uid)
		return imap_seqset_has(set, s->mb->msgs[i].uid,
		    s->mb->count ? s->mb->msgs[s->mb->count - 1].uid : 0);
	return imap_seqset_has(set, i + 1, s->mb->count);
}
