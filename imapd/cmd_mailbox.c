/*
 * cmd_mailbox - commands that change folders as a whole: CREATE, DELETE,
 * RENAME (INBOX's special rename too), SUBSCRIBE and UNSUBSCRIBE.  LIST
 * and LSUB are in cmd_list.c, STATUS in cmd_status.c.
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

void
cmd_create(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	const char *name;
	char *dir, *copy;

	(void)uid;
	if (n != 1 || (name = folder_arg(&a[0])) == NULL) {
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
	dir = folder_dir_or_no(s, tag, copy);
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
	if (n != 1 || (name = folder_arg(&a[0])) == NULL) {
		session_bad(s, tag, "DELETE mailbox");
		return;
	}
	if (folder_is_inbox(name)) {
		tagged(s, tag, "NO INBOX cannot be deleted");
		return;
	}
	if ((dir = folder_dir_or_no(s, tag, name)) == NULL)
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
	if (n != 2 || (from = folder_arg(&a[0])) == NULL ||
	    (to = folder_arg(&a[1])) == NULL) {
		session_bad(s, tag, "RENAME from to");
		return;
	}
	if (folder_is_inbox(to)) {
		tagged(s, tag, "NO [ALREADYEXISTS] INBOX exists");
		return;
	}
	if ((fdir = folder_dir_or_no(s, tag, from)) == NULL ||
	    (tdir = folder_dir_or_no(s, tag, to)) == NULL)
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

	if (n != 1 || (name = folder_arg(&a[0])) == NULL ||
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
