/*
 * edit - changing the admin's text files in place, all or nothing.
 *
 * An edit holds the exclusive lock confdir/.adminctl.lock (two adminctl
 * runs never interleave), the files it opened as arrays of lines, and
 * what it did to directories.  edit_save() writes each changed file to a
 * temp file, fsyncs it and renames it over the old one; edit_rollback()
 * puts back every file as it was before and undoes the directory
 * changes, newest first.  Lines not touched - comments, blank lines,
 * order - are written back byte for byte.
 */
#ifndef TERN_ADMINCTL_EDIT_H
#define TERN_ADMINCTL_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct edfile {
	char *path;
	char **line;            /* without the '\n' */
	size_t n, cap;
	bool dirty;
	mode_t mode;            /* for a new file, or forced (secrets) */
	bool force_mode;
	/* As found, for rollback. */
	bool existed;
	char *orig;
	size_t origlen;
	mode_t orig_mode;
	uid_t uid;
	gid_t gid;
	bool saved;
};

struct edit;

/* Take the lock under confdir (waiting for another adminctl). NULL and
 * *error_r (malloc'd) when the lock file cannot be opened. */
struct edit *edit_begin(const char *confdir, char **error_r);
/* An edit without the lock: for looking before asking for a password
 * (never hold the lock while a person types).  Do not save it. */
struct edit *edit_begin_unlocked(void);

/*
 * The file at path, read into lines (a missing file is empty unless
 * must_exist).  Opening one path twice gives the same edfile.  mode:
 * the mode a new file gets; with secret, the mode it always gets (files
 * holding hashes are 0600 whatever they were).  NULL + *error_r.
 */
struct edfile *edit_open(struct edit *e, const char *path, bool must_exist,
    mode_t mode, bool secret, char **error_r);

/* Line changes; text is copied.  They mark the file dirty. */
void edfile_insert(struct edfile *f, size_t at, const char *text);
void edfile_append(struct edfile *f, const char *text);
void edfile_replace(struct edfile *f, size_t at, const char *text);
void edfile_delete(struct edfile *f, size_t at, size_t count);

/* Remember to remove directory path on rollback (we created it). */
void edit_undo_mkdir(struct edit *e, const char *path);
/* Remember to rename to back to from on rollback (we renamed it). */
void edit_undo_rename(struct edit *e, const char *from, const char *to);

/* Write every dirty file.  0, or -1 + *error_r (malloc'd). */
int edit_save(struct edit *e, char **error_r);
/* Put back what edit_save() and the directory changes did. */
void edit_rollback(struct edit *e);
/* Drop the lock and free *ep. */
void edit_end(struct edit **ep);

/* Write data to path through a temp file + fsync + rename + directory
 * fsync; mode set on the file, owner uid/gid when we are root and they
 * are not (uid_t)-1.  0, or -1 + *error_r. */
int write_atomic(const char *path, const char *data, size_t len, mode_t mode,
    uid_t uid, gid_t gid, char **error_r);

/* Remove the tree at path (no symlink is followed).  0 or -1 + errno. */
int remove_tree(const char *path);

#endif
