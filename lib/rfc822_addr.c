/*
 * rfc822_addr - address lists (RFC 5322 3.4, obsolete syntax of 4.4).
 *
 * A cursor parser in the spirit of the grammar, but forgiving: whatever
 * cannot be read is skipped up to the next comma (or the ';' closing a
 * group), and every loop consumes at least one byte, so hostile input
 * costs linear time and never loops.
 */
#include <string.h>

#include "buf.h"
#include "rfc822.h"
#include "xalloc.h"

struct addr_parser {
	struct rfc822_lex lx;
	struct buf tmp, comment;
	struct rfc822_addr *head, **tail;
};

static char *
addr_dup(const struct buf *b)
{
	return b->len > 0 ? xstrndup(b->data, b->len) : NULL;
}

static struct rfc822_addr *
addr_new(struct addr_parser *ap)
{
	struct rfc822_addr *a = xcalloc(1, sizeof(*a));

	*ap->tail = a;
	ap->tail = &a->next;
	return a;
}

/* A NUL never reaches the output (see rfc822.h). */
static void
addr_put(struct buf *out, unsigned char c)
{
	if (c == '\0')
		buf_append(out, "\xef\xbf\xbd", 3);
	else
		buf_putc(out, c);
}

static bool
addr_ends_with_dot(const struct buf *b)
{
	return b->len > 0 && b->data[b->len - 1] == '.';
}

static bool
addr_at(const struct addr_parser *ap, unsigned char c)
{
	return ap->lx.p < ap->lx.end && *ap->lx.p == c;
}

/* local-part = dot-atom / quoted-string / obs-local-part: words joined
 * by dots, CFWS allowed around them; output without quoting. */
static void
addr_read_local(struct addr_parser *ap, struct buf *out)
{
	struct rfc822_lex *lx = &ap->lx;
	size_t items = 0;
	unsigned char c;

	while (rfc822_skip_cfws(lx)) {
		c = *lx->p;
		if (items > 0 && c != '.' && !addr_ends_with_dot(out))
			break;
		if (c == '"')
			rfc822_read_quoted(lx, out);
		else if (c == '.' || rfc822_is_atext(c))
			rfc822_read_atom(lx, out, true);
		else
			break;
		items++;
	}
}

/* Cursor on '[': a domain literal, kept with its brackets. */
static void
addr_read_literal(struct addr_parser *ap, struct buf *out)
{
	struct rfc822_lex *lx = &ap->lx;
	unsigned char c;

	while (lx->p < lx->end) {
		c = *lx->p++;
		if (c == '\r' || c == '\n')
			continue;
		addr_put(out, c);
		if (c == '\\' && lx->p < lx->end)
			addr_put(out, *lx->p++);
		else if (c == ']')
			return;
	}
}

/* domain = dot-atom / domain-literal / obs-domain */
static void
addr_read_domain(struct addr_parser *ap, struct buf *out)
{
	struct rfc822_lex *lx = &ap->lx;
	size_t items = 0;
	unsigned char c;

	while (rfc822_skip_cfws(lx)) {
		c = *lx->p;
		if (items > 0 && c != '.' && !addr_ends_with_dot(out))
			break;
		if (c == '[')
			addr_read_literal(ap, out);
		else if (c == '.' || rfc822_is_atext(c))
			rfc822_read_atom(lx, out, true);
		else
			break;
		items++;
	}
}

/* Skip what cannot be read, up to the next ',' or ';' (which ends a
 * group, and outside one is taken as a separator: Outlook writes
 * "a@b; c@d"). */
static void
addr_skip_garbage(struct addr_parser *ap)
{
	struct rfc822_lex *lx = &ap->lx;
	unsigned char c;

	while (rfc822_skip_cfws(lx)) {
		c = *lx->p;
		if (c == ',' || c == ';')
			return;
		if (c == '"')
			rfc822_read_quoted(lx, NULL);
		else
			lx->p++;
	}
}

/* obs-route = obs-domain-list ":"; cursor on '@'.  Returns "@a,@b" or
 * NULL when the ':' is missing (then the address is read from here). */
static char *
addr_read_route(struct addr_parser *ap, struct rfc822_addr *a)
{
	struct rfc822_lex *lx = &ap->lx;

	buf_reset(&ap->tmp);
	while (addr_at(ap, '@')) {
		if (ap->tmp.len > 0)
			buf_putc(&ap->tmp, ',');
		buf_putc(&ap->tmp, '@');
		lx->p++;
		addr_read_domain(ap, &ap->tmp);
		while (rfc822_skip_cfws(lx) && *lx->p == ',')
			lx->p++;
		rfc822_skip_cfws(lx);
	}
	if (!addr_at(ap, ':')) {
		a->invalid = true;
		return NULL;
	}
	lx->p++;
	return addr_dup(&ap->tmp);
}

/* angle-addr = "<" [obs-route] addr-spec ">"; cursor on '<'. */
static void
addr_read_angle(struct addr_parser *ap, struct rfc822_addr *a)
{
	struct rfc822_lex *lx = &ap->lx;

	lx->p++;
	rfc822_skip_cfws(lx);
	if (addr_at(ap, '@'))
		a->route = addr_read_route(ap, a);
	buf_reset(&ap->tmp);
	addr_read_local(ap, &ap->tmp);
	a->mailbox = addr_dup(&ap->tmp);
	rfc822_skip_cfws(lx);
	if (addr_at(ap, '@')) {
		lx->p++;
		buf_reset(&ap->tmp);
		addr_read_domain(ap, &ap->tmp);
		a->domain = addr_dup(&ap->tmp);
		rfc822_skip_cfws(lx);
	}
	if (addr_at(ap, '>')) {
		lx->p++;
		return;
	}
	/* "<user@host junk>" or no '>' at all */
	a->invalid = true;
	while (lx->p < lx->end && *lx->p != '>' && *lx->p != ',' &&
	    *lx->p != ';') {
		if (*lx->p == '"')
			rfc822_read_quoted(lx, NULL);
		else
			lx->p++;
	}
	if (addr_at(ap, '>'))
		lx->p++;
}

