/*
 * maildrop_scan - the login scan of a maildir: one readdir() pass over
 * new/ and cur/ (new/ files are moved to cur/ as "name:2,"), EXPIRE,
 * sizes, and the delivery order that numbers the messages.
 *
 * Names written by Tern's delivery (and by Dovecot and Courier) carry
 * ",W=<octets with CRLF>", so a normal scan reads no message.  For the
 * rest, the size is counted from the file once and remembered in
 * MAILDROP_SIZES_FILE ("base size" lines), rewritten whenever a scan
 * had to count something.  The file is only a cache: a line that does
 * not parse is ignored, a message it does not know is counted again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mailbox.h"
#include "maildrop_int.h"
#include "xalloc.h"

#define MD_READ_CHUNK 65536

int
md_set_name(struct maildrop *md, unsigned i, const char *name, size_t len)
{
	struct md_msg *m = &md->msgs[i];
	size_t off = buf_len(&md->pool);
	const char *colon = memchr(name, ':', len);

	/* Offsets are 32 bits; names are at most NAME_MAX (255) bytes. */
	if (len > 255 || off + len + 1 > (size_t)0xffffffffu)
		return -1;
	buf_append(&md->pool, name, len);
	buf_putc(&md->pool, '\0');
	m->name = (unsigned)off;
	m->len = (unsigned short)len;
	m->base = (unsigned short)(colon != NULL ? (size_t)(colon - name) :
	    len);
	return 0;
}

/* "1732500000.M123456P..." -> seconds and microseconds, as one key. */
static unsigned long long
md_time_key(const char *name, size_t base)
{
	unsigned long long sec = 0, usec = 0;
	size_t i = 0;

	while (i < base && name[i] >= '0' && name[i] <= '9' && i < 12)
		sec = sec * 10 + (unsigned)(name[i++] - '0');
	if (i + 1 < base && name[i] == '.' && name[i + 1] == 'M') {
		for (i += 2; i < base && name[i] >= '0' && name[i] <= '9' &&
		    usec < 1000000; i++)
			usec = usec * 10 + (unsigned)(name[i] - '0');
	}
	return sec * 1000000 + (usec < 1000000 ? usec : 0);
}

bool
md_name_size(const char *name, size_t base, char field,
    unsigned long long *size_r)
{
	const char key[3] = { ',', field, '=' };
	const char *p = memmem(name, base, key, 3);
	const char *end = name + base;
	unsigned long long v = 0;

	if (p == NULL)
		return false;
	p += 3;
	if (p == end || *p < '0' || *p > '9')
		return false;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (v > 1000000000000000ULL)
			return false;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (p != end && *p != ',')
		return false;
	*size_r = v;
	return true;
}

long long
md_disk_size(struct maildrop *md, const char *name, size_t base)
{
	unsigned long long s;
	struct stat st;

	if (md_name_size(name, base, 'S', &s))
		return (long long)s;
	return fstatat(md->curfd, name, &st, 0) == 0 ? (long long)st.st_size :
	    0;
}

/* Maildir info "2,FLAGS" holds flag c. */
static bool
md_has_flag(const char *name, size_t len, size_t base, char c)
{
	if (base + 3 > len || memcmp(name + base, ":2,", 3) != 0)
		return false;
	return memchr(name + base + 3, c, len - base - 3) != NULL;
}

static int
md_add(struct maildrop *md, const char *name, size_t len)
{
	struct md_msg *m;

	if (md->n == md->alloc) {
		if (md->alloc >= 0x7fffffffu / 2)
			return -1;
		md->alloc = md->alloc == 0 ? 256 : md->alloc * 2;
		md->msgs = xrealloc(md->msgs, md->alloc * sizeof(*md->msgs));
	}
	m = &md->msgs[md->n];
	memset(m, 0, sizeof(*m));
	if (md_set_name(md, md->n, name, len) < 0)
		return -1;
	m->key = md_time_key(name, m->base);
	m->sized = md_name_size(name, m->base, 'W', &m->size);
	md->n++;
	return 0;
}

/* EXPIRE: a message already retrieved (Seen) and delivered more than
 * days ago.  The delivery time is in the name; stat() when it is not. */
static bool
md_expired(struct maildrop *md, const char *name, size_t len, time_t limit)
{
	const char *colon = memchr(name, ':', len);
	size_t base = colon != NULL ? (size_t)(colon - name) : len;
	unsigned long long key;
	struct stat st;

	if (!md_has_flag(name, len, base, 'S'))
		return false;
	key = md_time_key(name, base);
	if (key != 0)
		return (time_t)(key / 1000000) < limit;
	return fstatat(md->curfd, name, &st, 0) == 0 && st.st_mtime < limit;
}

