/*
 * mime unit test.
 *
 * Golden files: every t/data/mime/NAME.eml is parsed and its IMAP output
 * compared with NAME.bodystructure ("BODYSTRUCTURE ..." and "BODY ..."
 * lines) and NAME.envelope.  Then, for each golden message, properties
 * that must hold for any input: the same message with CRLF line ends
 * gives the same output; the tree is consistent (ranges nest, sizes and
 * line counts match an independent count, section numbers find every
 * part); the output is valid RFC 3501 grammar; the serialised tree comes
 * back the same; and every prefix and many random mutations of it parse
 * with the same properties.  Then sections, headers, strings, the caps
 * and speed on hostile input.
 *
 * "mime.t --regen" rewrites the golden files from the current code;
 * review the diff before committing.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "buf.h"
#include "mime.h"
#include "tap.h"
#include "xalloc.h"

/* ---- properties every parse must have */

/*
 * A validator for what we send, following RFC 3501 9 (body, envelope,
 * address, string, nstring), slightly stricter where we promise more:
 * extension data is all there with BODYSTRUCTURE and absent with BODY,
 * groups in address lists are balanced.
 */
struct gv {
	const unsigned char *p, *end;
	const char *err;
};

static bool
gv_fail(struct gv *g, const char *why)
{
	if (g->err == NULL)
		g->err = why;
	return false;
}

static bool
gv_lit(struct gv *g, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(g->end - g->p) < n || memcmp(g->p, s, n) != 0)
		return gv_fail(g, s);
	g->p += n;
	return true;
}

static bool
gv_peek(const struct gv *g, unsigned char c)
{
	return g->p < g->end && *g->p == c;
}

static bool
gv_number(struct gv *g, size_t *v_r)
{
	size_t v = 0, n = 0;

	while (g->p < g->end && *g->p >= '0' && *g->p <= '9' && n < 19) {
		v = v * 10 + (size_t)(*g->p++ - '0');
		n++;
	}
	if (n == 0)
		return gv_fail(g, "number expected");
	if (v_r != NULL)
		*v_r = v;
	return true;
}

/* string = quoted / literal; the value goes to val (may be NULL) */
static bool
gv_string(struct gv *g, struct buf *val)
{
	size_t n, i;
	unsigned char c;

	if (gv_peek(g, '"')) {
		for (g->p++; g->p < g->end; g->p++) {
			c = *g->p;
			if (c == '"') {
				g->p++;
				return true;
			}
			if (c == '\\') {
				if (++g->p >= g->end ||
				    (*g->p != '"' && *g->p != '\\'))
					return gv_fail(g, "bad escape");
				c = *g->p;
			} else if (c == '\r' || c == '\n' || c == 0 ||
			    c >= 0x80) {
				return gv_fail(g, "bad char in quoted");
			}
			if (val != NULL)
				buf_putc(val, c);
		}
		return gv_fail(g, "unterminated quoted");
	}
	if (!gv_peek(g, '{'))
		return gv_fail(g, "string expected");
	g->p++;
	if (!gv_number(g, &n) || !gv_lit(g, "}\r\n"))
		return false;
	if ((size_t)(g->end - g->p) < n)
		return gv_fail(g, "short literal");
	for (i = 0; i < n; i++)
		if (g->p[i] == 0)
			return gv_fail(g, "NUL in literal");
	if (val != NULL)
		buf_append(val, g->p, n);
	g->p += n;
	return true;
}

static bool
gv_nstring(struct gv *g, struct buf *val, bool *nil_r)
{
	if (nil_r != NULL)
		*nil_r = false;
	if (gv_peek(g, 'N')) {
		if (nil_r != NULL)
			*nil_r = true;
		return gv_lit(g, "NIL");
	}
	return gv_string(g, val);
}

static bool
gv_params(struct gv *g)
{
	if (gv_peek(g, 'N'))
		return gv_lit(g, "NIL");
	if (!gv_lit(g, "("))
		return false;
	do {
		if (!gv_string(g, NULL) || !gv_lit(g, " ") ||
		    !gv_string(g, NULL))
			return false;
	} while (gv_peek(g, ' ') && gv_lit(g, " "));
	return gv_lit(g, ")");
}

/* SP body-fld-dsp SP body-fld-lang SP body-fld-loc */
static bool
gv_ext_common(struct gv *g)
{
	if (!gv_lit(g, " "))
		return false;
	if (gv_peek(g, 'N')) {
		if (!gv_lit(g, "NIL"))
			return false;
	} else if (!gv_lit(g, "(") || !gv_string(g, NULL) ||
	    !gv_lit(g, " ") || !gv_params(g) || !gv_lit(g, ")")) {
		return false;
	}
	if (!gv_lit(g, " "))
		return false;
	if (gv_peek(g, '(')) {
		g->p++;
		do {
			if (!gv_string(g, NULL))
				return false;
		} while (gv_peek(g, ' ') && gv_lit(g, " "));
		if (!gv_lit(g, ")"))
			return false;
	} else if (!gv_nstring(g, NULL, NULL)) {
		return false;
	}
	return gv_lit(g, " ") && gv_nstring(g, NULL, NULL);
}

static bool
gv_addresses(struct gv *g)
{
	bool nil[4], in_group = false;
	int i;

	if (gv_peek(g, 'N'))
		return gv_lit(g, "NIL");
	if (!gv_lit(g, "("))
		return false;
	do {
		if (!gv_lit(g, "("))
			return false;
		for (i = 0; i < 4; i++)
			if ((i > 0 && !gv_lit(g, " ")) ||
			    !gv_nstring(g, NULL, &nil[i]))
				return false;
		if (!gv_lit(g, ")"))
			return false;
		if (nil[3]) {
			/* group start: mailbox = name; end: all NIL */
			if (nil[0] && nil[1] && nil[2]) {
				if (!in_group)
					return gv_fail(g, "group end outside "
					    "group");
				in_group = false;
			} else if (nil[2] || !nil[0] || !nil[1] || in_group) {
				return gv_fail(g, "bad group start");
			} else {
				in_group = true;
			}
		} else if (nil[2]) {
			return gv_fail(g, "mailbox NIL with a host");
		}
	} while (gv_peek(g, '('));
	if (in_group)
		return gv_fail(g, "unterminated group");
	return gv_lit(g, ")");
}

