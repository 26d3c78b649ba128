/* Tests for lib/buf: the growable, capped byte buffer. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "buf.h"
#include "tap.h"
#include "xalloc.h"

#define S(lit) lit, sizeof(lit) - 1

/* Byte i of the test pattern: every value, NULs included. */
static char
pat(size_t i)
{
	return (char)((i * 7 + 3) % 256);
}

/* len is n, the bytes are the pattern, a NUL follows, size > len. */
static bool
holds_pattern(const struct buf *b, size_t n)
{
	size_t i;

	if (buf_len(b) != n || b->size <= n || buf_data(b)[n] != '\0')
		return false;
	for (i = 0; i < n; i++)
		if (buf_data(b)[i] != pat(i))
			return false;
	return true;
}

/* Same length, same bytes, NUL after. */
static bool
holds(const struct buf *b, const char *s, size_t n)
{
	return buf_len(b) == n && memcmp(buf_data(b), s, n) == 0 &&
	    buf_data(b)[n] == '\0';
}

static void
test_new(void)
{
	struct buf *b = buf_new(0);

	ok(holds(b, "", 0), "new buffer is empty and NUL-terminated");
	ok(buf_str(b) == buf_data(b), "buf_str is the data");
	buf_free(&b);
	ok(b == NULL, "buf_free sets the pointer to NULL");
	buf_free(&b);
	ok(b == NULL, "buf_free of NULL is harmless");
}

/* Append n pattern bytes, in one go or in pieces, for many n. */
static void
test_append_sizes(void)
{
	size_t n, off, piece, hint, bad_one = 0, bad_piece = 0;
	char src[5000];
	struct buf *b;

	for (n = 0; n < sizeof(src); n++)
		src[n] = pat(n);
	for (n = 0; n <= 4096; n += n < 40 ? 1 : 37) {
		for (hint = 0; hint <= 64; hint += 16) {
			b = buf_new(hint);
			buf_append(b, src, n);
			bad_one += !holds_pattern(b, n);
			buf_free(&b);
		}
		for (piece = 1; piece <= 13; piece += 6) {
			b = buf_new(0);
			for (off = 0; off < n; off += piece)
				buf_append(b, src + off,
				    n - off < piece ? n - off : piece);
			bad_piece += !holds_pattern(b, n);
			buf_free(&b);
		}
	}
	is_int(bad_one, 0, "one append of 0..4096 bytes, any hint");
	is_int(bad_piece, 0, "0..4096 bytes appended in 1, 7, 13-byte pieces");

	b = buf_new(1);
	is_int(buf_append(b, NULL, 0), 0, "append of nothing succeeds");
	is_int(buf_append(b, S("a\0b\0")), 0, "append with embedded NULs");
	ok(holds(b, "a\0b\0", 4), "embedded NULs kept, length 4");
	is_int(buf_putc(b, '\0'), 0, "putc of a NUL");
	is_int(buf_append_str(b, "xy"), 0, "append_str");
	ok(holds(b, "a\0b\0\0xy", 7), "putc NUL and append_str after it");
	buf_free(&b);
}

/* printf output of every length, starting from every fill level. */
static void
test_printf_sizes(void)
{
	char pad[600], want[1200];
	size_t pre, n, room, bad = 0;
	struct buf *b;

	memset(pad, 'p', sizeof(pad));
	for (pre = 0; pre < 70; pre += 3) {
		for (n = 0; n < sizeof(pad); n += n < 70 ? 1 : 29) {
			b = buf_new(pre % 32);
			buf_append(b, pad, pre);
			if (buf_printf(b, "<%.*s>%d", (int)n, pad, 42) != 0)
				bad++;
			snprintf(want, sizeof(want), "%.*s<%.*s>42", (int)pre,
			    pad, (int)n, pad);
			bad += !holds(b, want, strlen(want));
			buf_free(&b);
		}
	}
	is_int(bad, 0, "printf of 4..604 bytes onto 0..69 bytes");

	/* Output exactly filling, one short of and one past the room. */
	for (n = 0; n < 3; n++) {
		b = buf_new(16);
		buf_append(b, S("0123"));
		room = b->size - b->len - 2 + n;
		buf_printf(b, "%.*s", (int)room, pad);
		snprintf(want, sizeof(want), "0123%.*s", (int)room, pad);
		bad += !holds(b, want, 4 + room);
		buf_free(&b);
	}
	is_int(bad, 0, "printf at the edge of the allocation");

	b = buf_new(4);
	buf_printf(b, "%c%c%c", 'a', 0, 'b');
	ok(holds(b, "a\0b", 3), "printf of a NUL byte counts it");
	buf_free(&b);
}

static int
wrap_vprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