/* Every entry of new/ (is_new) or cur/. */
static int
md_scan_dir(struct maildrop *md, bool is_new, time_t expire_before,
    struct maildir_usage *expired, char **error_r)
{
	int fd = openat(md->dirfd, is_new ? "new" : "cur",
	    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	char moved[300];
	const char *name;
	size_t len;
	int rc = 0;

	if (d == NULL) {
		*error_r = xasprintf("cannot read %s/%s: %s", md->path,
		    is_new ? "new" : "cur", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' || (de->d_type != DT_REG &&
		    de->d_type != DT_UNKNOWN))
			continue;
		name = de->d_name;
		len = strlen(name);
		if (is_new) {
			/* Seen by a client now: cur/, with an empty info. */
			snprintf(moved, sizeof(moved), "%s%s", name,
			    memchr(name, ':', len) != NULL ? "" : ":2,");
			if (renameat(md->newfd, name, md->curfd, moved) < 0) {
				if (errno != ENOENT)
					log_exc(LOG_POP, "%s: cannot move "
					    "%s/new/%s to cur/: %s", md->sid,
					    md->path, name, strerror(errno));
				continue;   /* taken by another reader */
			}
			name = moved;
			len = strlen(moved);
		} else if (expire_before != 0 &&
		    md_expired(md, name, len, expire_before)) {
			const char *colon = memchr(name, ':', len);
			long long bytes = md_disk_size(md, name, colon != NULL ?
			    (size_t)(colon - name) : len);

			if (unlinkat(md->curfd, name, 0) == 0) {
				expired->bytes += bytes;
				expired->count++;
			}
			continue;
		}
		if (md_add(md, name, len) < 0) {
			*error_r = xasprintf("%s: too many messages",
			    md->path);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && errno != 0) {
		*error_r = xasprintf("cannot read %s: %s", md->path,
		    strerror(errno));
		rc = -1;
	}
	closedir(d);
	return rc;
}

/* --- sizes of names without W= ---------------------------------------- */

struct md_cached {
	const char *base;
	size_t len;
	unsigned long long size;
};

static int
md_cached_cmp(const void *a, const void *b)
{
	const struct md_cached *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->base, y->base, n);

	return c != 0 ? c : (x->len > y->len) - (x->len < y->len);
}

/* The cache file, read whole into *text; entries point into it. */
static struct md_cached *
md_cache_load(struct maildrop *md, char **text, size_t *n_r)
{
	int fd = openat(md->dirfd, MAILDROP_SIZES_FILE, O_RDONLY | O_CLOEXEC);
	struct md_cached *c = NULL;
	struct stat st;
	size_t n = 0, alloc = 0;
	char *p, *nl, *sp, *end;
	ssize_t r;

	*text = NULL;
	*n_r = 0;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || st.st_size <= 0 ||
	    st.st_size > 256 * 1024 * 1024) {
		close(fd);
		return NULL;
	}
	*text = xmalloc((size_t)st.st_size + 1);
	r = pread(fd, *text, (size_t)st.st_size, 0);
	close(fd);
	if (r <= 0)
		return NULL;
	(*text)[r] = '\0';
	for (p = *text; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		*nl = '\0';
		sp = strchr(p, ' ');
		if (sp == NULL || sp == p)
			continue;
		if (n == alloc) {
			alloc = alloc == 0 ? 64 : alloc * 2;
			c = xrealloc(c, alloc * sizeof(*c));
		}
		c[n].base = p;
		c[n].len = (size_t)(sp - p);
		errno = 0;
		c[n].size = strtoull(sp + 1, &end, 10);
		if (errno == 0 && *end == '\0' && end != sp + 1)
			n++;
	}
	if (n > 1)
		qsort(c, n, sizeof(*c), md_cached_cmp);
	*n_r = n;
	return c;
}

/* Octets of the file with every bare LF counted as CRLF. */
static int
md_count_size(struct maildrop *md, const char *name,
    unsigned long long *size_r)
{
	static char chunk[MD_READ_CHUNK];
	int fd = openat(md->curfd, name, O_RDONLY | O_CLOEXEC);
	unsigned long long size = 0;
	char prev = '\0';
	ssize_t r;

	if (fd < 0)
		return -1;
	while ((r = read(fd, chunk, sizeof(chunk))) > 0) {
		const char *p = chunk, *end = chunk + r, *nl;

		size += (unsigned long long)r;
		while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			if ((nl == chunk ? prev : nl[-1]) != '\r')
				size++;
			p = nl + 1;
		}
		prev = chunk[r - 1];
	}
	close(fd);
	if (r < 0)
		return -1;
	*size_r = size;
	return 0;
}