static bool
gv_envelope(struct gv *g)
{
	int i;

	if (!gv_lit(g, "(") || !gv_nstring(g, NULL, NULL) ||
	    !gv_lit(g, " ") || !gv_nstring(g, NULL, NULL))
		return false;
	for (i = 0; i < 6; i++)
		if (!gv_lit(g, " ") || !gv_addresses(g))
			return false;
	return gv_lit(g, " ") && gv_nstring(g, NULL, NULL) &&
	    gv_lit(g, " ") && gv_nstring(g, NULL, NULL) && gv_lit(g, ")");
}

static bool
gv_body(struct gv *g, bool ext, unsigned depth)
{
	struct buf type, subtype;
	bool r = false, text, msg;

	if (depth > 2 * MIME_MAX_DEPTH + 4)
		return gv_fail(g, "nested too deep");
	if (!gv_lit(g, "("))
		return false;
	if (gv_peek(g, '(')) {
		while (gv_peek(g, '('))
			if (!gv_body(g, ext, depth + 1))
				return false;
		if (!gv_lit(g, " ") || !gv_string(g, NULL))
			return false;
		if (ext && (!gv_lit(g, " ") || !gv_params(g) ||
		    !gv_ext_common(g)))
			return false;
		return gv_lit(g, ")");
	}
	buf_init(&type, 16, 0);
	buf_init(&subtype, 16, 0);
	if (!gv_string(g, &type) || !gv_lit(g, " ") ||
	    !gv_string(g, &subtype) || !gv_lit(g, " ") || !gv_params(g) ||
	    !gv_lit(g, " ") || !gv_nstring(g, NULL, NULL) ||
	    !gv_lit(g, " ") || !gv_nstring(g, NULL, NULL) ||
	    !gv_lit(g, " ") || !gv_string(g, NULL) || !gv_lit(g, " ") ||
	    !gv_number(g, NULL))
		goto out;
	text = strcasecmp(type.data, "text") == 0;
	msg = strcasecmp(type.data, "message") == 0 &&
	    (strcasecmp(subtype.data, "rfc822") == 0 ||
	    strcasecmp(subtype.data, "global") == 0);
	if (text && (!gv_lit(g, " ") || !gv_number(g, NULL)))
		goto out;
	if (msg && (!gv_lit(g, " ") || !gv_envelope(g) || !gv_lit(g, " ") ||
	    !gv_body(g, ext, depth + 1) || !gv_lit(g, " ") ||
	    !gv_number(g, NULL)))
		goto out;
	if (ext && (!gv_lit(g, " ") || !gv_nstring(g, NULL, NULL) ||
	    !gv_ext_common(g)))
		goto out;
	r = gv_lit(g, ")");
out:
	buf_release(&type);
	buf_release(&subtype);
	return r;
}

/* NULL if s[0..len) is one valid body (what == 'b', ext says which) or
 * envelope (what == 'e'), else the reason. */
static const char *
grammar_check(const struct buf *s, int what, bool ext)
{
	struct gv g = { (const unsigned char *)s->data,
	    (const unsigned char *)s->data + s->len, NULL };
	bool r = what == 'e' ? gv_envelope(&g) : gv_body(&g, ext, 0);

	if (r && g.p != g.end)
		return "junk after the value";
	return r ? NULL : g.err != NULL ? g.err : "invalid";
}

/* ---- the tree */

struct tcheck {
	const struct mime_msg *m;
	bool sizes;             /* compare sizes with the bytes */
	unsigned parts;
	char *why;
};

static void
tc_fail(struct tcheck *t, const struct mime_part *p, const char *why)
{
	if (t->why == NULL)
		t->why = xasprintf("part at %zu (%s/%s): %s", p->hdr_start,
		    p->type, p->subtype, why);
}

static size_t
count_lf(const char *d, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += d[i] == '\n';
	return n;
}

static void
tc_part(struct tcheck *t, const struct mime_part *p, size_t lo, size_t hi)
{
	const char *d = t->m->data;
	const struct mime_part *c;
	size_t cursor, end, n = 0;
	unsigned kind = p->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE);

	t->parts++;
	if (p->hdr_start < lo || p->hdr_start + p->hdr_len != p->body_start ||
	    p->body_start + p->body_len > hi || p->body_start > hi)
		return tc_fail(t, p, "range outside its parent");
	if (p->depth > MIME_MAX_DEPTH ||
	    (p->parent != NULL && p->depth != p->parent->depth + 1))
		return tc_fail(t, p, "bad depth");
	if (t->sizes && (p->hdr_size != mime_crlf_size(d + p->hdr_start,
	    p->hdr_len) || p->body_size != mime_crlf_size(d + p->body_start,
	    p->body_len) || p->hdr_lines != count_lf(d + p->hdr_start,
	    p->hdr_len) || p->body_lines != count_lf(d + p->body_start,
	    p->body_len)))
		return tc_fail(t, p, "sizes do not match the bytes");
	if (p->type == NULL || p->subtype == NULL)
		return tc_fail(t, p, "no type");
	if (kind == (MIME_PART_MULTIPART | MIME_PART_MESSAGE) ||
	    (kind == MIME_PART_MULTIPART && p->nchildren == 0) ||
	    (kind == MIME_PART_MESSAGE && p->nchildren != 1) ||
	    (kind == 0 && p->nchildren != 0))
		return tc_fail(t, p, "children do not match the kind");
	cursor = p->body_start;
	end = p->body_start + p->body_len;
	for (c = p->children; c != NULL; c = c->next) {
		if (c->parent != p)
			return tc_fail(t, p, "bad parent link");
		tc_part(t, c, cursor, end);
		cursor = c->body_start + c->body_len;
		n++;
	}
	if (n != p->nchildren)
		tc_fail(t, p, "nchildren wrong");
}

/* Every part is found under its section number. */
static void tc_message(struct tcheck *t, const struct mime_part *msg,
    const char *sec);

static void
tc_section(struct tcheck *t, const struct mime_part *p, const char *sec)
{
	const struct mime_part *c;
	unsigned i = 1;
	char *s;

	if (t->why != NULL)
		return;
	if (mime_find(t->m, sec) != p) {
		t->why = xasprintf("section %s not found", sec);
		return;
	}
	if ((p->flags & MIME_PART_MULTIPART) != 0) {
		for (c = p->children; c != NULL; c = c->next, i++) {
			s = xasprintf("%s.%u", sec, i);
			tc_section(t, c, s);
			xfree(&s);
		}
	} else if ((p->flags & MIME_PART_MESSAGE) != 0) {
		tc_message(t, p->children, sec);
	}
}

