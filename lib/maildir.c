/* maildir - Maildir++ writing and size accounting; see maildir.h */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "dirsync.h"
#include "maildir.h"
#include "xalloc.h"

#define MD_CHUNK (64 * 1024)

/* --- directories ------------------------------------------------------ */

static int
md_mkdir(const char *path, char **error_r)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		*error_r = xasprintf("cannot create %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* mkdir -p: every missing component of path, mode 0700. */
static int
md_mkdir_p(const char *path, char **error_r)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1; *s != '\0' && rc == 0; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		rc = md_mkdir(p, error_r);
		*s = '/';
	}
	if (rc == 0)
		rc = md_mkdir(p, error_r);
	free(p);
	return rc;
}

int
maildir_create(const char *dir, char **error_r)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	struct stat st;
	char *p;

	/* The common case: a maildir that has had mail before. */
	p = xasprintf("%s/tmp", dir);
	if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
		free(p);
		return 0;
	}
	free(p);
	if (md_mkdir_p(dir, error_r) < 0)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		int rc;

		p = xasprintf("%s/%s", dir, subs[i]);
		rc = md_mkdir(p, error_r);
		free(p);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* --- unique names ----------------------------------------------------- */

/* The host part of names: "/" and ":" would break the name's syntax. */
static const char *
md_host(void)
{
	static char host[256];
	char raw[200];

	if (host[0] != '\0')
		return host;
	if (gethostname(raw, sizeof(raw)) < 0 || raw[0] == '\0')
		strcpy(raw, "localhost");
	raw[sizeof(raw) - 1] = '\0';
	for (const char *s = raw; *s != '\0'; s++) {
		size_t n = strlen(host);

		if (*s == '/')
			snprintf(host + n, sizeof(host) - n, "\\057");
		else if (*s == ':')
			snprintf(host + n, sizeof(host) - n, "\\072");
		else if (n + 1 < sizeof(host))
			host[n] = *s, host[n + 1] = '\0';
	}
	return host;
}

char *
maildir_unique(void)
{
	static unsigned counter;
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return xasprintf("%lld.M%06ldP%ldQ%u.%s", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (long)getpid(), ++counter, md_host());
}

/* --- delivery --------------------------------------------------------- */

static int
md_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static long long
md_count_lf(const char *p, size_t n)
{
	long long lf = 0;

	for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p)));
	    p++)
		lf++;
	return lf;
}

/*
 * Copy in to out to EOF, CRLF becoming LF.  A CR that ends a chunk is
 * held until the next byte shows whether a LF follows; a CR that is not
 * followed by LF is kept (smtpd refuses bare CR on port 25, but mail
 * from elsewhere may have one).  *size_r and *lf_r add up what was
 * written and its line ends.
 */
static int
md_copy(const struct maildir_msg *m, int out, long long *size_r,
    long long *lf_r, char **error_r)
{
	char *ibuf = xmalloc(MD_CHUNK), *obuf = xmalloc(MD_CHUNK + 1);
	off_t at = m->off;
	bool cr = false;
	int rc = -1;

	for (;;) {
		ssize_t n = m->at ? pread(m->fd, ibuf, MD_CHUNK, at) :
		    read(m->fd, ibuf, MD_CHUNK);
		size_t o = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = xasprintf("cannot read the message: %s",
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		at += n;
		for (ssize_t i = 0; i < n; i++) {
			char c = ibuf[i];

			if (cr) {
				cr = false;
				if (c != '\n')
					obuf[o++] = '\r';
			}
			if (c == '\r') {
				cr = true;
				continue;
			}
			obuf[o++] = c;
		}
		*lf_r += md_count_lf(obuf, o);
		*size_r += (long long)o;
		if (md_write_all(out, obuf, o) < 0)
			goto write_error;
	}
	if (cr) {
		*size_r += 1;
		if (md_write_all(out, "\r", 1) < 0)
			goto write_error;
	}
	rc = 0;
	goto out;
write_error:
	*error_r = xasprintf("cannot write: %s", strerror(errno));
out:
	free(ibuf);
	free(obuf);
	return rc;
}


/* rename without replacing: unique names make a clash a bug elsewhere,
 * and overwriting someone's mail is the one thing not to do then. */
int
maildir_rename_new(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	/* A file system without RENAME_NOREPLACE: qmail's link + unlink. */
	if (link(from, to) < 0)
		return -1;
	unlink(from);
	return 0;
}

/* Open a fresh file in dir/tmp; *tmp_r and *base_r are malloc'd. */
static int
md_open_tmp(const char *dir, char **tmp_r, char **base_r, char **error_r)
{
	for (int tries = 0; tries < 5; tries++) {
		char *base = maildir_unique();
		char *tmp = xasprintf("%s/tmp/%s", dir, base);
		int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);

		if (fd >= 0) {
			*tmp_r = tmp;
			*base_r = base;
			return fd;
		}
		free(tmp);
		free(base);
		if (errno != EEXIST)
			break;
	}
	*error_r = xasprintf("cannot create a file in %s/tmp: %s", dir,
	    strerror(errno));
	return -1;
}

