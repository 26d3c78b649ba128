/* buf - see buf.h */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xalloc.h"

void
buf_init(struct buf *b, size_t hint, size_t cap)
{
	if (cap != 0 && hint > cap)
		hint = cap;
	b->size = hint + 1;
	b->data = xmalloc(b->size);
	b->data[0] = '\0';
	b->len = 0;
	b->cap = cap;
}

void
buf_release(struct buf *b)
{
	xfree(&b->data);
	b->len = b->size = 0;
}

struct buf *
buf_new_capped(size_t hint, size_t cap)
{
	struct buf *b = xmalloc(sizeof(*b));

	buf_init(b, hint, cap);
	return b;
}

struct buf *
buf_new(size_t hint)
{
	return buf_new_capped(hint, 0);
}

void
buf_free(struct buf **bp)
{
	if (*bp == NULL)
		return;
	buf_release(*bp);
	xfree(bp);
}

/* Make room for n more bytes plus the NUL; -1 if the cap forbids it. */
static int
buf_reserve(struct buf *b, size_t n)
{
	size_t want;

	if (n > SIZE_MAX / 2 - b->len)
		return -1;
	if (b->cap != 0 && b->len + n > b->cap)
		return -1;
	want = b->len + n + 1;
	if (want <= b->size)
		return 0;
	if (want < b->size * 2)
		want = b->size * 2;
	if (b->cap != 0 && want > b->cap + 1)
		want = b->cap + 1;
	b->data = xrealloc(b->data, want);
	b->size = want;
	return 0;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_putc(struct buf *b, int c)
{
	char ch = (char)c;

	return buf_append(b, &ch, 1);
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(b->data + b->len, b->size - b->len, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		/* vsnprintf may have written part of the output (EILSEQ). */
		b->data[b->len] = '\0';
		return -1;
	}
	if ((size_t)n >= b->size - b->len) {
		if (buf_reserve(b, (size_t)n) < 0) {
			b->data[b->len] = '\0';
			return -1;
		}
		vsnprintf(b->data + b->len, b->size - b->len, fmt, ap);
	} else if (b->cap != 0 && b->len + (size_t)n > b->cap) {
		b->data[b->len] = '\0';
		return -1;
	}
	b->len += (size_t)n;
	return 0;
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->data[0] = '\0';
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
	b->data[b->len] = '\0';
}

void
buf_truncate(struct buf *b, size_t n)
{
	if (n < b->len) {
		b->len = n;
		b->data[n] = '\0';
	}
}

char *
buf_steal(struct buf *b)
{
	char *s = b->data;

	buf_init(b, 16, b->cap);
	return s;
}