static void
tc_message(struct tcheck *t, const struct mime_part *msg, const char *sec)
{
	const struct mime_part *c;
	unsigned i = 1;
	char *s;

	if ((msg->flags & MIME_PART_MULTIPART) == 0) {
		s = *sec == '\0' ? xstrdup("1") : xasprintf("%s.1", sec);
		tc_section(t, msg, s);
		xfree(&s);
		return;
	}
	for (c = msg->children; c != NULL; c = c->next, i++) {
		s = *sec == '\0' ? xasprintf("%u", i) :
		    xasprintf("%s.%u", sec, i);
		tc_section(t, c, s);
		xfree(&s);
	}
}

/* The structure of a tree; sizes too when sizes is set. */
static char *
tree_check(const struct mime_msg *m, bool sizes)
{
	struct tcheck t = { .m = m, .sizes = sizes };

	if (m->root->hdr_start != 0 ||
	    m->root->body_start + m->root->body_len != m->len)
		return xstrdup("root does not cover the message");
	tc_part(&t, m->root, 0, m->len);
	if (t.why == NULL && t.parts != m->nparts)
		t.why = xasprintf("%u parts counted, %u claimed", t.parts,
		    m->nparts);
	if (t.why == NULL && m->nparts > 2 * MIME_MAX_PARTS)
		t.why = xstrdup("part cap not kept");
	if (t.why == NULL)
		tc_message(&t, m->root, "");
	return t.why;
}

/* A tree from mime_deserialize(): its structure holds, and every range
 * and header in it can be served without reading outside the message
 * (the sanitizers watch). */
static void
light_walk(const struct mime_msg *m, const struct mime_part *p,
    struct buf *out)
{
	const struct mime_part *c;

	buf_reset(out);
	mime_crlf_append(out, m->data + p->hdr_start, p->hdr_len, 0,
	    SIZE_MAX);
	mime_crlf_append(out, m->data + p->body_start, p->body_len, 0,
	    SIZE_MAX);
	mime_envelope(m, p, out);
	for (c = p->children; c != NULL; c = c->next)
		light_walk(m, c, out);
}

static char *
check_light(const struct mime_msg *m)
{
	char *why = tree_check(m, false);
	struct buf *out = buf_new(64);

	if (why == NULL)
		light_walk(m, m->root, out);
	buf_free(&out);
	return why;
}

/* Envelope and body of every message in the tree are valid. */
static char *
output_check(const struct mime_msg *m, const struct mime_part *p)
{
	struct buf *b = buf_new(1024);
	const struct mime_part *c;
	const char *err;
	char *why = NULL;

	if (p == m->root) {
		mime_bodystructure(m, true, b);
		if ((err = grammar_check(b, 'b', true)) != NULL)
			why = xasprintf("BODYSTRUCTURE: %s: %.*s", err,
			    (int)b->len, b->data);
		buf_reset(b);
		mime_bodystructure(m, false, b);
		if (why == NULL && (err = grammar_check(b, 'b', false)) != NULL)
			why = xasprintf("BODY: %s: %.*s", err, (int)b->len,
			    b->data);
	}
	if (why == NULL && (p == m->root ||
	    (p->flags & MIME_PART_MESSAGE) != 0)) {
		buf_reset(b);
		mime_envelope(m, p == m->root ? NULL : p, b);
		if ((err = grammar_check(b, 'e', false)) != NULL)
			why = xasprintf("ENVELOPE: %s: %.*s", err, (int)b->len,
			    b->data);
	}
	for (c = p->children; why == NULL && c != NULL; c = c->next)
		why = output_check(m, c);
	buf_free(&b);
	return why;
}

/* Serialise, read back, compare part by part. */
static char *
serial_check(const struct mime_msg *m)
{
	struct buf *blob = buf_new(256);
	const struct mime_part *a, *b;
	struct mime_msg *l;
	const char *error;
	char *why = NULL;

	mime_serialize(m, blob);
	l = mime_deserialize(blob->data, blob->len, m->data, m->len, &error);
	if (l == NULL) {
		why = xasprintf("deserialise: %s", error);
		goto out;
	}
	/* walk both trees in the same order */
	a = m->root;
	b = l->root;
	while (a != NULL && b != NULL) {
		if (a->hdr_start != b->hdr_start || a->hdr_len != b->hdr_len ||
		    a->body_len != b->body_len || a->hdr_size != b->hdr_size ||
		    a->body_size != b->body_size ||
		    a->hdr_lines != b->hdr_lines ||
		    a->body_lines != b->body_lines || a->flags != b->flags ||
		    a->nchildren != b->nchildren) {
			why = xasprintf("serialised part at %zu differs",
			    a->hdr_start);
			break;
		}
		if (a->children != NULL) {
			a = a->children;
			b = b->children;
			continue;
		}
		while (a != NULL && a->next == NULL) {
			a = a->parent;
			b = b->parent;
		}
		if (a != NULL) {
			a = a->next;
			b = b->next;
		}
	}
	if (why == NULL && (a != NULL || b != NULL))
		why = xstrdup("serialised tree has another shape");
	if (why == NULL && l->nparts != m->nparts)
		why = xstrdup("serialised part count differs");
out:
	mime_free(&l);
	buf_free(&blob);
	return why;
}

/* All properties of one message; NULL or why not (caller frees). */
static char *
check_message(const char *data, size_t len)
{
	struct mime_msg *m = mime_parse(data, len);
	char *why = tree_check(m, true);

	if (why == NULL)
		why = output_check(m, m->root);
	if (why == NULL)
		why = serial_check(m);
	mime_free(&m);
	return why;
}

/* ---- files */

static char *
data_path(const char *name)
{
	const char *src = getenv("TERN_SRC");

	if (src != NULL)
		return xasprintf("%s/t/data/mime/%s", src, name);
	return xasprintf("t/data/mime/%s", name);
}

static bool
file_read(const char *name, struct buf *out)
{
	char *path = data_path(name), tmp[8192];
	FILE *f = fopen(path, "rb");
	size_t n;

	xfree(&path);
	if (f == NULL)
		return false;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_append(out, tmp, n);
	fclose(f);
	return true;
}