int
maildir_deliver(const char *dir, struct maildir_msg *m, char **error_r)
{
	char *tmp = NULL, *base = NULL, *dst = NULL, *newdir = NULL;
	long long lf = 0;
	int fd, rc = -1;

	m->size = m->vsize = 0;
	m->name = NULL;
	fd = md_open_tmp(dir, &tmp, &base, error_r);
	if (fd < 0)
		return -1;
	if (m->prefix != NULL && m->prefix_len > 0) {
		if (md_write_all(fd, m->prefix, m->prefix_len) < 0) {
			*error_r = xasprintf("cannot write %s: %s", tmp,
			    strerror(errno));
			goto fail;
		}
		m->size = (long long)m->prefix_len;
		lf = md_count_lf(m->prefix, m->prefix_len);
	}
	if (m->fd >= 0 && md_copy(m, fd, &m->size, &lf, error_r) < 0)
		goto fail;
	if (m->batch != NULL) {
		/* durable later, with the rest of the batch */
		m->vsize = m->size + lf;
		m->name = xasprintf("%s,S=%lld,W=%lld", base, m->size,
		    m->vsize);
		maildir_batch_add(m->batch, fd, tmp, xasprintf("%s/new/%s",
		    dir, m->name), xasprintf("%s/new", dir), m->size);
		free(base);
		return 0;
	}
	if (fdatasync(fd) < 0 || close(fd) < 0) {
		fd = -1;
		*error_r = xasprintf("cannot sync %s: %s", tmp,
		    strerror(errno));
		goto fail;
	}
	fd = -1;
	m->vsize = m->size + lf;
	m->name = xasprintf("%s,S=%lld,W=%lld", base, m->size, m->vsize);
	dst = xasprintf("%s/new/%s", dir, m->name);
	if (maildir_rename_new(tmp, dst) < 0) {
		*error_r = xasprintf("cannot move %s into new/: %s", tmp,
		    strerror(errno));
		goto fail;
	}
	newdir = xasprintf("%s/new", dir);
	if (dirsync((const char *const *)&newdir, 1) < 0) {
		/* Not durable: take it back, so a retry cannot make it a
		 * duplicate. */
		*error_r = xasprintf("cannot sync %s: %s", newdir,
		    strerror(errno));
		unlink(dst);
		goto out;
	}
	rc = 0;
	goto out;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
out:
	if (rc < 0)
		xfree(&m->name);
	free(tmp);
	free(base);
	free(dst);
	free(newdir);
	return rc;
}

void
maildir_msg_release(struct maildir_msg *m)
{
	xfree(&m->name);
}

/* --- size files ------------------------------------------------------- */

