/*
 * rfc2047 - encoded words in header values ("=?UTF-8?Q?caf=C3=A9?=",
 * "=?ISO-8859-1?B?...?=") decoded to UTF-8, for searching headers as
 * people read them (IMAP SEARCH SUBJECT, FROM, HEADER ...).
 *
 * Whitespace between two encoded words is dropped (RFC 2047 6.2); text
 * outside encoded words is kept as it is.  An encoded word in a charset
 * iconv does not know, or malformed, is kept undecoded.  RFC 2231
 * language tags ("=?UTF-8*en?Q?...?=") are accepted and ignored.
 */
#ifndef TERN_RFC2047_H
#define TERN_RFC2047_H

#include <stdbool.h>
#include <stddef.h>

/* The decoded form of s[0..len) (malloc'd, NUL-terminated). */
char *rfc2047_decode(const char *s, size_t len);

struct buf;

/* s[0..len) in charset, appended to out as UTF-8 (a byte the charset
 * lacks becomes U+FFFD).  False, nothing appended, when iconv does not
 * know the charset.  Shared with lib/mime_text. */
bool rfc2047_charset_to_utf8(const char *charset, const char *s, size_t len,
    struct buf *out);

#endif
