/*
 * cmd_mailbox - commands on folders as a whole: CREATE, DELETE, RENAME
 * (INBOX's special rename too), SUBSCRIBE, UNSUBSCRIBE, LIST (with
 * CHILDREN and SPECIAL-USE attributes), LSUB and STATUS.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imapd.h"
#include "log.h"
#include "xalloc.h"

/* A mailbox-name argument: an astring without NULs. */
static const char *
mbox_arg(const struct imap_arg *a)
{
	if (!imap_arg_astring(a) || strlen(a->s) != a->len)
		return NULL;
	return a->s;
}

/* The directory of a named folder; answers and returns NULL on error. */
static char *
dir_or_answer(struct session *s, const char *tag, const char *name)
{
	const char *err;
	char *dir = folder_dir(s, name, &err);

	if (dir == NULL)
		tagged(s, tag, "NO %s", err);
	return dir;
}

void
cmd_create(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	const char *name;
	char *dir, *copy;

	(void)uid;
	if (n != 1 || (name = mbox_arg(&a[0])) == NULL) {
		session_bad(s, tag, "CREATE mailbox");
		return;
	}
	copy = xstrdup(name);
	/* "foo." says foo will have children (RFC 3501 6.3.3) */
	size_t l = strlen(copy);
	if (l > 1 && copy[l - 1] == '.')
		copy[l - 1] = '\0';
	if (folder_is_inbox(copy)) {
		free(copy);
		tagged(s, tag, "NO [ALREADYEXISTS] INBOX always exists");
		return;
	}
	dir = dir_or_answer(s, tag, copy);
	free(copy);
	if (dir == NULL)
		return;
	if (folder_exists(dir))
		tagged(s, tag, "NO [ALREADYEXISTS] Mailbox exists");
	else if (imap_maildir_create(dir) < 0) {
		log_exc(LOG_IMAP, "%s: mkdir %s: %s", s->id, dir,
		    strerror(errno));
		tagged(s, tag, "NO [SERVERBUG] Cannot create the mailbox");
	} else {
		char *mf = xasprintf("%s/maildirfolder", dir);
		FILE *f = fopen(mf, "w");

		if (f != NULL)
			fclose(f);
		free(mf);
		tagged(s, tag, "OK CREATE completed");
	}
	free(dir);
}

/* Remove a folder directory: files in it and in cur/ new/ tmp/. */
static int
rm_folder(const char *dir)
{
	static const char *const sub[] = { "/cur", "/new", "/tmp", "" };

	for (size_t i = 0; i < 4; i++) {
		char *p = xasprintf("%s%s", dir, sub[i]);
		DIR *d = opendir(p);
		struct dirent *de;

		while (d != NULL && (de = readdir(d)) != NULL) {
			if (strcmp(de->d_name, ".") == 0 ||
			    strcmp(de->d_name, "..") == 0)
				continue;
			char *f = xasprintf("%s/%s", p, de->d_name);
			if (unlink(f) < 0 && errno != EISDIR)
				(void)rmdir(f);
			free(f);
		}
		if (d != NULL)
			closedir(d);
		if (i < 3)
			(void)rmdir(p);
		free(p);
	}
	return rmdir(dir);
}

static bool
has_children(struct session *s, const char *name)
{
	size_t n, l = strlen(name);
	char **v = folder_names(s, &n);
	bool r = false;

	for (size_t i = 0; i < n && !r; i++)
		r = strncmp(v[i], name, l) == 0 && v[i][l] == '.';
	folder_names_free(v, n);
	return r;
}

