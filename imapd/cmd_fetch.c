/*
 * cmd_fetch - FETCH and UID FETCH (RFC 3501 6.4.5): FLAGS, UID,
 * INTERNALDATE (the file's mtime), RFC822.SIZE (W= of the name, else
 * counted once and kept), RFC822, RFC822.HEADER, RFC822.TEXT, BODY[] and
 * BODY.PEEK[] with HEADER, HEADER.FIELDS (.NOT), TEXT and <partial>,
 * MODSEQ; the ALL, FAST and FULL macros.  A body fetch without .PEEK sets
 * \Seen (not in a read-only folder).  No EXPUNGE is sent during FETCH:
 * a message another session removed is skipped and the answer is
 * NO [EXPUNGEISSUED] (RFC 2180 4.1.1).
 *
 * Not yet: ENVELOPE, BODY, BODYSTRUCTURE and part numbers (1.2, MIME)
 * need lib/mime; until it is wired in they are refused with BAD.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imapd.h"
#include "log.h"
#include "xalloc.h"

enum fkind { F_FLAGS, F_UID, F_DATE, F_SIZE, F_MODSEQ, F_BODYSEC };
enum ftext { T_ALL, T_HEADER, T_FIELDS, T_FIELDS_NOT, T_TEXT };

struct fitem {
	enum fkind kind;
	enum ftext text;
	bool peek;
	const char *label;          /* what the answer calls it */
	char *label_buf;
	struct imap_arg *fields;    /* HEADER.FIELDS names */
	size_t nfields;
	char *fields_buf;
	bool partial;
	size_t start, count;
};

struct fetch {
	struct fitem *v;
	size_t n;
	bool need_body, sets_seen;
};

static void
fetch_release(struct fetch *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].label_buf);
		free(f->v[i].fields);
		free(f->v[i].fields_buf);
	}
	free(f->v);
}

static struct fitem *
fetch_add(struct fetch *f, enum fkind k)
{
	f->v = xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
	memset(&f->v[f->n], 0, sizeof(f->v[0]));
	f->v[f->n].kind = k;
	return &f->v[f->n++];
}

/* "(From To)" inside the brackets: the names. */
static int
parse_fields(struct fitem *it, const char *p, const char **end_r)
{
	const char *e;
	char *w;

	while (*p == ' ')
		p++;
	if (*p != '(' || (e = strchr(p, ')')) == NULL)
		return -1;
	it->fields_buf = xstrndup(p + 1, (size_t)(e - p - 1));
	for (w = strtok(it->fields_buf, " "); w != NULL; w = strtok(NULL, " ")) {
		size_t l = strlen(w);

		if (l >= 2 && w[0] == '"' && w[l - 1] == '"') {
			w[l - 1] = '\0';
			w++;
			l -= 2;
		}
		it->fields = xrealloc(it->fields,
		    (it->nfields + 1) * sizeof(*it->fields));
		memset(&it->fields[it->nfields], 0, sizeof(*it->fields));
		it->fields[it->nfields].type = IMAP_ARG_ATOM;
		it->fields[it->nfields].s = w;
		it->fields[it->nfields].len = l;
		it->nfields++;
	}
	if (it->nfields == 0)
		return -1;
	*end_r = e + 1;
	return 0;
}

/* BODY[...]<a.b> or BODY.PEEK[...]<a.b> */
static int
parse_section(struct fetch *f, const char *s, bool peek)
{
	struct fitem *it = fetch_add(f, F_BODYSEC);
	const char *p = strchr(s, '[') + 1, *close;

	it->peek = peek;
	f->need_body = true;
	if (!peek)
		f->sets_seen = true;
	if (strncmp(p, "]", 1) == 0) {
		it->text = T_ALL;
		close = p;
	} else if (strncasecmp(p, "HEADER.FIELDS.NOT", 17) == 0 ||
	    strncasecmp(p, "HEADER.FIELDS", 13) == 0) {
		bool not = strncasecmp(p, "HEADER.FIELDS.NOT", 17) == 0;

		it->text = not ? T_FIELDS_NOT : T_FIELDS;
		if (parse_fields(it, p + (not ? 17 : 13), &close) < 0 ||
		    *close != ']')
			return -1;
	} else if (strncasecmp(p, "HEADER]", 7) == 0) {
		it->text = T_HEADER;
		close = p + 6;
	} else if (strncasecmp(p, "TEXT]", 5) == 0) {
		it->text = T_TEXT;
		close = p + 4;
	} else
		return -1;              /* part numbers: need lib/mime */
	const char *after = close + 1;
	if (*after == '<') {
		char *e;
		unsigned long long a = strtoull(after + 1, &e, 10), b;

		if (e == after + 1 || *e != '.')
			return -1;
		const char *bs = e + 1;
		b = strtoull(bs, &e, 10);
		if (e == bs || b == 0 || strcmp(e, ">") != 0)
			return -1;
		it->partial = true;
		it->start = (size_t)a;
		it->count = (size_t)b;
	} else if (*after != '\0')
		return -1;
	/* the answer names the section as asked, without .PEEK/partial */
	it->label_buf = xasprintf("BODY[%.*s]", (int)(close - p), p);
	if (it->partial) {
		char *l = xasprintf("%s<%zu>", it->label_buf, it->start);
		free(it->label_buf);
		it->label_buf = l;
	}
	it->label = it->label_buf;
	return 0;
}

