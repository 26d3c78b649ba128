/* Tests for lib/linebuf: the bounded line reader. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "buf.h"
#include "linebuf.h"
#include "tap.h"
#include "xalloc.h"

#define S(lit) lit, sizeof(lit) - 1

/* What one run of the reader produced, written down as text. */
struct run {
	struct buf *log;        /* "OK <flags> <line, escaped>" or "TOO_LONG" */
	int n_ok, n_too_long;
	size_t max_pending;     /* most bytes left in `in` after a get */
};

static void
run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->log = buf_new(256);
}

static void
run_release(struct run *r)
{
	buf_free(&r->log);
}

static void
log_line(struct buf *log, const char *s, size_t len, unsigned flags)
{
	size_t i;
	unsigned char c;

	buf_printf(log, "OK %c%c%c ", flags & LINE_F_BARE_LF ? 'L' : '-',
	    flags & LINE_F_BARE_CR ? 'C' : '-', flags & LINE_F_NUL ? 'Z' : '-');
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf_putc(log, c);
		else
			buf_printf(log, "\\x%02x", c);
	}
	buf_putc(log, '\n');
}

/* Call linebuf_get until LINE_MORE, noting every result in r. */
static void
drain_lines(struct linebuf *lb, struct evbuffer *in, struct run *r)
{
	const char *line;
	size_t len, left;
	unsigned flags;
	int i;
	enum linebuf_status st;

	for (i = 0; i < 100000; i++) {
		st = linebuf_get(lb, in, &line, &len, &flags);
		left = evbuffer_get_length(in);
		if (left > r->max_pending)
			r->max_pending = left;
		if (st == LINE_MORE)
			return;
		if (st == LINE_OK) {
			r->n_ok++;
			log_line(r->log, line, len, flags);
		} else {
			r->n_too_long++;
			buf_append_str(r->log, "TOO_LONG\n");
		}
	}
	BUG("drain_lines: no LINE_MORE after 100000 calls");
}

/* Feed data in pieces of `chunk` bytes, draining lines after each. */
static void
feed(struct linebuf *lb, struct evbuffer *in, const char *data, size_t len,
    size_t chunk, struct run *r)
{
	size_t off, n;

	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		evbuffer_add(in, data + off, n);
		drain_lines(lb, in, r);
	}
}

/* One linebuf_get on a fresh evbuffer holding data; the status. */
static enum linebuf_status
get1(struct linebuf *lb, const char *data, size_t len, struct buf *out,
    unsigned *flags_r)
{
	struct evbuffer *in = evbuffer_new();
	const char *line;
	size_t n;
	enum linebuf_status st;

	evbuffer_add(in, data, len);
	st = linebuf_get(lb, in, &line, &n, flags_r);
	buf_reset(out);
	if (st == LINE_OK)
		buf_append(out, line, n);
	evbuffer_free(in);
	return st;
}

static void
test_basic(void)
{
	struct linebuf *lb = linebuf_new(512);
	struct buf *out = buf_new(64);
	unsigned flags = 99;

	is_int(get1(lb, S("HELO x\r\n"), out, &flags), LINE_OK, "CRLF line");
	is_str(buf_str(out), "HELO x", "CRLF line content without CRLF");
	is_int(flags, 0, "CRLF line has no flags");

	is_int(get1(lb, S("HELO x\n"), out, &flags), LINE_OK, "LF line");
	is_str(buf_str(out), "HELO x", "LF line content without LF");
	is_int(flags, LINE_F_BARE_LF, "LF line flagged bare LF");

	is_int(get1(lb, S("HELO x"), out, &flags), LINE_MORE,
	    "no LF: LINE_MORE");

	linebuf_free(&lb);
	ok(lb == NULL, "linebuf_free sets the pointer to NULL");
	linebuf_free(&lb);
	ok(lb == NULL, "linebuf_free of NULL is harmless");
	buf_free(&out);
}

