/*
 * maildrop - the lock, the per-message operations and the UPDATE state;
 * see maildrop.h.  The login scan is in maildrop_scan.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"
#include "mailbox.h"
#include "maildrop_int.h"
#include "xalloc.h"

static int
md_open_dirs(struct maildrop *md, char **error_r)
{
	md->dirfd = open(md->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* A user with no mail yet has no maildir: an empty one. */
	if (md->dirfd < 0 && errno == ENOENT) {
		if (maildir_create(md->path, error_r) < 0)
			return -1;
		log_msg(LOG_POP, "%s: created the maildir %s", md->sid,
		    md->path);
		md->dirfd = open(md->path, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC);
	}
	if (md->dirfd < 0) {
		*error_r = xasprintf("cannot open %s: %s", md->path,
		    strerror(errno));
		return -1;
	}
	md->curfd = openat(md->dirfd, "cur", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	md->newfd = openat(md->dirfd, "new", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC);
	if (md->curfd < 0 || md->newfd < 0) {
		*error_r = xasprintf("%s is not a maildir: %s", md->path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * The session's lock, then LOGIN-DELAY: the lock file's mtime is the
 * last login.  An empty file was never used for a login.  Checked after
 * the lock, so two logins racing cannot both pass.
 */
static enum maildrop_status
md_lock(struct maildrop *md, long long delay_s, long long *wait_r,
    char **error_r)
{
	static const char stamp[] = "last POP3 login\n";
	struct stat st;
	time_t now = time(NULL);

	md->lockfd = openat(md->dirfd, MAILDROP_LOCK_FILE,
	    O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (md->lockfd < 0) {
		*error_r = xasprintf("cannot open %s/%s: %s", md->path,
		    MAILDROP_LOCK_FILE, strerror(errno));
		return MD_ERROR;
	}
	if (flock(md->lockfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			return MD_IN_USE;
		*error_r = xasprintf("cannot lock %s/%s: %s", md->path,
		    MAILDROP_LOCK_FILE, strerror(errno));
		return MD_ERROR;
	}
	if (fstat(md->lockfd, &st) == 0 && st.st_size > 0 && delay_s > 0 &&
	    now >= st.st_mtime && now - st.st_mtime < delay_s) {
		*wait_r = delay_s - (now - st.st_mtime);
		return MD_LOGIN_DELAY;
	}
	/* Rewriting the stamp sets the mtime to now. */
	if (pwrite(md->lockfd, stamp, sizeof(stamp) - 1, 0) < 0)
		log_exc(LOG_POP, "%s: cannot record the login in %s/%s: %s",
		    md->sid, md->path, MAILDROP_LOCK_FILE, strerror(errno));
	return MD_OK;
}

enum maildrop_status
maildrop_open(const char *path, const struct maildrop_opts *o,
    struct maildrop **md_r, long long *wait_r, char **error_r)
{
	struct maildrop *md = xcalloc(1, sizeof(*md));
	enum maildrop_status st;

	*md_r = NULL;
	*error_r = NULL;
	md->path = xstrdup(path);
	md->domain_dir = xstrdup(o->domain_dir);
	md->sid = xstrdup(o->sid);
	md->dirfd = md->curfd = md->newfd = md->lockfd = -1;
	buf_init(&md->pool, 4096, 0);
	if (md_open_dirs(md, error_r) < 0)
		st = MD_ERROR;
	else
		st = md_lock(md, o->login_delay_s, wait_r, error_r);
	if (st == MD_OK && md_scan(md, o->expire_days, error_r) < 0)
		st = MD_ERROR;
	if (st != MD_OK) {
		maildrop_free(&md);
		return st;
	}
	*md_r = md;
	return MD_OK;
}

void
maildrop_free(struct maildrop **mdp)
{
	struct maildrop *md = *mdp;

	if (md == NULL)
		return;
	/* Closing the last fd of the lock file releases the flock. */
	if (md->lockfd >= 0)
		close(md->lockfd);
	if (md->curfd >= 0)
		close(md->curfd);
	if (md->newfd >= 0)
		close(md->newfd);
	if (md->dirfd >= 0)
		close(md->dirfd);
	free(md->msgs);
	buf_release(&md->pool);
	free(md->path);
	free(md->domain_dir);
	free(md->sid);
	xfree(mdp);
}

unsigned
maildrop_count(const struct maildrop *md)
{
	return md->n;
}

unsigned
maildrop_live(const struct maildrop *md)
{
	return md->live;
}

unsigned long long
maildrop_live_size(const struct maildrop *md)
{
	return md->live_size;
}

static const struct md_msg *
md_msg(const struct maildrop *md, unsigned n)
{
	ASSERT(n >= 1 && n <= md->n);
	return &md->msgs[n - 1];
}

bool
maildrop_deleted(const struct maildrop *md, unsigned n)
{
	return md_msg(md, n)->deleted;
}

unsigned long long
maildrop_size(const struct maildrop *md, unsigned n)
{
	return md_msg(md, n)->size;
}

size_t
maildrop_uidl(const struct maildrop *md, unsigned n,
    char buf[MAILDROP_UIDL_MAX + 1])
{
	static const char hex[] = "0123456789abcdef";
	const struct md_msg *m = md_msg(md, n);
	const char *name = md_name(md, n - 1);
	unsigned char dig[EVP_MAX_MD_SIZE];
	unsigned dlen = 0;
	bool ok = m->base >= 1 && m->base <= MAILDROP_UIDL_MAX;

	for (size_t i = 0; ok && i < m->base; i++)
		ok = name[i] >= 0x21 && name[i] <= 0x7e;
	if (ok) {
		memcpy(buf, name, m->base);
		buf[m->base] = '\0';
		return m->base;
	}
	if (EVP_Digest(name, m->base, dig, &dlen, EVP_sha256(), NULL) != 1)
		BUG("SHA-256 failed");
	for (unsigned i = 0; i < 20; i++) {
		buf[2 * i] = hex[dig[i] >> 4];
		buf[2 * i + 1] = hex[dig[i] & 15];
	}
	buf[40] = '\0';
	return 40;
}

bool
maildrop_delete(struct maildrop *md, unsigned n)
{
	struct md_msg *m = &md->msgs[n - 1];

	ASSERT(n >= 1 && n <= md->n);
	if (m->deleted)
		return false;
	m->deleted = true;
	md->live--;
	md->live_size -= m->size;
	return true;
}

void
maildrop_reset(struct maildrop *md)
{
	for (unsigned i = 0; i < md->n; i++)
		md->msgs[i].deleted = false;
	md->live = md->n;
	md->live_size = 0;
	for (unsigned i = 0; i < md->n; i++)
		md->live_size += md->msgs[i].size;
}

int
maildrop_open_msg(struct maildrop *md, unsigned n)
{
	int fd;

	ASSERT(n >= 1 && n <= md->n);
	fd = openat(md->curfd, md_name(md, n - 1), O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (md_refind(md, n - 1) < 0) {
			errno = ENOENT;
			return -1;
		}
		fd = openat(md->curfd, md_name(md, n - 1), O_RDONLY |
		    O_CLOEXEC);
	}
	return fd;
}

/* name with 'S' added to its info, flags kept in ASCII order. */
static void
md_seen_name(const char *name, size_t len, size_t base, char *out,
    size_t outsize)
{
	const char *flags = "";
	size_t flen = 0, o;
	bool put = false;

	if (base + 3 <= len && memcmp(name + base, ":2,", 3) == 0) {
		flags = name + base + 3;
		flen = len - base - 3;
	}
	o = (size_t)snprintf(out, outsize, "%.*s:2,", (int)base, name);
	for (size_t i = 0; i <= flen && o + 2 < outsize; i++) {
		if (!put && (i == flen || flags[i] > 'S')) {
			out[o++] = 'S';
			put = true;
		}
		if (i < flen)
			out[o++] = flags[i];
	}
	out[o] = '\0';
}

void
maildrop_set_seen(struct maildrop *md, unsigned n)
{
	struct md_msg *m = &md->msgs[n - 1];
	char next[300];
	const char *cur;
	int tries = 0;

	ASSERT(n >= 1 && n <= md->n);
	for (;;) {
		cur = md_name(md, n - 1);
		if (m->base + 3 <= m->len &&
		    memcmp(cur + m->base, ":2,", 3) == 0 &&
		    memchr(cur + m->base + 3, 'S', m->len - m->base - 3))
			return;
		md_seen_name(cur, m->len, m->base, next, sizeof(next));
		if (renameat(md->curfd, cur, md->curfd, next) == 0)
			break;
		if (errno != ENOENT || tries++ > 0 || md_refind(md, n - 1) < 0)
			return;     /* gone, or flagged elsewhere meanwhile */
	}
	if (md_set_name(md, n - 1, next, strlen(next)) < 0)
		log_exc(LOG_POP, "%s: name pool full", md->sid);
}

/* Remove message i's file (found again if renamed); true when it is
 * gone, whoever removed it. */
static bool
md_remove(struct maildrop *md, unsigned i)
{
	const struct md_msg *m = &md->msgs[i];
	long long bytes = md_disk_size(md, md_name(md, i), m->base);

	if (unlinkat(md->curfd, md_name(md, i), 0) < 0) {
		if (errno != ENOENT)
			return false;
		if (md_refind(md, i) < 0)
			return true;        /* expunged by someone else */
		if (unlinkat(md->curfd, md_name(md, i), 0) < 0)
			return errno == ENOENT;
	}
	md->upd_bytes += bytes;
	md->upd_count++;
	return true;
}

bool
maildrop_update(struct maildrop *md, unsigned budget, unsigned *removed_r,
    unsigned *failed_r)
{
	unsigned done = 0;

	for (; md->upd_next < md->n; md->upd_next++) {
		struct md_msg *m = &md->msgs[md->upd_next];

		if (!m->deleted)
			continue;
		if (budget != 0 && done++ >= budget)
			return false;
		m->deleted = false;
		if (md_remove(md, md->upd_next))
			md->upd_removed++;
		else {
			log_exc(LOG_POP, "%s: cannot remove %s/cur/%s: %s",
			    md->sid, md->path, md_name(md, md->upd_next),
			    strerror(errno));
			md->upd_failed++;
		}
	}
	if (md->upd_count > 0) {
		if (fsync(md->curfd) < 0) {
			log_exc(LOG_POP, "%s: fsync %s/cur: %s", md->sid,
			    md->path, strerror(errno));
			md->upd_failed += md->upd_removed;
			md->upd_removed = 0;
		}
		mailbox_usage_add(md->domain_dir, md->path, -md->upd_bytes,
		    -md->upd_count);
		md->upd_bytes = md->upd_count = 0;
	}
	*removed_r = md->upd_removed;
	*failed_r = md->upd_failed;
	return true;
}
