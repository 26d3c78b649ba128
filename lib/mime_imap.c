/*
 * mime_imap - BODY, BODYSTRUCTURE and ENVELOPE as RFC 3501 7.4.2 spells
 * them.  The grammar, for reference while reading:
 *
 *   body            = "(" (body-type-1part / body-type-mpart) ")"
 *   body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
 *   body-ext-mpart  = body-fld-param [SP body-fld-dsp [SP body-fld-lang
 *                     [SP body-fld-loc *(SP body-extension)]]]
 *   body-type-1part = (body-type-basic / body-type-msg / body-type-text)
 *                     [SP body-ext-1part]
 *   body-type-basic = media-basic SP body-fields
 *   body-type-msg   = media-message SP body-fields SP envelope
 *                     SP body SP body-fld-lines
 *   body-type-text  = media-text SP body-fields SP body-fld-lines
 *   body-fields     = body-fld-param SP body-fld-id SP body-fld-desc SP
 *                     body-fld-enc SP body-fld-octets
 *   body-ext-1part  = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang
 *                     [SP body-fld-loc *(SP body-extension)]]]
 *   body-fld-param  = "(" string SP string *(SP string SP string) ")" / nil
 *   body-fld-dsp    = "(" string SP body-fld-param ")" / nil
 *   body-fld-lang   = nstring / "(" string *(SP string) ")"
 *   envelope        = "(" env-date SP env-subject SP env-from SP
 *                     env-sender SP env-reply-to SP env-to SP env-cc SP
 *                     env-bcc SP env-in-reply-to SP env-message-id ")"
 *   env-from etc.   = "(" 1*address ")" / nil
 *   address         = "(" addr-name SP addr-adl SP addr-mailbox SP
 *                     addr-host ")"
 *
 * We always send the extension data in full (all four fields), like
 * Dovecot; multipart parts come without a space between them.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "mime.h"
#include "mime_int.h"
#include "rfc822.h"
#include "xalloc.h"

void
mime_imap_string(struct buf *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, nuls = 0;
	bool literal = false;

	for (i = 0; i < len; i++) {
		if (u[i] == '\0')
			nuls++;
		else if (u[i] == '\r' || u[i] == '\n' || u[i] >= 0x80)
			literal = true;
	}
	if (!literal && nuls == 0) {
		/* quoted = DQUOTE *QUOTED-CHAR DQUOTE; only " and \ need
		 * a backslash */
		buf_putc(out, '"');
		for (i = 0; i < len; i++) {
			if (s[i] == '"' || s[i] == '\\')
				buf_putc(out, '\\');
			buf_putc(out, s[i]);
		}
		buf_putc(out, '"');
		return;
	}
	/* literal = "{" number "}" CRLF *CHAR8: any byte but NUL, which we
	 * replace by U+FFFD as everywhere else */
	buf_printf(out, "{%zu}\r\n", len + 2 * nuls);
	for (i = 0; i < len; i++)
		if (u[i] == '\0')
			buf_append(out, "\xef\xbf\xbd", 3);
		else
			buf_putc(out, s[i]);
}

void
mime_imap_nstring(struct buf *out, const char *s)
{
	if (s == NULL)
		buf_append_str(out, "NIL");
	else
		mime_imap_string(out, s, strlen(s));
}

/* ---- BODY / BODYSTRUCTURE */

