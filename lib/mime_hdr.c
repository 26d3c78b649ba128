/*
 * mime_hdr - header fields: walking them, unfolding, the Content-* fields
 * a part is described by, and BODY[HEADER.FIELDS].
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mime.h"
#include "mime_int.h"
#include "rfc822.h"
#include "xalloc.h"

bool
mime_header_next(const char *hdr, size_t len, size_t *pos,
    struct mime_header *h)
{
	size_t s = *pos, e, ce, ve;
	const char *nl, *colon;

	if (s >= len)
		return false;
	nl = memchr(hdr + s, '\n', len - s);
	e = nl != NULL ? (size_t)(nl - hdr) + 1 : len;
	ce = nl != NULL ? (size_t)(nl - hdr) : len;
	if (nl != NULL && ce > s && hdr[ce - 1] == '\r')
		ce--;
	if (ce == s) {
		/* the blank line: end of header */
		*pos = len;
		return false;
	}
	/* RFC 5322 2.2.3: a line starting with a blank continues the
	 * field (a line of blanks only, too: obs-FWS) */
	while (e < len && (hdr[e] == ' ' || hdr[e] == '\t')) {
		nl = memchr(hdr + e, '\n', len - e);
		e = nl != NULL ? (size_t)(nl - hdr) + 1 : len;
	}
	ve = e;
	if (ve > s && hdr[ve - 1] == '\n') {
		ve--;
		if (ve > s && hdr[ve - 1] == '\r')
			ve--;
	}
	h->raw = hdr + s;
	h->raw_len = e - s;
	colon = memchr(hdr + s, ':', ce - s);
	h->has_colon = colon != NULL;
	if (colon != NULL) {
		h->name = hdr + s;
		h->name_len = (size_t)(colon - h->name);
		/* obs-optional: "Subject :" */
		while (h->name_len > 0 && (h->name[h->name_len - 1] == ' ' ||
		    h->name[h->name_len - 1] == '\t'))
			h->name_len--;
		h->value = colon + 1;
		h->value_len = (size_t)(hdr + ve - h->value);
	} else {
		h->name = hdr + s;
		h->name_len = ce - s;
		h->value = hdr + ve;
		h->value_len = 0;
	}
	*pos = e;
	return true;
}

void
mime_unfold(struct buf *out, const char *v, size_t len)
{
	size_t i = 0, start = out->len, n;

	while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == '\r' ||
	    v[i] == '\n'))
		i++;
	for (; i < len; i++) {
		if (v[i] == '\r' || v[i] == '\n') {
			/* folding keeps its blank; a line end that is not
			 * folding (cannot happen in one field) becomes one */
			if (v[i] == '\n' && i + 1 < len && v[i + 1] != ' ' &&
			    v[i + 1] != '\t' && v[i + 1] != '\r')
				buf_putc(out, ' ');
			continue;
		}
		if (v[i] == '\0')
			buf_append(out, "\xef\xbf\xbd", 3);
		else
			buf_putc(out, v[i]);
	}
	n = out->len;
	while (n > start && (out->data[n - 1] == ' ' ||
	    out->data[n - 1] == '\t'))
		n--;
	buf_truncate(out, n);
}

static bool
hdr_name_is(const struct mime_header *h, const char *name, size_t len)
{
	return h->has_colon && h->name_len == len &&
	    strncasecmp(h->name, name, len) == 0;
}

bool
mime_header_get(const struct mime_msg *m, const struct mime_part *p,
    const char *name, struct buf *out)
{
	struct mime_header h;
	size_t pos = 0, len = strlen(name);

	while (mime_header_next(m->data + p->hdr_start, p->hdr_len, &pos, &h))
		if (hdr_name_is(&h, name, len)) {
			mime_unfold(out, h.value, h.value_len);
			return true;
		}
	return false;
}

void
mime_header_fields(const char *hdr, size_t len, const char *const *names,
    size_t n, bool exclude, struct buf *out)
{
	struct mime_header h;
	size_t pos = 0, i;
	bool match;

	while (mime_header_next(hdr, len, &pos, &h)) {
		match = false;
		for (i = 0; i < n && !match; i++)
			match = hdr_name_is(&h, names[i], strlen(names[i]));
		if (match == exclude)
			continue;
		mime_crlf_append(out, h.raw, h.raw_len, 0, SIZE_MAX);
		if (h.raw[h.raw_len - 1] != '\n')
			buf_append(out, "\r\n", 2);
	}
	/* RFC 3501 6.4.5: the blank line is part of every header fetch */
	buf_append(out, "\r\n", 2);
}

/* ---- Content-* fields of a part */

enum hdr_field {
	F_TYPE, F_ENCODING, F_ID, F_DESCRIPTION, F_DISPOSITION,
	F_LANGUAGE, F_LOCATION, F_MD5, F_COUNT
};

static const char *const hdr_field_names[F_COUNT] = {
	"type", "transfer-encoding", "id", "description", "disposition",
	"language", "location", "md5",
};

static int
hdr_field_lookup(const char *name, size_t len)
{
	int i;

	if (len <= 8 || strncasecmp(name, "content-", 8) != 0)
		return -1;
	for (i = 0; i < F_COUNT; i++)
		if (strlen(hdr_field_names[i]) == len - 8 &&
		    strncasecmp(name + 8, hdr_field_names[i], len - 8) == 0)
			return i;
	return -1;
}

static char *
hdr_lower_dup(struct mime_arena *a, const struct buf *b)
{
	char *s = mime_arena_strndup(a, b->data, b->len);

	mime_lower(s, b->len);
	return s;
}

/* RFC 2045 5.1: type "/" subtype *(";" parameter), comments allowed.
 * A value that does not parse is as good as none (RFC 2045 5.2). */
