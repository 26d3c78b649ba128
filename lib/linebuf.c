/* linebuf - see linebuf.h */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "buf.h"
#include "linebuf.h"
#include "xalloc.h"

/* evbuffer chunks looked at per evbuffer_peek(); more just loops. */
#define LINEBUF_IOV 8

struct linebuf {
	struct buf line;    /* the partial line, or the line last returned */
	size_t max;         /* longest content accepted */
	bool returned;      /* line holds a line handed out: drop it first */
	bool skipping;      /* draining the rest of an over-long line */
};

struct linebuf *
linebuf_new(size_t max)
{
	struct linebuf *lb = xmalloc(sizeof(*lb));

	/*
	 * No cap on the buf: linebuf_get() itself never lets it hold more
	 * than max+2 bytes, and a cap would have to follow set_max.  Start
	 * small; most lines are short and most sessions are idle.
	 */
	buf_init(&lb->line, 128, 0);
	lb->returned = false;
	lb->skipping = false;
	lb->max = 0;
	linebuf_set_max(lb, max);
	return lb;
}

void
linebuf_free(struct linebuf **lbp)
{
	if (*lbp == NULL)
		return;
	buf_release(&(*lbp)->line);
	xfree(lbp);
}

void
linebuf_set_max(struct linebuf *lb, size_t max)
{
	/* max+2 must not overflow, with room to spare for the scanning. */
	ASSERT(max < SIZE_MAX / 4);
	lb->max = max;
}

size_t
linebuf_max(const struct linebuf *lb)
{
	return lb->max;
}

/*
 * Content bytes of a partial line (no LF yet).  A trailing CR does not
 * count: its LF may be in the next read, and then it is part of CRLF.
 */
static size_t
linebuf_partial_len(const struct linebuf *lb)
{
	size_t n = buf_len(&lb->line);

	if (n > 0 && buf_data(&lb->line)[n - 1] == '\r')
		n--;
	return n;
}

/*
 * Append the first want bytes described by v[0..n-1] to the line, but stop
 * after an LF.  Returns how many bytes were appended; *lf_r says whether
 * the last of them is an LF.
 */
static size_t
linebuf_copy(struct linebuf *lb, const struct evbuffer_iovec *v, int n,
    size_t want, bool *lf_r)
{
	size_t moved = 0, k;
	const char *p, *lf;
	int i;

	*lf_r = false;
	for (i = 0; i < n && moved < want; i++) {
		p = v[i].iov_base;
		/* A chunk's iov_len may run past want; clip it. */
		k = v[i].iov_len < want - moved ? v[i].iov_len : want - moved;
		lf = memchr(p, '\n', k);
		if (lf != NULL)
			k = (size_t)(lf - p) + 1;
		if (buf_append(&lb->line, p, k) < 0)
			BUG("linebuf: uncapped buf refused %zu bytes", k);
		moved += k;
		if (lf != NULL) {
			*lf_r = true;
			break;
		}
	}
	return moved;
}

/*
 * Move bytes from the head of in to lb->line, up to and including the
 * first LF, until the line holds max+2 bytes.  True if an LF was moved.
 * Lengths are re-read each round because draining a bufferevent's input
 * may let more bytes in (a bufferevent pair refills synchronously).
 */
static bool
linebuf_take(struct linebuf *lb, struct evbuffer *in)
{
	struct evbuffer_iovec v[LINEBUF_IOV];
	size_t avail, want, moved;
	bool lf;
	int n;

	while (buf_len(&lb->line) < lb->max + 2 &&
	    (avail = evbuffer_get_length(in)) > 0) {
		want = lb->max + 2 - buf_len(&lb->line);
		if (want > avail)
			want = avail;
		n = evbuffer_peek(in, (ev_ssize_t)want, NULL, v, LINEBUF_IOV);
		ASSERT(n > 0);
		if (n > LINEBUF_IOV)
			n = LINEBUF_IOV;    /* the rest on the next round */
		moved = linebuf_copy(lb, v, n, want, &lf);
		/* Only empty chunks: cannot happen, and must not spin. */
		ASSERT(moved > 0);
		evbuffer_drain(in, moved);
		if (lf)
			return true;
	}
	return false;
}

/* Drain in up to and including the next LF; true if the LF was found. */
static bool
linebuf_skip(struct evbuffer *in)
{
	struct evbuffer_ptr p;
	size_t avail;

	while ((avail = evbuffer_get_length(in)) > 0) {
		p = evbuffer_search(in, "\n", 1, NULL);
		if (p.pos >= 0) {
			evbuffer_drain(in, (size_t)p.pos + 1);
			return true;
		}
		evbuffer_drain(in, avail);
	}
	return false;
}

static unsigned
linebuf_flags(const char *s, size_t len, bool crlf)
{
	unsigned flags = crlf ? 0 : LINE_F_BARE_LF;

	/*
	 * The CR of a CRLF is already cut off, so any CR left inside is
	 * followed by something other than LF: SMTP smuggling material.
	 */
	if (memchr(s, '\r', len) != NULL)
		flags |= LINE_F_BARE_CR;
	if (memchr(s, '\0', len) != NULL)
		flags |= LINE_F_NUL;
	return flags;
}

/* Report an over-long line and start skipping whatever is left of it. */
static enum linebuf_status
linebuf_too_long(struct linebuf *lb, struct evbuffer *in, bool have_lf)
{
	buf_reset(&lb->line);
	if (!have_lf)
		lb->skipping = !linebuf_skip(in);
	return LINE_TOO_LONG;
}

enum linebuf_status
linebuf_get(struct linebuf *lb, struct evbuffer *in, const char **line_r,
    size_t *len_r, unsigned *flags_r)
{
	size_t len;
	bool crlf;

	if (lb->returned) {
		buf_reset(&lb->line);
		lb->returned = false;
	}
	if (lb->skipping) {
		if (!linebuf_skip(in))
			return LINE_MORE;
		lb->skipping = false;
	}
	/* Only after set_max shrank below a partial line already held. */
	if (linebuf_partial_len(lb) > lb->max)
		return linebuf_too_long(lb, in, false);

	if (!linebuf_take(lb, in)) {
		/*
		 * No LF within max+2 bytes, or not yet.  Say so now rather
		 * than wait for an LF that a hostile peer never sends.
		 */
		if (linebuf_partial_len(lb) > lb->max)
			return linebuf_too_long(lb, in, false);
		return LINE_MORE;
	}

	len = buf_len(&lb->line) - 1;           /* the LF */
	crlf = len > 0 && buf_data(&lb->line)[len - 1] == '\r';
	if (crlf)
		len--;
	if (len > lb->max)
		return linebuf_too_long(lb, in, true);

	buf_truncate(&lb->line, len);
	lb->returned = true;
	*line_r = buf_data(&lb->line);
	*len_r = len;
	*flags_r = linebuf_flags(*line_r, len, crlf);
	return LINE_OK;
}

void
linebuf_watermark(struct bufferevent *bev, size_t max)
{
	size_t high = max + 2;

	/*
	 * A whole line fits under the mark, so it arrives in one go rather
	 * than trickling in over many reads; and short pipelined commands
	 * arrive in batches, not one read per command.
	 */
	if (high < LINEBUF_WATERMARK_MIN)
		high = LINEBUF_WATERMARK_MIN;
	bufferevent_setwatermark(bev, EV_READ, 0, high);
}
