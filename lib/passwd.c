/* passwd - password hashes, the password policy, CRAM-MD5 secrets; see
 * passwd.h.  Nothing here logs: a password must never reach a log line. */
#include <crypt.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/*
 * CRAM-MD5 secrets are MD5 states part-way through HMAC, so we need the
 * low-level MD5 API (MD5_CTX and its public A..D, Nl, Nh, num fields):
 * EVP cannot start from a saved state.  It is deprecated in OpenSSL 3,
 * not gone; this file alone asks for it.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/md5.h>

#include "addr.h"
#include "conf.h"
#include "hex.h"
#include "passwd.h"
#include "xalloc.h"

/* HMAC block size for MD5 (RFC 2104 "B"). */
#define PASSWD_HMAC_BLOCK 64
#define PASSWD_CRAM_HEX   64   /* two 16-byte MD5 states */
/* libxcrypt refuses (ERANGE) a passphrase of CRYPT_MAX_PASSPHRASE_SIZE
 * bytes or more. */
#define PASSWD_MAX_BYTES  (CRYPT_MAX_PASSPHRASE_SIZE - 1)
_Static_assert(PASSWD_MAX_BYTES == 511, "policy sentence says 511");

char *
passwd_hash(const char *password, const char **error_r)
{
	const char *scheme = conf_str("password_hash");
	long long rounds = conf_int("password_hash_rounds");
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *prefix;
	char *out = NULL;

	ASSERT(password != NULL);
	if (strcmp(scheme, "yescrypt") == 0)
		prefix = "$y$";
	else if (strcmp(scheme, "sha512crypt") == 0)
		prefix = "$6$";
	else
		BUG("password_hash '%s' not handled", scheme);
	if (strlen(password) > PASSWD_MAX_BYTES) {
		*error_r = "password is too long to hash";
		return NULL;
	}
	if (rounds < 0) {
		*error_r = "password_hash_rounds must not be negative";
		return NULL;
	}
	/* libxcrypt would quietly raise 1..999 to 1000 SHA-512 rounds,
	 * fewer than its default of 5000: an admin asking for a cost
	 * must not get a weaker hash than asking for none. */
	if (prefix[1] == '6' && rounds > 0 && rounds < 1000) {
		*error_r = "password_hash_rounds must be 0 or at least 1000 "
		    "for sha512crypt";
		return NULL;
	}
	/* NULL rbytes: libxcrypt reads the salt from the OS random source.
	 * SHA-512-crypt clamps rounds to 1000..999999999 itself; yescrypt
	 * refuses anything but 1..11 (EINVAL). */
	errno = 0;
	if (crypt_gensalt_rn(prefix, (unsigned long)rounds, NULL, 0, setting,
	    sizeof(setting)) == NULL || setting[0] == '*') {
		*error_r = errno == EINVAL ?
		    "password_hash_rounds is out of range for password_hash" :
		    "cannot make a password salt";
		return NULL;
	}
	/* struct crypt_data is about 32k: keep it off the stack. */
	cd = xcalloc(1, sizeof(*cd));
	if (crypt_rn(password, setting, cd, sizeof(*cd)) == NULL ||
	    cd->output[0] == '*')
		*error_r = "cannot hash the password";
	else
		out = xstrdup(cd->output);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return out;
}

int
passwd_verify(const char *password, const char *hash)
{
	struct crypt_data *cd;
	size_t len;
	int ret;

	ASSERT(password != NULL);
	if (hash == NULL || hash[0] == '\0' || hash[0] == '*' ||
	    hash[0] == '!')
		return 0;
	/*
	 * Only the "$id$" family.  libxcrypt would also take any string
	 * that starts with two salt characters as a DES crypt hash, so a
	 * garbage hash would quietly be "wrong password" instead of an
	 * error, and DES crypt ignores all but 8 characters anyway.
	 */
	if (hash[0] != '$')
		return -1;
	/* No hash can be made of it, so none matches it. */
	if (strlen(password) > PASSWD_MAX_BYTES)
		return 0;
	cd = xcalloc(1, sizeof(*cd));
	len = strlen(hash);
	if (crypt_rn(password, hash, cd, sizeof(*cd)) == NULL ||
	    cd->output[0] == '*')
		ret = -1;
	else if (strlen(cd->output) != len)
		/* The output's length depends on the hash alone, never on
		 * the password: a different length means the stored hash
		 * is truncated or only a setting ("$6$salt"). */
		ret = -1;
	else
		ret = CRYPTO_memcmp(cd->output, hash, len) == 0;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ret;
}