static void
test_vprintf(void)
{
	static const wchar_t bad_wide[] = { 0x20ac, 0 };
	struct buf *b = buf_new(2);
	char big[300];

	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	is_int(wrap_vprintf(b, "%s-%s", big, big), 0, "vprintf that grows");
	is_int(buf_len(b), 2 * 299 + 1, "vprintf length after growth");
	ok(buf_data(b)[299] == '-' && buf_data(b)[599] == '\0',
	    "vprintf reused the va_list correctly after growing");

	/* A wide char the C locale cannot encode: vsnprintf fails midway. */
	buf_reset(b);
	buf_append_str(b, "keep");
	is_int(buf_printf(b, "abc%ls", bad_wide), -1, "failing printf: -1");
	ok(holds(b, "keep", 4), "failing printf leaves buffer and NUL intact");
	buf_free(&b);
}

static void
test_cap(void)
{
	struct buf *b = buf_new_capped(4, 10);
	size_t n;
	int ok_count;

	is_int(buf_append(b, S("0123456789")), 0, "append exactly to the cap");
	ok(holds(b, "0123456789", 10), "at cap: data intact");
	is_int(buf_append(b, S("x")), -1, "append past the cap fails");
	is_int(buf_putc(b, 'x'), -1, "putc past the cap fails");
	is_int(buf_printf(b, "x"), -1, "printf past the cap fails");
	is_int(buf_append(b, NULL, 0), 0, "appending nothing at the cap is ok");
	is_int(buf_printf(b, "%s", ""), 0, "printf of nothing at the cap");
	ok(holds(b, "0123456789", 10), "failed appends left it unchanged");

	buf_truncate(b, 5);
	is_int(buf_append(b, S("abcdef")), -1, "append crossing the cap fails");
	is_int(buf_printf(b, "%s", "abcdef"), -1,
	    "printf crossing the cap fails");
	ok(holds(b, "01234", 5), "and both left it unchanged");
	is_int(buf_printf(b, "%s", "abcde"), 0, "printf exactly to the cap");
	ok(holds(b, "01234abcde", 10), "printf to the cap: data intact");

	buf_reset(b);
	is_int(buf_printf(b, "%s", "0123456789a"), -1,
	    "printf needing growth past the cap fails");
	ok(holds(b, "", 0), "and leaves the empty buffer empty");
	buf_free(&b);

	b = buf_new_capped(1, 1000);
	for (n = 0, ok_count = 0; n < 1100; n++)
		ok_count += buf_putc(b, 'c') == 0;
	is_int(ok_count, 1000, "putc one at a time: exactly cap bytes fit");
	ok(b->size <= 1001, "growth never allocates past cap + 1");
	buf_free(&b);

	b = buf_new_capped(100, 10);
	ok(b->size <= 11, "a hint above the cap is clamped");
	buf_free(&b);
}

static void
test_consume_truncate_reset(void)
{
	struct buf *b = buf_new(4);

	buf_append_str(b, "hello world");
	buf_consume(b, 0);
	ok(holds(b, "hello world", 11), "consume 0 changes nothing");
	buf_consume(b, 6);
	ok(holds(b, "world", 5), "consume drops the first n bytes");
	buf_truncate(b, 9);
	ok(holds(b, "world", 5), "truncate beyond len changes nothing");
	buf_truncate(b, 3);
	ok(holds(b, "wor", 3), "truncate keeps the first n bytes");
	buf_consume(b, 3);
	ok(holds(b, "", 0), "consume of exactly len empties it");
	buf_append(b, S("a\0b"));
	buf_consume(b, 99);
	ok(holds(b, "", 0), "consume of more than len empties it");
	buf_append(b, S("again"));
	buf_reset(b);
	ok(holds(b, "", 0), "reset empties it");
	buf_append(b, S("x\0y"));
	buf_consume(b, 1);
	ok(holds(b, "\0y", 2), "consume moves embedded NULs along");
	buf_free(&b);
}

static void
test_steal(void)
{
	struct buf *b = buf_new_capped(4, 8);
	char *s;

	buf_append_str(b, "stolen");
	s = buf_steal(b);
	is_str(s, "stolen", "steal returns the NUL-terminated data");
	ok(holds(b, "", 0), "the buffer is empty after steal");
	is_int(buf_append_str(b, "12345678"), 0, "and usable again");
	is_int(buf_putc(b, '9'), -1, "and keeps its cap");
	free(s);
	buf_free(&b);
}

static void
test_init_release(void)
{
	struct {
		int before;
		struct buf b;
		int after;
	} host = { 1, { 0 }, 2 };

	buf_init(&host.b, 0, 0);
	ok(holds(&host.b, "", 0), "buf_init: empty and NUL-terminated");
	buf_printf(&host.b, "%d:%s", 7, "embedded");
	ok(holds(&host.b, "7:embedded", 10), "embedded buf grows");
	buf_release(&host.b);
	ok(host.b.data == NULL && host.b.len == 0, "buf_release frees data");
	ok(host.before == 1 && host.after == 2, "neighbours untouched");
	buf_init(&host.b, 8, 3);
	is_int(buf_append_str(&host.b, "abcd"), -1, "re-init with a cap");
	buf_release(&host.b);
}

int
main(void)
{
	plan(55);
	test_new();
	test_append_sizes();
	test_printf_sizes();
	test_vprintf();
	test_cap();
	test_consume_truncate_reset();
	test_steal();
	test_init_release();
	return done_testing();
}