/* "<n>S" and/or "<n>C", comma separated: the S value, 0 when absent. */
static int
md_quota_line(const char *s, size_t len, long long *bytes_r)
{
	char line[128], *tok, *save = NULL;

	*bytes_r = 0;
	if (len == 0 || len >= sizeof(line))
		return -1;
	memcpy(line, s, len);
	line[len] = '\0';
	for (tok = strtok_r(line, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		char *e;
		long long v;

		errno = 0;
		v = strtoll(tok, &e, 10);
		if (e == tok || errno != 0 || v < 0 || (e[0] != 'S' &&
		    e[0] != 'C') || e[1] != '\0')
			return -1;
		if (e[0] == 'S')
			*bytes_r = v;
	}
	return 0;
}

/* Sum the "<bytes> <count>" lines of s[0..len); -1 when one is bad. */
static int
md_sum_lines(const char *s, size_t len, struct maildir_usage *u)
{
	const char *end = s + len;

	u->bytes = u->count = 0;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		char line[64], *e;
		long long b, c;

		if (nl == NULL || nl - s >= (long)sizeof(line))
			return -1;      /* a torn or absurd line */
		memcpy(line, s, (size_t)(nl - s));
		line[nl - s] = '\0';
		s = nl + 1;
		errno = 0;
		b = strtoll(line, &e, 10);
		if (e == line || *e != ' ' || errno != 0)
			return -1;
		c = strtoll(e + 1, &e, 10);
		if (*e != '\0' || errno != 0 ||
		    __builtin_add_overflow(u->bytes, b, &u->bytes) ||
		    __builtin_add_overflow(u->count, c, &u->count))
			return -1;
	}
	if (u->bytes < 0)
		u->bytes = 0;
	if (u->count < 0)
		u->count = 0;
	return 0;
}

int
maildir_sizefile_read(const char *path, long long limit,
    struct maildir_usage *u)
{
	char buf[MAILDIR_SIZE_COMPACT_MAX + 1], *nl;
	struct stat st;
	long long q;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > MAILDIR_SIZE_COMPACT_MAX) {
		close(fd);
		return 0;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n <= 0 || n > MAILDIR_SIZE_COMPACT_MAX)
		return 0;
	nl = memchr(buf, '\n', (size_t)n);
	if (nl == NULL || md_quota_line(buf, (size_t)(nl - buf), &q) < 0 ||
	    (limit >= 0 && q != limit) ||
	    md_sum_lines(nl + 1, (size_t)(n - (nl + 1 - buf)), u) < 0)
		return 0;
	if (limit > 0 && u->bytes > limit &&
	    time(NULL) - st.st_mtime > MAILDIR_SIZE_STALE)
		return 0;
	if (n > MAILDIR_SIZE_COMPACT)
		/* Long but sound: rewrite its sum rather than scan every
		 * folder (a scan of a big new/ per few hundred deliveries
		 * is what makes Maildir++ slow); one time in
		 * MAILDIR_SIZE_RESCAN scan anyway, to catch what changed
		 * behind our back. */
		return arc4random_uniform(MAILDIR_SIZE_RESCAN) == 0 ? 0 : 2;
	return 1;
}

int
maildir_sizefile_write(const char *path, unsigned long long limit,
    const struct maildir_usage *u, char **error_r)
{
	char *uniq = maildir_unique();
	char *tmp = xasprintf("%s.%s", path, uniq);
	char text[128];
	int n = snprintf(text, sizeof(text), "%lluS\n%lld %lld\n", limit,
	    u->bytes, u->count);
	int fd, rc = -1;

	free(uniq);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd < 0 || md_write_all(fd, text, (size_t)n) < 0 ||
	    close(fd) < 0 || rename(tmp, path) < 0) {
		*error_r = xasprintf("cannot write %s: %s", path,
		    strerror(errno));
		if (fd >= 0)
			unlink(tmp);
	} else
		rc = 0;
	free(tmp);
	return rc;
}

void
maildir_sizefile_add(const char *path, long long bytes, long long count)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "%lld %lld\n", bytes, count);
	int fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return;
	/* One write with O_APPEND: lines from several writers never mix. */
	if (write(fd, line, (size_t)n) < 0) {
		/* an estimate: the next rebuild puts it right */
	}
	close(fd);
}

/* --- scanning --------------------------------------------------------- */