static void
file_write(const char *name, const char *data, size_t len)
{
	char *path = data_path(name);
	FILE *f = fopen(path, "wb");

	if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		die("cannot write %s", path);
	printf("wrote %s\n", path);
	xfree(&path);
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The golden message names (without .eml), sorted. */
static char **
golden_names(size_t *n_r)
{
	char *path = data_path(""), **v = NULL;
	DIR *dir = opendir(path);
	struct dirent *de;
	size_t n = 0, len;

	if (dir == NULL)
		die("cannot open %s: run from the source root or set TERN_SRC",
		    path);
	while ((de = readdir(dir)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".eml") != 0)
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = xstrndup(de->d_name, len - 4);
	}
	closedir(dir);
	xfree(&path);
	qsort(v, n, sizeof(*v), name_cmp);
	*n_r = n;
	return v;
}

/* ---- IMAP output of a message */

static void
render(const char *data, size_t len, struct buf *bs, struct buf *env)
{
	struct mime_msg *m = mime_parse(data, len);

	buf_append_str(bs, "BODYSTRUCTURE ");
	mime_bodystructure(m, true, bs);
	buf_append_str(bs, "\nBODY ");
	mime_bodystructure(m, false, bs);
	buf_putc(bs, '\n');
	buf_append_str(env, "ENVELOPE ");
	mime_envelope(m, NULL, env);
	buf_putc(env, '\n');
	mime_free(&m);
}

static void
to_crlf(const char *data, size_t len, struct buf *out)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			buf_putc(out, '\r');
		buf_putc(out, data[i]);
	}
}

/* ---- golden files */

static void
golden_regen(void)
{
	struct buf *eml = buf_new(4096), *bs = buf_new(4096);
	struct buf *env = buf_new(1024);
	size_t n, i;
	char **names = golden_names(&n), *f;

	for (i = 0; i < n; i++) {
		buf_reset(eml);
		buf_reset(bs);
		buf_reset(env);
		f = xasprintf("%s.eml", names[i]);
		if (!file_read(f, eml))
			die("cannot read %s", f);
		xfree(&f);
		render(eml->data, eml->len, bs, env);
		f = xasprintf("%s.bodystructure", names[i]);
		file_write(f, bs->data, bs->len);
		xfree(&f);
		f = xasprintf("%s.envelope", names[i]);
		file_write(f, env->data, env->len);
		xfree(&f);
		free(names[i]);
	}
	free(names);
	buf_free(&eml);
	buf_free(&bs);
	buf_free(&env);
}

static bool
golden_compare(const char *name, const char *ext, const struct buf *got)
{
	struct buf *want = buf_new(1024);
	char *f = xasprintf("%s.%s", name, ext);
	bool ok = file_read(f, want) && want->len == got->len &&
	    memcmp(want->data, got->data, got->len) == 0;

	if (!ok)
		diag("%s differs; got:\n%.*s", f, (int)got->len, got->data);
	xfree(&f);
	buf_free(&want);
	return ok;
}

/* Random but repeatable. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Damage a copy of data: flip, delete, duplicate or insert
 * MIME-looking text at random places. */
static void
mutate(const char *data, size_t len, struct buf *out)
{
	static const char *const bits[] = {
		"\n--", "--\n", "\n\n", "Content-Type: multipart/mixed; "
		"boundary=x\n", "\n--x\n", "\n--x--\n", "Content-Type: "
		"message/rfc822\n\n", "\"", "(", ";", "<", ":", "\0", "\r",
		"=?", "*0*=", "'", "\n ", "@", ",",
	};
	size_t i, n = 1 + rng() % 8, pos, k;

	buf_append(out, data, len);
	for (i = 0; i < n; i++) {
		pos = out->len > 0 ? rng() % out->len : 0;
		switch (rng() % 4) {
		case 0:
			if (out->len > 0)
				out->data[pos] = (char)rng();
			break;
		case 1:
			k = 1 + rng() % 16;
			if (pos + k <= out->len) {
				memmove(out->data + pos, out->data + pos + k,
				    out->len - pos - k);
				buf_truncate(out, out->len - k);
			}
			break;
		default: {
			const char *b = bits[rng() % (sizeof(bits) /
			    sizeof(bits[0]))];
			size_t bl = *b == '\0' ? 1 : strlen(b);
			struct buf *t = buf_new(out->len + bl);

			buf_append(t, out->data, pos);
			buf_append(t, b, bl);
			buf_append(t, out->data + pos, out->len - pos);
			buf_reset(out);
			buf_append(out, t->data, t->len);
			buf_free(&t);
		}
		}
	}
}

static void
test_golden(void)
{
	struct buf *eml = buf_new(4096), *bs = buf_new(4096);
	struct buf *env = buf_new(1024), *crlf = buf_new(4096);
	struct buf *bs2 = buf_new(4096), *env2 = buf_new(1024);
	struct buf *mut = buf_new(4096);
	size_t n, i, j;
	char **names = golden_names(&n), *f, *why;
	unsigned long bad;

	ok(n >= 20, "golden messages found");
	for (i = 0; i < n; i++) {
		buf_reset(eml);
		buf_reset(bs);
		buf_reset(env);
		f = xasprintf("%s.eml", names[i]);
		file_read(f, eml);
		xfree(&f);
		render(eml->data, eml->len, bs, env);
		f = xasprintf("%s: BODYSTRUCTURE and BODY as in the golden "
		    "file", names[i]);
		ok(golden_compare(names[i], "bodystructure", bs), f);
		xfree(&f);
		f = xasprintf("%s: ENVELOPE as in the golden file", names[i]);
		ok(golden_compare(names[i], "envelope", env), f);
		xfree(&f);

		/* LF and CRLF give the same IMAP output */
		buf_reset(crlf);
		buf_reset(bs2);
		buf_reset(env2);
		to_crlf(eml->data, eml->len, crlf);
		render(crlf->data, crlf->len, bs2, env2);
		f = xasprintf("%s: same output with CRLF line ends", names[i]);
		ok(bs->len == bs2->len && env->len == env2->len &&
		    memcmp(bs->data, bs2->data, bs->len) == 0 &&
		    memcmp(env->data, env2->data, env->len) == 0, f);
		xfree(&f);

		why = check_message(eml->data, eml->len);
		f = xasprintf("%s: tree, sizes, sections, grammar, "
		    "serialisation", names[i]);
		ok(why == NULL, f);
		if (why != NULL)
			diag("%s", why);
		xfree(&f);
		xfree(&why);

		/* every prefix: a file cut short anywhere */
		for (bad = 0, j = 0; j <= eml->len; j++) {
			why = check_message(eml->data, j);
			if (why != NULL && bad++ == 0)
				diag("prefix %zu: %s", j, why);
			xfree(&why);
		}
		f = xasprintf("%s: all %zu prefixes hold the properties",
		    names[i], eml->len + 1);
		ok(bad == 0, f);
		xfree(&f);

		for (bad = 0, j = 0; j < 300; j++) {
			buf_reset(mut);
			mutate(eml->data, eml->len, mut);
			why = check_message(mut->data, mut->len);
			if (why != NULL && bad++ == 0)
				diag("mutation %zu: %s", j, why);
			xfree(&why);
		}
		f = xasprintf("%s: 300 random mutations hold the properties",
		    names[i]);
		ok(bad == 0, f);
		xfree(&f);
		free(names[i]);
	}
	free(names);
	buf_free(&eml);
	buf_free(&bs);
	buf_free(&env);
	buf_free(&crlf);
	buf_free(&bs2);
	buf_free(&env2);
	buf_free(&mut);
}

