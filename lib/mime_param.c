/*
 * mime_param - ";" name "=" value parameters (RFC 2045 5.1) with the
 * RFC 2231 extensions: continuations (name*0, name*1 ...) are merged,
 * extended values (name*=charset'lang'%XX) are kept as sent and decoded
 * beside.  Lenient where mailers are sloppy, see each rule.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "hex.h"
#include "mime.h"
#include "mime_int.h"
#include "rfc822.h"
#include "xalloc.h"

/* Parameters read before merging; RFC 2231 pieces of one long file name
 * can be many, so more than are kept in the end. */
#define RAW_MAX (MIME_MAX_PARAMS * 4)
#define INDEX_MAX 9999

struct raw_param {
	char *name, *value;     /* xalloc'd, name lower-case */
	size_t base_len;        /* RFC 2231: length of the name before '*' */
	unsigned idx;
	unsigned order;
	bool rfc2231, ext, single;
};

struct param_list {
	struct mime_arena *a;
	struct mime_param *v;   /* xalloc'd, grows */
	unsigned n, size;
};

/* Skip to the next ';' at this level (quoted strings and comments are
 * stepped over whole). */
static void
param_skip(struct rfc822_lex *lx)
{
	while (rfc822_skip_cfws(lx) && *lx->p != ';') {
		if (*lx->p == '"')
			rfc822_read_quoted(lx, NULL);
		else
			lx->p++;
	}
}

/*
 * value := token / quoted-string.  Unquoted values are taken up to ';',
 * blank or '(' rather than strictly as tokens: "boundary=----=_Part_1"
 * and "name=a/b.txt" are everywhere, and cutting them at the tspecial
 * would break the message.
 */
static void
param_value(struct rfc822_lex *lx, struct buf *out)
{
	unsigned char c;

	if (lx->p < lx->end && *lx->p == '"') {
		rfc822_read_quoted(lx, out);
		return;
	}
	while (lx->p < lx->end) {
		c = *lx->p;
		if (c == ';' || c == ' ' || c == '\t' || c == '\r' ||
		    c == '\n' || c == '(' || c == '"')
			break;
		if (c == '\0')
			buf_append(out, "\xef\xbf\xbd", 3);
		else
			buf_putc(out, c);
		lx->p++;
	}
}

/* "name*", "name*3", "name*3*" (RFC 2231 3 and 4). */
static void
param_classify(struct raw_param *r)
{
	const char *star = strchr(r->name, '*'), *s;
	unsigned long idx = 0;

	if (star == NULL || star == r->name)
		return;
	s = star + 1;
	if (*s == '\0') {
		r->single = r->ext = true;
	} else {
		if (*s < '0' || *s > '9' || (*s == '0' && s[1] >= '0' &&
		    s[1] <= '9'))
			return;         /* no index, or a leading zero */
		for (; *s >= '0' && *s <= '9'; s++)
			if ((idx = idx * 10 + (unsigned long)(*s - '0')) >
			    INDEX_MAX)
				return;
		if (*s == '*') {
			r->ext = true;
			s++;
		}
		if (*s != '\0')
			return;
	}
	r->idx = (unsigned)idx;
	r->base_len = (size_t)(star - r->name);
	r->rfc2231 = true;
}

static int
param_cmp(const void *x, const void *y)
{
	const struct raw_param *a = *(struct raw_param *const *)x;
	const struct raw_param *b = *(struct raw_param *const *)y;
	size_t n = a->base_len < b->base_len ? a->base_len : b->base_len;
	int r = memcmp(a->name, b->name, n);

	if (r != 0)
		return r;
	if (a->base_len != b->base_len)
		return a->base_len < b->base_len ? -1 : 1;
	if (a->idx != b->idx)
		return a->idx < b->idx ? -1 : 1;
	return a->order < b->order ? -1 : (a->order > b->order);
}


/* An extended value "charset'language'%XX...": split and decode; bad %
 * escapes are kept as they are. */
static void
param_decode(struct mime_arena *a, struct mime_param *p)
{
	const char *v = p->value, *q1, *q2, *s;
	struct buf d;
	int c;

	buf_init(&d, strlen(v), 0);
	q1 = strchr(v, '\'');
	q2 = q1 != NULL ? strchr(q1 + 1, '\'') : NULL;
	if (q2 != NULL) {
		p->charset = mime_arena_strndup(a, v, (size_t)(q1 - v));
		if (q2 > q1 + 1)
			p->language = mime_arena_strndup(a, q1 + 1,
			    (size_t)(q2 - q1 - 1));
		s = q2 + 1;
	} else {
		p->charset = "";
		s = v;
	}
	for (; *s != '\0'; s++) {
		if (*s == '%' && (c = hex_byte(s + 1)) >= 0) {
			buf_putc(&d, (char)c);
			s += 2;
		} else {
			buf_putc(&d, *s);
		}
	}
	p->decoded = mime_arena_strndup(a, d.data, d.len);
	p->decoded_len = d.len;
	buf_release(&d);
}

static void
param_add(struct param_list *pl, const char *name, size_t name_len,
    const char *value, size_t value_len, bool ext)
{
	struct mime_param *p;

	if (pl->n >= MIME_MAX_PARAMS)
		return;
	if (pl->n == pl->size) {
		pl->size = pl->size == 0 ? 4 : pl->size * 2;
		pl->v = xrealloc(pl->v, pl->size * sizeof(*pl->v));
	}
	p = &pl->v[pl->n++];
	memset(p, 0, sizeof(*p));
	p->name = mime_arena_strndup(pl->a, name, name_len);
	p->value = mime_arena_strndup(pl->a, value, value_len);
	if (ext) {
		param_decode(pl->a, p);
	} else {
		p->decoded = p->value;
		p->decoded_len = value_len;
	}
}

