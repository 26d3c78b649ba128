/*
 * passwd - password hashes, the password policy, CRAM-MD5 secrets.
 *
 * Hashes are crypt(3) strings from libxcrypt: yescrypt ("$y$") by default
 * or SHA-512-crypt ("$6$"), chosen by password_hash in tern.conf, with
 * password_hash_rounds as the cost (0 = libxcrypt's default).  Only the
 * auth daemon and adminctl ever see them.
 */
#ifndef TERN_PASSWD_H
#define TERN_PASSWD_H

#include <stddef.h>

/*
 * Hash password with the configured scheme and a fresh random salt.
 * Returns a malloc'd crypt string, or NULL with *error_r (static text):
 * a password over 511 bytes (libxcrypt's limit), yescrypt rounds over 11,
 * sha512crypt rounds 1..999 (libxcrypt would quietly use 1000, weaker
 * than its default of 5000).
 */
char *passwd_hash(const char *password, const char **error_r);

/*
 * 1 if password matches hash, 0 if not, -1 if hash is not a crypt string
 * this libxcrypt understands (a "*" or "!" locked hash is simply 0).  The
 * comparison takes the same time wherever the strings differ.  Only
 * "$id$" hashes are understood: DES crypt is -1, as is a truncated hash
 * or a bare setting.  A NULL or empty hash is 0; so is a password over
 * 511 bytes, of which no hash can be made.
 */
int passwd_verify(const char *password, const char *hash);

/*
 * Check password against the password_* keys of tern.conf (minimum
 * length; needs a number, a capital, a lower case letter, a symbol; not
 * the user name, compared case-insensitively with the local part and the
 * whole address).  0 if it passes, -1 with *why_r a static sentence
 * naming the rule it breaks ("must contain a number").
 *
 * Always refused: control characters (C0, DEL, C1), more than 511 bytes.
 * Length is in characters (a valid UTF-8 sequence is one, any other byte
 * one).  Number, capital, lower case are ASCII; a symbol is any other
 * printable ASCII character, space included; non-ASCII characters count
 * towards the length only.  user may be NULL or "".  The minimum-length
 * sentence holds the number, so it lives in a per-thread buffer, valid
 * until this thread's next call.
 */
int passwd_policy_check(const char *password, const char *user,
    const char **why_r);

/*
 * The CRAM-MD5 secret for password: the HMAC-MD5 inner and outer MD5
 * states after the key block, as 64 hex digits.  Enough to answer
 * CRAM-MD5 (so it is kept as secret as a hash) but not the password
 * itself.  malloc'd.  Same layout as Dovecot's {CRAM-MD5} scheme (outer
 * state first, each word little-endian, lower case), so its secrets can
 * be imported as they are.
 */
char *passwd_cram_secret(const char *password);

/*
 * Check a CRAM-MD5 response: digest_hex (32 hex digits, any case) must be
 * HMAC-MD5(password, challenge) given the stored secret.  1 match, 0 no,
 * -1 when secret or digest is malformed.  Constant-time comparison.
 */
int passwd_cram_verify(const char *secret, const char *challenge,
    size_t challenge_len, const char *digest_hex);

#endif
