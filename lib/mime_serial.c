/*
 * mime_serial - the part tree in a few bytes per part, for the IMAP index.
 *
 * Format: "TM1", varint message flags, then the parts in tree order, each
 *   flags nchildren gap hdr_len body_len hdr_extra hdr_lines
 *   body_extra body_lines
 * as LEB128 varints.  gap is hdr_start minus where the part could first
 * begin (the parent's body start, or the end of the previous sibling);
 * *_extra is size - len, the number of bare LFs.  A typical part costs
 * 10 to 15 bytes.
 *
 * The blob comes from disk, so mime_deserialize() trusts nothing: every
 * number is range-checked, nesting and part counts are capped as in the
 * parser, and the tree must cover exactly the message it is paired with.
 */
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "mime.h"
#include "mime_int.h"
#include "xalloc.h"

#define SERIAL_MAGIC "TM1"
#define SERIAL_FLAGS (MIME_PART_MULTIPART | MIME_PART_MESSAGE | \
	MIME_PART_TEXT | MIME_PART_OVERFLOW | MIME_PART_IMPLICIT | \
	MIME_PART_NO_EOH | MIME_PART_BAD_TYPE | MIME_PART_UNCLOSED)

static void
ser_varint(struct buf *out, uint64_t v)
{
	while (v >= 0x80) {
		buf_putc(out, (int)(v & 0x7f) | 0x80);
		v >>= 7;
	}
	buf_putc(out, (int)v);
}

static void
ser_part(struct buf *out, const struct mime_part *p, size_t cursor)
{
	const struct mime_part *c;

	ser_varint(out, p->flags);
	ser_varint(out, p->nchildren);
	ser_varint(out, p->hdr_start - cursor);
	ser_varint(out, p->hdr_len);
	ser_varint(out, p->body_len);
	ser_varint(out, p->hdr_size - p->hdr_len);
	ser_varint(out, p->hdr_lines);
	ser_varint(out, p->body_size - p->body_len);
	ser_varint(out, p->body_lines);
	cursor = p->body_start;
	for (c = p->children; c != NULL; c = c->next) {
		ser_part(out, c, cursor);
		cursor = c->body_start + c->body_len;
	}
}

void
mime_serialize(const struct mime_msg *m, struct buf *out)
{
	buf_append_str(out, SERIAL_MAGIC);
	ser_varint(out, m->flags & ~(unsigned)MIME_MSG_LIGHT);
	ser_part(out, m->root, 0);
}

struct des {
	const unsigned char *p, *end;
	struct mime_msg *m;
	const char *error;
};

static bool
des_varint(struct des *d, size_t *v_r)
{
	uint64_t v = 0;
	unsigned shift;

	for (shift = 0; shift < 64; shift += 7) {
		if (d->p >= d->end) {
			d->error = "truncated";
			return false;
		}
		v |= (uint64_t)(*d->p & 0x7f) << shift;
		if ((*d->p++ & 0x80) == 0) {
			if (v > SIZE_MAX) {
				d->error = "number too big";
				return false;
			}
			*v_r = (size_t)v;
			return true;
		}
	}
	d->error = "bad number";
	return false;
}

static bool
des_fail(struct des *d, const char *why)
{
	d->error = why;
	return false;
}

static void
des_types(struct mime_part *p)
{
	if ((p->flags & MIME_PART_MULTIPART) != 0) {
		p->type = "multipart";
		p->subtype = "mixed";
	} else if ((p->flags & MIME_PART_MESSAGE) != 0) {
		p->type = "message";
		p->subtype = "rfc822";
	} else if ((p->flags & MIME_PART_TEXT) == 0) {
		p->type = "application";
		p->subtype = "octet-stream";
	}
}

/* One part (and its children) that must lie in [cursor, limit). */
static bool
des_part(struct des *d, struct mime_part *parent, struct mime_part *after,
    size_t cursor, size_t limit, struct mime_part **p_r)
{
	size_t v[9], i, end;
	struct mime_part *p, *c = NULL;

	for (i = 0; i < 9; i++)
		if (!des_varint(d, &v[i]))
			return false;
	if ((v[0] & ~(size_t)SERIAL_FLAGS) != 0)
		return des_fail(d, "unknown flags");
	if (d->m->nparts >= 2 * MIME_MAX_PARTS)
		return des_fail(d, "too many parts");
	/* v: flags nchildren gap hdr_len body_len hdr_extra hdr_lines
	 * body_extra body_lines */
	if (v[2] > limit - cursor || v[3] > limit - cursor - v[2] ||
	    v[4] > limit - cursor - v[2] - v[3])
		return des_fail(d, "part outside its parent");
	if (v[5] > v[6] || v[6] > v[3] || v[7] > v[8] || v[8] > v[4])
		return des_fail(d, "bad sizes");
	p = mime_part_new(d->m, parent, after, cursor + v[2]);
	p->flags = (unsigned)v[0];
	p->hdr_len = v[3];
	p->body_start = p->hdr_start + v[3];
	p->body_len = v[4];
	p->hdr_size = v[3] + v[5];
	p->hdr_lines = v[6];
	p->body_size = v[4] + v[7];
	p->body_lines = v[8];
	des_types(p);
	if ((p->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE)) ==
	    (MIME_PART_MULTIPART | MIME_PART_MESSAGE))
		return des_fail(d, "bad flags");
	if ((p->flags & MIME_PART_MULTIPART) != 0 ? v[1] == 0 :
	    (p->flags & MIME_PART_MESSAGE) != 0 ? v[1] != 1 : v[1] != 0)
		return des_fail(d, "children do not match the part's kind");
	if (v[1] > 0 && p->depth >= MIME_MAX_DEPTH)
		return des_fail(d, "nested too deep");
	end = p->body_start + p->body_len;
	cursor = p->body_start;
	for (i = 0; i < v[1]; i++) {
		if (!des_part(d, p, c, cursor, end, &c))
			return false;
		cursor = c->body_start + c->body_len;
	}
	*p_r = p;
	return true;
}

struct mime_msg *
mime_deserialize(const char *blob, size_t blob_len, const char *data,
    size_t len, const char **error_r)
{
	struct des d = { .p = (const unsigned char *)blob };
	struct mime_part *root;
	size_t flags;

	d.end = d.p + blob_len;
	if (blob_len < 3 || memcmp(blob, SERIAL_MAGIC, 3) != 0) {
		*error_r = "not a serialised MIME tree";
		return NULL;
	}
	d.p += 3;
	d.m = xcalloc(1, sizeof(*d.m));
	d.m->data = data;
	d.m->len = len;
	d.m->arena = mime_arena_new();
	if (!des_varint(&d, &flags))
		goto fail;
	if ((flags & ~(size_t)(MIME_MSG_DEPTH_CAPPED |
	    MIME_MSG_PARTS_CAPPED)) != 0) {
		d.error = "unknown message flags";
		goto fail;
	}
	d.m->flags = (unsigned)flags | MIME_MSG_LIGHT;
	if (!des_part(&d, NULL, NULL, 0, len, &root))
		goto fail;
	if (root->hdr_start != 0 || root->body_start + root->body_len != len) {
		d.error = "tree does not cover the message";
		goto fail;
	}
	if (d.p != d.end) {
		d.error = "junk after the tree";
		goto fail;
	}
	return d.m;
fail:
	*error_r = d.error;
	mime_free(&d.m);
	return NULL;
}