/*
 * Policy.  Letters, digits and symbols are ASCII only: a byte >= 0x80 is
 * part of some non-ASCII character, which counts towards the length but
 * as none of capital, lower case, number or symbol (we cannot tell the
 * case of every script, and would rather under- than over-count).  A
 * symbol is any other printable ASCII character, space included.
 */
struct passwd_classes {
	size_t chars;
	bool control, number, capital, lower, symbol;
};

static void
passwd_classify(const char *password, struct passwd_classes *cl)
{
	const unsigned char *p = (const unsigned char *)password;
	size_t len = strlen(password), i = 0, n;

	memset(cl, 0, sizeof(*cl));
	while (i < len) {
		unsigned char c = p[i];

		cl->chars++;
		if (c >= 0x80) {
			/* Count a valid UTF-8 sequence as one character,
			 * each byte of anything else as one.  U+0080..
			 * U+009F (C2 80..C2 9F) are C1 controls. */
			n = addr_utf8_len(password + i, len - i);
			if (n == 2 && c == 0xc2 && p[i + 1] < 0xa0)
				cl->control = true;
			i += n == 0 ? 1 : n;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			cl->control = true;
		else if (c >= '0' && c <= '9')
			cl->number = true;
		else if (c >= 'A' && c <= 'Z')
			cl->capital = true;
		else if (c >= 'a' && c <= 'z')
			cl->lower = true;
		else
			cl->symbol = true;
		i++;
	}
}

/* ASCII case-insensitive equality of password and s[0..len). */
static bool
passwd_eq_fold(const char *password, const char *s, size_t len)
{
	size_t i;

	if (strlen(password) != len)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char a = (unsigned char)password[i];
		unsigned char b = (unsigned char)s[i];

		if (a >= 'A' && a <= 'Z')
			a += 'a' - 'A';
		if (b >= 'A' && b <= 'Z')
			b += 'a' - 'A';
		if (a != b)
			return false;
	}
	return true;
}

static bool
passwd_is_user(const char *password, const char *user)
{
	const char *at;

	if (user == NULL || user[0] == '\0')
		return false;
	if (passwd_eq_fold(password, user, strlen(user)))
		return true;
	/* The last '@' ends the local part (a quoted local part may hold
	 * an '@' of its own). */
	at = strrchr(user, '@');
	return at != NULL && at != user &&
	    passwd_eq_fold(password, user, (size_t)(at - user));
}

int
passwd_policy_check(const char *password, const char *user,
    const char **why_r)
{
	/* The minimum is configurable, so that one sentence is built;
	 * per thread, valid until this thread's next call. */
	static _Thread_local char too_short[64];
	long long min = conf_int("password_min_length");
	struct passwd_classes cl;

	ASSERT(password != NULL);
	passwd_classify(password, &cl);
	if (cl.control) {
		*why_r = "must not contain control characters";
		return -1;
	}
	if (strlen(password) > PASSWD_MAX_BYTES) {
		*why_r = "must be at most 511 bytes long";
		return -1;
	}
	if (min > 0 && cl.chars < (unsigned long long)min) {
		snprintf(too_short, sizeof(too_short),
		    "must be at least %lld characters long", min);
		*why_r = too_short;
		return -1;
	}
	if (conf_bool("password_require_number") && !cl.number) {
		*why_r = "must contain a number";
		return -1;
	}
	if (conf_bool("password_require_capital") && !cl.capital) {
		*why_r = "must contain a capital letter";
		return -1;
	}
	if (conf_bool("password_require_lower") && !cl.lower) {
		*why_r = "must contain a lower case letter";
		return -1;
	}
	if (conf_bool("password_require_symbol") && !cl.symbol) {
		*why_r = "must contain a symbol";
		return -1;
	}
	if (conf_bool("password_not_username") &&
	    passwd_is_user(password, user)) {
		*why_r = "must not be the user name";
		return -1;
	}
	*why_r = NULL;
	return 0;
}

/*
 * CRAM-MD5 secrets.  HMAC-MD5(K, m) = MD5(K^opad || MD5(K^ipad || m))
 * (RFC 2104).  K^ipad and K^opad are each exactly one MD5 block, so the
 * state after compressing each is all that depends on the password; we
 * store those two states and resume from them for each challenge.
 *
 * Layout, as Dovecot's {CRAM-MD5} scheme so its secrets carry over: the
 * outer state's A, B, C, D words, then the inner state's, each word
 * little-endian, as 64 lower-case hex digits.
 */
