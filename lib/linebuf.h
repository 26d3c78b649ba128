/*
 * linebuf - a bounded line reader on top of a libevent evbuffer.
 *
 * libevent's evbuffer_readln() has no length limit, so no daemon calls it
 * directly: SMTP, POP3 and IMAP read their lines through this.  A line ends
 * at LF; the line handed back excludes the LF and a CR just before it.  A
 * line longer than the limit is reported once (LINE_TOO_LONG) and then
 * thrown away up to its LF; it is never truncated silently and never
 * buffered without bound.
 *
 *	struct linebuf *lb = linebuf_new(512);
 *	linebuf_watermark(bev, 512);
 *	...in the read callback, and whenever the session resumes:
 *	for (;;) {
 *		switch (linebuf_get(lb, bufferevent_get_input(bev),
 *		    &line, &len, &flags)) {
 *		case LINE_OK:       session_input(s, line, len, flags); break;
 *		case LINE_MORE:     return;
 *		case LINE_TOO_LONG: reply(s, "500 5.5.2 line too long");
 *			break;
 *		}
 *	}
 *
 * Storage: the bytes of the line are moved out of the evbuffer into the
 * linebuf's own buffer as they are scanned (at most max+2 of them), so
 * after each call `in` holds only bytes beyond what was examined.  Bytes
 * after a returned line stay in `in` untouched, so a caller may switch to
 * reading raw data (an IMAP literal, say) right after LINE_OK.
 */
#ifndef TERN_LINEBUF_H
#define TERN_LINEBUF_H

#include <stddef.h>

struct evbuffer;
struct bufferevent;

enum linebuf_status {
	LINE_OK,        /* one line returned */
	LINE_MORE,      /* no complete line yet: wait for more input */
	LINE_TOO_LONG,  /* a line exceeded max; its rest will be skipped */
};

/* flags_r bits of linebuf_get() */
#define LINE_F_BARE_LF  0x01u   /* ended with LF not preceded by CR */
#define LINE_F_BARE_CR  0x02u   /* holds a CR not followed by LF */
#define LINE_F_NUL      0x04u   /* holds a NUL byte */

/*
 * Smallest read high-water mark linebuf_watermark() sets, so that a batch
 * of pipelined short commands is read in one go.
 */
#define LINEBUF_WATERMARK_MIN 16384

struct linebuf;

/*
 * New reader accepting lines of at most max bytes of content (CR and LF
 * not counted).  max must be below SIZE_MAX / 4.
 */
struct linebuf *linebuf_new(size_t max);
/* Free *lbp (may be NULL) and set it to NULL. */
void linebuf_free(struct linebuf **lbp);

/*
 * Change the longest line accepted, from the next linebuf_get() on (SMTP
 * switches between its command and text limits around DATA).  Does not
 * invalidate a line already returned.  A partial line already held that
 * is longer than the new max is reported as LINE_TOO_LONG.
 */
void linebuf_set_max(struct linebuf *lb, size_t max);
size_t linebuf_max(const struct linebuf *lb);

/*
 * Take the next line out of `in`.
 *
 * LINE_OK: *line_r, *len_r is the line without its LF or CRLF; *flags_r
 * holds LINE_F_* bits.  The line lives in the linebuf, is followed by a
 * NUL for convenience (it may hold NULs itself: use len) and stays valid
 * until the next linebuf_get() or linebuf_free().  Exactly the line and
 * its terminator were removed from `in`.
 *
 * LINE_MORE: no complete line yet.  The bytes seen so far (at most max+1
 * of them, a trailing CR perhaps still waiting for its LF) were moved into
 * the linebuf, so `in` is now empty; call again when more arrives.  Also
 * returned while the rest of an over-long line is being skipped.
 *
 * LINE_TOO_LONG: a line is known to exceed max, either because its LF came
 * too late or because more bytes than max (plus CR) arrived with no LF.
 * Returned once per over-long line, without waiting for its LF (it may
 * never come).  Everything of that line present in `in` has been drained;
 * later calls silently drain the rest up to and including its LF
 * (returning LINE_MORE meanwhile) and then read the next line normally.
 *
 * *line_r, *len_r and *flags_r are set only on LINE_OK.
 */
enum linebuf_status linebuf_get(struct linebuf *lb, struct evbuffer *in,
    const char **line_r, size_t *len_r, unsigned *flags_r);

/*
 * Set bev's read high-water mark for lines of at most max bytes: max+2
 * (one whole line with CRLF), but at least LINEBUF_WATERMARK_MIN.  libevent
 * then stops reading from the socket while that much input is waiting in
 * bev's input buffer, and starts again once the application drains it
 * below the mark; so memory per session stays near mark + max.
 *
 * The interplay the caller must respect: libevent calls the read callback
 * only when new bytes arrive.  The callback must therefore call
 * linebuf_get() until LINE_MORE (or until the session parks to wait for
 * something, e.g. an auth answer).  A session that parks with lines still
 * in the input buffer must itself go back to its input loop when it
 * resumes: no read event will come for bytes already read, and with the
 * buffer at the mark none will come at all.  The low-water mark is left 0.
 */
void linebuf_watermark(struct bufferevent *bev, size_t max);

#endif
