/* Tests for lib/sasl: strict base64, PLAIN and CRAM-MD5 parsing. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sasl.h"
#include "tap.h"
#include "xalloc.h"

#define S(lit) lit, sizeof(lit) - 1

static const char digest[] = "b913a602c7eda7a495b4e6e7334d3890";

/*
 * A heap copy of exactly len bytes, no NUL after: ASan then catches a
 * parser reading one byte past what it was given.
 */
static char *
exact(const char *s, size_t len)
{
	char *p = xmalloc(len == 0 ? 1 : len);

	memcpy(p, s, len);
	return p;
}

/* Decode; on success *out_r is the bytes (caller frees), else the
 * error.  Also checks that a failed decode leaves the buffer alone. */
static int
dec(const char *in, size_t len, struct buf **out_r, const char **err_r)
{
	char *copy = exact(in, len);
	struct buf *b = buf_new(0);
	int ret;

	buf_append_str(b, "keep");
	*err_r = NULL;
	ret = sasl_b64_decode(copy, len, b, err_r);
	free(copy);
	if (ret < 0) {
		if (buf_len(b) != 4 || memcmp(buf_data(b), "keep", 4) != 0 ||
		    *err_r == NULL)
			ret = -2;
		buf_free(&b);
		*out_r = NULL;
		return ret;
	}
	buf_consume(b, 4);
	*out_r = b;
	return ret;
}

/* Decodes to exactly (want, wlen)? */
static bool
dec_is(const char *in, const char *want, size_t wlen)
{
	struct buf *b;
	const char *err;
	bool good;

	if (dec(in, strlen(in), &b, &err) != 0)
		return false;
	good = buf_len(b) == wlen && memcmp(buf_data(b), want, wlen) == 0;
	buf_free(&b);
	return good;
}

/* Refused with an error, buffer untouched? */
static bool
dec_bad(const char *in, size_t len)
{
	struct buf *b;
	const char *err;

	return dec(in, len, &b, &err) == -1;
}

static bool
enc_is(const char *in, size_t len, const char *want)
{
	struct buf *b = buf_new(0);
	bool good;

	buf_append_str(b, ">");
	sasl_b64_encode(in, len, b);
	good = buf_len(b) == strlen(want) + 1 && buf_data(b)[0] == '>' &&
	    strcmp(buf_str(b) + 1, want) == 0;
	buf_free(&b);
	return good;
}

static void
test_b64_vectors(void)
{
	/* RFC 4648 section 10. */
	static const char *const v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	int bad_enc = 0, bad_dec = 0;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		bad_enc += !enc_is(v[i][0], strlen(v[i][0]), v[i][1]);
		bad_dec += !dec_is(v[i][1], v[i][0], strlen(v[i][0]));
	}
	is_int(bad_enc, 0, "RFC 4648 vectors encode");
	is_int(bad_dec, 0, "RFC 4648 vectors decode");
	ok(dec_is("=", "", 0), "'=' alone is the empty message");
	ok(dec_is("AA==", "\0", 1), "decodes a NUL byte");
	ok(dec_is("AP8A", "\0\xff\0", 3), "decodes NUL and 0xff");
	ok(dec_is("+/+/", "\xfb\xff\xbf", 3), "'+' and '/' decode");
	ok(enc_is("\xfb\xff\xbf", 3, "+/+/"), "'+' and '/' encode");
}

