/*
 * cmd_store - STORE (FLAGS, +FLAGS, -FLAGS, .SILENT; UNCHANGEDSINCE from
 * RFC 7162), COPY and MOVE (RFC 6851), with their UID forms and UIDPLUS
 * COPYUID answers.  Flags and keywords are renames of the message files
 * (flags.c); COPY and MOVE carry keywords over to the target's table.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "imapd.h"
#include "log.h"
#include "mailbox.h"
#include "xalloc.h"

void
cmd_store(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	struct imap_seqset set;
	unsigned long long unchanged = 0;
	bool has_unchanged = false;
	uint32_t flags;
	int mode;
	bool silent;
	struct buf modified;

	if (n >= 3 && a[1].type == IMAP_ARG_LIST) {
		if (a[1].n != 2 || !imap_arg_is(&a[1].list[0],
		    "UNCHANGEDSINCE") || a[1].list[1].type != IMAP_ARG_ATOM) {
			session_bad(s, tag, "Unknown STORE modifier");
			return;
		}
		unchanged = strtoull(a[1].list[1].s, NULL, 10);
		has_unchanged = true;
		s->condstore = true;
		a[1] = a[0];
		a++;
		n--;
	}
	if (n != 3 || a[1].type != IMAP_ARG_ATOM) {
		session_bad(s, tag, "STORE set item flags");
		return;
	}
	const char *item = a[1].s;
	mode = item[0] == '+' ? 1 : item[0] == '-' ? -1 : 0;
	if (mode != 0)
		item++;
	silent = strcasecmp(item, "FLAGS.SILENT") == 0;
	if (!silent && strcasecmp(item, "FLAGS") != 0) {
		session_bad(s, tag, "STORE item must be FLAGS");
		return;
	}
	if (s->readonly) {
		tagged(s, tag, "NO [READ-ONLY] Mailbox is read-only");
		return;
	}
	if (seqset_arg(s, tag, &a[0], uid, &set) < 0)
		return;
	/* -FLAGS never makes a keyword; the others may */
	switch (parse_flag_list(&a[2], &flags, &s->mb->kw, s->mb->dir,
	    mode >= 0)) {
	case 0:
		break;
	case FLAGS_FULL:
		imap_seqset_free(&set);
		tagged(s, tag, "NO [LIMIT] This folder has %d keywords "
		    "already", IMAP_KW_MAX);
		return;
	case FLAGS_IOERR:
		imap_seqset_free(&set);
		log_exc(LOG_IMAP, "%s: %s: cannot add a keyword", s->id,
		    s->mb->dir);
		tagged(s, tag, "NO [SERVERBUG] Cannot store the keyword");
		return;
	default:
		imap_seqset_free(&set);
		session_bad(s, tag, "STORE set item flags");
		return;
	}
	flags_announce(s);
	buf_init(&modified, 16, 0);
	bool missing = false;
	for (uint32_t i = 0; i < s->mb->count; i++) {
		struct imap_msg *m = &s->mb->msgs[i];

		if (!msg_in_set(s, &set, i, uid))
			continue;
		if (has_unchanged && m->modseq > unchanged) {
			buf_printf(&modified, "%s%u", modified.len ? "," : "",
			    uid ? m->uid : i + 1);
			continue;
		}
		uint32_t nf = mode > 0 ? m->flags | flags :
		    mode < 0 ? m->flags & ~flags :
		    (m->flags & IMAP_F_RECENT) | flags;
		if ((nf & IMAP_F_STORED) != (m->flags & IMAP_F_STORED)) {
			int r = imap_mbox_set_flags(s->mb, i, nf);

			if (r > 0) {
				missing = true;
				continue;
			}
			if (r < 0)
				log_exc(LOG_IMAP, "%s: cannot store flags",
				    s->id);
		}
	}
	imap_mbox_flush_modseq(s->mb);
	for (uint32_t i = 0; i < s->mb->count && !silent; i++) {
		if (!msg_in_set(s, &set, i, uid))
			continue;
		out(s, "* %u FETCH (", i + 1);
		out_flags(s, &s->mb->msgs[i]);
		if (uid)
			out(s, " UID %u", s->mb->msgs[i].uid);
		if (s->condstore)
			out(s, " MODSEQ (%llu)",
			    (unsigned long long)s->mb->msgs[i].modseq);
		out(s, ")\r\n");
	}
	imap_seqset_free(&set);
	if (modified.len > 0)
		tagged(s, tag, "OK [MODIFIED %s] Conditional STORE failed",
		    modified.data);
	else if (missing)
		tagged(s, tag, "NO [EXPUNGEISSUED] Some messages were expunged");
	else
		tagged(s, tag, "OK STORE completed");
	buf_release(&modified);
}

