/*
 * mime_section - BODY[section]<partial>: reading a section-spec, finding
 * the bytes it names, and serving them with CRLF line ends.
 *
 * RFC 3501 9:
 *   section-spec    = section-msgtext / (section-part ["." section-text])
 *   section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list /
 *                     "TEXT"
 *   section-part    = nz-number *("." nz-number)
 *   section-text    = section-msgtext / "MIME"
 *   header-list     = "(" header-fld-name *(SP header-fld-name) ")"
 *   header-fld-name = astring
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mime.h"
#include "xalloc.h"

static bool
sec_keyword(const char *s, size_t len, size_t *i, const char *kw)
{
	size_t n = strlen(kw);

	if (len - *i < n || strncasecmp(s + *i, kw, n) != 0)
		return false;
	*i += n;
	return true;
}

/* ATOM-CHAR: any CHAR except ( ) { SP CTL % * " \ ] */
static bool
sec_atom_char(unsigned char c)
{
	return c > ' ' && c < 0x7f && strchr("(){%*\"\\]", c) == NULL;
}

/* header-list at s[*i]: "(" astring *(SP astring) ")" */
static int
sec_fields(const char *s, size_t len, size_t *i, struct mime_section *sec,
    const char **error_r)
{
	struct buf name;
	size_t j = *i;
	int ret = -1;

	buf_init(&name, 32, 0);
	if (j >= len || s[j] != '(') {
		*error_r = "header list expected";
		goto out;
	}
	j++;
	for (;;) {
		buf_reset(&name);
		if (j < len && s[j] == '"') {
			for (j++; j < len && s[j] != '"'; j++) {
				if (s[j] == '\\' && j + 1 < len)
					j++;
				if (s[j] == '\r' || s[j] == '\n' ||
				    s[j] == '\0') {
					*error_r = "bad quoted string";
					goto out;
				}
				buf_putc(&name, s[j]);
			}
			if (j++ >= len) {
				*error_r = "unterminated quoted string";
				goto out;
			}
		} else if (j < len && s[j] == '{') {
			*error_r = "literal in header list not supported here";
			goto out;
		} else {
			while (j < len && sec_atom_char((unsigned char)s[j]))
				buf_putc(&name, s[j++]);
		}
		if (name.len == 0) {
			*error_r = "empty header field name";
			goto out;
		}
		sec->fields = xrealloc(sec->fields,
		    (sec->nfields + 1) * sizeof(*sec->fields));
		sec->fields[sec->nfields++] = buf_steal(&name);
		if (j < len && s[j] == ')')
			break;
		if (j >= len || s[j] != ' ') {
			*error_r = "bad header list";
			goto out;
		}
		j++;
	}
	*i = j + 1;
	ret = 0;
out:
	buf_release(&name);
	return ret;
}

