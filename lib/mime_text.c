/* mime_text - decoded text parts for searching; see mime_text.h */
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "hex.h"
#include "mime_text.h"
#include "rfc2047.h"


/* RFC 2045 6.7: "=XX" a byte, "=" at a line end joins lines; anything
 * malformed is kept as written. */
static void
decode_qp(const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		int h;

		if (s[i] != '=') {
			buf_putc(out, s[i]);
			continue;
		}
		if (i + 1 < n && s[i + 1] == '\n') {
			i += 1;
			continue;
		}
		if (i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
			i += 2;
			continue;
		}
		if (i + 2 < n && (h = hex_byte(s + i + 1)) >= 0) {
			buf_putc(out, (char)h);
			i += 2;
		} else
			buf_putc(out, '=');
	}
}

/* RFC 2045 6.8, leniently: characters outside the alphabet are skipped,
 * decoding stops at the first '='. */
static void
decode_base64(const char *s, size_t n, struct buf *out)
{
	static signed char val[256];
	static bool ready;
	unsigned acc = 0;
	int bits = 0;

	if (!ready) {
		const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+/";

		memset(val, -1, sizeof(val));
		for (int i = 0; a[i] != '\0'; i++)
			val[(unsigned char)a[i]] = (signed char)i;
		ready = true;
	}
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		int v = val[(unsigned char)s[i]];

		if (v < 0)
			continue;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_putc(out, (char)((acc >> bits) & 0xff));
		}
	}
}

static void
text_part(const struct mime_msg *m, const struct mime_part *p,
    struct buf *out)
{
	const char *body = m->data + p->body_start;
	const struct mime_param *cs = mime_param_get(&p->params, "charset");
	struct buf raw;

	buf_init(&raw, p->body_len + 1, 0);
	if (p->encoding != NULL && strcmp(p->encoding, "quoted-printable") == 0)
		decode_qp(body, p->body_len, &raw);
	else if (p->encoding != NULL && strcmp(p->encoding, "base64") == 0)
		decode_base64(body, p->body_len, &raw);
	else
		buf_append(&raw, body, p->body_len);
	if (cs == NULL || cs->value == NULL || !rfc2047_charset_to_utf8(
	    cs->value, buf_data(&raw), buf_len(&raw), out))
		buf_append(out, buf_data(&raw), buf_len(&raw));
	buf_putc(out, '\n');
	buf_release(&raw);
}

static void
walk(const struct mime_msg *m, const struct mime_part *p, struct buf *out)
{
	if (p->flags & (MIME_PART_MULTIPART | MIME_PART_MESSAGE)) {
		for (const struct mime_part *c = p->children; c != NULL;
		    c = c->next)
			walk(m, c, out);
		return;
	}
	if (strcmp(p->type, "text") == 0)
		text_part(m, p, out);
}

void
mime_text_utf8(const struct mime_msg *m, struct buf *out)
{
	walk(m, m->root, out);
}