static void
md_cache_save(struct maildrop *md)
{
	static const char tmp[] = MAILDROP_SIZES_FILE ".tmp";
	FILE *f;
	int fd = openat(md->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0600);

	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		log_exc(LOG_POP, "%s: cannot write %s/%s: %s", md->sid,
		    md->path, tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	for (unsigned i = 0; i < md->n; i++) {
		const struct md_msg *m = &md->msgs[i];
		unsigned long long w;

		if (!md_name_size(md_name(md, i), m->base, 'W', &w))
			fprintf(f, "%.*s %llu\n", (int)m->base, md_name(md, i),
			    m->size);
	}
	if (fclose(f) != 0 || renameat(md->dirfd, tmp, md->dirfd,
	    MAILDROP_SIZES_FILE) < 0)
		log_exc(LOG_POP, "%s: cannot write %s/%s: %s", md->sid,
		    md->path, MAILDROP_SIZES_FILE, strerror(errno));
}

/*
 * Sizes for the messages whose name has none: from the cache, else
 * counted.  A message that vanished meanwhile (IMAP expunged it) is
 * dropped from the list: it is not there to be retrieved.
 */
static void
md_fill_sizes(struct maildrop *md)
{
	struct md_cached *cache = NULL, key, *hit;
	char *text = NULL;
	size_t ncache = 0;
	unsigned counted = 0, out = 0;
	bool loaded = false;

	for (unsigned i = 0; i < md->n; i++) {
		struct md_msg *m = &md->msgs[i];

		if (m->sized)
			continue;
		if (!loaded) {
			cache = md_cache_load(md, &text, &ncache);
			loaded = true;
		}
		key.base = md_name(md, i);
		key.len = m->base;
		hit = ncache == 0 ? NULL : bsearch(&key, cache, ncache,
		    sizeof(*cache), md_cached_cmp);
		if (hit != NULL) {
			m->size = hit->size;
			m->sized = true;
		} else if (md_count_size(md, md_name(md, i), &m->size) == 0) {
			m->sized = true;
			counted++;
		}
	}
	free(cache);
	free(text);
	if (!loaded)
		return;
	for (unsigned i = 0; i < md->n; i++)
		if (md->msgs[i].sized)
			md->msgs[out++] = md->msgs[i];
	md->n = out;
	if (counted > 0) {
		log_detail(LOG_POP, "%s: counted the size of %u message%s",
		    md->sid, counted, counted == 1 ? "" : "s");
		md_cache_save(md);
	}
}

/* --- order ------------------------------------------------------------ */

static int
md_order(const void *a, const void *b, void *arg)
{
	const struct maildrop *md = arg;
	const struct md_msg *x = a, *y = b;
	size_t n;
	int c;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	n = x->base < y->base ? x->base : y->base;
	c = memcmp(md->pool.data + x->name, md->pool.data + y->name, n);
	return c != 0 ? c : (x->base > y->base) - (x->base < y->base);
}

int
md_scan(struct maildrop *md, unsigned expire_days, char **error_r)
{
	time_t before = 0;
	struct maildir_usage expired = { 0, 0 };

	if (expire_days > 0)
		before = time(NULL) - (time_t)expire_days * 86400;
	if (md_scan_dir(md, false, before, &expired, error_r) < 0 ||
	    md_scan_dir(md, true, 0, &expired, error_r) < 0)
		return -1;
	if (expired.count > 0) {
		if (fsync(md->curfd) < 0)
			log_exc(LOG_POP, "%s: fsync %s/cur: %s", md->sid,
			    md->path, strerror(errno));
		mailbox_usage_add(md->domain_dir, md->path, -expired.bytes,
		    -expired.count);
		log_msg(LOG_POP, "%s: expired %lld message%s (EXPIRE %u days)",
		    md->sid, expired.count, expired.count == 1 ? "" : "s",
		    expire_days);
	}
	md_fill_sizes(md);
	if (md->n > 1)
		qsort_r(md->msgs, md->n, sizeof(*md->msgs), md_order, md);
	md->live = md->n;
	md->live_size = 0;
	for (unsigned i = 0; i < md->n; i++)
		md->live_size += md->msgs[i].size;
	return 0;
}

int
md_refind(struct maildrop *md, unsigned i)
{
	struct md_msg *m = &md->msgs[i];
	int fd = openat(md->dirfd, "cur", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;
	int rc = -1;

	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len >= m->base && memcmp(de->d_name, md_name(md, i),
		    m->base) == 0 && (len == m->base ||
		    de->d_name[m->base] == ':')) {
			rc = md_set_name(md, i, de->d_name, len);
			break;
		}
	}
	closedir(d);
	return rc;
}