static void
test_b64_bad(void)
{
	ok(dec_bad(S("Z")), "1 character refused");
	ok(dec_bad(S("Zg")), "unpadded 2 characters refused");
	ok(dec_bad(S("Zg=")), "half-padded refused");
	ok(dec_bad(S("Zm9vY")), "length 5 refused");
	ok(dec_bad(S("Zg===")), "extra '=' refused");
	ok(dec_bad(S("==")), "'==' refused");
	ok(dec_bad(S("====")), "'====' refused");
	ok(dec_bad(S("Z===")), "three '=' refused");
	ok(dec_bad(S("=Zg=")), "leading '=' refused");
	ok(dec_bad(S("Z=g=")), "'=' inside a quantum refused");
	ok(dec_bad(S("Zg=a")), "data after '=' in a quantum refused");
	ok(dec_bad(S("Zg==Zg==")), "data after padding refused");
	ok(dec_bad(S("Zg==Zm9v")), "a quantum after padding refused");
	ok(dec_bad(S("Zm9v ")), "trailing space refused");
	ok(dec_bad(S(" Zm9v")), "leading space refused");
	ok(dec_bad(S("Zm 9v")), "inner space refused (length 5)");
	ok(dec_bad(S("Zm 9")), "inner space refused (length 4)");
	ok(dec_bad(S("Zm9v\r\n")), "CRLF refused");
	ok(dec_bad(S("Zm9v\nZm9v")), "line break refused");
	ok(dec_bad(S("Zm\t9")), "tab refused");
	ok(dec_bad(S("Zm\0v")), "NUL refused");
	ok(dec_bad(S("Zm9-")), "base64url '-' refused");
	ok(dec_bad(S("Zm9_")), "base64url '_' refused");
	ok(dec_bad(S("Zm9\xc3")), "8-bit byte refused");
	ok(dec_bad(S("Zm.v")), "'.' refused");
	ok(dec_bad(S("*")), "'*' (cancel) is not base64");
	ok(dec_bad(S("Zh==")), "non-zero bits under '==' refused");
	ok(dec_bad(S("Zm9=")), "non-zero bits under '=' refused");
	ok(dec_is("Zm8=", "fo", 2) && dec_is("Zg==", "f", 1),
	    "zero bits under padding accepted");
}

static void
test_b64_limits(void)
{
	char raw[SASL_MAX_DECODED + 2];
	struct buf *enc = buf_new(0), *b, *capped;
	const char *err;
	char *huge;
	size_t i, hlen = 10 * 1024 * 1024;

	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (char)(i * 31 + 7);
	sasl_b64_encode(raw, SASL_MAX_DECODED, enc);
	ok(dec_is(buf_str(enc), raw, SASL_MAX_DECODED),
	    "SASL_MAX_DECODED bytes decode");
	buf_reset(enc);
	sasl_b64_encode(raw, SASL_MAX_DECODED + 1, enc);
	ok(dec(buf_data(enc), buf_len(enc), &b, &err) == -1 &&
	    strstr(err, "too long") != NULL, "one byte more is refused");
	buf_free(&enc);

	/* 10 MB of valid base64: refused before any decoding. */
	huge = xmalloc(hlen);
	memset(huge, 'A', hlen);
	ok(dec(huge, hlen, &b, &err) == -1, "10 MB of base64 refused");
	free(huge);

	/* The output buffer's own cap is honoured. */
	capped = buf_new_capped(0, 4);
	ok(sasl_b64_decode(S("Zm9vYmFy"), capped, &err) == -1 &&
	    buf_len(capped) == 0, "output cap refused, buffer unchanged");
	ok(sasl_b64_decode(S("Zm9vYg=="), capped, &err) == 0 &&
	    buf_len(capped) == 4, "within the output cap");
	buf_free(&capped);
}

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint32_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 32);
}

static void
test_b64_roundtrip(void)
{
	char raw[3000];
	struct buf *enc = buf_new(0), *back;
	const char *err;
	size_t n, i;
	int bad = 0, big_bad = 0;

	for (n = 0; n <= SASL_MAX_DECODED; n++) {
		for (i = 0; i < n; i++)
			raw[i] = (char)rng();
		buf_reset(enc);
		sasl_b64_encode(raw, n, enc);
		if (dec(buf_data(enc), buf_len(enc), &back, &err) != 0) {
			bad++;
			continue;
		}
		bad += buf_len(back) != n || memcmp(buf_data(back), raw, n);
		buf_free(&back);
	}
	is_int(bad, 0, "every length 0..SASL_MAX_DECODED round trips");
	/* Encoding has no limit: 3000 bytes cross the 768-byte chunks. */
	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (char)rng();
	buf_reset(enc);
	sasl_b64_encode(raw, sizeof(raw), enc);
	big_bad = buf_len(enc) != 4000 ||
	    strspn(buf_str(enc), "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
	    "opqrstuvwxyz0123456789+/") != 4000;
	ok(!big_bad, "3000 bytes encode to 4000 characters, no breaks");
	buf_free(&enc);
}

