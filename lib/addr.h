/*
 * addr - parse and normalise e-mail addresses (RFC 5321, RFC 6531).
 *
 * One parser for every place an address comes from: the MAIL FROM and
 * RCPT TO paths in smtpd, and user and alias addresses in config files.
 * What it returns is canonical, so two spellings of one mailbox compare
 * equal with strcmp() (after addr_local_lower() where the caller wants
 * case-insensitive local parts):
 *
 *   local part  kept byte for byte in case; a quoted local part whose
 *               content is a valid dot-string loses its quotes ("a.b" ->
 *               a.b), anything else stays quoted with only \" and \\
 *               escaped ("a\ b" -> "a b").
 *   domain      lowercase; UTF-8 labels become A-labels (xn--...) through
 *               libidn2 (IDNA2008, UTS #46 non-transitional); address
 *               literals are kept as literals, the IP re-printed
 *               ([IPv6:0:0::1] -> [IPv6:::1]).
 *
 * Input is a pointer and a length: it need not be NUL-terminated, and a
 * NUL inside it is refused like any other control character.  Limits are
 * RFC 5321 4.5.3.1: local part 64 octets (as written), domain 255, label
 * 63, whole path 256 including brackets and source route.
 *
 * Error strings are static, short and fit in an SMTP reply
 * ("501 5.1.3 domain label too long").
 */
#ifndef TERN_ADDR_H
#define TERN_ADDR_H

#include <stdbool.h>
#include <stddef.h>

struct addr {
	/* Canonical local part: a dot-string, or a quoted string that
	 * starts with '"'.  NULL only for the null path. */
	char *local;
	/* Lowercase A-label domain or "[literal]"; NULL for the null path
	 * and for a bare postmaster (ADDR_ALLOW_POSTMASTER). */
	char *domain;
	bool null_path;         /* "<>" */
	bool utf8;              /* local part has non-ASCII: needs SMTPUTF8 */
};

enum addr_flags {
	/* Input is an RFC 5321 Path "<...>", not a bare mailbox. */
	ADDR_PATH = 1,
	/* With ADDR_PATH: accept the null reverse-path "<>". */
	ADDR_ALLOW_NULL = 2,
	/* With ADDR_PATH: accept and drop a source route "<@a,@b:u@c>"
	 * (RFC 5321 4.1.1.3); without it a route is refused. */
	ADDR_ALLOW_ROUTE = 4,
	/* With ADDR_PATH: also accept the path without its brackets, as
	 * many MTAs do ("MAIL FROM:a@b"). */
	ADDR_NO_BRACKETS_OK = 8,
	/* Accept UTF-8 in the local part and the domain (RFC 6531).
	 * Without it any byte >= 0x80 is refused. */
	ADDR_SMTPUTF8 = 16,
	/* Accept "postmaster" (any case) with no domain, as RFC 5321 4.5.1
	 * requires for RCPT TO:<Postmaster>; the domain is then NULL. */
	ADDR_ALLOW_POSTMASTER = 32,
	/* Refuse address literals ([1.2.3.4]) in the domain. */
	ADDR_NO_LITERAL = 64,
};

/*
 * Parse s[0..len) as flags say.  On success fill *a_r (release it with
 * addr_release()) and return 0.  On failure return -1, leave *a_r all
 * zero (nothing to release) and set *error_r to a static reason.
 *
 * Relay hacks ("a%b@c", "a!b@c", "\"a@b\"@c") are valid syntax and are
 * accepted; ask addr_has_relay_chars() to refuse them.
 */
int addr_parse(const char *s, size_t len, unsigned flags, struct addr *a_r,
    const char **error_r);

/* Free what addr_parse() put in *a and zero it; safe to call twice. */
void addr_release(struct addr *a);

/* "local@domain", "local" for a bare postmaster, "" for the null path.
 * Always a fresh string for the caller to free. */
char *addr_format(const struct addr *a);

/* The local part with ASCII A-Z folded to a-z (UTF-8 left alone), as a
 * case-insensitive comparison key; "" for the null path.  Caller frees. */
char *addr_local_lower(const struct addr *a);

/* True when the local part holds '%' or '!' (or, quoted, '@'): the old
 * relay syntaxes that smtpd refuses rather than guess at. */
bool addr_has_relay_chars(const struct addr *a);

/*
 * Normalise a domain name alone (config files): UTF-8 accepted and turned
 * into A-labels, address literals refused.  On success *out_r is a fresh
 * string and 0 is returned; on failure -1 and a static *error_r.
 */
int addr_domain_normalise(const char *s, size_t len, char **out_r,
    const char **error_r);

/*
 * How many bytes of s the path at its start occupies, for splitting
 * "MAIL FROM:<path> SIZE=10" into path and parameters: up to and including
 * the '>' that closes a leading '<', or up to the first space; a '>' or a
 * space inside a quoted local part does not count.  Returns len when the
 * end is not found (addr_parse() then says what is wrong).
 */
size_t addr_path_span(const char *s, size_t len);

/* The pieces addr_parse() is built from; usable alone. */

/*
 * Parse the local part at the start of s[0..len): it ends at the first
 * '@' outside quotes or at len, and that position is stored in *used_r.
 * Only ADDR_SMTPUTF8 in flags matters.  On success *local_r is the
 * canonical local part (fresh string) and 0 is returned.
 */
int addr_local_parse(const char *s, size_t len, unsigned flags,
    size_t *used_r, char **local_r, const char **error_r);

/*
 * Parse all of s[0..len) as a domain or an address literal; ADDR_SMTPUTF8
 * and ADDR_NO_LITERAL in flags matter.  On success *out_r is the canonical
 * domain (fresh string) and 0 is returned.
 */
int addr_domain_parse(const char *s, size_t len, unsigned flags,
    char **out_r, const char **error_r);

/* Length of the valid UTF-8 character at the start of s[0..len) (1 for
 * ASCII), or 0 if it is truncated, overlong, a surrogate or > U+10FFFF. */
size_t addr_utf8_len(const char *s, size_t len);

#endif
