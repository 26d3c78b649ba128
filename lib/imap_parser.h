/*
 * imap_parser - the IMAP command grammar (RFC 3501 section 9, literals as
 * in RFC 7888), incremental and bounded.
 *
 * Bytes are fed as they arrive, in pieces of any size (one at a time in
 * the tests).  The parser collects one whole command: its lines and the
 * literals they announce.  It stops
 *
 *   - after a line ending in a synchronizing literal "{n}": the caller
 *     sends "+ go ahead" and feeds on (IMAP_PARSE_LITERAL);
 *   - after the command's last line (IMAP_PARSE_DONE): imap_parser_args()
 *     then turns it into arguments;
 *   - on an error (IMAP_PARSE_ERROR): imap_parser_error() says what and
 *     whether the connection must close.
 *
 * Limits, checked as bytes come, never after the fact:
 *   max_line     bytes of each line, literals not counted
 *   max_literal  bytes of all literals of one command together, checked
 *                from the "{n}" announcement before one byte of it is
 *                read.  A synchronizing literal over it is refused with
 *                "NO [TOOBIG]" (the client waits for our "+", so nothing
 *                more of the command comes; the parser is ready for the
 *                next one).  A non-synchronizing one ({n+}) is already on
 *                its way: RFC 7888 section 4 lets us close the connection
 *                rather than read and discard it, and we do (fatal).
 *   nesting      IMAP_MAX_DEPTH levels of parentheses.
 * An over-long line is fatal too: what follows it cannot be told apart
 * from literal data.
 *
 * Tokens (imap_parser_args): atoms, quoted strings ("..." with \" and \\
 * the only escapes, no CR/LF/NUL), literals {n}/{n+} (any octets), NIL,
 * parenthesized lists.  An atom that holds '[' runs to the matching ']'
 * whatever is inside, so BODY[HEADER.FIELDS (From To)]<0.100> is one atom,
 * as fetch-att needs.  The first two top-level arguments are the tag and
 * the command name.
 */
#ifndef TERN_IMAP_PARSER_H
#define TERN_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAP_MAX_DEPTH 16

enum imap_arg_type {
	IMAP_ARG_ATOM,
	IMAP_ARG_STRING,      /* quoted */
	IMAP_ARG_LITERAL,
	IMAP_ARG_NIL,
	IMAP_ARG_LIST,
};

struct imap_arg {
	enum imap_arg_type type;
	/* ATOM, STRING, LITERAL: the octets, NUL-terminated (a literal may
	 * hold NULs itself: use len).  NIL: "NIL". */
	const char *s;
	size_t len;
	/* LIST: the elements. */
	struct imap_arg *list;
	size_t n;
};

enum imap_parse_status {
	IMAP_PARSE_MORE,      /* everything fed was taken: feed more */
	IMAP_PARSE_LITERAL,   /* send a continuation, then feed more */
	IMAP_PARSE_DONE,      /* a whole command: imap_parser_args() */
	IMAP_PARSE_ERROR,     /* imap_parser_error() */
};

struct imap_parser;

struct imap_parser *imap_parser_new(size_t max_line, size_t max_literal);
void imap_parser_free(struct imap_parser **pp);
/* Drop the command held and any error: ready for the next command. */
void imap_parser_reset(struct imap_parser *p);
/* Release memory held between commands (an idle session). */
void imap_parser_trim(struct imap_parser *p);

/*
 * The next command is one raw line (an AUTHENTICATE response, IDLE's
 * DONE): no literals are looked for.  imap_parser_line() gives it after
 * IMAP_PARSE_DONE.  Cleared by imap_parser_reset().
 */
void imap_parser_set_raw(struct imap_parser *p);

/*
 * Feed up to len bytes; returns how many were taken and sets *st_r.  It
 * stops right after the end of a command, of a literal announcement or
 * at an error, so bytes beyond are left for later (pipelining).
 */
size_t imap_parser_feed(struct imap_parser *p, const void *data, size_t len,
    enum imap_parse_status *st_r);

/*
 * After IMAP_PARSE_ERROR: a static text, whether the connection must be
 * closed (*fatal_r), and whether the answer is "NO [TOOBIG]" (*toobig_r)
 * rather than BAD.
 */
const char *imap_parser_error(const struct imap_parser *p, bool *fatal_r,
    bool *toobig_r);

/*
 * The tag of the command being read, once its first line has come in
 * (also after an error); NULL before or when it has no valid tag.
 * Valid until the next reset.
 */
const char *imap_parser_tag(const struct imap_parser *p);

/*
 * After IMAP_PARSE_DONE: the top-level arguments (tag first).  Returns 0,
 * or -1 with *error_r static text for a BAD.  The arguments stay valid
 * until the next reset.
 */
int imap_parser_args(struct imap_parser *p, struct imap_arg **args_r,
    size_t *n_r, const char **error_r);

/* After IMAP_PARSE_DONE in raw mode: the line, NUL-terminated. */
const char *imap_parser_line(const struct imap_parser *p, size_t *len_r);

/* Is a an atom equal to word, ignoring ASCII case? */
bool imap_arg_is(const struct imap_arg *a, const char *word);
/* An astring (atom, quoted or literal); NIL is not one. */
bool imap_arg_astring(const struct imap_arg *a);
/* A string (quoted or literal). */
bool imap_arg_string(const struct imap_arg *a);

/*
 * Sequence sets (RFC 3501 seq-number / sequence-set): "1", "2:4", "*",
 * "7:*", "5:2", comma separated.  '*' is stored as UINT32_MAX and means
 * the largest number in use.
 */
struct imap_seqset {
	struct imap_range { uint32_t lo, hi; } *r;
	size_t n;
};
/* Parse s; 0, or -1 for a malformed set (0, overflow, junk). */
int imap_seqset_parse(const char *s, struct imap_seqset *set_r);
void imap_seqset_free(struct imap_seqset *set);
/* Is x in set, with '*' standing for star (0: the set is empty of '*'
 * ranges' effect: "*" matches nothing). */
bool imap_seqset_has(const struct imap_seqset *set, uint32_t x,
    uint32_t star);

#endif