/* PLAIN parse of exactly len bytes; fields into *z, *c, *p. */
static int
plain(const char *msg, size_t len, char **z, char **c, char **p,
    const char **err)
{
	char *copy = exact(msg, len);
	int ret;

	*err = NULL;
	ret = sasl_plain_parse(copy, len, z, c, p, err);
	free(copy);
	if (ret < 0 && (*z != NULL || *c != NULL || *p != NULL ||
	    *err == NULL))
		ret = -2;
	return ret;
}

static bool
plain_is(const char *msg, size_t len, const char *wz, const char *wc,
    const char *wp)
{
	char *z, *c, *p;
	const char *err;
	bool good;

	if (plain(msg, len, &z, &c, &p, &err) != 0)
		return false;
	good = strcmp(z, wz) == 0 && strcmp(c, wc) == 0 &&
	    strcmp(p, wp) == 0;
	free(z);
	free(c);
	free(p);
	return good;
}

/* Refused, with an error containing what (if not NULL)? */
static bool
plain_bad(const char *msg, size_t len, const char *what)
{
	char *z, *c, *p;
	const char *err;

	if (plain(msg, len, &z, &c, &p, &err) != -1)
		return false;
	if (what != NULL && strstr(err, what) == NULL) {
		diag("error was '%s'", err);
		return false;
	}
	return true;
}

/* A PLAIN message of fields of zl, cl and pl octets: parsed (with the
 * right fields) when want_ok, refused naming the 255 limit when not. */
static bool
plain_sized(size_t zl, size_t cl, size_t pl, bool want_ok)
{
	size_t len = zl + cl + pl + 2;
	char *msg = xmalloc(len);
	char *z = xmalloc(zl + 1), *c = xmalloc(cl + 1), *p = xmalloc(pl + 1);
	bool good;

	memset(msg, 'z', zl);
	msg[zl] = '\0';
	memset(msg + zl + 1, 'c', cl);
	msg[zl + 1 + cl] = '\0';
	memset(msg + zl + cl + 2, 'p', pl);
	memset(z, 'z', zl);
	z[zl] = '\0';
	memset(c, 'c', cl);
	c[cl] = '\0';
	memset(p, 'p', pl);
	p[pl] = '\0';
	good = want_ok ? plain_is(msg, len, z, c, p) :
	    plain_bad(msg, len, "255");
	free(msg);
	free(z);
	free(c);
	free(p);
	return good;
}

static void
test_plain(void)
{
	ok(plain_is(S("\0tim\0tanstaaftanstaaf"), "", "tim",
	    "tanstaaftanstaaf"), "no authzid");
	ok(plain_is(S("admin\0tim\0pw"), "admin", "tim", "pw"),
	    "with authzid");
	ok(plain_is(S("\0t\xc3\xafm@ex.org\0pass word"), "",
	    "t\xc3\xafm@ex.org", "pass word"), "UTF-8 authcid");
	ok(plain_is(S("\0tim\0\xff\xfe\x01\x7f"), "", "tim",
	    "\xff\xfe\x01\x7f"), "password may hold any octet but NUL");

	ok(plain_bad(S(""), "NUL"), "empty message refused");
	ok(plain_bad(S("timpw"), "two NUL"), "no NUL refused");
	ok(plain_bad(S("tim\0pw"), "two NUL"), "one NUL refused");
	ok(plain_bad(S("a\0tim\0pw\0"), "more than two"),
	    "trailing third NUL refused");
	ok(plain_bad(S("\0\0\0"), "more than two"), "three NULs refused");
	ok(plain_bad(S("\0\0pw"), "identity is empty"), "empty authcid");
	ok(plain_bad(S("\0tim\0"), "password is empty"), "empty password");
	ok(plain_bad(S("\0\0"), NULL), "two NULs only refused");

	/* 255 octets each is the limit (RFC 4616). */
	ok(plain_sized(255, 255, 255, true), "three 255-octet fields");
	ok(plain_sized(256, 1, 1, false), "256-octet authzid refused");
	ok(plain_sized(0, 256, 1, false), "256-octet authcid refused");
	ok(plain_sized(0, 1, 256, false), "256-octet password refused");
	ok(plain_sized(0, 1, 8000, false), "8000-octet password refused");
	ok(plain_sized(4000, 4000, 1, false), "8k message refused");

	/* Identities must be UTF-8. */
	ok(plain_bad(S("\0t\xc0\xafm\0pw"), "UTF-8"), "overlong refused");
	ok(plain_bad(S("\0t\xe0\x80\xafm\0pw"), "UTF-8"),
	    "3-byte overlong refused");
	ok(plain_bad(S("\0t\xed\xa0\x80m\0pw"), "UTF-8"),
	    "surrogate refused");
	ok(plain_bad(S("\0t\xf4\x90\x80\x80\0pw"), "UTF-8"),
	    "beyond U+10FFFF refused");
	ok(plain_bad(S("\0tim\xc3\0pw"), "UTF-8"), "truncated refused");
	ok(plain_bad(S("\0t\x80m\0pw"), "UTF-8"),
	    "stray continuation refused");
	ok(plain_bad(S("\xff\0tim\0pw"), "UTF-8"), "bad authzid refused");
	ok(plain_is(S("\0\xf0\x9f\x98\x80\0pw"), "", "\xf0\x9f\x98\x80",
	    "pw"), "4-byte UTF-8 accepted");

}