static int
parse_item(struct fetch *f, const struct imap_arg *a)
{
	struct fitem *it;

	if (a->type != IMAP_ARG_ATOM)
		return -1;
	const char *s = a->s;
	if (strcasecmp(s, "FLAGS") == 0)
		fetch_add(f, F_FLAGS);
	else if (strcasecmp(s, "UID") == 0)
		fetch_add(f, F_UID);
	else if (strcasecmp(s, "INTERNALDATE") == 0)
		fetch_add(f, F_DATE);
	else if (strcasecmp(s, "RFC822.SIZE") == 0)
		fetch_add(f, F_SIZE);
	else if (strcasecmp(s, "MODSEQ") == 0)
		fetch_add(f, F_MODSEQ);
	else if (strcasecmp(s, "RFC822") == 0 ||
	    strcasecmp(s, "RFC822.HEADER") == 0 ||
	    strcasecmp(s, "RFC822.TEXT") == 0) {
		it = fetch_add(f, F_BODYSEC);
		f->need_body = true;
		it->label = strcasecmp(s, "RFC822") == 0 ? "RFC822" :
		    strcasecmp(s, "RFC822.HEADER") == 0 ? "RFC822.HEADER" :
		    "RFC822.TEXT";
		it->text = s[6] == '\0' ? T_ALL : s[7] == 'H' || s[7] == 'h' ?
		    T_HEADER : T_TEXT;
		it->peek = it->text == T_HEADER;
		if (!it->peek)
			f->sets_seen = true;
	} else if (strncasecmp(s, "BODY[", 5) == 0)
		return parse_section(f, s, false);
	else if (strncasecmp(s, "BODY.PEEK[", 10) == 0)
		return parse_section(f, s, true);
	else
		return -1;
	return 0;
}

static int
parse_items(struct fetch *f, const struct imap_arg *a)
{
	if (imap_arg_is(a, "ALL") || imap_arg_is(a, "FAST") ||
	    imap_arg_is(a, "FULL")) {
		fetch_add(f, F_FLAGS);
		fetch_add(f, F_DATE);
		fetch_add(f, F_SIZE);
		return imap_arg_is(a, "FAST") ? 0 : -2;   /* ENVELOPE */
	}
	if (a->type == IMAP_ARG_LIST) {
		if (a->n == 0)
			return -1;
		for (size_t i = 0; i < a->n; i++)
			if (parse_item(f, &a->list[i]) < 0)
				return -1;
		return 0;
	}
	return parse_item(f, a);
}

static void
out_date(struct session *s, time_t t)
{
	struct tm tm;
	char b[64];

	localtime_r(&t, &tm);
	strftime(b, sizeof(b), "%d-%b-%Y %H:%M:%S %z", &tm);
	out(s, "INTERNALDATE \"%s\"", b);
}

static void
out_section(struct session *s, const struct fitem *it, struct message *m)
{
	struct buf tmp;
	const char *d = m->data.data;
	size_t len = m->data.len;

	buf_init(&tmp, 0, 0);
	switch (it->text) {
	case T_ALL:
		break;
	case T_HEADER:
		len = m->hdr_len;
		break;
	case T_TEXT:
		d += m->hdr_len;
		len -= m->hdr_len;
		break;
	case T_FIELDS:
	case T_FIELDS_NOT:
		header_fields(m->data.data, m->hdr_len, it->fields,
		    it->nfields, it->text == T_FIELDS_NOT, &tmp);
		d = tmp.data;
		len = tmp.len;
		break;
	}
	if (it->partial) {
		if (it->start >= len)
			len = 0;
		else {
			d += it->start;
			len -= it->start;
			if (len > it->count)
				len = it->count;
		}
	}
	out(s, "%s {%zu}\r\n", it->label, len);
	out_raw(s, d, len);
	buf_release(&tmp);
}