static void
test_pipelining(void)
{
	struct linebuf *lb = linebuf_new(512);
	struct evbuffer *in = evbuffer_new();
	struct run r;

	run_init(&r);
	evbuffer_add(in, S("MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nQU"));
	drain_lines(lb, in, &r);
	is_str(buf_str(r.log),
	    "OK --- MAIL FROM:<a@b>\nOK --- RCPT TO:<c@d>\nOK --- DATA\n",
	    "three pipelined lines from one evbuffer");
	is_int(evbuffer_get_length(in), 0, "partial fourth line taken in");
	evbuffer_add(in, S("IT\r\n"));
	drain_lines(lb, in, &r);
	is_int(r.n_ok, 4, "fourth line completes on the next read");
	ok(strstr(buf_str(r.log), "OK --- QUIT\n") != NULL,
	    "fourth line joined across reads");
	run_release(&r);
	evbuffer_free(in);
	linebuf_free(&lb);
}

/* The line after a returned line stays in `in` for raw readers. */
static void
test_leaves_rest(void)
{
	struct linebuf *lb = linebuf_new(512);
	struct evbuffer *in = evbuffer_new();
	const char *line;
	size_t len;
	unsigned flags;
	char rest[16];

	evbuffer_add(in, S("A1 APPEND x {5}\r\nhello"));
	is_int(linebuf_get(lb, in, &line, &len, &flags), LINE_OK,
	    "line before a literal");
	is_int(evbuffer_get_length(in), 5, "only the line left the evbuffer");
	evbuffer_remove(in, rest, 5);
	ok(memcmp(rest, "hello", 5) == 0, "the literal bytes are untouched");
	evbuffer_add(in, S("more\r\n"));
	ok(len == 15 && memcmp(line, "A1 APPEND x {5}", 15) == 0 &&
	    line[15] == '\0', "line valid and NUL-terminated until next get");
	evbuffer_free(in);
	linebuf_free(&lb);
}

/* A line spread over many evbuffer chains (more than one peek sees). */
static void
test_many_chains(void)
{
	static const char text[] = "a line made of forty one-byte chains\r\n"
	    "second\r\n";
	struct linebuf *lb = linebuf_new(100);
	struct evbuffer *in = evbuffer_new();
	struct run r;
	size_t i;

	run_init(&r);
	for (i = 0; i < sizeof(text) - 1; i++)
		evbuffer_add_reference(in, text + i, 1, NULL, NULL);
	drain_lines(lb, in, &r);
	is_str(buf_str(r.log), "OK --- a line made of forty one-byte chains\n"
	    "OK --- second\n", "lines spread over 46 chains");
	run_release(&r);
	evbuffer_free(in);
	linebuf_free(&lb);
}

/* Hostile and ordinary lines mixed, with max 16. */
static const char mixed_in[] =
    "EHLO a\r\n"
    "bare lf\n"
    "\r\n"
    "\n"
    "a\rb\r\n"
    "cr at end\r\r\n"
    "nul\0inside\r\n"
    "8bit \xc3\xa9\xff\x80\r\n"
    "0123456789abcdef\r\n"
    "0123456789abcdefg\r\n"
    "0123456789abcdef\n"
    "0123456789abcdefXYZ and a lot more of it to skip\r\n"
    "0123456789abcde\r\r\n"
    "after\r\n"
    "bare cr\r";

static const char mixed_ref[] =
    "OK --- EHLO a\n"
    "OK L-- bare lf\n"
    "OK --- \n"
    "OK L-- \n"
    "OK -C- a\\x0db\n"
    "OK -C- cr at end\\x0d\n"
    "OK --Z nul\\x00inside\n"
    "OK --- 8bit \\xc3\\xa9\\xff\\x80\n"
    "OK --- 0123456789abcdef\n"
    "TOO_LONG\n"
    "OK L-- 0123456789abcdef\n"
    "TOO_LONG\n"
    "OK -C- 0123456789abcde\\x0d\n"
    "OK --- after\n";