/* ---- sections */

static struct mime_msg *
golden_parse(const char *name, struct buf *eml)
{
	char *f = xasprintf("%s.eml", name);

	buf_reset(eml);
	if (!file_read(f, eml))
		die("cannot read %s", f);
	xfree(&f);
	return mime_parse(eml->data, eml->len);
}

/* BODY[spec] of m as the client would receive it (CRLF), or "<none>". */
static char *
fetch(const struct mime_msg *m, const char *spec)
{
	struct mime_section sec;
	struct mime_slice sl;
	struct buf *scratch = buf_new(256), *out = buf_new(256);
	const char *error;
	char *r;

	if (mime_section_parse(spec, strlen(spec), &sec, &error) < 0) {
		r = xasprintf("<error: %s>", error);
	} else if (!mime_section_get(m, &sec, scratch, &sl)) {
		r = xstrdup("<none>");
	} else {
		mime_crlf_append(out, sl.data, sl.len, 0, SIZE_MAX);
		r = out->len == sl.size ? xstrndup(out->data, out->len) :
		    xasprintf("<size %zu but %zu bytes>", sl.size, out->len);
	}
	mime_section_release(&sec);
	buf_free(&scratch);
	buf_free(&out);
	return r;
}

static void
is_fetch(const struct mime_msg *m, const char *spec, const char *want)
{
	char *got = fetch(m, spec), *name = xasprintf("BODY[%s]", spec);

	is_str(got, want, name);
	xfree(&got);
	xfree(&name);
}

static const char *
part_type(const struct mime_msg *m, const char *section)
{
	static char s[128];
	const struct mime_part *p = mime_find(m, section);

	if (p == NULL)
		return "none";
	snprintf(s, sizeof(s), "%s/%s", p->type, p->subtype);
	return s;
}

static void
test_sections(void)
{
	struct buf *eml = buf_new(4096);
	struct mime_msg *m = golden_parse("rfc822_attach", eml);

	is_str(part_type(m, ""), "multipart/mixed", "section \"\" is the root");
	is_str(part_type(m, "1"), "text/plain", "section 1");
	is_str(part_type(m, "2"), "message/rfc822", "section 2");
	is_str(part_type(m, "2.1"), "multipart/alternative",
	    "section 2.1: first part inside the message/rfc822");
	is_str(part_type(m, "2.1.1"), "text/plain", "section 2.1.1");
	is_str(part_type(m, "2.1.2"), "text/html", "section 2.1.2");
	is_str(part_type(m, "2.2"), "application/pdf", "section 2.2");
	is_str(part_type(m, "3"), "text/plain", "section 3");
	is_str(part_type(m, "4"), "none", "section 4 does not exist");
	is_str(part_type(m, "2.3"), "none", "section 2.3 does not exist");
	is_str(part_type(m, "1.1"), "none", "a text part has no subparts");
	is_str(part_type(m, "0"), "none", "section 0 is invalid");
	is_str(part_type(m, "01"), "none", "leading zero is invalid");
	is_str(part_type(m, "1."), "none", "trailing dot is invalid");
	is_str(part_type(m, "1..2"), "none", "empty number is invalid");
	is_str(part_type(m, "99999999999"), "none", "huge number");

	is_fetch(m, "1", "See the forwarded message.\r\n");
	is_fetch(m, "1.MIME", "Content-Type: text/plain\r\n\r\n");
	is_fetch(m, "2.HEADER.FIELDS (subject FROM)",
	    "From: Judy <judy@example.com>\r\nSubject: Quarterly numbers\r\n"
	    "\r\n");
	is_fetch(m, "2.HEADER.FIELDS.NOT (Subject From To Date Message-ID "
	    "MIME-Version)",
	    "Content-Type: multipart/mixed; boundary=\"b2\"\r\n\r\n");
	is_fetch(m, "2.1.1", "Numbers attached.");
	is_fetch(m, "2.1.2.MIME",
	    "Content-Type: text/html; charset=utf-8\r\n\r\n");
	is_fetch(m, "2.2", "JVBERi0xLjQK");
	is_fetch(m, "3", "-- \r\nHeidi");
	is_fetch(m, "1.HEADER", "<none>");
	is_fetch(m, "1.TEXT", "<none>");
	is_fetch(m, "5", "<none>");
	is_fetch(m, "HEADER.FIELDS (To)", "To: Ivan <ivan@example.com>\r\n\r\n");
	is_fetch(m, "header.fields (x-none)", "\r\n");
	mime_free(&m);

	/* TEXT of the inner message, and its size on the wire */
	m = golden_parse("rfc822_attach", eml);
	{
		char *text = fetch(m, "2.TEXT"), *whole = fetch(m, "2");
		const struct mime_part *p = mime_find(m, "2");

		ok(strstr(whole, text) != NULL && strncmp(whole,
		    "From: Judy", 10) == 0, "BODY[2] is the whole inner "
		    "message, BODY[2.TEXT] its body");
		is_int(strlen(whole), p->body_size, "BODY[2] size is the "
		    "size BODYSTRUCTURE announces");
		xfree(&text);
		xfree(&whole);
	}
	mime_free(&m);

	/* a non-multipart message: part 1 is the body */
	m = golden_parse("simple", eml);
	is_str(part_type(m, "1"), "text/plain", "part 1 of a non-multipart");
	is_fetch(m, "TEXT", "Hi Bob,\r\n\r\nare we still on for lunch on "
	    "Friday?\r\n\r\nAlice\r\n");
	{
		char *a = fetch(m, "1"), *b = fetch(m, "TEXT");

		is_str(a, b, "BODY[1] equals BODY[TEXT] for a single part");
		xfree(&a);
		xfree(&b);
	}
	is_fetch(m, "HEADER.FIELDS (RECEIVED)",
	    "Received: from mx.example.org (mx.example.org [192.0.2.1])\r\n"
	    "\tby mail.example.net with ESMTPS id 4AbCdE\r\n"
	    "\tfor <bob@example.net>; Tue, 2 Jan 2024 10:00:00 +0000\r\n\r\n");
	is_fetch(m, "HEADER.FIELDS.NOT (Received Return-Path From To Cc "
	    "Subject Date Message-ID In-Reply-To)",
	    "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8; "
	    "format=flowed\r\nContent-Transfer-Encoding: 7bit\r\n\r\n");
	is_fetch(m, "MIME", "<error: unknown section text>");
	mime_free(&m);

	/* a header cut off by a boundary, and one with no blank line */
	m = golden_parse("empty_parts", eml);
	is_fetch(m, "4.MIME", "Content-Type: text/html");
	is_fetch(m, "4", "");
	is_fetch(m, "5.HEADER", "");
	mime_free(&m);
	m = golden_parse("header_only", eml);
	is_fetch(m, "HEADER.FIELDS (content-type)",
	    "Content-Type: text/plain\r\n\r\n");
	is_fetch(m, "HEADER", "From: a@example.com\r\nSubject: header only, "
	    "no blank line, no body\r\nContent-Type: text/plain");
	mime_free(&m);

	/* implicit part of a multipart without boundaries */
	m = golden_parse("missing_boundary", eml);
	{
		char *one = fetch(m, "1"), *text = fetch(m, "TEXT");

		is_str(one, text, "implicit part 1 is the whole multipart "
		    "body");
		xfree(&one);
		xfree(&text);
	}
	mime_free(&m);
	buf_free(&eml);
}

