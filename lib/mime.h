/*
 * mime - the one MIME parser: message structure for imapd (BODY,
 * BODYSTRUCTURE, ENVELOPE, BODY[section]<partial>) and for the filters.
 *
 * mime_parse() takes a whole message in memory (read or mmap'd) with LF
 * or CRLF line ends and builds a tree of parts.  The tree points into the
 * caller's bytes by offset and never copies bodies; the caller keeps the
 * bytes alive (and unchanged) for as long as the tree is used.
 *
 * Two kinds of numbers are kept for every range:
 *   raw        offsets and lengths in the bytes as given (on disk);
 *   IMAP       "size" and "lines": the length the range has once every
 *              bare LF is sent as CRLF (RFC 3501 counts octets on the
 *              wire), and the number of LFs in it.
 * So a Maildir file with LF ends and the same message with CRLF ends give
 * the same BODYSTRUCTURE, byte for byte.
 *
 * Broken MIME never fails the parse (RFC 2045/2046 with the usual
 * leniency, documented at each rule in mime.c):
 *   - a boundary line is "--" boundary ["--"] *(SP / HTAB) at the start
 *     of a line; the innermost matching multipart wins; a line matching
 *     an outer multipart's boundary closes every part inside it;
 *   - a multipart whose close delimiter never comes ends where its parent
 *     ends (or at the end of input);
 *   - a multipart with no boundary parameter, or whose boundary never
 *     occurs, gets one implicit text/plain child whose body is the whole
 *     multipart body (flag MIME_PART_IMPLICIT), so nothing is hidden and
 *     the IMAP grammar (1*body) holds;
 *   - a Content-Type that does not parse counts as absent (RFC 2045 5.2):
 *     text/plain; charset=us-ascii, or message/rfc822 directly inside a
 *     multipart/digest (RFC 2046 5.1.5);
 *   - nesting deeper than MIME_MAX_DEPTH and parts beyond MIME_MAX_PARTS
 *     are not parsed: a multipart or message/rfc822 too deep becomes an
 *     opaque leaf shown as application/octet-stream (MIME_PART_OVERFLOW);
 *     once MIME_MAX_PARTS parts exist boundaries stop being recognised and
 *     the rest of the input belongs to the part that is open.
 * Work is linear in the input (times at most MIME_MAX_DEPTH comparisons
 * for a line that starts with "--").
 *
 * Output follows Dovecot's (byte for byte on the messages of its own
 * test-imap-bodystructure.c) except where we chose otherwise:
 *   - a boundary line must be the boundary, not merely start with it;
 *   - a multipart with no parts shows its body as one implicit part
 *     (Dovecot: an empty text/plain; the same when the body is empty);
 *   - type, subtype, parameter names, disposition and transfer encoding
 *     are lower-cased (Dovecot: as written; they are case-insensitive);
 *   - Content-* fields count without MIME-Version;
 *   - ENVELOPE takes the first of repeated fields (Dovecot the last);
 *   - strings are quoted unless they need a literal (8-bit, CR, LF, NUL);
 *     Dovecot also uses literals for many escapes and for a subject it
 *     tidied; unstructured values lose trailing blanks;
 *   - a NUL is sent as U+FFFD; "charset*" counts as a charset;
 *   - in address lists ';' also separates (Outlook), and a group with an
 *     empty name is a group.
 */
#ifndef TERN_MIME_H
#define TERN_MIME_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

#define MIME_MAX_DEPTH 100      /* root is depth 0 */
#define MIME_MAX_PARTS 10000    /* parts parsed from the input */
#define MIME_MAX_PARAMS 100     /* parameters kept per header field */

enum mime_part_flags {
	MIME_PART_MULTIPART = 0x01,     /* children are the body parts */
	MIME_PART_MESSAGE = 0x02,       /* message/rfc822 or message/global:
					   one child, the inner message */
	MIME_PART_TEXT = 0x04,          /* text/ *: has a line count */
	MIME_PART_OVERFLOW = 0x08,      /* container not parsed (caps) */
	MIME_PART_IMPLICIT = 0x10,      /* made up: multipart had no parts */
	MIME_PART_NO_EOH = 0x20,        /* header had no blank line */
	MIME_PART_BAD_TYPE = 0x40,      /* Content-Type present, unparseable */
	MIME_PART_UNCLOSED = 0x80,      /* multipart: no close delimiter */
};

