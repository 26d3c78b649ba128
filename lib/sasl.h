/*
 * sasl - the SASL pieces shared by smtpd, pop3d and imapd: strict base64,
 * and parsing of the PLAIN (RFC 4616), LOGIN and CRAM-MD5 (RFC 2195)
 * exchanges.  The network daemons run the exchange and hand the result to
 * the auth daemon (lib/auth_client.h); nothing here sees a hash.
 */
#ifndef TERN_SASL_H
#define TERN_SASL_H

#include <stddef.h>

#include "buf.h"

/* Longest decoded SASL message we accept (RFC 4616 allows 255-octet
 * fields; leave room for authzid + authcid + password). */
#define SASL_MAX_DECODED 1024

/*
 * Decode base64 (RFC 4648, no line breaks, padding required, no stray
 * characters) appending to out.  "=" alone means an empty message (RFC
 * 4954); "" decodes to nothing too.  Non-zero bits under the padding
 * ("Zh==") are refused: one encoding per message.  Returns 0, or -1 with
 * *error_r (static) and out unchanged; refuses output beyond
 * SASL_MAX_DECODED (before decoding) or beyond out's cap.
 */
int sasl_b64_decode(const char *in, size_t len, struct buf *out,
    const char **error_r);
/* Append the base64 of in[0..len), no line breaks; "" for len 0 (the
 * caller sends "=" where the protocol wants it).  Passing out's cap is a
 * BUG(). */
void sasl_b64_encode(const void *in, size_t len, struct buf *out);

/*
 * PLAIN: "authzid NUL authcid NUL password".  Fields are returned
 * malloc'd; authzid may be empty.  Errors: wrong number of NULs, empty
 * authcid or password, a field over 255 octets, invalid UTF-8 in authzid
 * or authcid (the password may be any octets but NUL: legacy clients
 * send 8-bit charsets).  On error all three are NULL, *error_r static.
 */
int sasl_plain_parse(const char *msg, size_t len, char **authzid_r,
    char **authcid_r, char **password_r, const char **error_r);

/* A fresh CRAM-MD5 challenge "<random.time@hostname>", malloc'd; random
 * is 20 digits from RAND_bytes.  NULL or "" hostname: "localhost". */
char *sasl_cram_challenge(const char *hostname);

/*
 * CRAM-MD5 response "user SP 32-hex-digits": user (malloc'd) and the
 * digest (malloc'd, lower case).  The user is everything before the last
 * space: non-empty, at most 255 octets, UTF-8 without control characters.
 * Returns 0, or -1 with both NULL and *error_r static.
 */
int sasl_cram_parse(const char *msg, size_t len, char **user_r,
    char **digest_r, const char **error_r);

#endif