void
cmd_delete(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	static unsigned seq;
	const char *name;
	char *dir, *gone;

	(void)uid;
	if (n != 1 || (name = mbox_arg(&a[0])) == NULL) {
		session_bad(s, tag, "DELETE mailbox");
		return;
	}
	if (folder_is_inbox(name)) {
		tagged(s, tag, "NO INBOX cannot be deleted");
		return;
	}
	if ((dir = dir_or_answer(s, tag, name)) == NULL)
		return;
	if (!folder_exists(dir)) {
		tagged(s, tag, "NO [NONEXISTENT] No such mailbox");
		free(dir);
		return;
	}
	if (has_children(s, strrchr(dir, '/') + 2)) {
		tagged(s, tag, "NO [INUSE] Mailbox has children, delete them "
		    "first");
		free(dir);
		return;
	}
	if (s->mb != NULL && strcmp(s->mb->dir, dir) == 0) {
		session_unselect(s);
		session_enter(s, ST_AUTH);
	}
	/* out of sight first (atomic), then emptied */
	gone = xasprintf("%s/tern-deleted.%ld.%u", s->home, (long)getpid(),
	    ++seq);
	if (rename(dir, gone) < 0) {
		log_exc(LOG_IMAP, "%s: rename %s: %s", s->id, dir,
		    strerror(errno));
		tagged(s, tag, "NO [SERVERBUG] Cannot delete the mailbox");
	} else {
		if (rm_folder(gone) < 0)
			log_exc(LOG_IMAP, "%s: cannot remove %s: %s", s->id,
			    gone, strerror(errno));
		tagged(s, tag, "OK DELETE completed");
	}
	free(gone);
	free(dir);
}