static bool
fetch_one(struct session *s, uint32_t i, const struct fetch *f, bool uid)
{
	struct imap_msg *mm = &s->mb->msgs[i];
	struct message m;
	bool first = true, flags_shown = false;

	if (f->need_body && message_load(s, i, &m) < 0) {
		message_release(&m);
		return false;
	}
	if (f->sets_seen && !s->readonly && !(mm->flags & IMAP_F_SEEN))
		if (imap_mbox_set_flags(s->mb, i, mm->flags | IMAP_F_SEEN) < 0)
			log_exc(LOG_IMAP, "%s: cannot set \\Seen", s->id);
	out(s, "* %u FETCH (", i + 1);
	if (uid) {
		out(s, "UID %u", mm->uid);
		first = false;
	}
	for (size_t k = 0; k < f->n; k++) {
		const struct fitem *it = &f->v[k];

		if (it->kind == F_UID && uid)
			continue;
		if (it->kind == F_FLAGS && flags_shown)
			continue;
		if (!first)
			out(s, " ");
		first = false;
		switch (it->kind) {
		case F_FLAGS:
			out_flags(s, mm);
			flags_shown = true;
			break;
		case F_UID:
			out(s, "UID %u", mm->uid);
			break;
		case F_DATE:
			out_date(s, message_date(s, i));
			break;
		case F_SIZE:
			out(s, "RFC822.SIZE %u", message_size(s, i));
			break;
		case F_MODSEQ:
			out(s, "MODSEQ (%llu)", (unsigned long long)mm->modseq);
			break;
		case F_BODYSEC:
			out_section(s, it, &m);
			break;
		}
	}
	if (f->sets_seen && !flags_shown && !s->readonly) {
		out(s, " ");
		out_flags(s, mm);
	}
	if (s->condstore && !first) {
		bool has = false;
		for (size_t k = 0; k < f->n; k++)
			has = has || f->v[k].kind == F_MODSEQ;
		if (!has)
			out(s, " MODSEQ (%llu)", (unsigned long long)mm->modseq);
	}
	out(s, ")\r\n");
	if (f->need_body)
		message_release(&m);
	return true;
}

void
cmd_fetch(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	struct imap_seqset set;
	struct fetch f = { 0 };
	unsigned long long changedsince = 0;
	int rc;
	bool missing = false;

	if (n < 2 || n > 3) {
		session_bad(s, tag, "FETCH sequence-set items");
		return;
	}
	if (n == 3) {
		/* (CHANGEDSINCE n), RFC 7162 */
		if (a[2].type != IMAP_ARG_LIST || a[2].n != 2 ||
		    !imap_arg_is(&a[2].list[0], "CHANGEDSINCE") ||
		    a[2].list[1].type != IMAP_ARG_ATOM) {
			session_bad(s, tag, "Unknown FETCH modifier");
			return;
		}
		changedsince = strtoull(a[2].list[1].s, NULL, 10);
		s->condstore = true;
	}
	if ((rc = parse_items(&f, &a[1])) < 0) {
		fetch_release(&f);
		session_bad(s, tag, rc == -2 ? "ENVELOPE is not supported yet" :
		    "Invalid or unsupported FETCH item");
		return;
	}
	if (seqset_arg(s, tag, &a[0], uid, &set) < 0) {
		fetch_release(&f);
		return;
	}
	for (uint32_t i = 0; i < s->mb->count; i++) {
		if (!msg_in_set(s, &set, i, uid))
			continue;
		if (changedsince && s->mb->msgs[i].modseq <= changedsince)
			continue;
		if (!fetch_one(s, i, &f, uid))
			missing = true;
		/* keep memory bounded on huge answers: let it drain */
	}
	imap_mbox_flush_modseq(s->mb);
	imap_seqset_free(&set);
	fetch_release(&f);
	if (missing)
		tagged(s, tag, "NO [EXPUNGEISSUED] Some messages were expunged");
	else
		tagged(s, tag, "OK FETCH completed");
}