static void
imap_params(struct buf *out, const struct mime_params *ps,
    bool default_charset)
{
	bool charset = false;
	unsigned i;

	if (ps->n == 0 && !default_charset) {
		buf_append_str(out, "NIL");
		return;
	}
	buf_putc(out, '(');
	for (i = 0; i < ps->n; i++) {
		if (i > 0)
			buf_putc(out, ' ');
		mime_imap_nstring(out, ps->v[i].name);
		buf_putc(out, ' ');
		mime_imap_nstring(out, ps->v[i].value);
		/* "charset*" (RFC 2231) counts: no contradicting default */
		charset |= strcmp(ps->v[i].name, "charset") == 0 ||
		    strcmp(ps->v[i].name, "charset*") == 0;
	}
	/* RFC 2045 5.2: text without a charset is us-ascii; IMAP servers
	 * say so explicitly (Dovecot, Cyrus, UW) */
	if (default_charset && !charset)
		buf_append_str(out, ps->n > 0 ? " \"charset\" \"us-ascii\"" :
		    "\"charset\" \"us-ascii\"");
	buf_putc(out, ')');
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc, with leading space */
static void
imap_ext_common(struct buf *out, const struct mime_part *p)
{
	unsigned i;

	buf_putc(out, ' ');
	if (p->disposition == NULL) {
		buf_append_str(out, "NIL");
	} else {
		buf_putc(out, '(');
		mime_imap_nstring(out, p->disposition);
		buf_putc(out, ' ');
		imap_params(out, &p->disp_params, false);
		buf_putc(out, ')');
	}
	buf_putc(out, ' ');
	if (p->nlanguages == 0) {
		buf_append_str(out, "NIL");
	} else {
		buf_putc(out, '(');
		for (i = 0; i < p->nlanguages; i++) {
			if (i > 0)
				buf_putc(out, ' ');
			mime_imap_nstring(out, p->languages[i]);
		}
		buf_putc(out, ')');
	}
	buf_putc(out, ' ');
	mime_imap_nstring(out, p->location);
}

static void imap_envelope_of(const struct mime_msg *m,
    const struct mime_part *msg, struct buf *out);

/* One body; recursion is bounded by MIME_MAX_DEPTH (two frames per
 * message/rfc822 level). */
static void
imap_body(const struct mime_msg *m, const struct mime_part *p, bool ext,
    struct buf *out)
{
	const struct mime_part *c;
	bool text = (p->flags & MIME_PART_TEXT) != 0;

	buf_putc(out, '(');
	if ((p->flags & MIME_PART_MULTIPART) != 0) {
		for (c = p->children; c != NULL; c = c->next)
			imap_body(m, c, ext, out);
		buf_putc(out, ' ');
		mime_imap_nstring(out, p->subtype);
		if (ext) {
			buf_putc(out, ' ');
			imap_params(out, &p->params, false);
			imap_ext_common(out, p);
		}
		buf_putc(out, ')');
		return;
	}
	if ((p->flags & MIME_PART_OVERFLOW) != 0) {
		/* a multipart or message we did not open: its declared
		 * type would promise structure we cannot give */
		buf_append_str(out, "\"application\" \"octet-stream\"");
	} else {
		mime_imap_nstring(out, p->type);
		buf_putc(out, ' ');
		mime_imap_nstring(out, p->subtype);
	}
	buf_putc(out, ' ');
	imap_params(out, &p->params, text);
	buf_putc(out, ' ');
	mime_imap_nstring(out, p->id);
	buf_putc(out, ' ');
	mime_imap_nstring(out, p->description);
	buf_putc(out, ' ');
	mime_imap_nstring(out, p->encoding != NULL ? p->encoding : "7bit");
	buf_printf(out, " %zu", p->body_size);
	if (text) {
		buf_printf(out, " %zu", p->body_lines);
	} else if ((p->flags & MIME_PART_MESSAGE) != 0) {
		ASSERT(p->children != NULL);
		buf_putc(out, ' ');
		imap_envelope_of(m, p->children, out);
		buf_putc(out, ' ');
		imap_body(m, p->children, ext, out);
		buf_printf(out, " %zu", p->body_lines);
	}
	if (ext) {
		buf_putc(out, ' ');
		mime_imap_nstring(out, p->md5);
		imap_ext_common(out, p);
	}
	buf_putc(out, ')');
}

void
mime_bodystructure(const struct mime_msg *m, bool extensible,
    struct buf *out)
{
	ASSERT((m->flags & MIME_MSG_LIGHT) == 0);
	imap_body(m, m->root, extensible, out);
}

/* ---- ENVELOPE */

enum env_field {
	E_DATE, E_SUBJECT, E_FROM, E_SENDER, E_REPLY_TO, E_TO, E_CC, E_BCC,
	E_IN_REPLY_TO, E_MESSAGE_ID, E_COUNT
};

static const char *const env_names[E_COUNT] = {
	"date", "subject", "from", "sender", "reply-to", "to", "cc", "bcc",
	"in-reply-to", "message-id",
};

struct env_value {
	const char *v;
	size_t len;
	bool seen;
};

/* An unstructured field; the subject also has its runs of blanks made
 * one space, as a client would show it (Dovecot does the same). */
static void
imap_env_text(struct buf *out, const struct env_value *f, bool collapse)
{
	struct buf t;
	size_t i, j;

	if (!f->seen) {
		buf_append_str(out, "NIL");
		return;
	}
	buf_init(&t, f->len + 1, 0);
	mime_unfold(&t, f->v, f->len);
	if (collapse) {
		for (i = j = 0; i < t.len; i++) {
			if (t.data[i] == '\t')
				t.data[i] = ' ';
			if (t.data[i] == ' ' && j > 0 && t.data[j - 1] == ' ')
				continue;
			t.data[j++] = t.data[i];
		}
		buf_truncate(&t, j);
	}
	mime_imap_string(out, t.data, t.len);
	buf_release(&t);
}

/* env-from etc.; NULL when the field is absent or holds no address */
static struct rfc822_addr *
imap_env_addrs(const struct env_value *f)
{
	return f->seen ? rfc822_addr_parse(f->v, f->len) : NULL;
}

static void
imap_addr_list(struct buf *out, const struct rfc822_addr *list)
{
	const struct rfc822_addr *a;

	if (list == NULL) {
		buf_append_str(out, "NIL");
		return;
	}
	buf_putc(out, '(');
	for (a = list; a != NULL; a = a->next) {
		buf_putc(out, '(');
		mime_imap_nstring(out, a->name);
		buf_putc(out, ' ');
		mime_imap_nstring(out, a->route);
		buf_putc(out, ' ');
		mime_imap_nstring(out, a->mailbox);
		buf_putc(out, ' ');
		mime_imap_nstring(out, a->domain);
		buf_putc(out, ')');
	}
	buf_putc(out, ')');
}

static void
imap_envelope_of(const struct mime_msg *m, const struct mime_part *msg,
    struct buf *out)
{
	struct env_value f[E_COUNT];
	struct rfc822_addr *a[E_COUNT] = { NULL };
	struct mime_header h;
	size_t pos = 0;
	int i;

	memset(f, 0, sizeof(f));
	/* the first of each field counts: what a client shows first */
	while (mime_header_next(m->data + msg->hdr_start, msg->hdr_len, &pos,
	    &h)) {
		if (!h.has_colon)
			continue;
		for (i = 0; i < E_COUNT; i++)
			if (!f[i].seen && strlen(env_names[i]) == h.name_len &&
			    strncasecmp(h.name, env_names[i], h.name_len) == 0) {
				f[i].v = h.value;
				f[i].len = h.value_len;
				f[i].seen = true;
			}
	}
	for (i = E_FROM; i <= E_BCC; i++)
		a[i] = imap_env_addrs(&f[i]);
	buf_putc(out, '(');
	imap_env_text(out, &f[E_DATE], false);
	buf_putc(out, ' ');
	imap_env_text(out, &f[E_SUBJECT], true);
	for (i = E_FROM; i <= E_BCC; i++) {
		buf_putc(out, ' ');
		/* RFC 3501 7.4.2: Sender and Reply-To absent or empty mean
		 * the From value */
		if (a[i] == NULL && (i == E_SENDER || i == E_REPLY_TO))
			imap_addr_list(out, a[E_FROM]);
		else
			imap_addr_list(out, a[i]);
	}
	buf_putc(out, ' ');
	imap_env_text(out, &f[E_IN_REPLY_TO], false);
	buf_putc(out, ' ');
	imap_env_text(out, &f[E_MESSAGE_ID], false);
	buf_putc(out, ')');
	for (i = E_FROM; i <= E_BCC; i++)
		rfc822_addr_free(&a[i]);
}

void
mime_envelope(const struct mime_msg *m, const struct mime_part *part,
    struct buf *out)
{
	const struct mime_part *msg = m->root;

	/* the root is the message even when it is itself message/rfc822 */
	if (part != NULL)
		msg = (part->flags & MIME_PART_MESSAGE) != 0 ?
		    part->children : part;
	imap_envelope_of(m, msg, out);
}