/* addr-spec without angle brackets; the last comment names it. */
static void
addr_read_spec(struct addr_parser *ap, struct rfc822_addr *a,
    const unsigned char *start)
{
	struct rfc822_lex *lx = &ap->lx;

	lx->p = start;
	buf_reset(&ap->comment);
	lx->comment = &ap->comment;
	buf_reset(&ap->tmp);
	addr_read_local(ap, &ap->tmp);
	rfc822_skip_cfws(lx);
	if (addr_at(ap, '@')) {
		a->mailbox = addr_dup(&ap->tmp);
		lx->p++;
		buf_reset(&ap->tmp);
		addr_read_domain(ap, &ap->tmp);
		a->domain = addr_dup(&ap->tmp);
		rfc822_skip_cfws(lx);
	} else if (ap->tmp.len > 0 && (lx->p == lx->end || *lx->p == ',' ||
	    *lx->p == ';')) {
		/* a lone "user": a mailbox without its domain */
		a->mailbox = addr_dup(&ap->tmp);
	} else {
		/* "John Doe" with no address, or junk: keep the words */
		lx->comment = NULL;
		lx->p = start;
		buf_reset(&ap->tmp);
		rfc822_read_phrase(lx, &ap->tmp);
		a->name = addr_dup(&ap->tmp);
		a->invalid = true;
	}
	lx->comment = NULL;
	if (a->name == NULL)
		a->name = addr_dup(&ap->comment);
}

/* mailbox = name-addr / addr-spec; adds one entry unless nothing at all
 * could be read. */
static void
addr_read_mailbox(struct addr_parser *ap)
{
	struct rfc822_lex *lx = &ap->lx;
	const unsigned char *start = lx->p;
	struct rfc822_addr tmp = { 0 }, *a;

	buf_reset(&ap->tmp);
	rfc822_read_phrase(lx, &ap->tmp);
	rfc822_skip_cfws(lx);
	if (addr_at(ap, '<')) {
		tmp.name = addr_dup(&ap->tmp);
		addr_read_angle(ap, &tmp);
	} else {
		addr_read_spec(ap, &tmp, start);
	}
	rfc822_skip_cfws(lx);
	if (lx->p < lx->end && *lx->p != ',' && *lx->p != ';') {
		tmp.invalid = true;
		addr_skip_garbage(ap);
	}
	if (tmp.name == NULL && tmp.mailbox == NULL && tmp.domain == NULL &&
	    tmp.route == NULL)
		return;         /* pure junk: nothing worth showing */
	if (tmp.mailbox == NULL) {
		tmp.mailbox = xstrdup(RFC822_MISSING_MAILBOX);
		tmp.invalid = true;
	}
	if (tmp.domain == NULL) {
		tmp.domain = xstrdup(RFC822_MISSING_DOMAIN);
		tmp.invalid = true;
	}
	a = addr_new(ap);
	tmp.next = NULL;
	*a = tmp;
}

/* After "display-name:" - mailboxes up to ';' (or the end). */
static void
addr_read_group(struct addr_parser *ap)
{
	struct rfc822_lex *lx = &ap->lx;
	const unsigned char *start;

	while (rfc822_skip_cfws(lx)) {
		if (*lx->p == ';') {
			lx->p++;
			return;
		}
		if (*lx->p == ',') {
			lx->p++;
			continue;
		}
		start = lx->p;
		addr_read_mailbox(ap);
		if (lx->p == start)
			lx->p++;
	}
}

struct rfc822_addr *
rfc822_addr_parse(const char *s, size_t len)
{
	struct addr_parser ap;
	struct rfc822_lex *lx = &ap.lx;
	const unsigned char *start;
	struct rfc822_addr *g;

	memset(&ap, 0, sizeof(ap));
	rfc822_lex_init(lx, s, len);
	buf_init(&ap.tmp, 64, 0);
	buf_init(&ap.comment, 64, 0);
	ap.tail = &ap.head;
	while (rfc822_skip_cfws(lx)) {
		if (*lx->p == ',' || *lx->p == ';') {
			lx->p++;        /* empty element (obs) or a stray ';' */
			continue;
		}
		start = lx->p;
		/* group = display-name ":" [group-list] ";" (an empty
		 * display name is tolerated) */
		buf_reset(&ap.tmp);
		rfc822_read_phrase(lx, &ap.tmp);
		if (rfc822_skip_cfws(lx) && *lx->p == ':') {
			lx->p++;
			g = addr_new(&ap);
			g->mailbox = xstrndup(ap.tmp.data, ap.tmp.len);
			addr_read_group(&ap);
			addr_new(&ap);  /* the end-of-group marker */
			continue;
		}
		lx->p = start;
		addr_read_mailbox(&ap);
		if (lx->p == start)
			lx->p++;
	}
	buf_release(&ap.tmp);
	buf_release(&ap.comment);
	return ap.head;
}

void
rfc822_addr_free(struct rfc822_addr **list)
{
	struct rfc822_addr *a, *next;

	for (a = *list; a != NULL; a = next) {
		next = a->next;
		free(a->name);
		free(a->route);
		free(a->mailbox);
		free(a->domain);
		free(a);
	}
	*list = NULL;
}