static void
test_section_parse(void)
{
	static const struct {
		const char *s, *part;
		int text;
		size_t nfields;
	} good[] = {
		{ "", "", MIME_SECTION_NONE, 0 },
		{ "1", "1", MIME_SECTION_NONE, 0 },
		{ "1.2.3", "1.2.3", MIME_SECTION_NONE, 0 },
		{ "HEADER", "", MIME_SECTION_HEADER, 0 },
		{ "text", "", MIME_SECTION_TEXT, 0 },
		{ "4.2.MIME", "4.2", MIME_SECTION_MIME, 0 },
		{ "2.HEADER", "2", MIME_SECTION_HEADER, 0 },
		{ "HEADER.FIELDS (A)", "", MIME_SECTION_FIELDS, 1 },
		{ "3.header.fields.not (A \"B C\" x-y)", "3",
		    MIME_SECTION_FIELDS_NOT, 3 },
		{ "HEADER.FIELDS (\"q\\\"uote\")", "", MIME_SECTION_FIELDS, 1 },
	};
	static const char *const bad[] = {
		"0", "1.", ".1", "1..2", "01", "MIME", "1MIME", "HEADERS",
		"HEADER.FIELDS", "HEADER.FIELDS ()", "HEADER.FIELDS (A",
		"HEADER.FIELDS (A  B)", "HEADER.FIELDS (A) ", "TEXT.1",
		"1.TEXT.MIME", "HEADER.FIELDS {3}\r\nabc", "99999999999",
		"HEADER.FIELDS (\"open)", "1.2.", "HEADER.FIELDS (A)(B)",
	};
	struct mime_section sec;
	const char *error;
	size_t i;
	bool good_ok = true, bad_ok = true;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (mime_section_parse(good[i].s, strlen(good[i].s), &sec,
		    &error) < 0) {
			diag("'%s' refused: %s", good[i].s, error);
			good_ok = false;
			continue;
		}
		if (strcmp(sec.part, good[i].part) != 0 ||
		    (int)sec.text != good[i].text ||
		    sec.nfields != good[i].nfields) {
			diag("'%s' parsed wrong", good[i].s);
			good_ok = false;
		}
		mime_section_release(&sec);
	}
	ok(good_ok, "valid section-specs parse");
	mime_section_parse("HEADER.FIELDS (\"q\\\"uote\" b)", 27, &sec, &error);
	is_str(sec.fields[0], "q\"uote", "quoted header name unescaped");
	mime_section_release(&sec);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (mime_section_parse(bad[i], strlen(bad[i]), &sec,
		    &error) == 0) {
			diag("'%s' accepted", bad[i]);
			bad_ok = false;
			mime_section_release(&sec);
		}
	ok(bad_ok, "invalid section-specs are refused");
}

/* ---- <partial> and CRLF */

static void
test_partial(void)
{
	static const char lf[] = "ab\ncd\r\nef\n\ngh";
	struct buf *all = buf_new(64), *part = buf_new(64);
	size_t off, cnt, n, want;
	bool good = true;

	is_int(mime_crlf_size(lf, strlen(lf)), strlen(lf) + 3,
	    "CRLF size counts bare LFs");
	mime_crlf_append(all, lf, strlen(lf), 0, SIZE_MAX);
	is_str(all->data, "ab\r\ncd\r\nef\r\n\r\ngh", "CRLF conversion");
	for (off = 0; off <= all->len + 2; off++)
		for (cnt = 0; cnt <= all->len + 2; cnt++) {
			buf_reset(part);
			n = mime_crlf_append(part, lf, strlen(lf), off, cnt);
			if (off >= all->len) {
				good &= n == 0;
				continue;
			}
			want = cnt < all->len - off ? cnt : all->len - off;
			good &= n == want && part->len == want &&
			    memcmp(part->data, all->data + off, want) == 0;
		}
	ok(good, "every <offset.count> window equals a slice of the CRLF "
	    "text (split CRLFs included)");
	buf_free(&all);
	buf_free(&part);
}

/* ---- headers */

