/* sasl - strict base64 and the PLAIN/CRAM-MD5 message parsers; see
 * sasl.h.  Everything here reads bytes from an unauthenticated peer. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "addr.h"
#include "buf.h"
#include "sasl.h"
#include "xalloc.h"

/* RFC 4616 section 2: authzid, authcid and passwd are 1*255 octets. */
#define SASL_FIELD_MAX 255
#define SASL_CRAM_DIGITS 20
#define SASL_CRAM_HEX 32

/* The value of one base64 character (RFC 4648 table 1), or -1. */
static int
sasl_b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * One quantum of four characters into up to three bytes.  pad is how
 * many '=' end this quantum (non-zero only for the last one).  The bits
 * that padding leaves over must be zero (RFC 4648 section 3.5): any
 * other value would make two encodings of the same bytes.
 */
static int
sasl_b64_quantum(const unsigned char *q, size_t pad, unsigned char *out,
    const char **error_r)
{
	int v[4] = { 0, 0, 0, 0 };
	size_t j;

	for (j = 0; j < 4 - pad; j++) {
		v[j] = sasl_b64_val(q[j]);
		if (v[j] < 0) {
			*error_r = q[j] == '=' ?
			    "base64 padding in the wrong place" :
			    "invalid character in base64";
			return -1;
		}
	}
	if ((pad == 2 && (v[1] & 0x0f) != 0) ||
	    (pad == 1 && (v[2] & 0x03) != 0)) {
		*error_r = "base64 has non-zero padding bits";
		return -1;
	}
	out[0] = (unsigned char)(v[0] << 2 | v[1] >> 4);
	out[1] = (unsigned char)((v[1] & 0x0f) << 4 | v[2] >> 2);
	out[2] = (unsigned char)((v[2] & 0x03) << 6 | v[3]);
	return 0;
}

int
sasl_b64_decode(const char *in, size_t len, struct buf *out,
    const char **error_r)
{
	const unsigned char *p = (const unsigned char *)in;
	unsigned char dec[SASL_MAX_DECODED + 3];
	size_t pad = 0, n = 0, i;
	int ret = -1;

	/* RFC 4954 section 4: a lone "=" is an empty initial response; an
	 * empty string is the empty base64 encoding (RFC 4648). */
	if (len == 0 || (len == 1 && in[0] == '='))
		return 0;
	if (len % 4 != 0) {
		*error_r = "base64 length is not a multiple of 4";
		return -1;
	}
	if (p[len - 1] == '=')
		pad = p[len - 2] == '=' ? 2 : 1;
	/* Refuse before decoding anything: a peer may send megabytes. */
	if (len / 4 * 3 - pad > SASL_MAX_DECODED) {
		*error_r = "SASL message too long";
		return -1;
	}
	for (i = 0; i < len; i += 4) {
		if (sasl_b64_quantum(p + i, i + 4 == len ? pad : 0, dec + n,
		    error_r) < 0)
			goto out;
		n += 3;
	}
	n -= pad;
	if (buf_append(out, dec, n) < 0) {
		*error_r = "SASL message too long";
		goto out;
	}
	ret = 0;
out:
	/* The message may well hold a password. */
	OPENSSL_cleanse(dec, sizeof(dec));
	return ret;
}

void
sasl_b64_encode(const void *in, size_t len, struct buf *out)
{
	/* 768 bytes in, 1024 characters out (+ NUL) per EVP call. */
	unsigned char enc[1024 + 1];
	const unsigned char *p = in;
	size_t chunk;
	int n;

	while (len > 0) {
		chunk = len < 768 ? len : 768;
		n = EVP_EncodeBlock(enc, p, (int)chunk);
		/* What we send is ours, and a cap on out was sized for it:
		 * hitting the cap is a bug, not a peer's doing. */
		if (buf_append(out, enc, (size_t)n) < 0)
			BUG("base64 output passes the buffer cap");
		p += chunk;
		len -= chunk;
	}
	OPENSSL_cleanse(enc, sizeof(enc));
}

/* s[0..len) is valid UTF-8 (no overlongs, surrogates, > U+10FFFF); with
 * no_controls, also no C0 or C1 control character and no DEL. */
static bool
sasl_utf8_ok(const char *s, size_t len, bool no_controls)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		n = addr_utf8_len(s + i, len - i);
		if (n == 0)
			return false;
		if (no_controls &&
		    ((n == 1 && (p[i] < 0x20 || p[i] == 0x7f)) ||
		    (n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)))
			return false;
		i += n;
	}
	return true;
}

/*
 * RFC 4616: message = [authzid] NUL authcid NUL passwd.  The identities
 * must be UTF-8; the password may be any octets but NUL, because clients
 * still send passwords in legacy 8-bit charsets and the hash comparison
 * is the judge of those, not us.
 */
