/* addr_domain - the domain of an address, names and literals; see addr.h */
#include <arpa/inet.h>
#include <idn2.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "xalloc.h"

#define DOMAIN_MAX 255          /* RFC 5321 4.5.3.1.2 */
#define DOMAIN_LABEL_MAX 63     /* RFC 1035 2.3.4 */
/* Bound on a UTF-8 domain before conversion: 4 bytes per character. */
#define DOMAIN_RAW_MAX (4 * DOMAIN_MAX)

static bool
domain_is_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* One byte or UTF-8 character of a label; its length, or 0 and *error_r. */
static size_t
domain_char(const char *s, size_t len, unsigned flags, const char **error_r)
{
	unsigned char c = *s;
	size_t k;

	if (c < 0x20 || c == 0x7f) {
		*error_r = "control character in address";
		return 0;
	}
	if (c < 0x80) {
		if (!domain_is_ldh(c)) {
			*error_r = "invalid character in domain";
			return 0;
		}
		return 1;
	}
	if (!(flags & ADDR_SMTPUTF8)) {
		*error_r = "8-bit characters need SMTPUTF8";
		return 0;
	}
	if ((k = addr_utf8_len(s, len)) == 0)
		*error_r = "invalid UTF-8 in address";
	return k;
}

/*
 * Check one label.  ASCII labels get the full LDH rules here; a label
 * with UTF-8, or an A-label, sets *idn_r and is judged by libidn2.
 */
static int
domain_label(const char *s, size_t len, unsigned flags, bool *idn_r,
    const char **error_r)
{
	bool ascii = true;
	size_t i = 0, k;

	while (i < len) {
		if ((k = domain_char(s + i, len - i, flags, error_r)) == 0)
			return -1;
		if ((unsigned char)s[i] >= 0x80)
			ascii = false;
		i += k;
	}
	if (!ascii) {
		*idn_r = true;
		return 0;
	}
	if (len > DOMAIN_LABEL_MAX) {
		*error_r = "domain label too long";
		return -1;
	}
	if (s[0] == '-' || s[len - 1] == '-') {
		*error_r = "domain label starts or ends with a hyphen";
		return -1;
	}
	if (len >= 4 && strncasecmp(s, "xn--", 4) == 0)
		*idn_r = true;
	return 0;
}

/* Check every label of s[0..len); *idn_r says whether libidn2 must look. */
static int
domain_scan(const char *s, size_t len, unsigned flags, bool *idn_r,
    const char **error_r)
{
	const char *dot;
	size_t start = 0, end;

	*idn_r = false;
	if (s[len - 1] == '.') {
		/* "example.com." is DNS, not RFC 5321 */
		*error_r = "domain ends with a dot";
		return -1;
	}
	while (start <= len) {
		dot = memchr(s + start, '.', len - start);
		end = dot != NULL ? (size_t)(dot - s) : len;
		if (end == start) {
			*error_r = "empty label in domain";
			return -1;
		}
		if (domain_label(s + start, end - start, flags, idn_r,
		    error_r) < 0)
			return -1;
		start = end + 1;
	}
	return 0;
}

static const char *
domain_idn_error(int rc)
{
	switch (rc) {
	case IDN2_PUNYCODE_BAD_INPUT:
	case IDN2_PUNYCODE_OVERFLOW:
	case IDN2_ALABEL_ROUNDTRIP_FAILED:
		return "invalid punycode in domain";
	case IDN2_PUNYCODE_BIG_OUTPUT:  /* encoding a U-label overflowed */
	case IDN2_TOO_BIG_LABEL:
		return "domain label too long";
	case IDN2_TOO_BIG_DOMAIN:
		return "domain too long";
	default:
		return "invalid internationalised domain name";
	}
}

/*
 * Replace *name (valid UTF-8, no NUL) by its A-label form; on failure
 * *name is freed.  The whole
 * name goes to libidn2 so cross-label rules (bidi) see all of it.  UTS #46
 * mapping can produce characters we would have refused (U+FF20 maps to
 * '@'), so the result is checked again as plain ASCII.
 */
