/* edit_file - see edit.h */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "edit.h"
#include "tree.h"
#include "xalloc.h"

struct edit_undo {
	bool is_rename;
	char *a, *b;            /* mkdir: a; rename: a was renamed to b */
};

struct edit {
	int lockfd;
	struct edfile **files;
	size_t nfiles;
	struct edit_undo *undo;
	size_t nundo;
};

struct edit *
edit_begin(const char *confdir, char **error_r)
{
	char *path = xasprintf("%s/.adminctl.lock", confdir);
	struct edit *e;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0) {
		*error_r = xasprintf("cannot open %s: %s", path,
		    strerror(errno));
		free(path);
		return NULL;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr, "adminctl: waiting for another adminctl "
		    "(%s)\n", path);
		while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
			;
	}
	free(path);
	e = xcalloc(1, sizeof(*e));
	e->lockfd = fd;
	return e;
}

struct edit *
edit_begin_unlocked(void)
{
	struct edit *e = xcalloc(1, sizeof(*e));

	e->lockfd = -1;
	return e;
}

static void
edfile_split(struct edfile *f)
{
	const char *s = f->orig, *end = f->orig + f->origlen;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl != NULL ? nl : end;

		if (f->n == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 64;
			f->line = xrealloc(f->line, f->cap * sizeof(*f->line));
		}
		f->line[f->n++] = xstrndup(s, (size_t)(eol - s));
		s = eol + 1;
	}
}

struct edfile *
edit_open(struct edit *e, const char *path, bool must_exist, mode_t mode,
    bool secret, char **error_r)
{
	struct edfile *f;
	struct stat st;

	for (size_t i = 0; i < e->nfiles; i++)
		if (strcmp(e->files[i]->path, path) == 0)
			return e->files[i];
	f = xcalloc(1, sizeof(*f));
	f->path = xstrdup(path);
	f->mode = mode;
	f->force_mode = secret;
	f->uid = (uid_t)-1;
	f->gid = (gid_t)-1;
	if (read_whole(path, &f->orig, &f->origlen) == 0 &&
	    stat(path, &st) == 0) {
		f->existed = true;
		f->orig_mode = st.st_mode & 07777;
		f->uid = st.st_uid;
		f->gid = st.st_gid;
		edfile_split(f);
	} else if (errno != ENOENT || must_exist) {
		*error_r = xasprintf("cannot read %s: %s", path,
		    strerror(errno));
		free(f->path);
		free(f);
		return NULL;
	}
	e->files = xrealloc(e->files, (e->nfiles + 1) * sizeof(*e->files));
	e->files[e->nfiles++] = f;
	return f;
}

void
edfile_insert(struct edfile *f, size_t at, const char *text)
{
	ASSERT(at <= f->n);
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->line = xrealloc(f->line, f->cap * sizeof(*f->line));
	}
	memmove(&f->line[at + 1], &f->line[at], (f->n - at) *
	    sizeof(*f->line));
	f->line[at] = xstrdup(text);
	f->n++;
	f->dirty = true;
}

void
edfile_append(struct edfile *f, const char *text)
{
	edfile_insert(f, f->n, text);
}

void
edfile_replace(struct edfile *f, size_t at, const char *text)
{
	char *copy = xstrdup(text);   /* text may be f->line[at] itself */

	ASSERT(at < f->n);
	free(f->line[at]);
	f->line[at] = copy;
	f->dirty = true;
}

void
edfile_delete(struct edfile *f, size_t at, size_t count)
{
	ASSERT(at + count <= f->n);
	for (size_t i = at; i < at + count; i++)
		free(f->line[i]);
	memmove(&f->line[at], &f->line[at + count], (f->n - at - count) *
	    sizeof(*f->line));
	f->n -= count;
	f->dirty = true;
}

static void
edit_push_undo(struct edit *e, bool is_rename, const char *a, const char *b)
{
	e->undo = xrealloc(e->undo, (e->nundo + 1) * sizeof(*e->undo));
	e->undo[e->nundo].is_rename = is_rename;
	e->undo[e->nundo].a = xstrdup(a);
	e->undo[e->nundo++].b = b != NULL ? xstrdup(b) : NULL;
}

