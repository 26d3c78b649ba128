/*
 * cmd_select - SELECT, EXAMINE, CLOSE, UNSELECT, CHECK, EXPUNGE and
 * UID EXPUNGE: opening and leaving a folder, and removing \Deleted mail.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "imapd.h"
#include "log.h"
#include "mailbox.h"
#include "xalloc.h"

void
session_unselect(struct session *s)
{
	mcache_drop(s);
	imap_mbox_free(&s->mb);
	free(s->mbname);
	s->mbname = NULL;
}

void
cmd_select(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	const char *err, *cmd = s->readonly ? "EXAMINE" : "SELECT";
	char *dir;
	bool examine;
	uint32_t recent = 0, unseen = 0;

	(void)uid;
	/* the command's own name: the table sends both here */
	examine = strcasecmp(a[-1].s, "EXAMINE") == 0;
	cmd = examine ? "EXAMINE" : "SELECT";
	if (n < 1 || !imap_arg_astring(&a[0]) ||
	    strlen(a[0].s) != a[0].len) {
		session_bad(s, tag, "SELECT mailbox");
		return;
	}
	bool condstore = false;
	if (n == 2 && a[1].type == IMAP_ARG_LIST && a[1].n == 1 &&
	    imap_arg_is(&a[1].list[0], "CONDSTORE"))
		condstore = true;
	else if (n != 1) {
		session_bad(s, tag, "Unknown SELECT parameters");
		return;
	}
	/* leaving the old folder first, whatever happens (RFC 3501 6.3.1) */
	if (s->mb != NULL) {
		session_unselect(s);
		session_enter(s, ST_AUTH);
		out(s, "* OK [CLOSED] Previous mailbox closed\r\n");
	}
	if ((dir = folder_dir(s, a[0].s, &err)) == NULL) {
		tagged(s, tag, "NO %s", err);
		return;
	}
	if (!folder_exists(dir)) {
		tagged(s, tag, "NO [NONEXISTENT] No such mailbox");
		free(dir);
		return;
	}
	s->mb = imap_mbox_new(dir);
	free(dir);
	if (imap_mbox_sync(s->mb, NULL, true, &err) < 0) {
		log_exc(LOG_IMAP, "%s: %s: %s", s->id, s->mb->dir, err);
		session_unselect(s);
		tagged(s, tag, "NO [SERVERBUG] Cannot open the mailbox");
		return;
	}
	if (condstore)
		s->condstore = true;
	s->readonly = examine;
	s->mbname = xstrdup(folder_is_inbox(a[0].s) ? "INBOX" : a[0].s);
	for (uint32_t i = 0; i < s->mb->count; i++) {
		if (s->mb->msgs[i].flags & IMAP_F_RECENT)
			recent++;
		if (!(s->mb->msgs[i].flags & IMAP_F_SEEN) && unseen == 0)
			unseen = i + 1;
	}
	out_flag_lists(s);
	out(s, "* %u EXISTS\r\n* %u RECENT\r\n", s->mb->count, recent);
	if (unseen > 0)
		out(s, "* OK [UNSEEN %u] First unseen\r\n", unseen);
	out(s, "* OK [UIDVALIDITY %u] UIDs valid\r\n"
	    "* OK [UIDNEXT %u] Predicted next UID\r\n"
	    "* OK [HIGHESTMODSEQ %llu] Highest\r\n",
	    s->mb->uidvalidity, s->mb->uidnext,
	    (unsigned long long)s->mb->highestmodseq);
	session_enter(s, ST_SELECTED);
	tagged(s, tag, "OK [%s] %s completed", examine ? "READ-ONLY" :
	    "READ-WRITE", cmd);
}

/*
 * Remove the \Deleted messages (only those whose UID is in uids, when
 * given).  The view is left as it was: the next sync reports the
 * EXPUNGEs.  Returns how many files went.
 */
int
expunge_deleted(struct session *s, const struct imap_seqset *uids)
{
	int gone = 0;
	long long bytes = 0;

	for (uint32_t i = 0; i < s->mb->count; i++) {
		const struct imap_msg *m = &s->mb->msgs[i];

		if (!(m->flags & IMAP_F_DELETED))
			continue;
		if (uids != NULL && !imap_seqset_has(uids, m->uid,
		    s->mb->msgs[s->mb->count - 1].uid))
			continue;
		char *p = xasprintf("%s/cur/%s", s->mb->dir,
		    imap_msg_name(s->mb, i));
		if (unlink(p) == 0) {
			long long sz = imap_name_size(imap_msg_name(s->mb, i),
			    'S');
			gone++;
			bytes += sz > 0 ? sz : 0;
		} else if (errno != ENOENT)
			log_exc(LOG_IMAP, "%s: unlink %s: %s", s->id, p,
			    strerror(errno));
		free(p);
	}
	if (gone > 0 && s->ddir != NULL)
		mailbox_usage_add(s->ddir, s->home, -bytes, -gone);
	return gone;
}

void
cmd_close(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	(void)a; (void)n; (void)uid;
	if (!s->readonly)
		expunge_deleted(s, NULL);
	session_unselect(s);
	session_enter(s, ST_AUTH);
	tagged(s, tag, "OK CLOSE completed");
}

void
cmd_unselect(struct session *s, const char *tag, struct imap_arg *a,
    size_t n, bool uid)
{
	(void)a; (void)n; (void)uid;
	session_unselect(s);
	session_enter(s, ST_AUTH);
	tagged(s, tag, "OK UNSELECT completed");
}

void
cmd_check(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	(void)a; (void)n; (void)uid;
	session_update(s, true);
	tagged(s, tag, "OK CHECK completed");
}

void
cmd_expunge(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	struct imap_seqset set = { 0 };

	if (uid ? (n != 1 || a[0].type != IMAP_ARG_ATOM ||
	    imap_seqset_parse(a[0].s, &set) < 0) : n != 0) {
		session_bad(s, tag, uid ? "UID EXPUNGE uid-set" :
		    "EXPUNGE takes no arguments");
		return;
	}
	if (s->readonly) {
		imap_seqset_free(&set);
		tagged(s, tag, "NO [READ-ONLY] Mailbox is read-only");
		return;
	}
	expunge_deleted(s, uid ? &set : NULL);
	imap_seqset_free(&set);
	/* force: the unlinks may share a time tick with the last sync */
	s->mb->synced_at = 0;
	session_update(s, true);
	tagged(s, tag, "OK EXPUNGE completed");
}
