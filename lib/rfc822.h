/*
 * rfc822 - the lexical layer of RFC 5322 header fields, and address lists.
 *
 * Used by lib/mime (Content-* fields, ENVELOPE) and by whoever else needs
 * to read From:/To: the way a mail client would.  Everything works on a
 * pointer and a length; NULs, 8-bit bytes, unbalanced quotes, comments
 * and brackets are all survivable: every reader consumes at least what it
 * returns, and an unterminated construct simply ends at the end of input.
 *
 * Text handed back is "cooked": quoting and escapes removed, CR and LF
 * dropped (they only occur as folding), and a NUL byte replaced by U+FFFD
 * so results are always safe C strings.
 */
#ifndef TERN_RFC822_H
#define TERN_RFC822_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

struct rfc822_lex {
	const unsigned char *p, *end;
	/* When set, receives the text of the last comment skipped. */
	struct buf *comment;
};

void rfc822_lex_init(struct rfc822_lex *lx, const char *s, size_t len);

/* Skip white space, folding and (nested) comments; true if input remains. */
bool rfc822_skip_cfws(struct rfc822_lex *lx);

/* RFC 5322 atext, widened: 8-bit bytes (RFC 6532) and stray controls are
 * kept inside atoms rather than dropped. */
bool rfc822_is_atext(unsigned char c);
/* MIME token character (RFC 2045): atext minus "/", "?", "=", plus ".";
 * 8-bit tolerated. */
bool rfc822_is_token(unsigned char c);

/* Append the atom at the cursor (dots included when dots is set);
 * returns the number of input bytes consumed, 0 if none. */
size_t rfc822_read_atom(struct rfc822_lex *lx, struct buf *out, bool dots);
/* Append the MIME token at the cursor; returns bytes consumed. */
size_t rfc822_read_token(struct rfc822_lex *lx, struct buf *out);
/* Cursor on '"': append the unescaped content, step past the closing
 * quote (or to the end when it is missing). */
void rfc822_read_quoted(struct rfc822_lex *lx, struct buf *out);
/* A phrase (RFC 5322 3.2.5 with obs-phrase): words and dots, each
 * separated by one space in the output.  Returns the number of words. */
size_t rfc822_read_phrase(struct rfc822_lex *lx, struct buf *out);

/*
 * One entry of an address list, in the shape IMAP's ENVELOPE wants
 * (RFC 3501 7.4.2):
 *   mailbox        name/route/mailbox/domain; route is "@a,@b" or NULL
 *   group start    domain == NULL, mailbox = the group's display name
 *   group end      domain == NULL, mailbox == NULL
 * A mailbox whose local part or domain cannot be found still appears,
 * with "MISSING_MAILBOX" / "MISSING_DOMAIN" in its place (as Dovecot
 * does), so a client shows something and never a half-empty entry.
 */
struct rfc822_addr {
	struct rfc822_addr *next;
	char *name, *route, *mailbox, *domain;
	bool invalid;           /* something had to be guessed or filled */
};

#define RFC822_MISSING_MAILBOX "MISSING_MAILBOX"
#define RFC822_MISSING_DOMAIN "MISSING_DOMAIN"

/*
 * Parse an address-list (RFC 5322 3.4 plus the obsolete syntax of 4.4):
 * display names are kept as written apart from quoting (RFC 2047
 * encoded-words stay encoded), comments are dropped except that the last
 * comment after a bare addr-spec serves as its display name
 * ("user@host (Name)"), groups are bracketed by start/end entries (an
 * unterminated group is closed for you).  Returns NULL for an empty list.
 * Free with rfc822_addr_free().
 */
struct rfc822_addr *rfc822_addr_parse(const char *s, size_t len);
void rfc822_addr_free(struct rfc822_addr **list);

#endif