int
mime_section_parse(const char *s, size_t len, struct mime_section *sec,
    const char **error_r)
{
	size_t i = 0, part_end = 0;
	unsigned long n;

	memset(sec, 0, sizeof(*sec));
	/* section-part: nz-number *("." nz-number) */
	while (i < len && s[i] >= '1' && s[i] <= '9') {
		for (n = 0; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			if ((n = n * 10 + (unsigned long)(s[i] - '0')) >
			    UINT32_MAX) {
				*error_r = "part number too big";
				return -1;
			}
		part_end = i;
		if (i < len && s[i] == '.')
			i++;
		else
			break;
	}
	if (i < len && s[i] >= '0' && s[i] <= '9') {
		*error_r = "bad part number";
		return -1;
	}
	if (part_end > 0 && i == len && s[i - 1] == '.') {
		*error_r = "section ends in '.'";
		return -1;
	}
	if (part_end > 0 && i == part_end && i < len) {
		*error_r = "'.' expected after part number";
		return -1;
	}
	if (i < len) {
		if (sec_keyword(s, len, &i, "HEADER.FIELDS.NOT "))
			sec->text = MIME_SECTION_FIELDS_NOT;
		else if (sec_keyword(s, len, &i, "HEADER.FIELDS "))
			sec->text = MIME_SECTION_FIELDS;
		else if (sec_keyword(s, len, &i, "HEADER"))
			sec->text = MIME_SECTION_HEADER;
		else if (sec_keyword(s, len, &i, "TEXT"))
			sec->text = MIME_SECTION_TEXT;
		else if (part_end > 0 && sec_keyword(s, len, &i, "MIME"))
			sec->text = MIME_SECTION_MIME;
		else {
			*error_r = "unknown section text";
			return -1;
		}
		if ((sec->text == MIME_SECTION_FIELDS ||
		    sec->text == MIME_SECTION_FIELDS_NOT) &&
		    sec_fields(s, len, &i, sec, error_r) < 0) {
			mime_section_release(sec);
			return -1;
		}
		if (i != len) {
			*error_r = "junk after section";
			mime_section_release(sec);
			return -1;
		}
	}
	sec->part = xstrndup(s, part_end);
	return 0;
}

void
mime_section_release(struct mime_section *sec)
{
	size_t i;

	for (i = 0; i < sec->nfields; i++)
		free(sec->fields[i]);
	free(sec->fields);
	free(sec->part);
	memset(sec, 0, sizeof(*sec));
}

static void
sec_slice(const struct mime_msg *m, size_t start, size_t len, size_t size,
    struct mime_slice *sl)
{
	sl->data = m->data + start;
	sl->len = len;
	sl->size = size;
}

bool
mime_section_get(const struct mime_msg *m, const struct mime_section *sec,
    struct buf *scratch, struct mime_slice *sl)
{
	const struct mime_part *p = m->root, *msg = m->root;

	sl->data = "";
	sl->len = sl->size = 0;
	if (sec->part == NULL || sec->part[0] == '\0') {
		if (sec->text == MIME_SECTION_NONE) {
			sec_slice(m, 0, m->len, p->hdr_size + p->body_size, sl);
			return true;
		}
		if (sec->text == MIME_SECTION_MIME)
			return false;
	} else {
		if ((p = mime_find(m, sec->part)) == NULL)
			return false;
		if (sec->text == MIME_SECTION_NONE) {
			sec_slice(m, p->body_start, p->body_len, p->body_size,
			    sl);
			return true;
		}
		if (sec->text == MIME_SECTION_MIME) {
			sec_slice(m, p->hdr_start, p->hdr_len, p->hdr_size, sl);
			return true;
		}
		/* HEADER, TEXT: "provided that the numeric part specifier
		 * refers to a part of type MESSAGE/RFC822" */
		if ((p->flags & MIME_PART_MESSAGE) == 0)
			return false;
		msg = p->children;
	}
	switch (sec->text) {
	case MIME_SECTION_HEADER:
		sec_slice(m, msg->hdr_start, msg->hdr_len, msg->hdr_size, sl);
		break;
	case MIME_SECTION_TEXT:
		sec_slice(m, msg->body_start, msg->body_len, msg->body_size,
		    sl);
		break;
	case MIME_SECTION_FIELDS:
	case MIME_SECTION_FIELDS_NOT:
		buf_reset(scratch);
		mime_header_fields(m->data + msg->hdr_start, msg->hdr_len,
		    (const char *const *)sec->fields, sec->nfields,
		    sec->text == MIME_SECTION_FIELDS_NOT, scratch);
		sl->data = scratch->data;
		sl->len = sl->size = scratch->len;
		break;
	default:
		BUG("section text %d", (int)sec->text);
	}
	return true;
}

size_t
mime_crlf_size_chunk(const char *data, size_t len, char *prev)
{
	const char *nl, *p = data, *end = data + len;
	size_t size = len;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if ((nl == data ? *prev : nl[-1]) != '\r')
			size++;
		p = nl + 1;
	}
	if (len > 0)
		*prev = data[len - 1];
	return size;
}

size_t
mime_crlf_size(const char *data, size_t len)
{
	char prev = 0;

	return mime_crlf_size_chunk(data, len, &prev);
}

void
mime_crlf_append_chunk(struct buf *out, const char *data, size_t len,
    char *prev)
{
	const char *nl, *p = data, *end = data + len;

	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		bool bare = (nl == data ? *prev : nl[-1]) != '\r';

		buf_append(out, p, (size_t)(nl - p));
		buf_append(out, bare ? "\r\n" : "\n", bare ? 2 : 1);
		p = nl + 1;
	}
	buf_append(out, p, (size_t)(end - p));
	if (len > 0)
		*prev = data[len - 1];
}

struct crlf_window {
	struct buf *out;
	size_t lo, hi;          /* wanted virtual range */
	size_t added;
};

/* Bytes src[0..n) sit at virtual offset v: copy what the window sees. */
static void
crlf_emit(struct crlf_window *w, const char *src, size_t n, size_t v)
{
	size_t a = v > w->lo ? v : w->lo;
	size_t b = v + n < w->hi ? v + n : w->hi;

	if (a < b) {
		buf_append(w->out, src + (a - v), b - a);
		w->added += b - a;
	}
}

size_t
mime_crlf_append(struct buf *out, const char *data, size_t len,
    size_t offset, size_t count)
{
	struct crlf_window w = { .out = out, .lo = offset };
	size_t i = 0, v = 0, e;
	const char *nl;
	bool bare;

	w.hi = count > SIZE_MAX - offset ? SIZE_MAX : offset + count;
	while (i < len && v < w.hi) {
		nl = memchr(data + i, '\n', len - i);
		e = nl != NULL ? (size_t)(nl - data) : len;
		crlf_emit(&w, data + i, e - i, v);
		v += e - i;
		i = e;
		if (nl == NULL)
			break;
		bare = e == 0 || data[e - 1] != '\r';
		crlf_emit(&w, bare ? "\r\n" : "\n", bare ? 2 : 1, v);
		v += bare ? 2 : 1;
		i++;
	}
	return w.added;
}