/* ",S=<n>" in a name, or -1. */
static long long
md_name_size(const char *name)
{
	const char *p = strstr(name, ",S=");
	char *e;
	long long v;

	if (p == NULL)
		return -1;
	errno = 0;
	v = strtoll(p + 3, &e, 10);
	if (e == p + 3 || errno != 0 || v < 0 ||
	    (*e != '\0' && *e != ',' && *e != ':'))
		return -1;
	return v;
}

/* Add up the messages of one cur/ or new/ directory. */
static int
md_scan_sub(const char *sub, struct maildir_usage *u, char **error_r)
{
	DIR *d = opendir(sub);
	struct dirent *de;

	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		*error_r = xasprintf("cannot read %s: %s", sub,
		    strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		long long sz;
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		sz = md_name_size(de->d_name);
		if (sz < 0) {
			if (fstatat(dirfd(d), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
				continue;       /* gone meanwhile: fine */
			sz = st.st_size;
		}
		u->bytes += sz;
		u->count++;
	}
	closedir(d);
	return 0;
}

/* Remove what interrupted writers left in a tmp/ long ago. */
static void
md_clean_tmp(const char *tmpdir, time_t now)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;
	struct stat st;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    now - st.st_mtime > MAILDIR_TMP_MAX_AGE)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

/* One folder (the top, or a ".Name"): its cur/ and new/. */
static int
md_scan_folder(const char *folder, struct maildir_usage *u, time_t now,
    char **error_r)
{
	static const char *const subs[] = { "cur", "new" };
	char *p;

	for (size_t i = 0; i < 2; i++) {
		int rc;

		p = xasprintf("%s/%s", folder, subs[i]);
		rc = md_scan_sub(p, u, error_r);
		free(p);
		if (rc < 0)
			return -1;
	}
	p = xasprintf("%s/tmp", folder);
	md_clean_tmp(p, now);
	free(p);
	return 0;
}

int
maildir_scan(const char *dir, struct maildir_usage *u, char **error_r)
{
	time_t now = time(NULL);
	struct dirent *de;
	DIR *d;
	int rc = 0;

	u->bytes = u->count = 0;
	if (md_scan_folder(dir, u, now, error_r) < 0)
		return -1;
	d = opendir(dir);
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		*error_r = xasprintf("cannot read %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		struct stat st;
		char *sub;

		/* Maildir++ folders are the directories ".Name". */
		if (de->d_name[0] != '.' || strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0
		    || !S_ISDIR(st.st_mode))
			continue;
		sub = xasprintf("%s/%s", dir, de->d_name);
		rc = md_scan_folder(sub, u, now, error_r);
		free(sub);
	}
	closedir(d);
	return rc;
}

/* --- usage ------------------------------------------------------------ */

int
maildir_usage(const char *dir, unsigned long long limit,
    struct maildir_usage *u, char **error_r)
{
	char *path = xasprintf("%s/%s", dir, MAILDIR_SIZE_FILE);
	int rc = 0;

	switch (maildir_sizefile_read(path, (long long)limit, u)) {
	case 1:
		goto out;
	case 2:
		rc = 0;
		goto write;
	}
	rc = maildir_scan(dir, u, error_r);
write:
	/* A file we cannot write costs a scan next time, nothing more. */
	if (rc == 0) {
		char *err = NULL;

		if (maildir_sizefile_write(path, limit, u, &err) < 0)
			free(err);
	}
out:
	free(path);
	return rc;
}

int
maildir_usage_peek(const char *dir, struct maildir_usage *u,
    char **error_r)
{
	char *path = xasprintf("%s/%s", dir, MAILDIR_SIZE_FILE);
	int rc = 0;

	if (maildir_sizefile_read(path, -1, u) == 0)
		rc = maildir_scan(dir, u, error_r);
	free(path);
	return rc;
}

void
maildir_usage_add(const char *dir, long long bytes, long long count)
{
	char *path = xasprintf("%s/%s", dir, MAILDIR_SIZE_FILE);

	maildir_sizefile_add(path, bytes, count);
	free(path);
}