/* Merge the pieces r[0..n) of one name when they are complete (indexes
 * 0..n-1, a lone "name*" alone), else keep each under its own name. */
static void
param_merge(struct param_list *pl, struct raw_param **r, unsigned n)
{
	struct buf v, name;
	bool ok = true, any_ext = false;
	const char *s;
	unsigned i;

	for (i = 0; i < n; i++) {
		if (r[i]->idx != i || (r[i]->single && n > 1))
			ok = false;
		any_ext |= r[i]->ext;
	}
	if (!ok) {
		for (i = 0; i < n; i++)
			param_add(pl, r[i]->name, strlen(r[i]->name),
			    r[i]->value, strlen(r[i]->value), false);
		return;
	}
	buf_init(&v, 64, 0);
	buf_init(&name, 32, 0);
	buf_append(&name, r[0]->name, r[0]->base_len);
	if (any_ext) {
		buf_putc(&name, '*');
		/* the charset'lang' prefix belongs to the first piece */
		if (!r[0]->ext)
			buf_append(&v, "''", 2);
	}
	for (i = 0; i < n; i++) {
		if (r[i]->ext || !any_ext) {
			buf_append_str(&v, r[i]->value);
			continue;
		}
		/* a plain piece inside an encoded value: its '%' is a
		 * character, not an escape */
		for (s = r[i]->value; *s != '\0'; s++)
			if (*s == '%')
				buf_append(&v, "%25", 3);
			else
				buf_putc(&v, *s);
	}
	param_add(pl, name.data, name.len, v.data, v.len, any_ext);
	buf_release(&v);
	buf_release(&name);
}

/* Read raw parameters into *r_r (xalloc'd); returns how many. */
static unsigned
param_read(struct rfc822_lex *lx, struct raw_param **r_r)
{
	struct raw_param *r = NULL;
	struct buf name, value;
	unsigned n = 0, size = 0;

	buf_init(&name, 32, 0);
	buf_init(&value, 64, 0);
	while (rfc822_skip_cfws(lx) && n < RAW_MAX) {
		if (*lx->p != ';') {
			param_skip(lx);         /* junk before the ';' */
			continue;
		}
		lx->p++;
		rfc822_skip_cfws(lx);
		buf_reset(&name);
		buf_reset(&value);
		if (rfc822_read_token(lx, &name) == 0 ||
		    !rfc822_skip_cfws(lx) || *lx->p != '=') {
			param_skip(lx);         /* no "name=": drop it */
			continue;
		}
		lx->p++;
		rfc822_skip_cfws(lx);
		param_value(lx, &value);
		mime_lower(name.data, name.len);
		if (n == size) {
			size = size == 0 ? 4 : size * 2;
			r = xrealloc(r, size * sizeof(*r));
		}
		memset(&r[n], 0, sizeof(r[n]));
		r[n].name = xstrndup(name.data, name.len);
		r[n].value = xstrndup(value.data, value.len);
		r[n].order = n;
		param_classify(&r[n]);
		n++;
	}
	buf_release(&name);
	buf_release(&value);
	*r_r = r;
	return n;
}

void
mime_params_parse(struct mime_arena *a, struct rfc822_lex *lx,
    struct mime_params *ps)
{
	struct param_list list = { .a = a }, *pl = &list;
	struct raw_param *r, **ext;
	unsigned n, i, j, next;

	n = param_read(lx, &r);
	if (n == 0)
		return;
	ext = xcalloc(n, sizeof(*ext));
	/* plain parameters in their order, then the RFC 2231 ones by
	 * name (the order Dovecot sends them in) */
	for (i = j = 0; i < n; i++) {
		if (r[i].rfc2231)
			ext[j++] = &r[i];
		else
			param_add(pl, r[i].name, strlen(r[i].name), r[i].value,
			    strlen(r[i].value), false);
	}
	qsort(ext, j, sizeof(*ext), param_cmp);
	for (i = 0; i < j; i = next) {
		for (next = i + 1; next < j &&
		    ext[next]->base_len == ext[i]->base_len &&
		    memcmp(ext[next]->name, ext[i]->name,
		    ext[i]->base_len) == 0; next++)
			;
		param_merge(pl, ext + i, next - i);
	}
	if (pl->n > 0) {
		ps->v = mime_arena_alloc(a, pl->n * sizeof(*ps->v));
		memcpy(ps->v, pl->v, pl->n * sizeof(*ps->v));
		ps->n = pl->n;
	}
	for (i = 0; i < n; i++) {
		free(r[i].name);
		free(r[i].value);
	}
	free(r);
	free(ext);
	free(pl->v);
}

const struct mime_param *
mime_param_get(const struct mime_params *ps, const char *name)
{
	size_t len = strlen(name);
	unsigned i;

	for (i = 0; i < ps->n; i++)
		if (strncasecmp(ps->v[i].name, name, len) == 0 &&
		    ps->v[i].name[len] == '*' && ps->v[i].name[len + 1] == '\0')
			return &ps->v[i];
	for (i = 0; i < ps->n; i++)
		if (strcasecmp(ps->v[i].name, name) == 0)
			return &ps->v[i];
	return NULL;
}