static void
test_headers(void)
{
	static const char hdr[] =
	    "Subject: one\n"
	    " two\r\n"
	    "X-Empty:\n"
	    "no colon line\n"
	    "sUbJeCt : second\n"
	    "To: a@b\n"
	    "\n"
	    "Subject: in the body\n";
	const char *names[] = { "subject" };
	const char *names2[] = { "SUBJECT", "x-empty" };
	struct buf *out = buf_new(256);
	struct mime_msg *m = mime_parse(hdr, strlen(hdr));

	mime_header_fields(hdr, m->root->hdr_len, names, 1, false, out);
	is_str(out->data, "Subject: one\r\n two\r\nsUbJeCt : second\r\n\r\n",
	    "HEADER.FIELDS: case-insensitive, folded lines kept, obs "
	    "blank before colon");
	buf_reset(out);
	mime_header_fields(hdr, m->root->hdr_len, names2, 2, true, out);
	is_str(out->data, "no colon line\r\nTo: a@b\r\n\r\n",
	    "HEADER.FIELDS.NOT keeps lines that are no field");
	buf_reset(out);
	ok(mime_header_get(m, m->root, "SUBJECT", out) &&
	    strcmp(out->data, "one two") == 0, "first Subject, unfolded");
	buf_reset(out);
	ok(mime_header_get(m, m->root, "x-empty", out) && out->len == 0,
	    "empty field found, empty value");
	ok(!mime_header_get(m, m->root, "cc", out), "absent field");
	buf_reset(out);
	mime_unfold(out, " \t a\r\n\tb \r\n c\0d  \t", 18);
	ok(out->len == 10 && memcmp(out->data, "a\tb  c\xef\xbf\xbd" "d",
	    10) == 0, "unfold: CRLF out, blanks kept, ends trimmed, NUL "
	    "replaced");
	mime_free(&m);
	buf_free(&out);
}

/* ---- strings */

static void
is_imap_string(const char *s, size_t len, const char *want, const char *name)
{
	struct buf *out = buf_new(64);

	mime_imap_string(out, s, len);
	ok(out->len == strlen(want) && memcmp(out->data, want,
	    out->len) == 0, name);
	if (out->len != strlen(want) || memcmp(out->data, want, out->len))
		diag("got '%.*s'", (int)out->len, out->data);
	buf_free(&out);
}

static void
test_strings(void)
{
	struct buf *out = buf_new(64);

	is_imap_string("plain", 5, "\"plain\"", "plain string quoted");
	is_imap_string("", 0, "\"\"", "empty string");
	is_imap_string("a\"b\\c", 5, "\"a\\\"b\\\\c\"",
	    "quote and backslash escaped");
	is_imap_string("caf\xc3\xa9", 5, "{5}\r\ncaf\xc3\xa9",
	    "8-bit goes as a literal");
	is_imap_string("a\r\nb", 4, "{4}\r\na\r\nb", "CR LF go as a literal");
	is_imap_string("a\0b", 3, "{5}\r\na\xef\xbf\xbd" "b",
	    "NUL replaced in a literal, length adjusted");
	mime_imap_nstring(out, NULL);
	is_str(out->data, "NIL", "NULL is NIL");
	buf_reset(out);
	mime_imap_nstring(out, "NIL");
	is_str(out->data, "\"NIL\"", "the string NIL is quoted");
	buf_free(&out);
}

/* ---- parameters */

static void
test_params(void)
{
	static const char msg[] =
	    "Content-Type: text/plain; CHARSET=\"ISO-8859-1\"\n"
	    "Content-Disposition: attachment;\n"
	    " filename*0*=iso-8859-1'fr'r%E9sum%E9;\n"
	    " filename*1=\"%20final.txt\"; filename=plain.txt\n"
	    "\n";
	struct mime_msg *m = mime_parse(msg, strlen(msg));
	const struct mime_param *p;

	p = mime_param_get(&m->root->params, "charset");
	ok(p != NULL && strcmp(p->name, "charset") == 0 &&
	    strcmp(p->value, "ISO-8859-1") == 0,
	    "parameter names lower-cased, values kept");
	p = mime_param_get(&m->root->disp_params, "FILENAME");
	ok(p != NULL && strcmp(p->name, "filename*") == 0,
	    "RFC 2231 form preferred");
	if (p != NULL) {
		is_str(p->value, "iso-8859-1'fr'r%E9sum%E9%2520final.txt",
		    "continuations merged, '%' of a plain piece escaped");
		is_str(p->charset, "iso-8859-1", "charset decoded");
		is_str(p->language, "fr", "language decoded");
		ok(p->decoded_len == 18 && memcmp(p->decoded,
		    "r\xe9sum\xe9%20final.txt", 18) == 0, "value decoded");
	}
	is_str(m->root->disposition, "attachment", "disposition");
	mime_free(&m);
}

/* ---- caps and speed */

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sanitizers make everything slower; the bounds are for regressions
 * from linear to quadratic, not for benchmarking. */
static double
time_limit(double plain)
{
#if defined(__SANITIZE_ADDRESS__)
	return plain * 8;
#else
	return plain;
#endif
}

static void
check_ok(const char *data, size_t len, const char *name)
{
	char *why = check_message(data, len);

	ok(why == NULL, name);
	if (why != NULL)
		diag("%s", why);
	xfree(&why);
}

static void
test_deep(void)
{
	struct buf *d = buf_new(65536), *bs = buf_new(65536);
	struct mime_msg *m;
	const struct mime_part *p;
	unsigned i, depth;

	/* 200 nested multiparts */
	for (i = 0; i < 200; i++)
		buf_printf(d, "Content-Type: multipart/mixed; boundary=b%u\n"
		    "\n--b%u\n", i, i);
	buf_append_str(d, "Content-Type: text/plain\n\ndeep\n");
	for (i = 200; i-- > 0;)
		buf_printf(d, "--b%u--\n", i);
	m = mime_parse(d->data, d->len);
	for (p = m->root, depth = 0; p->children != NULL; p = p->children)
		depth++;
	is_int(depth, MIME_MAX_DEPTH, "200-deep multipart capped at depth "
	    "100");
	ok((p->flags & MIME_PART_OVERFLOW) != 0 &&
	    (m->flags & MIME_MSG_DEPTH_CAPPED) != 0,
	    "the part at the cap is an opaque leaf");
	mime_bodystructure(m, true, bs);
	ok(strstr(bs->data, "(\"application\" \"octet-stream\" "
	    "(\"boundary\" \"b100\")") != NULL,
	    "and BODYSTRUCTURE shows it as application/octet-stream");
	mime_free(&m);
	check_ok(d->data, d->len, "200-deep multipart: properties hold");

	/* 200 nested message/rfc822 */
	buf_reset(d);
	for (i = 0; i < 200; i++)
		buf_printf(d, "Subject: level %u\nContent-Type: message/rfc822"
		    "\n\n", i);
	buf_append_str(d, "Subject: bottom\n\nbody\n");
	m = mime_parse(d->data, d->len);
	for (p = m->root, depth = 0; p->children != NULL; p = p->children)
		depth++;
	is_int(depth, MIME_MAX_DEPTH, "200-deep message/rfc822 capped at "
	    "depth 100");
	mime_free(&m);
	check_ok(d->data, d->len, "200-deep message/rfc822: properties hold");

	/* alternating, with the boundaries never closed */
	buf_reset(d);
	for (i = 0; i < 150; i++)
		buf_printf(d, "Content-Type: multipart/mixed; boundary=m%u\n\n"
		    "--m%u\nContent-Type: message/rfc822\n\n", i, i);
	buf_append_str(d, "\nend\n");
	check_ok(d->data, d->len, "alternating nesting, unclosed: "
	    "properties hold");
	buf_free(&d);
	buf_free(&bs);
}