struct passwd_cram_state {
	MD5_LONG outer[4], inner[4];
};

static void
passwd_cram_block(const unsigned char *key, size_t keylen, unsigned char pad,
    MD5_LONG state_r[4])
{
	unsigned char block[PASSWD_HMAC_BLOCK];
	MD5_CTX ctx;
	size_t i;

	for (i = 0; i < sizeof(block); i++)
		block[i] = (unsigned char)((i < keylen ? key[i] : 0) ^ pad);
	MD5_Init(&ctx);
	MD5_Update(&ctx, block, sizeof(block));
	/* Exactly one block in: it is compressed, nothing is pending. */
	ASSERT(ctx.num == 0);
	state_r[0] = ctx.A;
	state_r[1] = ctx.B;
	state_r[2] = ctx.C;
	state_r[3] = ctx.D;
	OPENSSL_cleanse(block, sizeof(block));
	OPENSSL_cleanse(&ctx, sizeof(ctx));
}

char *
passwd_cram_secret(const char *password)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char keyhash[MD5_DIGEST_LENGTH];
	const unsigned char *key = (const unsigned char *)password;
	size_t keylen = strlen(password), w, b;
	struct passwd_cram_state st;
	MD5_LONG *words[2] = { st.outer, st.inner };
	char *out = xmalloc(PASSWD_CRAM_HEX + 1), *o = out;

	/* RFC 2104 section 2: a key longer than the block is hashed. */
	if (keylen > PASSWD_HMAC_BLOCK) {
		MD5(key, keylen, keyhash);
		key = keyhash;
		keylen = sizeof(keyhash);
	}
	passwd_cram_block(key, keylen, 0x5c, st.outer);
	passwd_cram_block(key, keylen, 0x36, st.inner);
	for (w = 0; w < 8; w++) {
		MD5_LONG v = words[w / 4][w % 4];

		for (b = 0; b < 4; b++) {
			unsigned char c = (unsigned char)(v >> (8 * b));

			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	OPENSSL_cleanse(keyhash, sizeof(keyhash));
	OPENSSL_cleanse(&st, sizeof(st));
	return out;
}


/* Exactly 2*n hex digits (any case) in s into out[n]; 0 or -1. */
static int
passwd_unhex(const char *s, unsigned char *out, size_t n)
{
	size_t i;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		int c = hex_byte(s + 2 * i);

		if (c < 0)
			return -1;
		out[i] = (unsigned char)c;
	}
	return 0;
}

/* An MD5 context that has consumed one block and ended in state w. */
static void
passwd_cram_resume(MD5_CTX *ctx, const unsigned char *bytes)
{
	MD5_LONG w[4];
	size_t i;

	for (i = 0; i < 4; i++)
		w[i] = (MD5_LONG)bytes[4 * i] |
		    (MD5_LONG)bytes[4 * i + 1] << 8 |
		    (MD5_LONG)bytes[4 * i + 2] << 16 |
		    (MD5_LONG)bytes[4 * i + 3] << 24;
	MD5_Init(ctx);
	ctx->A = w[0];
	ctx->B = w[1];
	ctx->C = w[2];
	ctx->D = w[3];
	/* The length counter is in bits: the final padding must count
	 * the key block already consumed. */
	ctx->Nl = PASSWD_HMAC_BLOCK * 8;
	ctx->Nh = 0;
	ctx->num = 0;
}

int
passwd_cram_verify(const char *secret, const char *challenge,
    size_t challenge_len, const char *digest_hex)
{
	unsigned char st[PASSWD_CRAM_HEX / 2];
	unsigned char want[MD5_DIGEST_LENGTH], inner[MD5_DIGEST_LENGTH];
	unsigned char got[MD5_DIGEST_LENGTH];
	MD5_CTX ctx;
	int ret;

	if (secret == NULL || digest_hex == NULL ||
	    passwd_unhex(secret, st, sizeof(st)) < 0 ||
	    passwd_unhex(digest_hex, want, sizeof(want)) < 0)
		return -1;
	passwd_cram_resume(&ctx, st + 16);          /* inner */
	MD5_Update(&ctx, challenge, challenge_len);
	MD5_Final(inner, &ctx);
	passwd_cram_resume(&ctx, st);               /* outer */
	MD5_Update(&ctx, inner, sizeof(inner));
	MD5_Final(got, &ctx);
	ret = CRYPTO_memcmp(got, want, sizeof(got)) == 0;
	OPENSSL_cleanse(st, sizeof(st));
	OPENSSL_cleanse(&ctx, sizeof(ctx));
	return ret;
}