static void
hdr_content_type(struct mime_msg *m, struct mime_part *p, const char *v,
    size_t len)
{
	struct rfc822_lex lx;
	struct buf t, s;

	buf_init(&t, 32, 0);
	buf_init(&s, 32, 0);
	rfc822_lex_init(&lx, v, len);
	rfc822_skip_cfws(&lx);
	rfc822_read_token(&lx, &t);
	if (t.len > 0 && rfc822_skip_cfws(&lx) && *lx.p == '/') {
		lx.p++;
		rfc822_skip_cfws(&lx);
		rfc822_read_token(&lx, &s);
	}
	if (t.len == 0 || s.len == 0) {
		p->flags |= MIME_PART_BAD_TYPE;
	} else {
		p->type = hdr_lower_dup(m->arena, &t);
		p->subtype = hdr_lower_dup(m->arena, &s);
		mime_params_parse(m->arena, &lx, &p->params);
	}
	buf_release(&t);
	buf_release(&s);
}

/* A single token and nothing else (comments aside), lower-cased; NULL
 * when the value is anything more (Dovecot does the same: "?invalid"
 * and "base64 junk" are the default 7bit). */
static const char *
hdr_token_only(struct mime_arena *a, const char *v, size_t len)
{
	struct rfc822_lex lx;
	struct buf t;
	const char *r = NULL;

	buf_init(&t, 32, 0);
	rfc822_lex_init(&lx, v, len);
	rfc822_skip_cfws(&lx);
	rfc822_read_token(&lx, &t);
	if (t.len > 0 && !rfc822_skip_cfws(&lx))
		r = hdr_lower_dup(a, &t);
	buf_release(&t);
	return r;
}

/* RFC 2183: disposition-type *(";" parameter) */
static void
hdr_disposition(struct mime_arena *a, struct mime_part *p, const char *v,
    size_t len)
{
	struct rfc822_lex lx;
	struct buf t;

	buf_init(&t, 32, 0);
	rfc822_lex_init(&lx, v, len);
	rfc822_skip_cfws(&lx);
	rfc822_read_token(&lx, &t);
	if (t.len > 0) {
		p->disposition = hdr_lower_dup(a, &t);
		mime_params_parse(a, &lx, &p->disp_params);
	}
	buf_release(&t);
}

/* RFC 3282: 1#Language-tag; what is not a token is skipped. */
static void
hdr_languages(struct mime_arena *a, struct mime_part *p, const char *v,
    size_t len)
{
	const char *tags[MIME_MAX_PARAMS];
	struct rfc822_lex lx;
	struct buf t;
	unsigned n = 0;

	buf_init(&t, 32, 0);
	rfc822_lex_init(&lx, v, len);
	while (rfc822_skip_cfws(&lx) && n < MIME_MAX_PARAMS) {
		buf_reset(&t);
		if (rfc822_read_token(&lx, &t) == 0)
			lx.p++;         /* ',' or junk */
		else
			tags[n++] = mime_arena_strndup(a, t.data, t.len);
	}
	if (n > 0) {
		p->languages = mime_arena_alloc(a, n * sizeof(*tags));
		memcpy(p->languages, tags, n * sizeof(*tags));
		p->nlanguages = n;
	}
	buf_release(&t);
}

static void
hdr_field(struct mime_msg *m, struct mime_part *p, int f, const char *v,
    size_t len)
{
	struct mime_arena *a = m->arena;

	switch (f) {
	case F_TYPE:
		hdr_content_type(m, p, v, len);
		break;
	case F_ENCODING:
		p->encoding = hdr_token_only(a, v, len);
		break;
	case F_DISPOSITION:
		hdr_disposition(a, p, v, len);
		break;
	case F_LANGUAGE:
		hdr_languages(a, p, v, len);
		break;
	case F_ID:
		p->id = mime_arena_strndup(a, v, len);
		break;
	case F_DESCRIPTION:
		p->description = mime_arena_strndup(a, v, len);
		break;
	case F_LOCATION:
		p->location = mime_arena_strndup(a, v, len);
		break;
	case F_MD5:
		p->md5 = mime_arena_strndup(a, v, len);
		break;
	default:
		BUG("content field %d", f);
	}
}

void
mime_part_parse_header(struct mime_msg *m, struct mime_part *p)
{
	const struct mime_part *parent = p->parent;
	bool seen[F_COUNT] = { false };
	struct mime_header h;
	struct buf v;
	size_t pos = 0;
	int f;

	/* RFC 2046 5.1.5: inside multipart/digest the default is a
	 * message */
	if (parent != NULL && (parent->flags & MIME_PART_MULTIPART) != 0 &&
	    strcmp(parent->subtype, "digest") == 0) {
		p->type = "message";
		p->subtype = "rfc822";
	}
	/* MIME-Version is not required: no mail client insists on it, and
	 * Dovecot honours Content-Type without it too. */
	buf_init(&v, 128, 0);
	while (mime_header_next(m->data + p->hdr_start, p->hdr_len, &pos, &h)) {
		if (!h.has_colon ||
		    (f = hdr_field_lookup(h.name, h.name_len)) < 0 || seen[f])
			continue;
		seen[f] = true;
		buf_reset(&v);
		mime_unfold(&v, h.value, h.value_len);
		hdr_field(m, p, f, v.data, v.len);
	}
	buf_release(&v);
	if (strcmp(p->type, "multipart") == 0)
		p->flags |= MIME_PART_MULTIPART;
	else if (strcmp(p->type, "message") == 0 &&
	    (strcmp(p->subtype, "rfc822") == 0 ||
	    strcmp(p->subtype, "global") == 0))
		p->flags |= MIME_PART_MESSAGE;
	else if (strcmp(p->type, "text") == 0)
		p->flags |= MIME_PART_TEXT;
}
