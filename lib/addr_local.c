/* addr_local - the local part of an address (RFC 5321 4.1.2); see addr.h */
#include <stdint.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "xalloc.h"

/* RFC 5321 4.5.3.1.1, counted as written on the wire. */
#define ADDR_LOCAL_MAX 64

size_t
addr_utf8_len(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t cp;
	size_t n, i;

	if (len == 0)
		return 0;
	if (p[0] < 0x80)
		return 1;
	/* 0xc0 and 0xc1 could only start overlong 2-byte forms. */
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		n = 3;
		cp = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07;
	} else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* atext of RFC 5322 3.2.3, less ALPHA and DIGIT. */
static bool
local_is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/*
 * Bytes of the non-ASCII character at s, or 0 with *error_r set.  C1
 * controls (U+0080..U+009F) are refused with the other controls: nobody
 * has a mailbox with one and they confuse logs and terminals.
 */
static size_t
local_utf8(const char *s, size_t len, unsigned flags, const char **error_r)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t k;

	if (!(flags & ADDR_SMTPUTF8)) {
		*error_r = "8-bit characters need SMTPUTF8";
		return 0;
	}
	k = addr_utf8_len(s, len);
	if (k == 0) {
		*error_r = "invalid UTF-8 in address";
		return 0;
	}
	if (k == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
		*error_r = "control character in address";
		return 0;
	}
	return k;
}

/* Why the byte at s cannot continue a dot-string. */
static const char *
local_bad_char(const char *s, size_t len, unsigned flags)
{
	unsigned char c = *s;
	const char *error;

	if (c < 0x20 || c == 0x7f)
		return "control character in address";
	if (c >= 0x80 && local_utf8(s, len, flags, &error) == 0)
		return error;
	return "invalid character in local part";
}

/*
 * Scan a Dot-string from s: atoms separated by single dots.  It must end
 * at len or at '@'; *used_r says where.
 */
static int
local_dotstring(const char *s, size_t len, unsigned flags, size_t *used_r,
    const char **error_r)
{
	const char *error;
	bool after_atom = false;
	size_t i = 0, k;

	while (i < len) {
		unsigned char c = s[i];

		if (c == '.') {
			if (i == 0) {
				*error_r = "local part starts with a dot";
				return -1;
			}
			if (!after_atom) {
				*error_r = "local part has two dots in a row";
				return -1;
			}
			after_atom = false;
			i++;
			continue;
		}
		if (c < 0x80)
			k = local_is_atext(c) ? 1 : 0;
		else
			k = local_utf8(s + i, len - i, flags, &error);
		if (k == 0)
			break;
		i += k;
		after_atom = true;
	}
	if (i < len && s[i] != '@') {
		*error_r = local_bad_char(s + i, len - i, flags);
		return -1;
	}
	if (i > 0 && s[i - 1] == '.') {
		*error_r = "local part ends with a dot";
		return -1;
	}
	*used_r = i;
	return 0;
}

/* The one character a quoted-pair "\c" stands for, or -1. */
static int
local_quoted_pair(const char *s, size_t len, size_t i, const char **error_r)
{
	unsigned char c;

	if (i + 1 >= len) {
		*error_r = "unbalanced quotes in local part";
		return -1;
	}
	c = s[i + 1];
	/* quoted-pairSMTP = %d92 %d32-126; RFC 6531 adds no 8-bit here */
	if (c < 0x20 || c == 0x7f) {
		*error_r = "control character in address";
		return -1;
	}
	if (c > 0x7e) {
		*error_r = "invalid quoted pair in local part";
		return -1;
	}
	return c;
}

/*
 * Scan a Quoted-string starting at s[0] == '"' into content (quotes and
 * backslashes removed); *used_r is just past the closing quote.
 */
static int
local_quoted(const char *s, size_t len, unsigned flags, size_t *used_r,
    struct buf *content, const char **error_r)
{
	size_t i = 1, k;
	int c;

	while (i < len) {
		c = (unsigned char)s[i];
		if (c == '"') {
			*used_r = i + 1;
			return 0;
		}
		if (c == '\\') {
			if ((c = local_quoted_pair(s, len, i, error_r)) < 0)
				return -1;
			buf_putc(content, c);
			i += 2;
			continue;
		}
		if (c < 0x20 || c == 0x7f) {
			*error_r = "control character in address";
			return -1;
		}
		k = 1;
		if (c >= 0x80 && (k = local_utf8(s + i, len - i, flags,
		    error_r)) == 0)
			return -1;
		buf_append(content, s + i, k);
		i += k;
	}
	*error_r = "unbalanced quotes in local part";
	return -1;
}

/* Canonical form of quoted content: bare if it is a dot-string. */
static char *
local_canonical(const struct buf *content, unsigned flags)
{
	const char *error, *p = buf_data(content);
	size_t i, used, n = buf_len(content);
	struct buf *b;
	char *quoted;

	if (local_dotstring(p, n, flags, &used, &error) == 0 && used == n)
		return xstrndup(p, n);
	b = buf_new(n + 8);
	buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			buf_putc(b, '\\');
		buf_putc(b, p[i]);
	}
	buf_putc(b, '"');
	quoted = buf_steal(b);
	buf_free(&b);
	return quoted;
}

static int
local_parse_quoted(const char *s, size_t len, unsigned flags,
    size_t *used_r, char **local_r, const char **error_r)
{
	struct buf *content = buf_new(64);
	int ret = -1;

	if (local_quoted(s, len, flags, used_r, content, error_r) < 0)
		goto out;
	if (*used_r < len && s[*used_r] != '@') {
		*error_r = "invalid character after quoted local part";
		goto out;
	}
	/* RFC 5321 allows "" but no mailbox is called that. */
	if (buf_len(content) == 0) {
		*error_r = "empty local part";
		goto out;
	}
	*local_r = local_canonical(content, flags);
	ret = 0;
out:
	buf_free(&content);
	return ret;
}

int
addr_local_parse(const char *s, size_t len, unsigned flags, size_t *used_r,
    char **local_r, const char **error_r)
{
	*local_r = NULL;
	if (len == 0 || s[0] == '@') {
		*error_r = "empty local part";
		return -1;
	}
	if (s[0] == '"') {
		if (local_parse_quoted(s, len, flags, used_r, local_r,
		    error_r) < 0)
			return -1;
	} else {
		if (local_dotstring(s, len, flags, used_r, error_r) < 0)
			return -1;
		*local_r = xstrndup(s, *used_r);
	}
	if (*used_r > ADDR_LOCAL_MAX) {
		xfree(local_r);
		*error_r = "local part too long";
		return -1;
	}
	return 0;
}
