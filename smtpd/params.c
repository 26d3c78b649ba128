/* params - ESMTP parameters of MAIL and RCPT (RFC 5321 4.1.2); see
 * session.h */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "session.h"
#include "xalloc.h"

int
esmtp_split(const char *args, size_t len, const char *kw,
    const char **path_r, size_t *plen_r, char **params_r)
{
	size_t kwlen = strlen(kw), span;
	const char *p;

	if (len < kwlen || strncasecmp(args, kw, kwlen) != 0)
		return -1;
	/* "MAIL FROM: <a@b>" is wrong but common: allow the blanks. */
	p = args + kwlen;
	len -= kwlen;
	while (len > 0 && *p == ' ') {
		p++;
		len--;
	}
	if (len == 0)
		return -1;
	span = addr_path_span(p, len);
	if (span < len && p[span] != ' ')
		return -1;
	*path_r = p;
	*plen_r = span;
	*params_r = xstrndup(p + span, len - span);
	return 0;
}

/* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
static bool
params_keyword_ok(const char *k)
{
	if (!isalnum((unsigned char)*k))
		return false;
	for (; *k != '\0'; k++)
		if (!isalnum((unsigned char)*k) && *k != '-')
			return false;
	return true;
}

/* esmtp-value = 1*(%d33-60 / %d62-126 / UTF8-non-ascii) (RFC 6531) */
static bool
params_value_ok(const char *v)
{
	size_t len = strlen(v), n;

	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i += n) {
		unsigned char c = (unsigned char)v[i];

		n = 1;
		if (c >= 0x80) {
			n = addr_utf8_len(v + i, len - i);
			if (n == 0)
				return false;
		} else if (c < 33 || c > 126 || c == '=')
			return false;
	}
	return true;
}

int
esmtp_params(char *s, struct esmtp_param *p, int max)
{
	int n = 0;
	char *tok, *save = NULL, *eq;

	for (tok = strtok_r(s, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if (n == max)
			return -1;
		eq = strchr(tok, '=');
		if (eq != NULL)
			*eq++ = '\0';
		for (char *k = tok; *k != '\0'; k++)
			*k = (char)toupper((unsigned char)*k);
		if (!params_keyword_ok(tok) ||
		    (eq != NULL && !params_value_ok(eq)))
			return -1;
		p[n].name = tok;
		p[n].value = eq;
		n++;
	}
	return n;
}

static bool
params_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

bool
esmtp_xtext_ok(const char *s, bool utf8)
{
	size_t len = strlen(s), n;

	for (size_t i = 0; i < len; i += n) {
		unsigned char c = (unsigned char)s[i];

		n = 1;
		if (c == '+') {
			if (!params_hex(s[i + 1]) || !params_hex(s[i + 2]))
				return false;
			n = 3;
		} else if (c >= 0x80) {
			if (!utf8 || (n = addr_utf8_len(s + i, len - i)) == 0)
				return false;
		} else if (c < 33 || c > 126 || c == '=')
			return false;
	}
	return true;
}

bool
esmtp_has_8bit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