/*
 * A Content-Type or Content-Disposition parameter.  name and value are
 * what BODYSTRUCTURE sends: the name lower-cased, RFC 2231 continuations
 * merged ("name*0", "name*1" -> "name"), an extended value left encoded
 * under "name*" as "charset'lang'%XX.." (as Dovecot and Cyrus send it; a
 * client decodes it, and raw bytes in an unknown charset would be worse).
 * charset/language/decoded give the decoded form for other users.
 */
struct mime_param {
	const char *name;
	const char *value;
	const char *charset;    /* RFC 2231 extended value only, else NULL */
	const char *language;   /* RFC 2231, NULL when absent */
	const char *decoded;    /* bytes in charset (may hold NULs) */
	size_t decoded_len;
};

struct mime_params {
	struct mime_param *v;
	unsigned n;
};

struct mime_part {
	struct mime_part *parent, *next, *children;
	unsigned nchildren;
	unsigned depth;         /* root 0 */
	unsigned flags;         /* enum mime_part_flags */

	/* raw: header includes its blank line; body_start ==
	 * hdr_start + hdr_len */
	size_t hdr_start, hdr_len;
	size_t body_start, body_len;
	/* IMAP: size with CRLF line ends, and number of lines */
	size_t hdr_size, hdr_lines;
	size_t body_size, body_lines;

	/* Content-* fields, first occurrence of each.  Strings are never
	 * NULL where noted, else NULL when absent; unstructured values are
	 * unfolded and trimmed; NULs replaced by U+FFFD. */
	const char *type, *subtype;     /* lower-case, never NULL */
	struct mime_params params;
	const char *encoding;           /* lower-case token; NULL = 7bit */
	const char *id, *description, *md5, *location;
	const char *disposition;        /* lower-case token */
	struct mime_params disp_params;
	const char **languages;
	unsigned nlanguages;
};

enum mime_msg_flags {
	MIME_MSG_DEPTH_CAPPED = 0x01,
	MIME_MSG_PARTS_CAPPED = 0x02,
	MIME_MSG_LIGHT = 0x04,  /* from mime_deserialize(): structure only */
};

struct mime_msg {
	const char *data;       /* the caller's bytes */
	size_t len;
	struct mime_part *root; /* never NULL */
	unsigned nparts;
	unsigned flags;         /* enum mime_msg_flags */
	struct mime_arena *arena;       /* private */
};

/* Parse data[0..len).  Never fails; free with mime_free(). */
struct mime_msg *mime_parse(const char *data, size_t len);
void mime_free(struct mime_msg **mp);

/*
 * The part an IMAP section number names (RFC 3501 6.4.5): "" is the whole
 * message (root); "1" of a message that is not multipart is its body (the
 * root again); the parts of a message/rfc822 part N are N.1, N.2 ... (or
 * just N.1, its body, when the inner message is not multipart).  NULL
 * when there is no such part or the string is not nz-number *("." ...).
 */
const struct mime_part *mime_find(const struct mime_msg *m,
    const char *section);
/* The message a part stands for: the inner message of a message/rfc822
 * part, else NULL. */
const struct mime_part *mime_part_message(const struct mime_part *p);
/* A parameter by name, case-insensitive; the RFC 2231 "name*" form is
 * preferred over plain "name" when both exist.  NULL if absent. */
const struct mime_param *mime_param_get(const struct mime_params *ps,
    const char *name);

/*
 * IMAP output (RFC 3501 7.4.2), appended to out as one parenthesised
 * value: BODY (extensible false) or BODYSTRUCTURE (true) of the message,
 * and ENVELOPE of the root (part NULL), of a message/rfc822 part (its
 * inner message) or of an inner message itself.  Strings go out as NIL,
 * "quoted" (with \" and \\ escapes) or, when they hold 8-bit bytes or
 * CR/LF, as {n}CRLF literals.  The results depend only on the message,
 * so an index can store them and skip the parse on the next FETCH.
 */
void mime_bodystructure(const struct mime_msg *m, bool extensible,
    struct buf *out);
void mime_envelope(const struct mime_msg *m, const struct mime_part *part,
    struct buf *out);
/* One IMAP string (never NIL) / nstring (NULL -> NIL) by those rules. */
void mime_imap_string(struct buf *out, const char *s, size_t len);
void mime_imap_nstring(struct buf *out, const char *s);

/*
 * Header access.  A header is a range such as [hdr_start, +hdr_len) of a
 * part.  mime_header_next() walks its fields: *pos starts at 0; each call
 * fills *h and returns true, false at the blank line or the end.
 */