static void
test_many_parts(void)
{
	struct buf *d = buf_new(1 << 20), *bs = buf_new(1 << 20);
	struct mime_msg *m;
	const struct mime_part *last;
	double t;
	unsigned i;

	buf_append_str(d, "Content-Type: multipart/mixed; boundary=p\n\n");
	for (i = 0; i < 20000; i++)
		buf_printf(d, "--p\nContent-Type: text/plain\n\npart %u\n", i);
	buf_append_str(d, "--p--\n");
	t = now();
	m = mime_parse(d->data, d->len);
	mime_bodystructure(m, true, bs);
	t = now() - t;
	is_int(m->nparts, MIME_MAX_PARTS, "20,000 parts capped at 10,000");
	ok((m->flags & MIME_MSG_PARTS_CAPPED) != 0, "and the cap is flagged");
	for (last = m->root->children; last->next != NULL; last = last->next)
		;
	ok(last->body_start + last->body_len == d->len,
	    "the last part takes the rest of the message");
	ok(t < time_limit(0.5), "parsed and written fast");
	diag("20,000 parts: %.3f s", t);
	mime_free(&m);
	check_ok(d->data, d->len, "20,000 parts: properties hold");
	buf_free(&d);
	buf_free(&bs);
}

static void
test_big(void)
{
	struct buf *d = buf_new(11 << 20), *bs = buf_new(4096);
	struct mime_msg *m;
	double t;
	unsigned i;

	buf_append_str(d, "From: big@example.com\nSubject: big\n"
	    "Content-Type: multipart/mixed; boundary=\"big\"\n\n--big\n"
	    "Content-Type: text/plain\n\nsee attachment\n--big\n"
	    "Content-Type: application/octet-stream\n"
	    "Content-Transfer-Encoding: base64\n\n");
	while (d->len < 10 << 20)
		buf_append_str(d, "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZn"
		    "aGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\n");
	buf_append_str(d, "--big--\n");
	t = now();
	m = mime_parse(d->data, d->len);
	mime_bodystructure(m, true, bs);
	t = now() - t;
	ok(m->nparts == 3 && m->root->children->next->body_lines > 130000,
	    "10 MB message parsed");
	ok(t < time_limit(0.5), "10 MB message parsed fast");
	diag("10 MB: %.3f s", t);
	mime_free(&m);

	/* 100 open boundaries that differ only in their last byte, and
	 * 10 MB of lines that almost match all of them */
	buf_reset(d);
	for (i = 0; i < 100; i++)
		buf_printf(d, "Content-Type: multipart/mixed; boundary="
		    "\"%068u\"\n\n--%068u\n", i, i);
	buf_append_str(d, "\n");
	while (d->len < 10 << 20)
		buf_printf(d, "--%068u\n", 100 + (unsigned)(d->len % 7));
	t = now();
	m = mime_parse(d->data, d->len);
	t = now() - t;
	ok(t < time_limit(1.0), "10 MB of near-boundaries under 100 open "
	    "multiparts parsed fast");
	diag("near-boundaries: %.3f s", t);
	mime_free(&m);
	buf_free(&d);
	buf_free(&bs);
}

/* ---- serialisation */

static void
test_serial(void)
{
	struct buf *eml = buf_new(4096), *blob = buf_new(256);
	struct buf *bad = buf_new(256);
	struct mime_msg *m = golden_parse("rfc822_attach", eml), *l;
	const char *error;
	size_t i;
	unsigned long accepted = 0, j;

	mime_serialize(m, blob);
	l = mime_deserialize(blob->data, blob->len, eml->data, eml->len,
	    &error);
	ok(l != NULL && (l->flags & MIME_MSG_LIGHT) != 0,
	    "serialised tree comes back");
	diag("%u parts in %zu bytes", m->nparts, blob->len);
	if (l != NULL) {
		char *a = fetch(m, "2.1.2"), *b = fetch(l, "2.1.2");

		is_str(b, a, "the light tree serves BODY[2.1.2]");
		xfree(&a);
		xfree(&b);
		a = fetch(l, "2.HEADER.FIELDS (Subject)");
		is_str(a, "Subject: Quarterly numbers\r\n\r\n",
		    "and HEADER.FIELDS");
		xfree(&a);
	}
	mime_free(&l);
	ok(mime_deserialize(blob->data, blob->len, eml->data, eml->len - 1,
	    &error) == NULL, "a blob for another message is refused");
	for (i = 0; i < blob->len; i++) {
		l = mime_deserialize(blob->data, i, eml->data, eml->len,
		    &error);
		accepted += l != NULL;
		mime_free(&l);
	}
	ok(accepted == 0, "every truncated blob is refused");
	/* random damage: refused, or a tree that holds together */
	for (j = 0; j < 20000; j++) {
		buf_reset(bad);
		buf_append(bad, blob->data, blob->len);
		bad->data[rng() % bad->len] = (char)rng();
		if (rng() % 2)
			bad->data[rng() % bad->len] = (char)rng();
		l = mime_deserialize(bad->data, bad->len, eml->data, eml->len,
		    &error);
		if (l != NULL) {
			char *why = check_light(l);

			if (why != NULL) {
				diag("damaged blob accepted: %s", why);
				accepted++;
			}
			xfree(&why);
		}
		mime_free(&l);
	}
	ok(accepted == 0, "20,000 damaged blobs never give a broken tree");
	mime_free(&m);
	buf_free(&eml);
	buf_free(&blob);
	buf_free(&bad);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--regen") == 0) {
		golden_regen();
		return 0;
	}
	test_golden();
	test_sections();
	test_section_parse();
	test_partial();
	test_headers();
	test_strings();
	test_params();
	test_deep();
	test_many_parts();
	test_big();
	test_serial();
	return done_testing();
}
