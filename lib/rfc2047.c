/*
 * rfc2047 - encoded words decoded to UTF-8.  See rfc2047.h.
 */
#include <errno.h>
#include <iconv.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "hex.h"
#include "rfc2047.h"
#include "xalloc.h"

/* An encoded word is at most 75 bytes (RFC 2047 2); allow some slack
 * for senders that ignore it, but bound the work. */
#define WORD_MAX 1024


/* Q: '_' is a space, "=XX" a byte. */
static bool
decode_q(const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '_')
			buf_putc(out, ' ');
		else if (s[i] == '=') {
			int c;

			if (i + 2 >= n || (c = hex_byte(s + i + 1)) < 0)
				return false;
			buf_putc(out, (char)c);
			i += 2;
		} else
			buf_putc(out, s[i]);
	}
	return true;
}

static bool
decode_b(const char *s, size_t n, struct buf *out)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
	    "qrstuvwxyz0123456789+/";
	unsigned acc = 0;
	int bits = 0;

	for (size_t i = 0; i < n; i++) {
		const char *p;

		if (s[i] == '=')
			break;
		if ((p = strchr(b64, s[i])) == NULL || s[i] == '\0')
			return false;
		acc = (acc << 6) | (unsigned)(p - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf_putc(out, (char)((acc >> bits) & 0xff));
		}
	}
	return true;
}

/* Bytes in charset to UTF-8, appended to out; false if iconv cannot. */
static bool
to_utf8(const char *charset, const struct buf *in, struct buf *out)
{
	iconv_t cd;
	char *ip = (char *)buf_data(in);
	size_t il = buf_len(in);

	if (strcasecmp(charset, "UTF-8") == 0 ||
	    strcasecmp(charset, "US-ASCII") == 0) {
		buf_append(out, buf_data(in), buf_len(in));
		return true;
	}
	if ((cd = iconv_open("UTF-8", charset)) == (iconv_t)-1)
		return false;
	while (il > 0) {
		char tmp[1024], *op = tmp;
		size_t ol = sizeof(tmp);
		size_t r = iconv(cd, &ip, &il, &op, &ol);

		buf_append(out, tmp, sizeof(tmp) - ol);
		if (r == (size_t)-1 && errno != E2BIG) {
			/* A byte the charset does not have: U+FFFD, go on. */
			buf_append_str(out, "\xef\xbf\xbd");
			ip++;
			il--;
		}
	}
	iconv_close(cd);
	return true;
}

bool
rfc2047_charset_to_utf8(const char *charset, const char *s, size_t len,
    struct buf *out)
{
	struct buf in;
	bool ok;

	buf_init(&in, len, 0);
	buf_append(&in, s, len);
	ok = to_utf8(charset, &in, out);
	buf_release(&in);
	return ok;
}

/* One "=?cs?e?text?=" at s (length n): decoded into out, or false. */
static bool
decode_word(const char *s, size_t n, struct buf *out)
{
	const char *cs = s + 2, *q1, *q2, *end = s + n - 2;
	char charset[64];
	struct buf raw;
	size_t cl;
	bool ok;

	if ((q1 = memchr(cs, '?', (size_t)(end - cs))) == NULL ||
	    q1 + 2 >= end || q1[2] != '?')
		return false;
	q2 = q1 + 2;
	cl = (size_t)(q1 - cs);
	if (cl == 0 || cl >= sizeof(charset))
		return false;
	memcpy(charset, cs, cl);
	charset[cl] = '\0';
	if (strchr(charset, '*') != NULL)
		*strchr(charset, '*') = '\0';   /* RFC 2231 language */
	buf_init(&raw, 128, 0);
	if (q1[1] == 'Q' || q1[1] == 'q')
		ok = decode_q(q2 + 1, (size_t)(end - q2 - 1), &raw);
	else if (q1[1] == 'B' || q1[1] == 'b')
		ok = decode_b(q2 + 1, (size_t)(end - q2 - 1), &raw);
	else
		ok = false;
	ok = ok && to_utf8(charset, &raw, out);
	buf_release(&raw);
	return ok;
}

/* Length of an encoded word at s[0..n), or 0. */
static size_t
word_len(const char *s, size_t n)
{
	size_t q = 0;

	if (n < 8 || s[0] != '=' || s[1] != '?')
		return 0;
	for (size_t i = 2; i + 1 < n && i < WORD_MAX; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
		    s[i] == '\n')
			return 0;
		if (s[i] == '?') {
			if (++q == 3 && s[i + 1] == '=')
				return i + 2;
			if (q > 3)
				return 0;
		}
	}
	return 0;
}

char *
rfc2047_decode(const char *s, size_t len)
{
	struct buf out;
	size_t i = 0, pending_ws = 0;
	bool after_word = false;
	char *r;

	buf_init(&out, len + 1, 0);
	while (i < len) {
		size_t w = word_len(s + i, len - i);

		if (w > 0) {
			size_t mark, ws = pending_ws;

			/* Blanks between two encoded words vanish. */
			if (!after_word && ws > 0)
				buf_append(&out, s + i - ws, ws);
			pending_ws = 0;
			mark = buf_len(&out);
			if (decode_word(s + i, w, &out))
				after_word = true;
			else {
				/* Not a word after all: as written, blanks too. */
				buf_truncate(&out, mark);
				if (after_word && ws > 0)
					buf_append(&out, s + i - ws, ws);
				buf_append(&out, s + i, w);
				after_word = false;
			}
			i += w;
			continue;
		}
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
		    s[i] == '\n') {
			pending_ws++;
			i++;
			continue;
		}
		if (pending_ws > 0)
			buf_append(&out, s + i - pending_ws, pending_ws);
		pending_ws = 0;
		after_word = false;
		buf_putc(&out, s[i++]);
	}
	if (pending_ws > 0)
		buf_append(&out, s + len - pending_ws, pending_ws);
	r = buf_steal(&out);
	buf_release(&out);
	return r;
}