struct mime_header {
	const char *name;       /* before ':', trailing blanks trimmed */
	size_t name_len;
	const char *value;      /* after ':', raw, folding kept, without */
	size_t value_len;       /*   the field's final line end */
	const char *raw;        /* the whole field with its line end(s) */
	size_t raw_len;
	bool has_colon;         /* false for a line that is no field */
};

bool mime_header_next(const char *hdr, size_t len, size_t *pos,
    struct mime_header *h);
/* Unfold a raw value into out: CR and LF dropped, leading and trailing
 * blanks trimmed, NUL -> U+FFFD.  Appends; returns nothing. */
void mime_unfold(struct buf *out, const char *v, size_t len);
/* The unfolded value of the first field called name in the header of p
 * (case-insensitive), appended to out; false if there is none. */
bool mime_header_get(const struct mime_msg *m, const struct mime_part *p,
    const char *name, struct buf *out);
/*
 * BODY[HEADER.FIELDS (..)] and .NOT: append to out the fields of
 * hdr[0..len) whose name is (exclude: is not) one of names[0..n), whole
 * and in order, continuation lines included, with CRLF line ends, then
 * the blank line that ends a header.  Names match case-insensitively; a
 * line that is no field never matches (so .NOT keeps it).
 */
void mime_header_fields(const char *hdr, size_t len,
    const char *const *names, size_t n, bool exclude, struct buf *out);

/*
 * BODY[section]: what a section-spec (RFC 3501 6.4.5, without the
 * brackets) names.  mime_section_parse() reads "1.2.HEADER.FIELDS (A B)"
 * style text (keywords case-insensitive, names as atoms or quoted
 * strings; a literal is the IMAP command parser's business: it can fill
 * the struct itself).  Returns 0, or -1 with a static *error_r.
 */
enum mime_section_text {
	MIME_SECTION_NONE,      /* [] whole message, [1.2] a part's body */
	MIME_SECTION_HEADER,
	MIME_SECTION_FIELDS,
	MIME_SECTION_FIELDS_NOT,
	MIME_SECTION_TEXT,
	MIME_SECTION_MIME,
};

struct mime_section {
	char *part;             /* "1.2.3", "" for the message itself */
	enum mime_section_text text;
	char **fields;          /* HEADER.FIELDS names */
	size_t nfields;
};

int mime_section_parse(const char *s, size_t len, struct mime_section *sec,
    const char **error_r);
void mime_section_release(struct mime_section *sec);

/*
 * The bytes a section stands for, before CRLF conversion: data/len point
 * into the message, or into scratch for HEADER.FIELDS (built there with
 * CRLF ends already).  size is the length on the wire (what the literal
 * announces and <partial> counts in).  Returns true, or false with an
 * empty slice when the section does not exist (IMAP then sends "", as
 * Dovecot does); HEADER/TEXT/HEADER.FIELDS of a part that is not
 * message/rfc822 do not exist.
 */
struct mime_slice {
	const char *data;
	size_t len;
	size_t size;
};

bool mime_section_get(const struct mime_msg *m,
    const struct mime_section *sec, struct buf *scratch,
    struct mime_slice *slice);

/* Length of data[0..len) with every bare LF counted as CRLF. */
size_t mime_crlf_size(const char *data, size_t len);
/* The same for data read in pieces: *prev is the byte before data (0 at
 * the start) and becomes data's last.  _size counts, _append appends the
 * converted bytes to out. */
size_t mime_crlf_size_chunk(const char *data, size_t len, char *prev);
void mime_crlf_append_chunk(struct buf *out, const char *data, size_t len,
    char *prev);
/* Append the window [offset, offset+count) of data[0..len) as seen with
 * CRLF line ends (count may run past the end); this serves <partial>.
 * Returns the number of bytes appended. */
size_t mime_crlf_append(struct buf *out, const char *data, size_t len,
    size_t offset, size_t count);

/*
 * A compact form of the part tree (offsets, sizes, kinds; no Content-*
 * fields) for the IMAP index, so BODY[1.2]<0.100> after a restart needs
 * no parse.  mime_deserialize() checks everything against the message it
 * is given and fails (NULL, static *error_r) on any mismatch; the tree it
 * returns has MIME_MSG_LIGHT set, default type strings, and serves
 * mime_find(), mime_section_get() and the header helpers, not
 * mime_bodystructure().
 */
void mime_serialize(const struct mime_msg *m, struct buf *out);
struct mime_msg *mime_deserialize(const char *blob, size_t blob_len,
    const char *data, size_t len, const char **error_r);

#endif
