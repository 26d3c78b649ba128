/* Tests for lib/passwd: crypt hashes, the password policy, CRAM-MD5. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "conf.h"
#include "passwd.h"
#include "tap.h"
#include "xalloc.h"

/* Set a config key; a failure is a broken test, not a failed one. */
static void
set(const char *key, const char *value)
{
	char *err = NULL;

	if (conf_set(key, value, &err) < 0)
		BUG("conf_set %s=%s: %s", key, value, err);
}

/* `openssl passwd -6 -salt saltsalt secret`: computed outside libxcrypt,
 * so it checks our use of it. */
static const char sha_secret[] = "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRst"
    "iNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1";

static bool
starts(const char *s, const char *prefix)
{
	return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
test_hash_scheme(const char *scheme, const char *prefix)
{
	const char *err = NULL;
	char *h1, *h2, name[128];

	set("password_hash", scheme);
	h1 = passwd_hash("Correct horse 1", &err);
	h2 = passwd_hash("Correct horse 1", &err);
	snprintf(name, sizeof(name), "%s: hash starts with %s", scheme,
	    prefix);
	ok(starts(h1, prefix) && starts(h2, prefix), name);
	snprintf(name, sizeof(name), "%s: right password verifies", scheme);
	is_int(passwd_verify("Correct horse 1", h1), 1, name);
	snprintf(name, sizeof(name), "%s: wrong password does not", scheme);
	is_int(passwd_verify("Correct horse 2", h1), 0, name);
	snprintf(name, sizeof(name), "%s: case matters", scheme);
	is_int(passwd_verify("correct horse 1", h1), 0, name);
	snprintf(name, sizeof(name), "%s: prefix of the password fails",
	    scheme);
	is_int(passwd_verify("Correct horse ", h1), 0, name);
	snprintf(name, sizeof(name), "%s: two hashes differ (salt)", scheme);
	ok(h1 != NULL && h2 != NULL && strcmp(h1, h2) != 0, name);
	snprintf(name, sizeof(name), "%s: second hash verifies too", scheme);
	is_int(passwd_verify("Correct horse 1", h2), 1, name);
	free(h1);
	free(h2);
}

static void
test_hash(void)
{
	const char *err = NULL;
	char longpw[2001], *h;

	conf_load_defaults();
	test_hash_scheme("yescrypt", "$y$");
	test_hash_scheme("sha512crypt", "$6$");

	/* Empty and long passwords hash and verify. */
	h = passwd_hash("", &err);
	ok(h != NULL && passwd_verify("", h) == 1 &&
	    passwd_verify("x", h) == 0, "empty password round trip");
	free(h);
	/* libxcrypt's limit: 511 bytes hash, 512 do not. */
	memset(longpw, 'q', 511);
	longpw[511] = '\0';
	set("password_hash", "yescrypt");
	h = passwd_hash(longpw, &err);
	ok(h != NULL && passwd_verify(longpw, h) == 1, "511-byte password");
	longpw[510] = 'r';
	is_int(passwd_verify(longpw, h), 0, "last byte of 511 matters");
	memset(longpw, 'q', 512);
	longpw[512] = '\0';
	is_int(passwd_verify(longpw, h), 0,
	    "512-byte password is 0, not an error");
	free(h);
	err = NULL;
	h = passwd_hash(longpw, &err);
	ok(h == NULL && err != NULL, "512-byte password cannot be hashed");
	memset(longpw, 'q', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	is_int(passwd_verify(longpw, sha_secret), 0,
	    "2000-byte password is 0");

	/* Cost: yescrypt takes 1..11 (5 is the default, "j9T"); the
	 * parameter field changes.  11 is seconds per hash: not here. */
	set("password_hash_rounds", "3");
	h = passwd_hash("pw", &err);
	ok(starts(h, "$y$j7T$") && passwd_verify("pw", h) == 1,
	    "yescrypt rounds 3 used and verifies");
	free(h);
	set("password_hash_rounds", "1");
	h = passwd_hash("pw", &err);
	ok(starts(h, "$y$j75$") && passwd_verify("pw", h) == 1,
	    "yescrypt rounds 1 used and verifies");
	free(h);
	/* sha512crypt would raise 1..999 to 1000, below its default. */
	set("password_hash", "sha512crypt");
	err = NULL;
	h = passwd_hash("pw", &err);
	ok(h == NULL && err != NULL && strstr(err, "1000") != NULL,
	    "sha512crypt refuses rounds below 1000");
	set("password_hash_rounds", "0");
	h = passwd_hash("pw", &err);
	ok(starts(h, "$6$") && strstr(h, "rounds=") == NULL,
	    "sha512crypt rounds 0 is libxcrypt's default");
	free(h);
	conf_load_defaults();
}

static void
test_verify_fixed(void)
{
	const char *sha = sha_secret;
	/* Python's crypt.crypt('secret', '$y$j9T$saltsaltsaltsaltsalt$'). */
	static const char yes[] =
	    "$y$j9T$saltsaltsaltsaltsalt$N.44bTTVedjKfuW7ar67CoWirFXUzuQT9Fy"
	    ".bPddci7";
	/* `openssl passwd -1 -salt saltsalt secret`: old md5crypt hashes
	 * from a migration still verify. */
	static const char md5[] = "$1$saltsalt$9xy1btjgzLYfb7hivXtC//";
	char buf[256];

	is_int(passwd_verify("secret", sha), 1, "fixed sha512crypt hash");
	is_int(passwd_verify("Secret", sha), 0, "fixed sha512crypt, wrong");
	is_int(passwd_verify("secret", yes), 1, "fixed yescrypt hash");
	is_int(passwd_verify("secreT", yes), 0, "fixed yescrypt, wrong");
	is_int(passwd_verify("secret", md5), 1, "fixed md5crypt hash");

	/* Locked accounts: never a match, never an error. */
	snprintf(buf, sizeof(buf), "!%s", sha);
	is_int(passwd_verify("secret", buf), 0, "'!'-locked hash is 0");
	snprintf(buf, sizeof(buf), "*%s", sha);
	is_int(passwd_verify("secret", buf), 0, "'*'-locked hash is 0");
	is_int(passwd_verify("secret", "*"), 0, "'*' is 0");
	is_int(passwd_verify("secret", "!"), 0, "'!' is 0");
	is_int(passwd_verify("secret", "!!"), 0, "'!!' is 0");
	is_int(passwd_verify("", ""), 0, "empty hash is 0");
	is_int(passwd_verify("secret", NULL), 0, "no hash is 0");

	/* Not a hash we understand. */
	is_int(passwd_verify("secret", "garbage"), -1, "garbage is -1");
	is_int(passwd_verify("secret", "abzlUXK5ed5rs"), -1,
	    "DES crypt is refused");
	is_int(passwd_verify("secret", "$x$abc$def"), -1,
	    "unknown $x$ is -1");
	is_int(passwd_verify("secret", "$6$saltsalt"), -1,
	    "a bare setting is -1");
	is_int(passwd_verify("secret", "$6$saltsalt$TVLlQcbpFVof5W3Y"), -1,
	    "a truncated hash is -1");
	snprintf(buf, sizeof(buf), "%sx", sha);
	is_int(passwd_verify("secret", buf), -1, "trailing junk is -1");
	is_int(passwd_verify("secret", "$y$"), -1, "'$y$' alone is -1");
	is_int(passwd_verify("secret", "$"), -1, "'$' alone is -1");
}

/* Policy outcome as a string: "ok" or the sentence. */
static const char *
policy(const char *pw, const char *user)
{
	const char *why = "unset";

	if (passwd_policy_check(pw, user, &why) == 0)
		return why == NULL ? "ok" : "ok but why set";
	return why;
}

static void
test_policy(void)
{
	conf_load_defaults();
	/* Defaults: 8 characters, a number, not the user name. */
	is_str(policy("abcdefg1", "tim"), "ok", "defaults: good password");
	is_str(policy("abcdef1", "tim"),
	    "must be at least 8 characters long", "defaults: too short");
	is_str(policy("", "tim"), "must be at least 8 characters long",
	    "empty password too short");
	is_str(policy("abcdefgh", "tim"), "must contain a number",
	    "defaults: needs a number");
	is_str(policy("abcdefgh", NULL), "must contain a number",
	    "no user: still needs a number");
	is_str(policy("12345678", "tim"), "ok",
	    "defaults need no letters");

	set("password_min_length", "12");
	is_str(policy("abcdefghij1", "tim"),
	    "must be at least 12 characters long", "min length 12 named");
	is_str(policy("abcdefghijk1", "tim"), "ok", "12 is enough");
	set("password_min_length", "8");

	/* Characters, not bytes: é is one. */
	is_str(policy("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
	    "\xa9" "1", "tim"), "ok", "8 UTF-8 characters are 8");
	is_str(policy("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9" "1",
	    "tim"), "must be at least 8 characters long",
	    "7 UTF-8 characters in 13 bytes are too few");
	is_str(policy("\xff\xfe\xfd\xfc\xfb\xfa\xf9" "1", "tim"), "ok",
	    "invalid UTF-8 counts byte by byte");

	set("password_require_number", "no");
	is_str(policy("abcdefgh", "tim"), "ok", "number rule off");

	set("password_require_capital", "yes");
	is_str(policy("abcdefgh", "tim"), "must contain a capital letter",
	    "capital rule fails");
	is_str(policy("abcdEfgh", "tim"), "ok", "capital rule passes");
	is_str(policy("\xc3\x89\xc3\x89\xc3\x89\xc3\x89\xc3\x89\xc3\x89\xc3"
	    "\x89\xc3\x89", "tim"), "must contain a capital letter",
	    "non-ASCII capital does not count");
	set("password_require_capital", "no");

	set("password_require_lower", "yes");
	is_str(policy("ABCDEFGH", "tim"), "must contain a lower case letter",
	    "lower rule fails");
	is_str(policy("ABCDEFgH", "tim"), "ok", "lower rule passes");
	set("password_require_lower", "no");

	set("password_require_symbol", "yes");
	is_str(policy("abcdefg1", "tim"), "must contain a symbol",
	    "symbol rule fails");
	is_str(policy("abcd~fg1", "tim"), "ok", "tilde is a symbol");
	is_str(policy("abcd fg1", "tim"), "ok", "space is a symbol");
	is_str(policy("abcd\xc3\xa9" "fg1", "tim"), "must contain a symbol",
	    "non-ASCII is not a symbol");
	set("password_require_symbol", "no");

	/* Several rules on: the first broken one is named. */
	set("password_require_number", "yes");
	set("password_require_capital", "yes");
	set("password_require_symbol", "yes");
	is_str(policy("Abcdefg!", "tim"), "must contain a number",
	    "number checked before capital and symbol");
	is_str(policy("abcdefg1", "tim"), "must contain a capital letter",
	    "capital checked before symbol");
	is_str(policy("Abcdefg1", "tim"), "must contain a symbol",
	    "symbol last");
	is_str(policy("Abcdef!1", "tim"), "ok", "all rules met");
	conf_load_defaults();

	/* Not the user name: local part or whole address, any case. */
	is_str(policy("timothy12", "timothy12@example.com"),
	    "must not be the user name", "local part refused");
	is_str(policy("TimOthy12", "timothy12@example.com"),
	    "must not be the user name", "local part, other case");
	is_str(policy("Timothy12@Example.COM", "timothy12@example.com"),
	    "must not be the user name", "whole address refused");
	is_str(policy("timothy12", "timothy12"),
	    "must not be the user name", "bare user name refused");
	is_str(policy("timothy123", "timothy12@example.com"), "ok",
	    "longer than the user name passes");
	is_str(policy("example.com1", "example.com1@x"),
	    "must not be the user name", "the last @ ends the local part");
	is_str(policy("xample.com1", "example.com1@x"), "ok",
	    "a substring of the user passes");
	is_str(policy("timothy12", ""), "ok", "empty user");
	is_str(policy("timothy12", "@timothy12"), "ok",
	    "empty local part is not compared");
	set("password_not_username", "no");
	is_str(policy("timothy12", "timothy12@example.com"), "ok",
	    "user-name rule off");
	conf_load_defaults();

	/* Control characters, whatever else is on or off. */
	is_str(policy("abcdefg1\x01", "tim"),
	    "must not contain control characters", "C0 control refused");
	is_str(policy("abcd\tefg1", "tim"),
	    "must not contain control characters", "tab refused");
	is_str(policy("abcdefg1\x7f", "tim"),
	    "must not contain control characters", "DEL refused");
	is_str(policy("abcdefg1\xc2\x85", "tim"),
	    "must not contain control characters", "C1 control refused");
	is_str(policy("abcdefg1\xc2\xa0", "tim"), "ok",
	    "U+00A0 is not a control");
	is_str(policy("\x01", "tim"), "must not contain control characters",
	    "controls checked before length");
}

/* Longer than libxcrypt hashes is refused by the policy too. */
static void
test_policy_long(void)
{
	char pw[513];

	memset(pw, 'a', 512);
	pw[0] = '1';
	pw[512] = '\0';
	is_str(policy(pw, "tim"), "must be at most 511 bytes long",
	    "512 bytes refused");
	pw[511] = '\0';
	is_str(policy(pw, "tim"), "ok", "511 bytes pass");
}

/* Hex of HMAC-MD5(key, msg) from OpenSSL's own HMAC. */
static void
hmac_hex(const void *key, size_t keylen, const void *msg, size_t msglen,
    char out[33], bool upper)
{
	unsigned char md[16];
	unsigned int mdlen = 0;
	size_t i;

	HMAC(EVP_md5(), key, (int)keylen, msg, msglen, md, &mdlen);
	ASSERT(mdlen == 16);
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, upper ? "%02X" : "%02x", md[i]);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t
rng(void)
{
	/* xorshift64: reproducible across runs. */
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 32);
}

static void
test_cram_random(void)
{
	char pw[301], ch[401], want[33];
	size_t i, j, pwlen, chlen;
	int bad_match = 0, bad_flip = 0, bad_form = 0, longs = 0;
	char *sec;

	for (i = 0; i < 2000; i++) {
		/* Up to 300 bytes: well past the 64-byte block. */
		pwlen = rng() % (i < 200 ? 70 : 301);
		for (j = 0; j < pwlen; j++)
			pw[j] = (char)(1 + rng() % 255);
		pw[pwlen] = '\0';
		longs += pwlen > 64;
		/* Challenges may hold any byte, NUL included, and cross
		 * the 55/56/64-byte padding boundaries. */
		chlen = rng() % 400;
		for (j = 0; j < chlen; j++)
			ch[j] = (char)(rng() % 256);
		sec = passwd_cram_secret(pw);
		bad_form += strlen(sec) != 64 ||
		    strspn(sec, "0123456789abcdef") != 64;
		hmac_hex(pw, pwlen, ch, chlen, want, i % 2 == 1);
		bad_match += passwd_cram_verify(sec, ch, chlen, want) != 1;
		want[rng() % 32] ^= 0x01;       /* '0'<->'1', 'a'<->'`'... */
		bad_flip += passwd_cram_verify(sec, ch, chlen, want) == 1;
		free(sec);
	}
	ok(longs > 100, "random passwords include many over 64 bytes");
	is_int(bad_form, 0, "secrets are 64 lower-case hex digits");
	is_int(bad_match, 0, "2000 random HMAC-MD5s verify from the secret");
	is_int(bad_flip, 0, "a changed digit never verifies");
}

static void
test_cram(void)
{
	static const char ch[] = "<1896.697170952@postoffice.reston.mci.net>";
	char *sec = passwd_cram_secret("tanstaaftanstaaf");
	char *sec2, bad[80];

	/* RFC 2195 section 2's example. */
	is_int(passwd_cram_verify(sec, ch, strlen(ch),
	    "b913a602c7eda7a495b4e6e7334d3890"), 1, "RFC 2195 example");
	is_int(passwd_cram_verify(sec, ch, strlen(ch),
	    "B913A602C7EDA7A495B4E6E7334D3890"), 1,
	    "RFC 2195 example, upper case");
	is_int(passwd_cram_verify(sec, ch, strlen(ch),
	    "b913a602c7eda7a495b4e6e7334d3891"), 0, "last digit wrong");
	is_int(passwd_cram_verify(sec, ch, strlen(ch) - 1,
	    "b913a602c7eda7a495b4e6e7334d3890"), 0, "challenge shortened");
	is_int(passwd_cram_verify(sec, ch, strlen(ch),
	    "b913a602c7eda7a495b4e6e7334d389"), -1, "31 digits is -1");
	is_int(passwd_cram_verify(sec, ch, strlen(ch),
	    "b913a602c7eda7a495b4e6e7334d38900"), -1, "33 digits is -1");
	is_int(passwd_cram_verify(sec, ch, strlen(ch),
	    "g913a602c7eda7a495b4e6e7334d3890"), -1, "non-hex digest is -1");
	is_int(passwd_cram_verify(sec, ch, strlen(ch), ""), -1,
	    "empty digest is -1");
	is_int(passwd_cram_verify(sec, ch, strlen(ch), NULL), -1,
	    "no digest is -1");

	/* The secret, any case; malformed secrets. */
	snprintf(bad, sizeof(bad), "%s", sec);
	for (size_t i = 0; bad[i] != '\0'; i++)
		if (bad[i] >= 'a' && bad[i] <= 'f')
			bad[i] -= 'a' - 'A';
	is_int(passwd_cram_verify(bad, ch, strlen(ch),
	    "b913a602c7eda7a495b4e6e7334d3890"), 1, "upper-case secret");
	bad[63] = '\0';
	is_int(passwd_cram_verify(bad, ch, strlen(ch),
	    "b913a602c7eda7a495b4e6e7334d3890"), -1, "63-digit secret is -1");
	snprintf(bad, sizeof(bad), "%s0", sec);
	is_int(passwd_cram_verify(bad, ch, strlen(ch),
	    "b913a602c7eda7a495b4e6e7334d3890"), -1, "65-digit secret is -1");
	snprintf(bad, sizeof(bad), "%s", sec);
	bad[10] = 'x';
	is_int(passwd_cram_verify(bad, ch, strlen(ch),
	    "b913a602c7eda7a495b4e6e7334d3890"), -1, "non-hex secret is -1");
	is_int(passwd_cram_verify(NULL, ch, strlen(ch),
	    "b913a602c7eda7a495b4e6e7334d3890"), -1, "no secret is -1");
	free(sec);

	/* Dovecot's {CRAM-MD5} layout (outer state first, little-endian
	 * words), so secrets move over: `doveadm pw -p password`. */
	sec = passwd_cram_secret("password");
	is_str(sec, "9186d855e11eba527a7a52ca82b313e1"
	    "80d62234f0acc9051b527243d41e2740", "same secret as Dovecot");
	free(sec);

	/* Over 64 bytes the key is MD5(password): check against HMAC. */
	sec = passwd_cram_secret("0123456789012345678901234567890123456789"
	    "0123456789012345678901234");
	sec2 = passwd_cram_secret("0123456789012345678901234567890123456789"
	    "012345678901234567890123");
	ok(strcmp(sec, sec2) != 0, "65- and 64-byte keys differ");
	free(sec);
	free(sec2);
	test_cram_random();
}

int
main(void)
{
	plan(107);
	test_hash();
	test_verify_fixed();
	test_policy();
	test_policy_long();
	test_cram();
	conf_unload();
	return done_testing();
}