static int
domain_to_ascii(char **name, const char **error_r)
{
	uint8_t *out = NULL;
	bool idn;
	int rc;

	rc = idn2_lookup_u8((const uint8_t *)*name, &out,
	    IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
	if (rc != IDN2_OK) {
		*error_r = domain_idn_error(rc);
		xfree(name);
		return -1;
	}
	xfree(name);
	*name = xstrdup((const char *)out);
	idn2_free(out);
	if (**name == '\0' || domain_scan(*name, strlen(*name), 0, &idn,
	    error_r) < 0) {
		if (**name == '\0')
			*error_r = "invalid internationalised domain name";
		xfree(name);
		return -1;
	}
	return 0;
}

static int
domain_name(const char *s, size_t len, unsigned flags, char **out_r,
    const char **error_r)
{
	char *name, *p;
	bool idn;

	if (len > DOMAIN_RAW_MAX) {
		*error_r = "domain too long";
		return -1;
	}
	if (domain_scan(s, len, flags, &idn, error_r) < 0)
		return -1;
	/* No NUL inside (a control character), so this copies all of it. */
	name = xstrndup(s, len);
	for (p = name; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	if (idn && domain_to_ascii(&name, error_r) < 0)
		return -1;
	if (strlen(name) > DOMAIN_MAX) {
		xfree(&name);
		*error_r = "domain too long";
		return -1;
	}
	*out_r = name;
	return 0;
}

/*
 * "[1.2.3.4]" or "[IPv6:...]" (RFC 5321 4.1.3), printed back in the
 * usual form.  General literals "[tag:...]" are refused: nothing routes
 * them.
 */
static int
domain_literal(const char *s, size_t len, unsigned flags, char **out_r,
    const char **error_r)
{
	unsigned char bin[sizeof(struct in6_addr)];
	char txt[INET6_ADDRSTRLEN], *ip;
	const char *tag = "";
	int af = AF_INET, rc;

	if (flags & ADDR_NO_LITERAL) {
		*error_r = "address literal not allowed here";
		return -1;
	}
	if (len < 2 || s[len - 1] != ']') {
		*error_r = "unbalanced brackets in address literal";
		return -1;
	}
	s++;
	len -= 2;
	if (len >= 5 && strncasecmp(s, "IPv6:", 5) == 0) {
		af = AF_INET6;
		tag = "IPv6:";
		s += 5;
		len -= 5;
	} else if (memchr(s, ':', len) != NULL) {
		*error_r = "unsupported address literal";
		return -1;
	}
	/* Bound and NUL check first: xstrndup() would stop at a NUL. */
	if (len == 0 || len >= sizeof(txt) || memchr(s, '\0', len) != NULL) {
		*error_r = "invalid address literal";
		return -1;
	}
	ip = xstrndup(s, len);
	rc = inet_pton(af, ip, bin);
	xfree(&ip);
	if (rc != 1 || inet_ntop(af, bin, txt, sizeof(txt)) == NULL) {
		*error_r = "invalid address literal";
		return -1;
	}
	*out_r = xasprintf("[%s%s]", tag, txt);
	return 0;
}

int
addr_domain_parse(const char *s, size_t len, unsigned flags, char **out_r,
    const char **error_r)
{
	*out_r = NULL;
	if (len == 0) {
		*error_r = "missing domain";
		return -1;
	}
	if (s[0] == '[')
		return domain_literal(s, len, flags, out_r, error_r);
	return domain_name(s, len, flags, out_r, error_r);
}

int
addr_domain_normalise(const char *s, size_t len, char **out_r,
    const char **error_r)
{
	return addr_domain_parse(s, len, ADDR_SMTPUTF8 | ADDR_NO_LITERAL,
	    out_r, error_r);
}
