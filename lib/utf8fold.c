/* utf8fold - UTF-8 case folding; see utf8fold.h */
#include <ctype.h>
#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wctype.h>

#include "buf.h"
#include "utf8fold.h"
#include "xalloc.h"

static locale_t
fold_locale(void)
{
	static locale_t loc;
	static bool tried;

	if (!tried) {
		tried = true;
		loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	}
	return loc;
}

/* One code point at s (n bytes left): its value and length, or -1 for
 * a byte that starts no valid sequence (overlong, surrogate, > U+10FFFF). */
static int
decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	int len;
	uint32_t c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2, c = s[0] & 0x1f, min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3, c = s[0] & 0x0f, min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4, c = s[0] & 0x07, min = 0x10000;
	} else
		return -1;
	if ((size_t)len > n)
		return -1;
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return -1;
	*cp = c;
	return len;
}

static void
encode(struct buf *b, uint32_t c)
{
	char o[4];
	size_t n;

	if (c < 0x80) {
		o[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		o[0] = (char)(0xc0 | (c >> 6));
		o[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		o[0] = (char)(0xe0 | (c >> 12));
		o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		o[0] = (char)(0xf0 | (c >> 18));
		o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
		o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
		o[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	buf_append(b, o, n);
}

char *
utf8_fold(const char *s, size_t len, size_t *out_len)
{
	const unsigned char *p = (const unsigned char *)s;
	locale_t loc = fold_locale();
	struct buf b;

	buf_init(&b, len + 16, 0);
	for (size_t i = 0; i < len;) {
		uint32_t c;
		int n = decode(p + i, len - i, &c);

		if (n < 0) {
			buf_append(&b, s + i, 1);
			i++;
			continue;
		}
		if (c < 0x80)
			c = (uint32_t)tolower((int)c);
		else if (loc != (locale_t)0)
			c = (uint32_t)towlower_l((wint_t)c, loc);
		encode(&b, c);
		i += (size_t)n;
	}
	*out_len = b.len;
	char *r = buf_steal(&b);

	buf_release(&b);
	return r;
}

bool
utf8_contains_fold(const char *hay, size_t hlen, const char *needle,
    size_t nlen)
{
	bool ascii = true;

	if (nlen == 0)
		return true;
	for (size_t i = 0; i < nlen && ascii; i++)
		ascii = (unsigned char)needle[i] < 0x80;
	if (ascii) {
		/* the common case: ASCII needle, no copies */
		for (size_t i = 0; i + nlen <= hlen; i++)
			if (strncasecmp(hay + i, needle, nlen) == 0)
				return true;
		return false;
	}
	size_t fl, nl;
	char *fh = utf8_fold(hay, hlen, &fl);
	char *fn = utf8_fold(needle, nlen, &nl);
	bool r = memmem(fh, fl, fn, nl) != NULL;

	free(fh);
	free(fn);
	return r;
}
