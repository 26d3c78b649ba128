/*
 * mime - the part tree: one pass over the lines of the message, a stack
 * of open parts, then one pass to count line ends.  See mime.h for the
 * rules on broken input; the reasons are here, beside the code.
 */
#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "mime.h"
#include "mime_int.h"
#include "xalloc.h"

/* ---- the arena that holds a parse result */

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	alignas(max_align_t) unsigned char data[];
};

struct mime_arena {
	struct arena_block *head;
};

#define ARENA_BLOCK 16384

struct mime_arena *
mime_arena_new(void)
{
	return xcalloc(1, sizeof(struct mime_arena));
}

void
mime_arena_free(struct mime_arena **ap)
{
	struct arena_block *b, *next;

	if (*ap == NULL)
		return;
	for (b = (*ap)->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	xfree(ap);
}

void *
mime_arena_alloc(struct mime_arena *a, size_t n)
{
	struct arena_block *b = a->head;
	size_t size;
	void *p;

	n = (n + 15) & ~(size_t)15;
	if (n == 0)
		n = 16;
	if (b == NULL || b->size - b->used < n) {
		size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		b = xmalloc(sizeof(*b) + size);
		b->size = size;
		b->used = 0;
		/* a big one-off allocation must not strand the current
		 * block's free space */
		if (a->head != NULL && n > ARENA_BLOCK) {
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	p = b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

char *
mime_arena_strndup(struct mime_arena *a, const char *s, size_t n)
{
	char *p = mime_arena_alloc(a, n + 1);

	memcpy(p, s, n);
	return p;
}

void
mime_lower(char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
}

/* ---- parts */

struct mime_part *
mime_part_new(struct mime_msg *m, struct mime_part *parent,
    struct mime_part *after, size_t hdr_start)
{
	struct mime_part *p = mime_arena_alloc(m->arena, sizeof(*p));

	p->type = "text";
	p->subtype = "plain";
	p->hdr_start = p->body_start = hdr_start;
	p->parent = parent;
	if (parent == NULL) {
		m->root = p;
	} else {
		p->depth = parent->depth + 1;
		if (after == NULL)
			parent->children = p;
		else
			after->next = p;
		parent->nchildren++;
	}
	m->nparts++;
	return p;
}

const struct mime_part *
mime_part_message(const struct mime_part *p)
{
	return (p->flags & MIME_PART_MESSAGE) != 0 ? p->children : NULL;
}

/* ---- building the tree */

enum build_state { ST_HDR, ST_BODY };

/*
 * The open parts, root first.  A multipart on the stack has its boundary
 * in bnd[] until its close delimiter is seen; only the innermost part is
 * in its header (ST_HDR) or collecting body lines.
 */
struct mime_build {
	struct mime_msg *m;
	const char *d;
	struct mime_part *stack[MIME_MAX_DEPTH + 1];
	unsigned char state[MIME_MAX_DEPTH + 1];
	const char *bnd[MIME_MAX_DEPTH + 1];
	size_t bnd_len[MIME_MAX_DEPTH + 1];
	uint64_t bnd_hash[MIME_MAX_DEPTH + 1];
	struct mime_part *last[MIME_MAX_DEPTH + 1];
	unsigned top;           /* entries in use */
	unsigned nactive;       /* boundaries in bnd[] */
};

static void
build_push(struct mime_build *b, struct mime_part *p)
{
	ASSERT(b->top <= MIME_MAX_DEPTH);
	ASSERT(p->depth == b->top);
	b->stack[b->top] = p;
	b->state[b->top] = ST_HDR;
	b->bnd[b->top] = NULL;
	b->last[b->top] = NULL;
	b->top++;
}

/* A new child of stack entry i, appended after the last one. */
static struct mime_part *
build_child(struct mime_build *b, unsigned i, size_t hdr_start)
{
	b->last[i] = mime_part_new(b->m, b->stack[i], b->last[i], hdr_start);
	return b->last[i];
}

static void
build_overflow(struct mime_build *b, struct mime_part *p, unsigned why)
{
	p->flags &= ~(unsigned)(MIME_PART_MULTIPART | MIME_PART_MESSAGE);
	p->flags |= MIME_PART_OVERFLOW;
	b->m->flags |= why;
}

/* FNV-1a: a line is hashed once and compared with every open boundary
 * by number, so a hostile message with 100 nested multiparts and lines
 * that almost match costs O(line + depth) per line, not O(line * depth). */
#define FNV_BASIS 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

static uint64_t
build_hash(uint64_t h, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
	return h;
}

/* A boundary cannot end in blanks (RFC 2046 5.1.1: bcharsnospace) and
 * the line we compare with has its transport padding trimmed, so trim a
 * sloppy one too. */
static void
build_boundary(struct mime_build *b, unsigned i)
{
	const struct mime_param *bp;
	size_t n;

	bp = mime_param_get(&b->stack[i]->params, "boundary");
	if (bp == NULL)
		return;
	n = bp->decoded_len;
	while (n > 0 && (bp->decoded[n - 1] == ' ' ||
	    bp->decoded[n - 1] == '\t'))
		n--;
	if (n == 0)
		return;
	b->bnd[i] = bp->decoded;
	b->bnd_len[i] = n;
	b->bnd_hash[i] = build_hash(FNV_BASIS, bp->decoded, n);
	b->nactive++;
}

/* The innermost part's header ends; its body starts at body_start. */
static void
build_end_header(struct mime_build *b, size_t body_start)
{
	unsigned i = b->top - 1;
	struct mime_part *p = b->stack[i];

	p->hdr_len = body_start - p->hdr_start;
	p->body_start = body_start;
	b->state[i] = ST_BODY;
	mime_part_parse_header(b->m, p);

	if ((p->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE)) == 0)
		return;
	if (p->depth >= MIME_MAX_DEPTH) {
		build_overflow(b, p, MIME_MSG_DEPTH_CAPPED);
	} else if ((p->flags & MIME_PART_MULTIPART) != 0) {
		p->flags |= MIME_PART_UNCLOSED; /* until "--boundary--" */
		build_boundary(b, i);
	} else if (b->m->nparts >= MIME_MAX_PARTS) {
		build_overflow(b, p, MIME_MSG_PARTS_CAPPED);
	} else {
		/* message/rfc822: the inner message starts right here */
		build_push(b, build_child(b, i, body_start));
	}
}

/*
 * Close the innermost part at raw offset end (clamped so that no range
 * is negative) and pop it.  Returns where it really ended, which its
 * parent must not end before.
 */
static size_t
build_finish_top(struct mime_build *b, size_t end)
{
	unsigned i = b->top - 1;
	struct mime_part *p = b->stack[i], *c;

	if (b->state[i] == ST_HDR) {
		/* The header was cut short by a boundary or the end of
		 * input: what there is of it is the header, the body is
		 * empty. */
		if (end < p->hdr_start)
			end = p->hdr_start;
		p->flags |= MIME_PART_NO_EOH;
		build_end_header(b, end);
		if (b->top - 1 > i)
			end = build_finish_top(b, end);
	}
	if (end < p->body_start)
		end = p->body_start;
	p->body_len = end - p->body_start;
	if (b->bnd[i] != NULL) {
		b->bnd[i] = NULL;
		b->nactive--;
	}
	if ((p->flags & MIME_PART_MULTIPART) != 0 && p->nchildren == 0) {
		/* No boundary line at all: rather than an empty structure,
		 * the whole body becomes one text part so a client can
		 * show it.  Allowed past MIME_MAX_PARTS (at most one per
		 * multipart) to keep BODYSTRUCTURE's 1*body true. */
		c = build_child(b, i, p->body_start);
		c->body_len = p->body_len;
		c->flags |= MIME_PART_IMPLICIT | MIME_PART_TEXT;
	}
	b->top--;
	return end;
}

/* Once MIME_MAX_PARTS parts exist, no more boundaries are recognised:
 * the rest of the input is body of whatever part is open. */
static void
build_stop_boundaries(struct mime_build *b)
{
	unsigned i;

	for (i = 0; i < b->top; i++)
		b->bnd[i] = NULL;
	b->nactive = 0;
	b->m->flags |= MIME_MSG_PARTS_CAPPED;
}

/*
 * Is line d[s..e) (after the leading "--", line end removed) a delimiter
 * of an open multipart?  RFC 2046 5.1.1: "--" boundary, "--" more for the
 * close delimiter, then optional blanks.  Dovecot accepts any line that
 * merely starts with "--boundary"; we keep to the RFC so a line such as
 * "--boundary-not" in a preamble or body is text.  The innermost match
 * wins (RFC 2046: nested multiparts may not share boundaries, but if
 * they do the inner one is meant).  Returns the stack index or -1.
 */
static int
build_match(const struct mime_build *b, size_t s, size_t e, bool *close_r)
{
	const char *d = b->d;
	uint64_t h_open, h_close = 0;
	bool dashes;
	size_t n, bl;
	int i;

	while (e > s && (d[e - 1] == ' ' || d[e - 1] == '\t'))
		e--;
	n = e - s;
	/* the line as an open delimiter, and without its trailing "--" as
	 * a close delimiter */
	dashes = n >= 2 && d[e - 2] == '-' && d[e - 1] == '-';
	if (dashes) {
		h_close = build_hash(FNV_BASIS, d + s, n - 2);
		h_open = build_hash(h_close, d + e - 2, 2);
	} else {
		h_open = build_hash(FNV_BASIS, d + s, n);
	}
	for (i = (int)b->top - 1; i >= 0; i--) {
		if (b->bnd[i] == NULL)
			continue;
		bl = b->bnd_len[i];
		if (n == bl && b->bnd_hash[i] == h_open &&
		    memcmp(d + s, b->bnd[i], bl) == 0) {
			*close_r = false;
			return i;
		}
		if (n == bl + 2 && dashes && b->bnd_hash[i] == h_close &&
		    memcmp(d + s, b->bnd[i], bl) == 0) {
			*close_r = true;
			return i;
		}
	}
	return -1;
}

/*
 * A delimiter of stack entry k on the line ending at le.  The line end
 * before the delimiter belongs to it (RFC 2046 5.1.1), so the parts it
 * closes end at prev_ce, the content end of the previous line.  Returns
 * false when the line is to be taken as text after all.
 */
static bool
build_delimiter(struct mime_build *b, unsigned k, bool close, size_t le,
    size_t prev_ce)
{
	size_t end = prev_ce;

	if (!close && b->m->nparts >= MIME_MAX_PARTS) {
		build_stop_boundaries(b);
		return false;
	}
	while (b->top - 1 > k)
		end = build_finish_top(b, end);
	if (close) {
		/* what follows is epilogue: the boundary is done */
		b->bnd[k] = NULL;
		b->nactive--;
		b->stack[k]->flags &= ~(unsigned)MIME_PART_UNCLOSED;
	} else {
		build_push(b, build_child(b, k, le));
	}
	return true;
}

static void
build_line(struct mime_build *b, size_t ls, size_t ce, size_t le,
    size_t prev_ce)
{
	const char *d = b->d;
	bool close;
	int k;

	if (b->nactive > 0 && ce - ls >= 2 && d[ls] == '-' &&
	    d[ls + 1] == '-' &&
	    (k = build_match(b, ls + 2, ce, &close)) >= 0 &&
	    build_delimiter(b, (unsigned)k, close, le, prev_ce))
		return;
	/* an empty line ends a header; a line of blanks is folding */
	if (b->state[b->top - 1] == ST_HDR && ce == ls)
		build_end_header(b, le);
}

/* ---- counting line ends: one forward pass in tree order */

struct count {
	const char *d;
	size_t pos, lf, bare;
};

static void
count_to(struct count *c, size_t x)
{
	const char *nl;
	size_t i;

	ASSERT(x >= c->pos);
	while (c->pos < x) {
		nl = memchr(c->d + c->pos, '\n', x - c->pos);
		if (nl == NULL) {
			c->pos = x;
			break;
		}
		i = (size_t)(nl - c->d);
		c->lf++;
		if (i == 0 || c->d[i - 1] != '\r')
			c->bare++;
		c->pos = i + 1;
	}
}

/* Children lie inside their parent's body and follow each other, so the
 * offsets come in order and one cursor serves the whole tree. */
static void
count_part(struct count *c, struct mime_part *p)
{
	struct mime_part *ch;
	size_t lf, bare;

	count_to(c, p->hdr_start);
	lf = c->lf;
	bare = c->bare;
	count_to(c, p->body_start);
	p->hdr_lines = c->lf - lf;
	p->hdr_size = p->hdr_len + (c->bare - bare);
	lf = c->lf;
	bare = c->bare;
	for (ch = p->children; ch != NULL; ch = ch->next)
		count_part(c, ch);
	count_to(c, p->body_start + p->body_len);
	p->body_lines = c->lf - lf;
	p->body_size = p->body_len + (c->bare - bare);
}

struct mime_msg *
mime_parse(const char *data, size_t len)
{
	struct mime_msg *m = xcalloc(1, sizeof(*m));
	struct mime_build *b = xcalloc(1, sizeof(*b));
	struct count c = { .d = data };
	size_t pos = 0, prev_ce = 0, ce, le;
	const char *nl;

	m->data = data;
	m->len = len;
	m->arena = mime_arena_new();
	b->m = m;
	b->d = data;
	build_push(b, mime_part_new(m, NULL, NULL, 0));
	while (pos < len) {
		nl = memchr(data + pos, '\n', len - pos);
		le = nl != NULL ? (size_t)(nl - data) + 1 : len;
		ce = nl != NULL ? (size_t)(nl - data) : len;
		if (nl != NULL && ce > pos && data[ce - 1] == '\r')
			ce--;
		build_line(b, pos, ce, le, prev_ce);
		prev_ce = ce;
		pos = le;
	}
	while (b->top > 0)
		build_finish_top(b, len);
	xfree(&b);
	count_part(&c, m->root);
	return m;
}

void
mime_free(struct mime_msg **mp)
{
	if (*mp == NULL)
		return;
	mime_arena_free(&(*mp)->arena);
	xfree(mp);
}

/* ---- section numbers */

static const struct mime_part *
find_nth(const struct mime_part *p, unsigned long n)
{
	const struct mime_part *c;

	for (c = p->children; c != NULL && n > 1; c = c->next)
		n--;
	return c;
}

/* Part n of a message: its n-th part if multipart, else (n == 1) its
 * body, which is the message's own part. */
static const struct mime_part *
find_in_message(const struct mime_part *msg, unsigned long n)
{
	if ((msg->flags & MIME_PART_MULTIPART) != 0)
		return find_nth(msg, n);
	return n == 1 ? msg : NULL;
}

const struct mime_part *
mime_find(const struct mime_msg *m, const char *section)
{
	const struct mime_part *p = NULL;
	const char *s = section;
	unsigned long n;

	if (*s == '\0')
		return m->root;
	while (*s != '\0') {
		if (*s < '1' || *s > '9')
			return NULL;
		for (n = 0; *s >= '0' && *s <= '9'; s++) {
			n = n * 10 + (unsigned long)(*s - '0');
			if (n > UINT32_MAX)
				return NULL;
		}
		if (*s == '.' && *++s == '\0')
			return NULL;
		if (p == NULL)
			p = find_in_message(m->root, n);
		else if ((p->flags & MIME_PART_MULTIPART) != 0)
			p = find_nth(p, n);
		else if ((p->flags & MIME_PART_MESSAGE) != 0)
			p = find_in_message(p->children, n);
		else
			p = NULL;
		if (p == NULL)
			return NULL;
	}
	return p;
}