void
edit_undo_mkdir(struct edit *e, const char *path)
{
	edit_push_undo(e, false, path, NULL);
}

void
edit_undo_rename(struct edit *e, const char *from, const char *to)
{
	edit_push_undo(e, true, from, to);
}

static int
sync_parent(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash == NULL ? xstrdup(".") :
	    xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	free(dir);
	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
write_atomic(const char *path, const char *data, size_t len, mode_t mode,
    uid_t uid, gid_t gid, char **error_r)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	const char *what = "create";
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);

	if (fd < 0)
		goto fail;
	what = "write";
	if (fchmod(fd, mode) < 0 || (geteuid() == 0 && uid != (uid_t)-1 &&
	    fchown(fd, uid, gid) < 0) || write_all(fd, data, len) < 0 ||
	    fsync(fd) < 0)
		goto fail;
	what = "close";
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	what = "rename";
	if (rename(tmp, path) < 0)
		goto fail;
	free(tmp);
	if (sync_parent(path) < 0) {
		*error_r = xasprintf("%s written, but its directory cannot be "
		    "synced: %s", path, strerror(errno));
		return -1;
	}
	return 0;
fail:
	*error_r = xasprintf("cannot %s %s: %s", what, tmp, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

static int
edfile_save(struct edfile *f, char **error_r)
{
	struct buf b;
	mode_t mode = f->force_mode || !f->existed ? f->mode : f->orig_mode;
	int r;

	buf_init(&b, f->origlen + 256, 0);
	for (size_t i = 0; i < f->n; i++) {
		buf_append_str(&b, f->line[i]);
		buf_putc(&b, '\n');
	}
	r = write_atomic(f->path, buf_data(&b), buf_len(&b), mode, f->uid,
	    f->gid, error_r);
	buf_release(&b);
	if (r == 0)
		f->saved = true;
	return r;
}

int
edit_save(struct edit *e, char **error_r)
{
	for (size_t i = 0; i < e->nfiles; i++)
		if (e->files[i]->dirty && edfile_save(e->files[i], error_r) < 0)
			return -1;
	return 0;
}

static void
edfile_restore(struct edfile *f)
{
	char *err = NULL;

	if (!f->saved)
		return;
	if (!f->existed) {
		if (unlink(f->path) < 0 && errno != ENOENT)
			fprintf(stderr, "adminctl: cannot remove %s: %s\n",
			    f->path, strerror(errno));
	} else if (write_atomic(f->path, f->orig, f->origlen, f->orig_mode,
	    f->uid, f->gid, &err) < 0) {
		fprintf(stderr, "adminctl: cannot restore %s: %s\n", f->path,
		    err);
		free(err);
	}
	f->saved = false;
}

void
edit_rollback(struct edit *e)
{
	for (size_t i = 0; i < e->nfiles; i++)
		edfile_restore(e->files[i]);
	while (e->nundo > 0) {
		struct edit_undo *u = &e->undo[--e->nundo];
		int r = u->is_rename ? rename(u->b, u->a) : remove_tree(u->a);

		if (r < 0)
			fprintf(stderr, "adminctl: cannot undo the change to "
			    "%s: %s\n", u->a, strerror(errno));
		free(u->a);
		free(u->b);
	}
}

void
edit_end(struct edit **ep)
{
	struct edit *e = *ep;

	if (e == NULL)
		return;
	for (size_t i = 0; i < e->nfiles; i++) {
		struct edfile *f = e->files[i];

		for (size_t k = 0; k < f->n; k++)
			free(f->line[k]);
		free(f->line);
		free(f->orig);
		free(f->path);
		free(f);
	}
	for (size_t i = 0; i < e->nundo; i++) {
		free(e->undo[i].a);
		free(e->undo[i].b);
	}
	free(e->undo);
	free(e->files);
	if (e->lockfd >= 0)
		close(e->lockfd);       /* drops the flock */
	xfree(ep);
}

static int
remove_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int
remove_tree(const char *path)
{
	return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}