static void
test_chunking(void)
{
	static const size_t chunks[] = { 1, 2, 3, 7, 17, 18, 19, 64 };
	struct run whole, r;
	struct linebuf *lb;
	struct evbuffer *in;
	char name[128];
	size_t i;

	lb = linebuf_new(16);
	in = evbuffer_new();
	run_init(&whole);
	feed(lb, in, mixed_in, sizeof(mixed_in) - 1, SIZE_MAX, &whole);
	is_str(buf_str(whole.log), mixed_ref, "mixed input read all at once");
	linebuf_free(&lb);
	evbuffer_free(in);

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		lb = linebuf_new(16);
		in = evbuffer_new();
		run_init(&r);
		feed(lb, in, mixed_in, sizeof(mixed_in) - 1, chunks[i], &r);
		snprintf(name, sizeof(name),
		    "same lines and flags fed %zu byte(s) at a time",
		    chunks[i]);
		is_str(buf_str(r.log), buf_str(whole.log), name);
		run_release(&r);
		linebuf_free(&lb);
		evbuffer_free(in);
	}
	run_release(&whole);
}

static void
test_split_crlf(void)
{
	struct linebuf *lb = linebuf_new(10);
	struct evbuffer *in = evbuffer_new();
	struct run r;

	run_init(&r);
	feed(lb, in, S("abc\r"), 4, &r);
	is_int(r.n_ok + r.n_too_long, 0, "CR at the end of a read: wait");
	feed(lb, in, S("\n"), 1, &r);
	is_str(buf_str(r.log), "OK --- abc\n", "CR then LF in the next read "
	    "is CRLF, not bare CR");

	buf_reset(r.log);
	feed(lb, in, S("0123456789\r"), 11, &r);
	is_int(r.n_ok + r.n_too_long, 1, "max bytes + CR: still waiting");
	feed(lb, in, S("\nnext\r\n"), 7, &r);
	is_str(buf_str(r.log), "OK --- 0123456789\nOK --- next\n",
	    "exactly max + CRLF split across reads is OK");

	buf_reset(r.log);
	feed(lb, in, S("0123456789\r"), 11, &r);
	feed(lb, in, S("x"), 1, &r);
	is_str(buf_str(r.log), "TOO_LONG\n",
	    "max + CR + non-LF: too long as soon as known");
	run_release(&r);
	evbuffer_free(in);
	linebuf_free(&lb);
}

static void
test_limits(void)
{
	struct linebuf *lb = linebuf_new(10);
	struct buf *out = buf_new(64);
	unsigned flags;

	is_int(get1(lb, S("0123456789\r\n"), out, &flags), LINE_OK,
	    "exactly max with CRLF is OK");
	is_int(buf_len(out), 10, "exactly max: all 10 bytes returned");
	is_int(get1(lb, S("0123456789\n"), out, &flags), LINE_OK,
	    "exactly max with LF is OK");
	is_int(get1(lb, S("0123456789A\r\n"), out, &flags), LINE_TOO_LONG,
	    "max+1 with CRLF is too long");
	is_int(get1(lb, S("0123456789A\n"), out, &flags), LINE_TOO_LONG,
	    "max+1 with LF is too long");
	is_int(get1(lb, S("0123456789A"), out, &flags), LINE_TOO_LONG,
	    "max+1 without LF is too long at once");
	is_int(get1(lb, S("\r\n"), out, &flags), LINE_MORE,
	    "the fresh evbuffer's CRLF ended the skipped line");
	is_int(get1(lb, S("ok\r\n"), out, &flags), LINE_OK,
	    "then the reader is back to normal");
	linebuf_free(&lb);

	lb = linebuf_new(0);
	is_int(get1(lb, S("\r\n"), out, &flags), LINE_OK, "max 0: empty ok");
	is_int(get1(lb, S("a\r\n"), out, &flags), LINE_TOO_LONG,
	    "max 0: one byte too long");
	is_int(linebuf_max(lb), 0, "linebuf_max reports the limit");
	linebuf_free(&lb);
	buf_free(&out);
}

