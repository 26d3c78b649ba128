/* rfc822 - see rfc822.h.  Address lists are in rfc822_addr.c. */
#include <string.h>

#include "buf.h"
#include "rfc822.h"

/* A NUL in a header is never passed on: IMAP cannot carry it. */
#define REPLACEMENT "\xef\xbf\xbd"

void
rfc822_lex_init(struct rfc822_lex *lx, const char *s, size_t len)
{
	lx->p = (const unsigned char *)s;
	lx->end = lx->p + len;
	lx->comment = NULL;
}

static void
lex_put(struct buf *out, unsigned char c)
{
	if (out == NULL)
		return;
	if (c == '\0')
		buf_append(out, REPLACEMENT, 3);
	else
		buf_putc(out, c);
}

bool
rfc822_is_atext(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
		return false;
	/* specials: ( ) < > [ ] : ; @ \ , . DQUOTE */
	return strchr("()<>[]:;@\\,.\"", c) == NULL || c == '\0';
}

bool
rfc822_is_token(unsigned char c)
{
	if (c >= 0x80)
		return true;
	if (c <= ' ' || c == 0x7f)
		return false;
	/* tspecials: ( ) < > @ , ; : \ " / [ ] ? = */
	return strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* Cursor on '(': skip to the matching ')' (or the end). */
static void
lex_skip_comment(struct rfc822_lex *lx)
{
	unsigned depth = 1;
	unsigned char c;

	if (lx->comment != NULL)
		buf_reset(lx->comment);
	lx->p++;
	while (lx->p < lx->end) {
		c = *lx->p++;
		if (c == '\\' && lx->p < lx->end) {
			lex_put(lx->comment, *lx->p++);
			continue;
		}
		if (c == '\r' || c == '\n')
			continue;
		if (c == '(')
			depth++;
		else if (c == ')' && --depth == 0)
			return;
		lex_put(lx->comment, c);
	}
}

bool
rfc822_skip_cfws(struct rfc822_lex *lx)
{
	while (lx->p < lx->end) {
		unsigned char c = *lx->p;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			lx->p++;
		else if (c == '(')
			lex_skip_comment(lx);
		else
			break;
	}
	return lx->p < lx->end;
}

size_t
rfc822_read_atom(struct rfc822_lex *lx, struct buf *out, bool dots)
{
	const unsigned char *start = lx->p;

	while (lx->p < lx->end &&
	    (rfc822_is_atext(*lx->p) || (dots && *lx->p == '.')))
		lex_put(out, *lx->p++);
	return (size_t)(lx->p - start);
}

size_t
rfc822_read_token(struct rfc822_lex *lx, struct buf *out)
{
	const unsigned char *start = lx->p;

	while (lx->p < lx->end && rfc822_is_token(*lx->p))
		lex_put(out, *lx->p++);
	return (size_t)(lx->p - start);
}

void
rfc822_read_quoted(struct rfc822_lex *lx, struct buf *out)
{
	unsigned char c;

	lx->p++;                /* the opening quote */
	while (lx->p < lx->end) {
		c = *lx->p++;
		if (c == '"')
			return;
		if (c == '\\' && lx->p < lx->end)
			c = *lx->p++;
		else if (c == '\r' || c == '\n')
			continue;       /* folding inside the quotes */
		lex_put(out, c);
	}
}

size_t
rfc822_read_phrase(struct rfc822_lex *lx, struct buf *out)
{
	size_t words = 0;
	unsigned char c;

	while (rfc822_skip_cfws(lx)) {
		c = *lx->p;
		if (c != '"' && c != '.' && !rfc822_is_atext(c))
			break;
		if (words++ > 0)
			buf_putc(out, ' ');
		if (c == '"')
			rfc822_read_quoted(lx, out);
		else
			rfc822_read_atom(lx, out, true);
	}
	return words;
}
