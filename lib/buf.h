/*
 * buf - a growable byte buffer that always knows its length.
 *
 * Peer data never lands in a fixed char[N]; it goes into a buf.  The data
 * is always followed by a NUL for convenience, but callers use the length:
 * the data may itself contain NULs.  A buf may carry a cap: appends that
 * would grow it beyond the cap fail (return -1) and leave it unchanged, so
 * a hostile peer cannot make us allocate without bound.
 */
#ifndef TERN_BUF_H
#define TERN_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data;     /* always NUL-terminated at data[len] */
	size_t len;
	size_t size;    /* allocated, > len */
	size_t cap;     /* most len may reach; 0 = no cap */
};

/* New empty buffer with room for hint bytes. */
struct buf *buf_new(size_t hint);
/* New empty buffer that refuses to grow beyond cap bytes. */
struct buf *buf_new_capped(size_t hint, size_t cap);
/* Free *bp (may be NULL) and set it to NULL. */
void buf_free(struct buf **bp);

/* In-place init/release for a buf embedded in another struct. */
void buf_init(struct buf *b, size_t hint, size_t cap);
void buf_release(struct buf *b);

static inline const char *buf_data(const struct buf *b) { return b->data; }
static inline size_t buf_len(const struct buf *b) { return b->len; }
/* NUL-terminated view; valid until the next change. */
static inline const char *buf_str(const struct buf *b) { return b->data; }

/* Appends return 0, or -1 (buffer unchanged) when the cap would be passed.
 * The source must not point into b itself (growing may move it). */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_append_str(struct buf *b, const char *s);
int buf_putc(struct buf *b, int c);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);

/* Drop everything / the first n bytes / all but the first n bytes. */
void buf_reset(struct buf *b);
void buf_consume(struct buf *b, size_t n);
void buf_truncate(struct buf *b, size_t n);

/* Take ownership of the data as a NUL-terminated string; b becomes empty. */
char *buf_steal(struct buf *b);

#endif