/* Base64 first, as the daemons will: the decoder's bound holds before
 * PLAIN ever sees the message. */
static void
test_plain_huge(void)
{
	char big[SASL_MAX_DECODED + 1];
	struct buf *enc = buf_new(0), *b;
	const char *err;

	memset(big, 'a', sizeof(big));
	big[0] = big[10] = '\0';
	sasl_b64_encode(big, sizeof(big), enc);
	ok(dec(buf_data(enc), buf_len(enc), &b, &err) == -1,
	    "a huge PLAIN message stops at the decoder");
	buf_free(&enc);
}

static int
cram(const char *msg, size_t len, char **u, char **d, const char **err)
{
	char *copy = exact(msg, len);
	int ret;

	*err = NULL;
	ret = sasl_cram_parse(copy, len, u, d, err);
	free(copy);
	if (ret < 0 && (*u != NULL || *d != NULL || *err == NULL))
		ret = -2;
	return ret;
}

static bool
cram_is(const char *msg, size_t len, const char *wu, const char *wd)
{
	char *u, *d;
	const char *err;
	bool good;

	if (cram(msg, len, &u, &d, &err) != 0)
		return false;
	good = strcmp(u, wu) == 0 && strcmp(d, wd) == 0;
	free(u);
	free(d);
	return good;
}

static bool
cram_bad(const char *msg, size_t len)
{
	char *u, *d;
	const char *err;

	return cram(msg, len, &u, &d, &err) == -1;
}

static void
test_cram_parse(void)
{
	char big[400], user[256];

	ok(cram_is(S("tim b913a602c7eda7a495b4e6e7334d3890"), "tim", digest),
	    "RFC 2195 response");
	ok(cram_is(S("tim B913A602C7EDA7A495B4E6E7334D3890"), "tim", digest),
	    "upper-case digest is lower-cased");
	ok(cram_is(S("Tim Smith b913a602c7eda7a495b4e6e7334d3890"),
	    "Tim Smith", digest), "user ends at the last space");
	ok(cram_is(S("t\xc3\xafm@ex.org b913a602c7eda7a495b4e6e7334d3890"),
	    "t\xc3\xafm@ex.org", digest), "UTF-8 user");

	ok(cram_bad(S("")), "empty response refused");
	ok(cram_bad(S("timb913a602c7eda7a495b4e6e7334d3890")), "no space");
	ok(cram_bad(S(" b913a602c7eda7a495b4e6e7334d3890")), "empty user");
	ok(cram_bad(S("tim b913a602c7eda7a495b4e6e7334d389")), "31 digits");
	ok(cram_bad(S("tim b913a602c7eda7a495b4e6e7334d38900")),
	    "33 digits");
	ok(cram_bad(S("tim b913a602c7eda7a495b4e6e7334d389g")),
	    "non-hex digit");
	ok(cram_bad(S("tim b913a602c7eda7a495b4e6e7334d3890 ")),
	    "trailing space");
	ok(cram_bad(S("tim b913a602c7eda7a495b4e6e7334d3890\r\n")),
	    "trailing CRLF");
	ok(cram_bad(S("t\x01m b913a602c7eda7a495b4e6e7334d3890")),
	    "control character in user");
	ok(cram_bad(S("t\tm b913a602c7eda7a495b4e6e7334d3890")),
	    "tab in user");
	ok(cram_bad(S("t\x7fm b913a602c7eda7a495b4e6e7334d3890")),
	    "DEL in user");
	ok(cram_bad(S("t\xc2\x85m b913a602c7eda7a495b4e6e7334d3890")),
	    "C1 control in user");
	ok(cram_bad(S("t\0m b913a602c7eda7a495b4e6e7334d3890")),
	    "NUL in user");
	ok(cram_bad(S("t\xc0\xafm b913a602c7eda7a495b4e6e7334d3890")),
	    "overlong UTF-8 in user");
	memset(user, 'u', 255);
	user[255] = '\0';
	memset(big, 'u', sizeof(big));
	big[255] = ' ';
	memcpy(big + 256, digest, 32);
	ok(cram_is(big, 288, user, digest), "255-octet user accepted");
	big[255] = 'u';
	big[256] = ' ';
	memcpy(big + 257, digest, 32);
	ok(cram_bad(big, 289), "256-octet user refused");
}

