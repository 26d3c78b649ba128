/* map - see map.h */
#include <sys/stat.h>
#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "map.h"
#include "xalloc.h"

/* A CDB file starts with a table of 256 (position, count) pairs. */
#define MAP_TOC_SIZE 2048

struct map {
	char *path;
	struct cdb cdb;
	/* identity of the file we mapped, to notice a rename over path */
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

struct map_writer {
	char *path;
	char *tmp;
	int fd;
	int failed_errno;       /* first error of map_writer_add, or 0 */
	struct cdb_make cm;
};

static _Thread_local char map_errbuf[512];

static const char *map_err(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static const char *
map_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(map_errbuf, sizeof(map_errbuf), fmt, ap);
	va_end(ap);
	return map_errbuf;
}

/*
 * tinycdb only checks the table of contents lazily, during lookups, and
 * clamps a bad data end instead of failing.  We would rather refuse a
 * truncated or foreign file at open time: every hash table must lie in
 * the file, and the last one must end exactly at end of file, which is
 * how every cdb writer lays the file out.
 */
static bool
map_toc_ok(const struct cdb *cdb, unsigned fsize)
{
	const unsigned char *toc = cdb_get(cdb, MAP_TOC_SIZE, 0);
	uint64_t end, maxend = MAP_TOC_SIZE;
	unsigned i, pos, n;

	if (toc == NULL)
		return false;
	for (i = 0; i < 256; i++) {
		pos = cdb_unpack(toc + 8 * i);
		n = cdb_unpack(toc + 8 * i + 4);
		if (n == 0)
			continue;
		end = (uint64_t)pos + (uint64_t)n * 8;
		if (pos < MAP_TOC_SIZE || end > fsize)
			return false;
		if (end > maxend)
			maxend = end;
	}
	return maxend == fsize;
}

/* Open and map path into *cdb; *st_r describes the file actually mapped. */
static int
map_load(const char *path, struct cdb *cdb, struct stat *st_r,
    const char **error_r)
{
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*error_r = map_err("map %s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, st_r) < 0) {
		*error_r = map_err("map %s: cannot stat: %s", path,
		    strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st_r->st_mode)) {
		*error_r = map_err("map %s: not a regular file", path);
		goto fail;
	}
	if (st_r->st_size < MAP_TOC_SIZE || st_r->st_size > UINT_MAX) {
		*error_r = map_err("map %s: corrupt (size %lld)", path,
		    (long long)st_r->st_size);
		goto fail;
	}
	if (cdb_init(cdb, fd) < 0) {
		*error_r = map_err("map %s: cannot map: %s", path,
		    strerror(errno));
		goto fail;
	}
	/* The mapping keeps the file (and its inode number) alive. */
	close(fd);
	cdb->cdb_fd = -1;
	if (!map_toc_ok(cdb, (unsigned)st_r->st_size)) {
		cdb_free(cdb);
		*error_r = map_err("map %s: corrupt (hash tables do not fit "
		    "the file)", path);
		return -1;
	}
	return 0;
fail:
	close(fd);
	return -1;
}

static void
map_set_ident(struct map *m, const struct stat *st)
{
	m->dev = st->st_dev;
	m->ino = st->st_ino;
	m->size = st->st_size;
	m->mtime = st->st_mtim;
}

struct map *
map_open(const char *path, const char **error_r)
{
	struct map *m = xcalloc(1, sizeof(*m));
	struct stat st;

	if (map_load(path, &m->cdb, &st, error_r) < 0) {
		free(m);
		return NULL;
	}
	map_set_ident(m, &st);
	m->path = xstrdup(path);
	return m;
}

int
map_lookup(struct map *m, const void *key, size_t klen, const void **val_r,
    size_t *vlen_r)
{
	const void *val;
	int r;

	/* No record can have a key this long: cdb lengths are 32 bits. */
	if (klen > UINT_MAX)
		return 0;
	r = cdb_find(&m->cdb, key, (unsigned)klen);
	if (r <= 0)
		return r < 0 ? -1 : 0;
	val = cdb_get(&m->cdb, cdb_datalen(&m->cdb), cdb_datapos(&m->cdb));
	if (val == NULL)
		return -1;
	*val_r = val;
	*vlen_r = cdb_datalen(&m->cdb);
	return 1;
}

int
map_lookup_str(struct map *m, const char *key, const char **val_r)
{
	const void *val;
	size_t vlen;
	int r;

	r = map_lookup(m, key, strlen(key), &val, &vlen);
	if (r <= 0)
		return r;
	/* Exactly one C string: the only NUL is the last byte. */
	if (vlen == 0 || memchr(val, '\0', vlen) != (const char *)val + vlen - 1)
		return -1;
	*val_r = val;
	return 1;
}

int
map_reopen_if_changed(struct map *m, const char **error_r)
{
	struct stat st;
	struct cdb cdb;

	if (stat(m->path, &st) < 0) {
		*error_r = map_err("map %s: cannot stat: %s", m->path,
		    strerror(errno));
		return -1;
	}
	if (st.st_dev == m->dev && st.st_ino == m->ino &&
	    st.st_size == m->size && st.st_mtim.tv_sec == m->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == m->mtime.tv_nsec)
		return 0;
	/*
	 * Record what we actually mapped (map_load's fstat), not what we
	 * just stat'ed: another rebuild may have renamed a newer file in
	 * between, and the next call must then see "unchanged".
	 */
	if (map_load(m->path, &cdb, &st, error_r) < 0)
		return -1;
	cdb_free(&m->cdb);
	m->cdb = cdb;
	map_set_ident(m, &st);
	return 1;
}

const char *
map_path(const struct map *m)
{
	return m->path;
}

void
map_free(struct map **mp)
{
	struct map *m = *mp;

	if (m == NULL)
		return;
	cdb_free(&m->cdb);
	free(m->path);
	xfree(mp);
}

struct map_writer *
map_writer_new(const char *path, const char **error_r)
{
	struct map_writer *w = xcalloc(1, sizeof(*w));

	w->tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	/* Read-write: tinycdb reads keys back to detect duplicates. */
	w->fd = open(w->tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (w->fd < 0) {
		*error_r = map_err("map %s: cannot create %s: %s", path,
		    w->tmp, strerror(errno));
		free(w->tmp);
		free(w);
		return NULL;
	}
	w->path = xstrdup(path);
	cdb_make_start(&w->cm, w->fd);
	return w;
}

int
map_writer_add(struct map_writer *w, const void *key, size_t klen,
    const void *val, size_t vlen)
{
	int r;

	if (w->failed_errno != 0)
		return -1;
	if (klen > UINT_MAX || vlen > UINT_MAX) {
		w->failed_errno = EFBIG;
		return -1;
	}
	/* INSERT keeps the first record: a lookup would only see it anyway. */
	r = cdb_make_put(&w->cm, key, (unsigned)klen, val, (unsigned)vlen,
	    CDB_PUT_INSERT);
	if (r < 0) {
		w->failed_errno = errno != 0 ? errno : EIO;
		return -1;
	}
	return r > 0 ? 1 : 0;
}

int
map_writer_add_str(struct map_writer *w, const char *key, const char *val)
{
	return map_writer_add(w, key, strlen(key), val, strlen(val) + 1);
}

/* fsync the directory holding path, so the rename itself is durable. */
static int
map_sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd, r;

	if (slash == NULL)
		dir = xstrdup(".");
	else
		dir = xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* Write out the CDB and make the temp file durable; the fd is closed. */
static const char *
map_writer_finish(struct map_writer *w)
{
	const char *what = NULL;

	if (w->failed_errno != 0) {
		errno = w->failed_errno;
		what = "cannot add record";
	} else if (cdb_make_finish(&w->cm) < 0)
		what = "cannot write";
	else if (fsync(w->fd) < 0)
		what = "cannot fsync";
	if (what == NULL) {
		if (close(w->fd) < 0)
			what = "cannot close";
		w->fd = -1;
	}
	if (what == NULL)
		return NULL;
	return map_err("map %s: %s %s: %s", w->path, what, w->tmp,
	    strerror(errno));
}

static void
map_writer_release(struct map_writer **wp)
{
	struct map_writer *w = *wp;

	if (w->fd >= 0)
		close(w->fd);
	free(w->path);
	free(w->tmp);
	xfree(wp);
}

int
map_writer_commit(struct map_writer **wp, const char **error_r)
{
	struct map_writer *w = *wp;
	const char *err;

	if (w->failed_errno != 0) {
		*error_r = map_writer_finish(w);
		map_writer_abort(wp);
		return -1;
	}
	err = map_writer_finish(w);
	if (err == NULL && rename(w->tmp, w->path) < 0)
		err = map_err("map %s: cannot rename %s: %s", w->path,
		    w->tmp, strerror(errno));
	if (err != NULL) {
		unlink(w->tmp);
		map_writer_release(wp);
		*error_r = err;
		return -1;
	}
	if (map_sync_dir(w->path) < 0) {
		*error_r = map_err("map %s: renamed into place, but cannot "
		    "fsync its directory: %s", w->path, strerror(errno));
		map_writer_release(wp);
		return -1;
	}
	map_writer_release(wp);
	return 0;
}

void
map_writer_abort(struct map_writer **wp)
{
	struct map_writer *w = *wp;

	if (w == NULL)
		return;
	/*
	 * tinycdb has no way to drop a half-built map except finishing it,
	 * which also frees its record lists.  With fd -1 it fails at the
	 * first write instead of writing tables we are about to unlink.
	 */
	w->cm.cdb_fd = -1;
	(void)cdb_make_finish(&w->cm);
	unlink(w->tmp);
	map_writer_release(wp);
}