int
sasl_plain_parse(const char *msg, size_t len, char **authzid_r,
    char **authcid_r, char **password_r, const char **error_r)
{
	const char *nul1, *nul2, *end = msg + len;
	size_t zlen, clen, plen;

	*authzid_r = *authcid_r = *password_r = NULL;
	nul1 = len > 0 ? memchr(msg, '\0', len) : NULL;
	nul2 = nul1 != NULL ? memchr(nul1 + 1, '\0', end - nul1 - 1) : NULL;
	if (nul2 == NULL) {
		*error_r = "PLAIN message needs two NUL separators";
		return -1;
	}
	if (memchr(nul2 + 1, '\0', end - nul2 - 1) != NULL) {
		*error_r = "PLAIN message has more than two NUL separators";
		return -1;
	}
	zlen = (size_t)(nul1 - msg);
	clen = (size_t)(nul2 - nul1 - 1);
	plen = (size_t)(end - nul2 - 1);
	if (clen == 0) {
		*error_r = "PLAIN authentication identity is empty";
		return -1;
	}
	if (plen == 0) {
		*error_r = "PLAIN password is empty";
		return -1;
	}
	if (zlen > SASL_FIELD_MAX || clen > SASL_FIELD_MAX ||
	    plen > SASL_FIELD_MAX) {
		*error_r = "PLAIN field longer than 255 octets";
		return -1;
	}
	if (!sasl_utf8_ok(msg, zlen, false) ||
	    !sasl_utf8_ok(nul1 + 1, clen, false)) {
		*error_r = "PLAIN identity is not valid UTF-8";
		return -1;
	}
	*authzid_r = xstrndup(msg, zlen);
	*authcid_r = xstrndup(nul1 + 1, clen);
	*password_r = xstrndup(nul2 + 1, plen);
	return 0;
}

/*
 * RFC 2195 wants a msg-id: "<" unique "@" host ">".  20 random digits
 * (about 66 bits) make it unguessable, so a recorded response is no use
 * again; the time is there only as RFC 2195's example has it.
 */
char *
sasl_cram_challenge(const char *hostname)
{
	char digits[SASL_CRAM_DIGITS + 1];
	unsigned char rnd[32];
	size_t n = 0, i;

	if (hostname == NULL || hostname[0] == '\0')
		hostname = "localhost";
	while (n < SASL_CRAM_DIGITS) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1)
			die("RAND_bytes failed: no random numbers");
		/* Bytes >= 250 would favour the digits 0..5. */
		for (i = 0; i < sizeof(rnd) && n < SASL_CRAM_DIGITS; i++)
			if (rnd[i] < 250)
				digits[n++] = (char)('0' + rnd[i] % 10);
	}
	digits[n] = '\0';
	return xasprintf("<%s.%lld@%s>", digits, (long long)time(NULL),
	    hostname);
}

static bool
sasl_is_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/*
 * RFC 2195: "user SP digest".  The user is everything before the last
 * space (user names may hold spaces); it must be UTF-8 without controls
 * (it will be logged and looked up) and, like a PLAIN identity, at most
 * 255 octets.
 */
int
sasl_cram_parse(const char *msg, size_t len, char **user_r,
    char **digest_r, const char **error_r)
{
	const char *sp;
	size_t ulen, i;
	char *digest;

	*user_r = *digest_r = NULL;
	sp = len > 0 ? memrchr(msg, ' ', len) : NULL;
	if (sp == NULL) {
		*error_r = "CRAM-MD5 response has no space";
		return -1;
	}
	ulen = (size_t)(sp - msg);
	if (len - ulen - 1 != SASL_CRAM_HEX) {
		*error_r = "CRAM-MD5 digest is not 32 hex digits";
		return -1;
	}
	for (i = 0; i < SASL_CRAM_HEX; i++)
		if (!sasl_is_hex((unsigned char)sp[1 + i])) {
			*error_r = "CRAM-MD5 digest is not 32 hex digits";
			return -1;
		}
	if (ulen == 0) {
		*error_r = "CRAM-MD5 user name is empty";
		return -1;
	}
	if (ulen > SASL_FIELD_MAX) {
		*error_r = "CRAM-MD5 user name longer than 255 octets";
		return -1;
	}
	if (!sasl_utf8_ok(msg, ulen, true)) {
		*error_r = "CRAM-MD5 user name is not valid UTF-8 or "
		    "contains control characters";
		return -1;
	}
	digest = xstrndup(sp + 1, SASL_CRAM_HEX);
	for (i = 0; i < SASL_CRAM_HEX; i++)
		if (digest[i] >= 'A' && digest[i] <= 'F')
			digest[i] += 'a' - 'A';
	*user_r = xstrndup(msg, ulen);
	*digest_r = digest;
	return 0;
}
