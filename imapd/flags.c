/*
 * flags - IMAP flags and keywords on the wire: the FLAGS of a message,
 * the FLAGS and PERMANENTFLAGS lists of a folder (announced again when a
 * keyword is added), flag-list arguments of STORE and APPEND, and keyword
 * bits carried from one folder's table to another's by COPY and MOVE.
 * Keyword names per folder: lib/imap_keywords.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imapd.h"
#include "log.h"

static const struct {
	uint32_t bit;
	const char *name;
} sysflags[] = {
	{ IMAP_F_ANSWERED, "\\Answered" }, { IMAP_F_FLAGGED, "\\Flagged" },
	{ IMAP_F_DELETED, "\\Deleted" }, { IMAP_F_SEEN, "\\Seen" },
	{ IMAP_F_DRAFT, "\\Draft" },
};
#define NSYS (sizeof(sysflags) / sizeof(sysflags[0]))

void
out_flags(struct session *s, const struct imap_msg *m)
{
	const struct imap_keywords *kw = &s->mb->kw;
	bool first = true;

	out(s, "FLAGS (");
	for (size_t i = 0; i < NSYS; i++)
		if (m->flags & sysflags[i].bit) {
			out(s, "%s%s", first ? "" : " ", sysflags[i].name);
			first = false;
		}
	if (m->flags & IMAP_F_RECENT) {
		out(s, "%s\\Recent", first ? "" : " ");
		first = false;
	}
	/* a letter whose name has not reached us yet is left out */
	for (unsigned i = 0; i < kw->n; i++)
		if ((m->flags & IMAP_F_KW(i)) && kw->name[i][0] != '\0') {
			out(s, "%s%s", first ? "" : " ", kw->name[i]);
			first = false;
		}
	out(s, ")");
}

static void
out_names(struct session *s, const struct imap_keywords *kw)
{
	for (size_t i = 0; i < NSYS; i++)
		out(s, "%s%s", i ? " " : "", sysflags[i].name);
	for (unsigned i = 0; i < kw->n; i++)
		if (kw->name[i][0] != '\0')
			out(s, " %s", kw->name[i]);
}

void
out_flag_lists(struct session *s)
{
	const struct imap_keywords *kw = &s->mb->kw;

	out(s, "* FLAGS (");
	out_names(s, kw);
	out(s, ")\r\n* OK [PERMANENTFLAGS (");
	if (!s->readonly) {
		out_names(s, kw);
		/* new keywords may be made while the table has room */
		if (kw->n < IMAP_KW_MAX)
			out(s, " \\*");
	}
	out(s, ")] Flags permitted\r\n");
	s->kw_announced = kw->n;
}

void
flags_announce(struct session *s)
{
	if (s->mb != NULL && s->mb->kw.n != s->kw_announced)
		out_flag_lists(s);
}

int
parse_flag_list(const struct imap_arg *a, uint32_t *flags_r,
    struct imap_keywords *kw, const char *dir, bool create)
{
	const struct imap_arg *v = a;
	size_t n = 1;

	*flags_r = 0;
	if (a->type == IMAP_ARG_LIST) {
		v = a->list;
		n = a->n;
	}
	for (size_t i = 0; i < n; i++) {
		size_t k;

		if (v[i].type != IMAP_ARG_ATOM)
			return FLAGS_BAD;
		for (k = 0; k < NSYS; k++)
			if (strcasecmp(v[i].s, sysflags[k].name) == 0)
				break;
		if (k < NSYS) {
			*flags_r |= sysflags[k].bit;
			continue;
		}
		if (strcasecmp(v[i].s, "\\Recent") == 0)
			continue;       /* not ours to set; ignored */
		if (!imap_keyword_ok(v[i].s))
			return FLAGS_BAD;       /* an unknown \flag, or junk */
		int idx = create ? imap_keywords_add(kw, dir, v[i].s) :
		    imap_keywords_find(kw, v[i].s);

		if (idx == -2)
			return FLAGS_FULL;
		if (idx == -1 && create)
			return FLAGS_IOERR;
		if (idx >= 0)
			*flags_r |= IMAP_F_KW(idx);
	}
	return 0;
}

uint32_t
flags_for_folder(uint32_t flags, const struct imap_keywords *from,
    struct imap_keywords *to, const char *to_dir)
{
	uint32_t out = flags & IMAP_F_SYSTEM;

	for (unsigned i = 0; i < from->n; i++) {
		if (!(flags & IMAP_F_KW(i)) || from->name[i][0] == '\0')
			continue;
		int j = imap_keywords_add(to, to_dir, from->name[i]);

		/* a full or unwritable table there: the keyword stays behind,
		 * the message still goes */
		if (j >= 0)
			out |= IMAP_F_KW(j);
		else
			log_msg(LOG_IMAP, "%s: keyword %s not kept (%s)",
			    to_dir, from->name[i], j == -2 ? "26 already" :
			    "cannot write tern-keywords");
	}
	return out;
}