static void
test_cram_challenge(void)
{
	char *c1 = sasl_cram_challenge("mail.example.org");
	char *c2 = sasl_cram_challenge("mail.example.org");
	char *c3 = sasl_cram_challenge(NULL);
	size_t len = strlen(c1);
	const char *dot = strchr(c1, '.'), *at = strchr(c1, '@');

	ok(c1[0] == '<' && strspn(c1 + 1, "0123456789") == 20 &&
	    c1[21] == '.', "'<' then 20 digits then '.'");
	ok(dot != NULL && at != NULL && at > dot + 1 &&
	    strspn(dot + 1, "0123456789") == (size_t)(at - dot - 1),
	    "then the time in digits, then '@'");
	ok(len > 20 && strcmp(c1 + len - 18, "@mail.example.org>") == 0,
	    "ends with @hostname>");
	ok(strcmp(c1, c2) != 0, "two challenges differ");
	ok(strstr(c3, "@localhost>") != NULL, "no hostname: localhost");
	free(c1);
	free(c2);
	free(c3);
}

/* Every prefix of a valid input through every parser: no crash, no
 * read past the end (ASan), no leak, errors leave outputs NULL. */
static void
test_prefixes(void)
{
	static const struct { const char *s; size_t len; } in[] = {
		{ S("admin\0tim\0tanstaaftanstaaf") },
		{ S("\0t\xc3\xafm\0\xf0\x9f\x98\x80pw") },
		{ S("Tim Smith b913a602c7eda7a495b4e6e7334d3890") },
		{ S("AGFkbWluAHRpbQBwdw==") },
		{ S("Zm9vYmE=") },
		{ S("=") },
	};
	char *a, *b, *c;
	const char *err;
	struct buf *out;
	size_t i, n;
	int bad = 0, ok_b64 = 0, ok_plain = 0, ok_cram = 0;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		for (n = 0; n <= in[i].len; n++) {
			switch (dec(in[i].s, n, &out, &err)) {
			case 0:
				ok_b64++;
				buf_free(&out);
				break;
			case -1:
				break;
			default:
				bad++;
			}
			switch (plain(in[i].s, n, &a, &b, &c, &err)) {
			case 0:
				ok_plain++;
				free(a);
				free(b);
				free(c);
				break;
			case -1:
				break;
			default:
				bad++;
			}
			switch (cram(in[i].s, n, &a, &b, &err)) {
			case 0:
				ok_cram++;
				free(a);
				free(b);
				break;
			case -1:
				break;
			default:
				bad++;
			}
		}
	is_int(bad, 0, "every prefix: clean failure or success");
	/* Base64: the 6 empty prefixes, "admi" (valid base64 too), the
	 * 5 whole quanta of the PLAIN message, 2 of "Zm9vYmE=", "=". */
	is_int(ok_b64, 6 + 1 + 5 + 2 + 1, "the prefixes that are base64");
	/* PLAIN: 16 prefixes of one password, 6 of the other (any octets,
	 * so a split 4-byte character is fine there). */
	is_int(ok_plain, 16 + 6, "the prefixes that are PLAIN");
	is_int(ok_cram, 1, "only the whole CRAM response");
}

int
main(void)
{
	plan(99);
	test_b64_vectors();
	test_b64_bad();
	test_b64_limits();
	test_b64_roundtrip();
	test_plain();
	test_plain_huge();
	test_cram_parse();
	test_cram_challenge();
	test_prefixes();
	return done_testing();
}
