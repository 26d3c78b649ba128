/*
 * cmd_retr - RETR and TOP (RFC 1939): a message streamed from its file.
 *
 * Maildir files have LF line ends; POP3 wants CRLF and dot-stuffing
 * (a line starting with "." gets another).  The file is read a chunk at
 * a time and converted straight into the output buffer, and the next
 * chunk is read only when the client has taken the last ones
 * (POP3_OUT_HIGH / POP3_OUT_LOW), so a 50 MB message costs no more
 * memory than a small one.  CRLF already in a file is kept as it is.  A
 * message whose last line has no end gets one before the final ".".
 *
 * TOP n k: the header, the empty line, then k lines of the body (all of
 * it when shorter).  RETR marks the message Seen in the maildir, so IMAP
 * shows it as read; TOP does not.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "log.h"
#include "maildrop.h"
#include "pop3d.h"
#include "session.h"
#include "xalloc.h"

#define RETR_CHUNK (64 * 1024)

struct msg_stream {
	struct stream st;
	int fd;
	unsigned n;              /* message number */
	bool top;                /* TOP: stop after `lines` body lines */
	bool in_body;            /* TOP: the empty line has passed */
	unsigned long long lines;
	bool bol;                /* at the start of a line */
	bool prev_cr;            /* the last byte copied was CR */
	bool blank;              /* the line so far is empty (or only CR) */
	bool stop;               /* TOP: enough sent */
	unsigned long long sent; /* octets of message sent */
};

/* One line ended: does TOP stop here? */
static void
retr_line_end(struct msg_stream *m)
{
	if (!m->top)
		return;
	if (m->in_body) {
		if (m->lines > 0)
			m->lines--;
	} else if (m->blank)
		m->in_body = true;
	if (m->in_body && m->lines == 0)
		m->stop = true;
}

/*
 * Convert in[0..n) into o (room for 2n + 2 bytes: every byte may be a
 * '.' at a line start or an LF that gains a CR).  Returns the bytes
 * written; stops early when TOP has sent enough.
 */
static size_t
retr_convert(struct msg_stream *m, const char *in, size_t n, char *o)
{
	const char *p = in, *end = in + n, *nl;
	char *o0 = o;
	size_t run;

	while (p < end && !m->stop) {
		if (m->bol && *p == '.')
			*o++ = '.';
		nl = memchr(p, '\n', (size_t)(end - p));
		run = (size_t)((nl != NULL ? nl : end) - p);
		memcpy(o, p, run);
		o += run;
		if (run > 0) {
			if (run > 1 || *p != '\r')
				m->blank = false;
			m->prev_cr = p[run - 1] == '\r';
			m->bol = false;
		}
		p += run;
		if (nl == NULL)
			break;
		if (!m->prev_cr)
			*o++ = '\r';
		*o++ = '\n';
		p++;
		retr_line_end(m);
		m->bol = m->blank = true;
		m->prev_cr = false;
	}
	return (size_t)(o - o0);
}

static bool
retr_fill(struct session *s, struct stream *st, struct evbuffer *out)
{
	static char chunk[RETR_CHUNK];
	struct msg_stream *m = (struct msg_stream *)st;
	struct evbuffer_iovec v;
	ssize_t r;

	while (!m->stop) {
		if (evbuffer_get_length(out) >= POP3_OUT_HIGH)
			return false;           /* more when the client reads */
		r = read(m->fd, chunk, sizeof(chunk));
		if (r == 0)
			break;
		if (r < 0) {
			/* The +OK went out: the only honest end is to hang
			 * up (the session stops at once). */
			log_exc(LOG_POP, "%s: reading message %u: %s", s->id,
			    m->n, strerror(errno));
			session_close(s);
			return false;
		}
		if (evbuffer_reserve_space(out, 2 * (size_t)r + 2, &v, 1) < 1)
			die("pop3d: out of memory");
		v.iov_len = retr_convert(m, chunk, (size_t)r, v.iov_base);
		evbuffer_commit_space(out, &v, 1);
		m->sent += v.iov_len;
	}
	if (!m->bol)
		evbuffer_add(out, "\r\n", 2);
	evbuffer_add(out, ".\r\n", 3);
	return true;
}

static void
retr_done(struct session *s, struct stream *st, bool complete)
{
	struct msg_stream *m = (struct msg_stream *)st;

	close(m->fd);
	if (complete && !m->top) {
		s->retr_msgs++;
		s->retr_bytes += m->sent;
		maildrop_set_seen(s->md, m->n);
	}
	free(m);
}

static void
retr_start(struct session *s, unsigned n, bool top, unsigned long long lines)
{
	struct msg_stream *m;
	int fd = maildrop_open_msg(s->md, n);

	if (fd < 0) {
		if (errno == ENOENT) {
			reply_err(s, "Message %u was removed by another client",
			    n);
			return;
		}
		log_exc(LOG_POP, "%s: cannot open message %u of %s: %s",
		    s->id, n, s->login, strerror(errno));
		reply_err(s, "[SYS/TEMP] Cannot read message %u", n);
		return;
	}
	m = xcalloc(1, sizeof(*m));
	m->st.fill = retr_fill;
	m->st.done = retr_done;
	m->fd = fd;
	m->n = n;
	m->top = top;
	m->lines = lines;
	m->bol = m->blank = true;
	if (top)
		reply_ok(s, "Top of message follows");
	else
		reply_ok(s, "%llu octets", maildrop_size(s->md, n));
	session_stream(s, &m->st);
}

void
cmd_retr(struct session *s, const char *args, size_t len)
{
	unsigned n = msg_arg(s, args, len, false);

	if (n != 0)
		retr_start(s, n, false, 0);
}

void
cmd_top(struct session *s, const char *args, size_t len)
{
	const char *sp = memchr(args, ' ', len), *k;
	unsigned long long lines = 0;
	size_t klen;
	unsigned n;

	if (sp == NULL) {
		reply_bad(s, "Usage: TOP message lines");
		return;
	}
	k = sp + 1;
	klen = len - (size_t)(k - args);
	if (klen == 0 || klen > 10 || strspn(k, "0123456789") != klen) {
		reply_bad(s, "Invalid number of lines");
		return;
	}
	for (size_t i = 0; i < klen; i++)
		lines = lines * 10 + (unsigned)(k[i] - '0');
	if ((n = msg_arg(s, args, (size_t)(sp - args), false)) != 0)
		retr_start(s, n, true, lines);
}