/* An over-long line is reported before its LF and then skipped. */
static void
test_too_long_early(void)
{
	struct linebuf *lb = linebuf_new(10);
	struct evbuffer *in = evbuffer_new();
	struct run r;
	int i;

	run_init(&r);
	feed(lb, in, S("xxxxxxxxxxxx"), SIZE_MAX, &r);
	is_str(buf_str(r.log), "TOO_LONG\n", "reported before any LF arrives");
	for (i = 0; i < 1000; i++)
		feed(lb, in, S("yyyyyyy"), 3, &r);
	is_int(r.n_too_long, 1, "reported exactly once over 3000 feeds");
	is_int(r.max_pending, 0, "skipped bytes are drained as they come");
	feed(lb, in, S("zz\r\nnext\r\n"), 1, &r);
	is_str(buf_str(r.log), "TOO_LONG\nOK --- next\n",
	    "the line after the skipped one is read normally");

	buf_reset(r.log);
	r.n_too_long = 0;
	feed(lb, in, S("0123456789abcdef\r\nA\r\n0123456789ab\nB\r\n"),
	    SIZE_MAX, &r);
	is_str(buf_str(r.log), "TOO_LONG\nOK --- A\nTOO_LONG\nOK --- B\n",
	    "LF in the same read: one report per line, next line intact");
	run_release(&r);
	evbuffer_free(in);
	linebuf_free(&lb);
}

/* 1 MiB with no LF never piles up, fed in any size of piece. */
static void
test_bounded_memory(void)
{
	static const size_t chunks[] = { 1000, 4096, 65536 };
	const size_t total = 1024 * 1024;
	struct linebuf *lb;
	struct evbuffer *in;
	struct run r;
	char *junk = xmalloc(total);
	size_t i, c;
	char name[128];

	srandom(4711);
	for (i = 0; i < total; i++) {
		junk[i] = (char)(random() & 0xff);
		if (junk[i] == '\n')
			junk[i] = '\r';
	}
	for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		lb = linebuf_new(1000);
		in = evbuffer_new();
		run_init(&r);
		feed(lb, in, junk, total, chunks[c], &r);
		snprintf(name, sizeof(name), "1 MiB without LF in %zu-byte "
		    "reads: reported once, nothing left in the evbuffer",
		    chunks[c]);
		ok(r.n_too_long == 1 && r.n_ok == 0 && r.max_pending == 0,
		    name);
		feed(lb, in, S("\nok\r\n"), SIZE_MAX, &r);
		is_str(buf_str(r.log), "TOO_LONG\nOK --- ok\n",
		    "and the stream recovers at the next LF");
		run_release(&r);
		evbuffer_free(in);
		linebuf_free(&lb);
	}
	xfree(&junk);
}

static void
test_set_max(void)
{
	struct linebuf *lb = linebuf_new(10);
	struct evbuffer *in = evbuffer_new();
	struct run r;
	const char *line;
	size_t len;
	unsigned flags;

	run_init(&r);
	feed(lb, in, S("short\r\nthis is longer\r\n"), SIZE_MAX, &r);
	linebuf_set_max(lb, 100);
	feed(lb, in, S("this is longer\r\n"), SIZE_MAX, &r);
	linebuf_set_max(lb, 5);
	feed(lb, in, S("abcdef\r\nabcde\r\n"), SIZE_MAX, &r);
	is_str(buf_str(r.log), "OK --- short\nTOO_LONG\nOK --- this is "
	    "longer\nTOO_LONG\nOK --- abcde\n", "set_max switches the limit");

	buf_reset(r.log);
	linebuf_set_max(lb, 20);
	feed(lb, in, S("abcdefghij"), SIZE_MAX, &r);
	linebuf_set_max(lb, 5);
	feed(lb, in, S("klm\r\nxy\r\n"), SIZE_MAX, &r);
	is_str(buf_str(r.log), "TOO_LONG\nOK --- xy\n",
	    "shrinking below a held partial line reports it too long");

	evbuffer_add(in, S("DATA\r\n"));
	linebuf_get(lb, in, &line, &len, &flags);
	linebuf_set_max(lb, 1000);
	ok(len == 4 && memcmp(line, "DATA", 5) == 0,
	    "set_max leaves the returned line valid");
	run_release(&r);
	evbuffer_free(in);
	linebuf_free(&lb);
}