/* COPY and MOVE: the messages into dir; COPYUID data in src and dst. */
static int
copy_to(struct session *s, const struct imap_seqset *set, bool uid,
    const char *dir, struct buf *src, struct buf *dst, uint32_t *uv_r)
{
	int copied = 0;
	long long bytes = 0;
	struct imap_keywords to = { 0 };

	for (uint32_t i = 0; i < s->mb->count; i++) {
		const struct imap_msg *m = &s->mb->msgs[i];
		uint32_t nuid;

		if (!msg_in_set(s, set, i, uid))
			continue;
		char *p = xasprintf("%s/cur/%s", s->mb->dir,
		    imap_msg_name(s->mb, i));
		uint32_t f = m->flags & IMAP_F_KEYWORDS ? flags_for_folder(
		    m->flags, &s->mb->kw, &to, dir) : m->flags;
		if (imap_mbox_copy_in(dir, p, imap_msg_name(s->mb, i), f,
		    &nuid, uv_r) < 0) {
			free(p);
			imap_keywords_free(&to);
			return -1;
		}
		free(p);
		long long sz = imap_name_size(imap_msg_name(s->mb, i), 'S');
		bytes += sz > 0 ? sz : 0;
		buf_printf(src, "%s%u", src->len ? "," : "", m->uid);
		buf_printf(dst, "%s%u", dst->len ? "," : "", nuid);
		copied++;
	}
	if (copied > 0 && s->ddir != NULL)
		mailbox_usage_add(s->ddir, s->home, bytes, copied);
	imap_keywords_free(&to);
	return copied;
}

static void
copy_or_move(struct session *s, const char *tag, struct imap_arg *a,
    size_t n, bool uid, bool move)
{
	struct imap_seqset set;
	const char *err;
	char *dir;
	struct buf src, dst;
	uint32_t uv = 0;

	if (n != 2 || !imap_arg_astring(&a[1]) ||
	    strlen(a[1].s) != a[1].len) {
		session_bad(s, tag, move ? "MOVE set mailbox" :
		    "COPY set mailbox");
		return;
	}
	if (move && s->readonly) {
		tagged(s, tag, "NO [READ-ONLY] Mailbox is read-only");
		return;
	}
	if (seqset_arg(s, tag, &a[0], uid, &set) < 0)
		return;
	if ((dir = folder_dir(s, a[1].s, &err)) == NULL) {
		imap_seqset_free(&set);
		tagged(s, tag, "NO %s", err);
		return;
	}
	if (!folder_exists(dir)) {
		imap_seqset_free(&set);
		free(dir);
		tagged(s, tag, "NO [TRYCREATE] No such mailbox");
		return;
	}
	buf_init(&src, 64, 0);
	buf_init(&dst, 64, 0);
	int r = copy_to(s, &set, uid, dir, &src, &dst, &uv);
	if (r < 0)
		tagged(s, tag, "NO [SERVERBUG] Copy failed");
	else if (!move)
		if (r > 0)
			tagged(s, tag, "OK [COPYUID %u %s %s] COPY completed",
			    uv, src.data, dst.data);
		else
			tagged(s, tag, "OK COPY completed");
	else {
		if (r > 0)
			out(s, "* OK [COPYUID %u %s %s] Moved\r\n", uv, src.data,
			    dst.data);
		/* the sources go: mark, unlink, report (MOVE may expunge) */
		for (uint32_t i = 0; i < s->mb->count; i++)
			if (msg_in_set(s, &set, i, uid))
				s->mb->msgs[i].flags |= IMAP_F_DELETED;
		struct imap_seqset all = { 0 };
		struct imap_seqset *only = &all;
		struct buf uids;
		buf_init(&uids, 64, 0);
		for (uint32_t i = 0; i < s->mb->count; i++)
			if (msg_in_set(s, &set, i, uid))
				buf_printf(&uids, "%s%u", uids.len ? "," : "",
				    s->mb->msgs[i].uid);
		if (uids.len == 0 || imap_seqset_parse(uids.data, &all) < 0)
			only = NULL;
		if (only != NULL)
			expunge_deleted(s, only);
		imap_seqset_free(&all);
		buf_release(&uids);
		s->mb->synced_at = 0;
		session_update(s, true);
		tagged(s, tag, "OK MOVE completed");
	}
	buf_release(&src);
	buf_release(&dst);
	imap_seqset_free(&set);
	free(dir);
}

void
cmd_copy(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	copy_or_move(s, tag, a, n, uid, false);
}

void
cmd_move(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	copy_or_move(s, tag, a, n, uid, true);
}
