/* rx - the message data reader; see rx.h */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "rx.h"
#include "spool.h"

void
rx_start(struct rx *r, struct spool_file *f, bool dot_mode, bool binary,
    bool bare_reject, size_t max_line, unsigned long long max_size,
    unsigned max_hops, bool bol_crlf)
{
	memset(r, 0, sizeof(*r));
	r->file = f;
	r->dot_mode = dot_mode;
	r->binary = binary;
	r->bare_reject = bare_reject;
	r->max_line = max_line;
	r->max_size = max_size;
	r->max_hops = max_hops;
	r->scan = RX_BOL;
	r->bol_crlf = bol_crlf;
	r->in_headers = true;
}

void
rx_abort(struct rx *r)
{
	spool_file_abort(&r->file);
}

struct spool_file *
rx_take_file(struct rx *r)
{
	struct spool_file *f = r->file;

	r->file = NULL;
	return f;
}

bool
rx_failed(const struct rx *r)
{
	return (r->bare && r->bare_reject) || r->too_long || r->too_big ||
	    r->too_many_hops || r->write_errno != 0;
}

/* Bytes that go into the file, counted against the size limit. */
static void
rx_write(struct rx *r, const char *p, size_t n)
{
	r->size += n;
	if (r->max_size != 0 && r->size > r->max_size && !r->too_big) {
		r->too_big = true;
		rx_abort(r);
	}
	if (r->file != NULL && spool_file_write(r->file, p, n) < 0) {
		r->write_errno = errno != 0 ? errno : EIO;
		rx_abort(r);
	}
}

/* The first bytes of a header line decide whether it is a Received. */
static void
rx_header_start(struct rx *r, const char *p, size_t n)
{
	size_t k = sizeof(r->hdr) - r->hdrlen;

	if (k > n)
		k = n;
	memcpy(r->hdr + r->hdrlen, p, k);
	r->hdrlen += k;
	if (r->hdrlen == sizeof(r->hdr) &&
	    strncasecmp(r->hdr, "Received:", sizeof(r->hdr)) == 0 &&
	    ++r->hops > r->max_hops && !r->too_many_hops) {
		r->too_many_hops = true;
		rx_abort(r);
	}
}

/* Output: a run of line content without CR or LF. */
static void
rx_text(struct rx *r, const char *p, size_t n)
{
	if (r->in_headers && r->hdrlen < sizeof(r->hdr))
		rx_header_start(r, p, n);
	r->linelen += n;
	if (r->binary)
		return;                 /* written raw by rx_feed */
	if (r->linelen > r->max_line && !r->too_long) {
		r->too_long = true;
		rx_abort(r);
	}
	rx_write(r, p, n);
}

/* Output: the end of a line, always CRLF. */
static void
rx_eol(struct rx *r)
{
	if (r->linelen == 0)
		r->in_headers = false;  /* the empty line after the header */
	r->linelen = 0;
	r->hdrlen = 0;
	if (!r->binary)
		rx_write(r, "\r\n", 2);
}

static void
rx_bare(struct rx *r)
{
	if (r->binary)
		return;
	r->bare = true;
	if (r->bare_reject)
		rx_abort(r);
}

/* An input line ended: with CRLF, or with a bare LF. */
static void
rx_line_end(struct rx *r, bool crlf)
{
	if (!crlf)
		rx_bare(r);
	rx_eol(r);
	r->bol_crlf = crlf;
	r->scan = RX_BOL;
}

/* Where the next CR or LF is in p[i..n), or n. */
static size_t
rx_span(const char *p, size_t i, size_t n)
{
	const char *lf = memchr(p + i, '\n', n - i);
	size_t end = lf != NULL ? (size_t)(lf - p) : n;
	const char *cr = memchr(p + i, '\r', end - i);

	return cr != NULL ? (size_t)(cr - p) : end;
}

size_t
rx_feed(struct rx *r, const char *p, size_t n, bool *end_r)
{
	size_t i = 0, j;

	*end_r = false;
	if (r->binary)
		rx_write(r, p, n);      /* as is; the scan below only reads */
	while (i < n) {
		/* Binary data needs the scan for its header section only. */
		if (r->binary && !r->in_headers)
			return n;
		switch (r->scan) {
		case RX_BOL:
			if (r->dot_mode && p[i] == '.') {
				r->scan = RX_DOT;
				i++;
				break;
			}
			r->scan = RX_TEXT;
			/* FALLTHROUGH */
		case RX_TEXT:
			j = rx_span(p, i, n);
			if (j > i)
				rx_text(r, p + i, j - i);
			i = j;
			if (i == n)
				break;
			if (p[i++] == '\r')
				r->scan = RX_CR;
			else
				rx_line_end(r, false);
			break;
		case RX_CR:
			if (p[i] == '\n') {
				rx_line_end(r, true);
				i++;
				break;
			}
			/* A bare CR inside a line: a line end from now on;
			 * the byte after it is read again as text. */
			rx_bare(r);
			rx_eol(r);
			r->scan = RX_TEXT;
			break;
		case RX_DOT:
			if (p[i] == '\r') {
				r->scan = RX_DOT_CR;
				i++;
			} else if (p[i] == '\n') {
				/* ".\n" never ends the data; keep the dot. */
				rx_text(r, ".", 1);
				rx_line_end(r, false);
				i++;
			} else
				r->scan = RX_TEXT;  /* a stuffed dot: drop it */
			break;
		case RX_DOT_CR:
			if (p[i] == '\n') {
				i++;
				/* CRLF "." CRLF, and nothing else, ends it. */
				if (r->bol_crlf) {
					*end_r = true;
					return i;
				}
				rx_text(r, ".", 1);
				rx_line_end(r, true);
				break;
			}
			/* ".\r" then more: a stuffed dot and a bare CR. */
			rx_bare(r);
			rx_eol(r);
			r->scan = RX_TEXT;
			break;
		}
	}
	return n;
}

void
rx_finish(struct rx *r)
{
	if (r->binary)
		return;
	if (r->scan == RX_CR) {
		rx_bare(r);
		rx_eol(r);
	} else if (r->scan != RX_BOL)
		rx_eol(r);              /* the last line had no line end */
	r->scan = RX_BOL;
}