/* Through a real bufferevent pair, with the read high-water mark. */
struct pair_state {
	struct linebuf *lb;
	struct run run;
	size_t high, max_input;
	int expect, bad;
};

#define PAIR_LINES 10000
#define PAIR_MAX 64

static size_t
pair_line(char *s, int i)
{
	int n = snprintf(s, PAIR_MAX + 1, "%05d:", i);
	int want = 6 + i % (PAIR_MAX - 5);

	memset(s + n, 'a' + i % 26, (size_t)(want - n));
	return (size_t)want;
}

static void
pair_read(struct bufferevent *bev, void *arg)
{
	struct pair_state *ps = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char want[PAIR_MAX + 1];
	const char *line;
	size_t len, wlen;
	unsigned flags;
	int i;

	for (i = 0; i < PAIR_LINES + 1; i++) {
		if (evbuffer_get_length(in) > ps->max_input)
			ps->max_input = evbuffer_get_length(in);
		if (linebuf_get(ps->lb, in, &line, &len, &flags) != LINE_OK)
			return;
		wlen = pair_line(want, ps->expect++);
		if (len != wlen || memcmp(line, want, len) != 0 || flags != 0)
			ps->bad++;
	}
}

static void
test_bufferevent_pair(void)
{
	struct event_base *base = event_base_new();
	struct bufferevent *pair[2];
	struct pair_state ps;
	struct evbuffer *out;
	char s[PAIR_MAX + 1];
	size_t lo, hi, len, total = 0;
	int i;

	memset(&ps, 0, sizeof(ps));
	ps.lb = linebuf_new(PAIR_MAX);
	ok(bufferevent_pair_new(base, 0, pair) == 0, "bufferevent pair made");
	linebuf_watermark(pair[1], PAIR_MAX);
	bufferevent_getwatermark(pair[1], EV_READ, &lo, &hi);
	is_int(hi, LINEBUF_WATERMARK_MIN, "short lines: the minimum mark");
	linebuf_watermark(pair[0], 100000);
	bufferevent_getwatermark(pair[0], EV_READ, &lo, &hi);
	is_int(hi, 100002, "long lines: max+2");
	bufferevent_setwatermark(pair[0], EV_READ, 0, 0);

	bufferevent_setcb(pair[1], pair_read, NULL, NULL, &ps);
	bufferevent_enable(pair[1], EV_READ);
	out = evbuffer_new();
	for (i = 0; i < PAIR_LINES; i++) {
		len = pair_line(s, i);
		evbuffer_add(out, s, len);
		evbuffer_add(out, "\r\n", 2);
		total += len + 2;
	}
	bufferevent_write_buffer(pair[0], out);
	evbuffer_free(out);
	bufferevent_enable(pair[0], EV_WRITE);
	for (i = 0; i < 10000 && ps.expect < PAIR_LINES; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	is_int(ps.expect, PAIR_LINES, "all 10,000 pipelined lines read back");
	is_int(ps.bad, 0, "every line intact and in order");
	ok(ps.max_input <= LINEBUF_WATERMARK_MIN && total > 4 * ps.max_input,
	    "the input buffer never grew past the high-water mark");
	diag("%zu bytes in %d loop rounds, input peaked at %zu", total, i,
	    ps.max_input);

	bufferevent_free(pair[0]);
	bufferevent_free(pair[1]);
	event_base_free(base);
	linebuf_free(&ps.lb);
}

int
main(void)
{
	plan(63);
	test_basic();
	test_pipelining();
	test_leaves_rest();
	test_many_chains();
	test_chunking();
	test_split_crlf();
	test_limits();
	test_too_long_early();
	test_bounded_memory();
	test_set_max();
	test_bufferevent_pair();
	libevent_global_shutdown();
	return done_testing();
}
