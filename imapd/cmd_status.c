/*
 * cmd_status - STATUS (RFC 3501 6.3.10, HIGHESTMODSEQ from RFC 7162, SIZE
 * from RFC 8438), and the same response for LIST ... RETURN (STATUS ...)
 * (RFC 5819).
 */
#include <stdlib.h>
#include <string.h>

#include "imapd.h"
#include "log.h"

static const char *const status_names[] = { "MESSAGES", "RECENT", "UIDNEXT",
    "UIDVALIDITY", "UNSEEN", "HIGHESTMODSEQ", "SIZE" };

/* A parenthesized list of known status items, at least one. */
bool
status_items_ok(const struct imap_arg *items)
{
	if (items->type != IMAP_ARG_LIST || items->n == 0)
		return false;
	for (size_t i = 0; i < items->n; i++) {
		bool good = false;

		for (size_t k = 0; k < sizeof(status_names) /
		    sizeof(status_names[0]); k++)
			good = good || imap_arg_is(&items->list[i],
			    status_names[k]);
		if (!good)
			return false;
	}
	return true;
}

/*
 * "* STATUS name (...)" for the folder in dir.  The selected folder is
 * read from the session's view; any other is synced into a scratch view.
 * -1 (logged) if the folder cannot be read.
 */
int
status_send(struct session *s, const char *name, const char *dir,
    const struct imap_arg *items)
{
	const char *err;
	struct imap_mbox *mb, *tmp = NULL;

	if (s->mb != NULL && strcmp(s->mb->dir, dir) == 0)
		mb = s->mb;
	else {
		mb = tmp = imap_mbox_new(dir);
		if (imap_mbox_sync(mb, NULL, true, &err) < 0) {
			log_exc(LOG_IMAP, "%s: %s: %s", s->id, dir, err);
			imap_mbox_free(&tmp);
			return -1;
		}
	}
	uint32_t unseen = 0, recent = 0;
	unsigned long long size = 0;
	for (uint32_t i = 0; i < mb->count; i++) {
		if (!(mb->msgs[i].flags & IMAP_F_SEEN))
			unseen++;
		if (mb->msgs[i].flags & IMAP_F_RECENT)
			recent++;
		long long w = imap_name_size(imap_msg_name(mb, i), 'W');
		if (w < 0)
			w = imap_name_size(imap_msg_name(mb, i), 'S');
		size += w > 0 ? (unsigned long long)w : 0;
	}
	out(s, "* STATUS ");
	out_mailbox(s, folder_is_inbox(name) ? "INBOX" : name);
	out(s, " (");
	for (size_t i = 0; i < items->n; i++) {
		const struct imap_arg *it = &items->list[i];

		if (i > 0)
			out(s, " ");
		if (imap_arg_is(it, "MESSAGES"))
			out(s, "MESSAGES %u", mb->count);
		else if (imap_arg_is(it, "RECENT"))
			out(s, "RECENT %u", recent);
		else if (imap_arg_is(it, "UIDNEXT"))
			out(s, "UIDNEXT %u", mb->uidnext);
		else if (imap_arg_is(it, "UIDVALIDITY"))
			out(s, "UIDVALIDITY %u", mb->uidvalidity);
		else if (imap_arg_is(it, "UNSEEN"))
			out(s, "UNSEEN %u", unseen);
		else if (imap_arg_is(it, "HIGHESTMODSEQ"))
			out(s, "HIGHESTMODSEQ %llu",
			    (unsigned long long)mb->highestmodseq);
		else
			out(s, "SIZE %llu", size);
	}
	out(s, ")\r\n");
	imap_mbox_free(&tmp);
	return 0;
}

void
cmd_status(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	const char *name;
	char *dir;

	(void)uid;
	if (n != 2 || (name = folder_arg(&a[0])) == NULL) {
		session_bad(s, tag, "STATUS mailbox (items)");
		return;
	}
	if (!status_items_ok(&a[1])) {
		session_bad(s, tag, "Unknown STATUS item");
		return;
	}
	if ((dir = folder_dir_or_no(s, tag, name)) == NULL)
		return;
	if (!folder_exists(dir))
		tagged(s, tag, "NO [NONEXISTENT] No such mailbox");
	else if (status_send(s, name, dir, &a[1]) < 0)
		tagged(s, tag, "NO [SERVERBUG] Cannot read the mailbox");
	else
		tagged(s, tag, "OK STATUS completed");
	free(dir);
}