/* RENAME INBOX x: its messages move to a new folder x; INBOX stays. */
static void
rename_inbox(struct session *s, const char *tag, const char *to)
{
	static const char *const sub[] = { "new", "cur" };

	if (folder_exists(to)) {
		tagged(s, tag, "NO [ALREADYEXISTS] Target exists");
		return;
	}
	if (imap_maildir_create(to) < 0) {
		tagged(s, tag, "NO [SERVERBUG] Cannot create the target");
		return;
	}
	for (size_t i = 0; i < 2; i++) {
		char *p = xasprintf("%s/%s", s->home, sub[i]);
		DIR *d = opendir(p);
		struct dirent *de;

		while (d != NULL && (de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			char *f = xasprintf("%s/%s", p, de->d_name);
			char *t = xasprintf("%s/%s/%s", to, sub[i], de->d_name);
			(void)rename(f, t);
			free(f);
			free(t);
		}
		if (d != NULL)
			closedir(d);
		free(p);
	}
	tagged(s, tag, "OK RENAME completed");
}

void
cmd_rename(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	const char *from, *to;
	char *fdir = NULL, *tdir = NULL;

	(void)uid;
	if (n != 2 || (from = mbox_arg(&a[0])) == NULL ||
	    (to = mbox_arg(&a[1])) == NULL) {
		session_bad(s, tag, "RENAME from to");
		return;
	}
	if (folder_is_inbox(to)) {
		tagged(s, tag, "NO [ALREADYEXISTS] INBOX exists");
		return;
	}
	if ((fdir = dir_or_answer(s, tag, from)) == NULL ||
	    (tdir = dir_or_answer(s, tag, to)) == NULL)
		goto out;
	if (folder_is_inbox(from)) {
		rename_inbox(s, tag, tdir);
		goto out;
	}
	if (!folder_exists(fdir)) {
		tagged(s, tag, "NO [NONEXISTENT] No such mailbox");
		goto out;
	}
	if (folder_exists(tdir)) {
		tagged(s, tag, "NO [ALREADYEXISTS] Target exists");
		goto out;
	}
	const char *fn = strrchr(fdir, '/') + 2, *tn = strrchr(tdir, '/') + 2;
	size_t fl = strlen(fn);
	if (strncmp(tn, fn, fl) == 0 && tn[fl] == '.') {
		tagged(s, tag, "NO Cannot move a mailbox into itself");
		goto out;
	}
	/* children first, then the folder */
	size_t nn;
	char **v = folder_names(s, &nn);
	for (size_t i = 0; i < nn; i++) {
		if (strncmp(v[i], fn, fl) != 0 || v[i][fl] != '.')
			continue;
		char *o = xasprintf("%s/.%s", s->home, v[i]);
		char *t = xasprintf("%s/.%s%s", s->home, tn, v[i] + fl);
		if (rename(o, t) < 0)
			log_exc(LOG_IMAP, "%s: rename %s: %s", s->id, o,
			    strerror(errno));
		free(o);
		free(t);
	}
	folder_names_free(v, nn);
	if (s->mb != NULL && strcmp(s->mb->dir, fdir) == 0) {
		session_unselect(s);
		session_enter(s, ST_AUTH);
	}
	if (rename(fdir, tdir) < 0)
		tagged(s, tag, "NO [SERVERBUG] Cannot rename");
	else
		tagged(s, tag, "OK RENAME completed");
out:
	free(fdir);
	free(tdir);
}

static void
subscribe(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool on)
{
	const char *name;
	size_t k;
	char **v;

	if (n != 1 || (name = mbox_arg(&a[0])) == NULL ||
	    strchr(name, '\n') != NULL) {
		session_bad(s, tag, on ? "SUBSCRIBE mailbox" :
		    "UNSUBSCRIBE mailbox");
		return;
	}
	if (on) {
		const char *err;
		char *dir = folder_dir(s, name, &err);

		if (dir == NULL || !folder_exists(dir)) {
			tagged(s, tag, "NO [NONEXISTENT] No such mailbox");
			free(dir);
			return;
		}
		free(dir);
	}
	v = subs_read(s, &k);
	size_t i;
	for (i = 0; i < k && strcmp(v[i], name) != 0; i++)
		;
	if (on && i == k) {
		v = xrealloc(v, (k + 1) * sizeof(*v));
		v[k++] = xstrdup(name);
	} else if (!on && i < k) {
		free(v[i]);
		v[i] = v[--k];
	}
	if (subs_write(s, v, k) < 0)
		tagged(s, tag, "NO [SERVERBUG] Cannot save subscriptions");
	else
		tagged(s, tag, "OK %s completed", on ? "SUBSCRIBE" :
		    "UNSUBSCRIBE");
	folder_names_free(v, k);
}

void
cmd_subscribe(struct session *s, const char *tag, struct imap_arg *a,
    size_t n, bool uid)
{
	(void)uid;
	subscribe(s, tag, a, n, true);
}

void
cmd_unsubscribe(struct session *s, const char *tag, struct imap_arg *a,
    size_t n, bool uid)
{
	(void)uid;
	subscribe(s, tag, a, n, false);
}

static bool
name_listed(char **v, size_t nv, const char *name)
{
	for (size_t i = 0; i < nv; i++)
		if (strcmp(v[i], name) == 0)
			return true;
	return false;
}

/*
 * Parents that do not exist as folders ("a" of an existing "a.b"): shown
 * as \Noselect with children, as RFC 3501 6.3.8 asks, so a client can
 * walk the hierarchy with "%".  Each at most once.
 */
static void
list_ghosts(struct session *s, const char *what, char **v, size_t nv,
    const char *full)
{
	char **seen = NULL;
	size_t nseen = 0;

	for (size_t i = 1; i < nv; i++) {
		for (const char *dot = strchr(v[i], '.'); dot != NULL;
		    dot = strchr(dot + 1, '.')) {
			char *p = xstrndup(v[i], (size_t)(dot - v[i]));

			if (*p == '\0' || name_listed(v, nv, p) ||
			    name_listed(seen, nseen, p) ||
			    !folder_match(full, p)) {
				free(p);
				continue;
			}
			out(s, "* %s (\\Noselect \\HasChildren) \".\" ", what);
			out_mailbox(s, p);
			out(s, "\r\n");
			seen = xrealloc(seen, (nseen + 1) * sizeof(*seen));
			seen[nseen++] = p;
		}
	}
	for (size_t i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
}

static void
list_reply(struct session *s, const char *what, char **v, size_t nv,
    const char *ref, const char *pat, bool lsub)
{
	char *full = xasprintf("%s%s", ref, pat);

	for (size_t i = 0; i < nv; i++) {
		if (!folder_match(full, v[i]))
			continue;
		size_t l = strlen(v[i]);
		bool kids = false;
		for (size_t j = 0; j < nv && !kids; j++)
			kids = strncmp(v[j], v[i], l) == 0 && v[j][l] == '.';
		const char *su = folder_special_use(v[i]);

		if (lsub)
			out(s, "* %s () \".\" ", what);
		else
			out(s, "* %s (%s%s%s) \".\" ", what,
			    kids ? "\\HasChildren" : "\\HasNoChildren",
			    su ? " " : "", su ? su : "");
		out_mailbox(s, v[i]);
		out(s, "\r\n");
	}
	if (!lsub)
		list_ghosts(s, what, v, nv, full);
	free(full);
}

static void
list_common(struct session *s, const char *tag, struct imap_arg *a,
    size_t n, bool lsub)
{
	const char *ref, *pat;
	const char *what = lsub ? "LSUB" : "LIST";

	if (n != 2 || (ref = mbox_arg(&a[0])) == NULL ||
	    (pat = mbox_arg(&a[1])) == NULL) {
		if (n == 2 && a[0].type == IMAP_ARG_STRING && a[0].len == 0 &&
		    a[1].type == IMAP_ARG_STRING && a[1].len == 0)
			goto hier;
		session_bad(s, tag, lsub ? "LSUB reference pattern" :
		    "LIST reference pattern");
		return;
	}
	if (*pat == '\0') {
hier:
		if (!lsub)
			out(s, "* LIST (\\Noselect) \".\" \"\"\r\n");
		tagged(s, tag, "OK %s completed", what);
		return;
	}
	size_t nv;
	char **v = lsub ? subs_read(s, &nv) : folder_names(s, &nv);

	list_reply(s, what, v, nv, ref, pat, lsub);
	folder_names_free(v, nv);
	tagged(s, tag, "OK %s completed", what);
}

void
cmd_list(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	(void)uid;
	list_common(s, tag, a, n, false);
}

void
cmd_lsub(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	(void)uid;
	list_common(s, tag, a, n, true);
}

void
cmd_status(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	const char *name, *err;
	char *dir;
	struct imap_mbox *mb, *tmp = NULL;

	(void)uid;
	if (n != 2 || (name = mbox_arg(&a[0])) == NULL ||
	    a[1].type != IMAP_ARG_LIST || a[1].n == 0) {
		session_bad(s, tag, "STATUS mailbox (items)");
		return;
	}
	for (size_t i = 0; i < a[1].n; i++) {
		static const char *const ok[] = { "MESSAGES", "RECENT",
		    "UIDNEXT", "UIDVALIDITY", "UNSEEN", "HIGHESTMODSEQ",
		    "SIZE" };
		bool good = false;

		for (size_t k = 0; k < 7; k++)
			good = good || imap_arg_is(&a[1].list[i], ok[k]);
		if (!good) {
			session_bad(s, tag, "Unknown STATUS item");
			return;
		}
	}
	if ((dir = dir_or_answer(s, tag, name)) == NULL)
		return;
	if (!folder_exists(dir)) {
		tagged(s, tag, "NO [NONEXISTENT] No such mailbox");
		free(dir);
		return;
	}
	if (s->mb != NULL && strcmp(s->mb->dir, dir) == 0)
		mb = s->mb;
	else {
		mb = tmp = imap_mbox_new(dir);
		if (imap_mbox_sync(mb, NULL, true, &err) < 0) {
			log_exc(LOG_IMAP, "%s: %s: %s", s->id, dir, err);
			tagged(s, tag, "NO [SERVERBUG] Cannot read the mailbox");
			imap_mbox_free(&tmp);
			free(dir);
			return;
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
	for (size_t i = 0; i < a[1].n; i++) {
		const struct imap_arg *it = &a[1].list[i];

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
	tagged(s, tag, "OK STATUS completed");
	imap_mbox_free(&tmp);
	free(dir);
}
