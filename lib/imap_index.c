/*
 * imap_index - see imap_index.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "imap_index.h"
#include "xalloc.h"

/* One line of the list. */
struct lent {
	uint32_t uid;
	uint32_t flags;
	uint64_t modseq;
	const char *base;
	uint32_t blen;
	uint32_t line;          /* order in the file: later wins */
};

/* One file of cur/. */
struct dent {
	uint32_t name;          /* offset in the new pool */
	uint32_t blen;
	uint32_t flags;
	uint32_t uid;
	uint64_t modseq;
	bool fresh;
};

struct ulist {
	struct buf data;
	struct lent *e;
	size_t n, alloc;
	uint32_t uidvalidity, uidnext;
	uint64_t hms;
	bool exists, header_ok, ends_nl;
	size_t lines;
};

/* --- names -------------------------------------------------------------- */

static const struct { char c; uint32_t bit; } letters[] = {
	{ 'D', IMAP_F_DRAFT }, { 'F', IMAP_F_FLAGGED },
	{ 'R', IMAP_F_ANSWERED }, { 'S', IMAP_F_SEEN },
	{ 'T', IMAP_F_DELETED },
};

size_t
imap_name_base_len(const char *name)
{
	const char *c = strchr(name, ':');

	return c != NULL ? (size_t)(c - name) : strlen(name);
}

/* The bit of one flag letter (system or keyword); 0 for others. */
static uint32_t
letter_bit(char c)
{
	if (c >= 'a' && c < 'a' + IMAP_KW_MAX)
		return IMAP_F_KW(c - 'a');
	for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++)
		if (c == letters[i].c)
			return letters[i].bit;
	return 0;
}

uint32_t
imap_flags_from_name(const char *name)
{
	const char *c = strstr(name, ":2,");
	uint32_t f = 0;

	if (c == NULL)
		return 0;
	for (c += 3; *c != '\0'; c++)
		f |= letter_bit(*c);
	return f;
}

/* Sorted, as the maildir spec asks: upper case first, then a-z. */
void
imap_flags_letters(uint32_t flags, char out[IMAP_FLAG_LETTERS_MAX])
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof(letters) / sizeof(letters[0]); i++)
		if (flags & letters[i].bit)
			out[n++] = letters[i].c;
	for (int i = 0; i < IMAP_KW_MAX; i++)
		if (flags & IMAP_F_KW(i))
			out[n++] = (char)('a' + i);
	out[n] = '\0';
}

long long
imap_name_size(const char *name, char which)
{
	size_t blen = imap_name_base_len(name);
	char pat[4] = { ',', which, '=', '\0' };
	const char *p = name;

	while ((p = strstr(p, pat)) != NULL && (size_t)(p - name) < blen) {
		char *end;
		long long v = strtoll(p + 3, &end, 10);

		if (end != p + 3 && (*end == ',' || *end == ':' || *end == '\0'))
			return v;
		p += 3;
	}
	return -1;
}

/* base + ":2," + our letters + letters we do not know (kept as found). */
static char *
name_with_flags(const char *name, uint32_t flags)
{
	size_t blen = imap_name_base_len(name);
	const char *old = strstr(name, ":2,");
	char sys[IMAP_FLAG_LETTERS_MAX];
	struct buf b;

	buf_init(&b, blen + 16, 0);
	buf_append(&b, name, blen);
	buf_append_str(&b, ":2,");
	imap_flags_letters(flags, sys);
	/* letters must stay sorted (maildir spec): merge */
	const char *o = old != NULL ? old + 3 : "";
	char all[64];
	size_t n = 0;

	for (const char *s = sys; *s && n < sizeof(all) - 1; s++)
		all[n++] = *s;
	for (; *o && n < sizeof(all) - 1; o++)
		if (letter_bit(*o) == 0 && memchr(all, *o, n) == NULL)
			all[n++] = *o;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && all[j - 1] > all[j]; j--) {
			char t = all[j];
			all[j] = all[j - 1];
			all[j - 1] = t;
		}
	buf_append(&b, all, n);
	char *ret = buf_steal(&b);

	buf_release(&b);
	return ret;
}

/* --- the lock and the list ------------------------------------------------ */

int
imap_index_lock(const char *dir)
{
	char *path = xasprintf("%s/%s", dir, IMAP_UIDLIST_LOCK);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	free(path);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX) < 0)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

void
imap_index_unlock(int fd)
{
	if (fd >= 0)
		close(fd);     /* drops the flock */
}

static void
ulist_release(struct ulist *l)
{
	buf_release(&l->data);
	free(l->e);
	memset(l, 0, sizeof(*l));
}

static bool
parse_u64(const char **sp, const char *end, uint64_t *v_r)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (s >= end || *s < '0' || *s > '9')
		return false;
	while (s < end && *s >= '0' && *s <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s++ - '0');
	}
	*sp = s;
	*v_r = v;
	return true;
}

/* "<uid> <modseq> <flags|-> <base>" */
static bool
list_line(const char *s, const char *end, struct lent *e)
{
	uint64_t uid = 0, ms = 0;

	if (!parse_u64(&s, end, &uid) || uid == 0 || uid >= UINT32_MAX ||
	    s >= end || *s++ != ' ' || !parse_u64(&s, end, &ms) ||
	    s >= end || *s++ != ' ')
		return false;
	e->flags = 0;
	if (*s == '-')
		s++;
	else
		while (s < end && *s != ' ') {
			uint32_t bit = letter_bit(*s++);

			if (bit == 0)
				return false;
			e->flags |= bit;
		}
	if (s >= end || *s++ != ' ' || s >= end)
		return false;
	if (memchr(s, ' ', (size_t)(end - s)) != NULL ||
	    memchr(s, '/', (size_t)(end - s)) != NULL)
		return false;
	e->uid = (uint32_t)uid;
	e->modseq = ms;
	e->base = s;
	e->blen = (uint32_t)(end - s);
	return true;
}

static int
list_read(const char *dir, struct ulist *l)
{
	char *path = xasprintf("%s/%s", dir, IMAP_UIDLIST);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char tmp[65536];
	ssize_t r;

	free(path);
	memset(l, 0, sizeof(*l));
	buf_init(&l->data, 4096, 0);
	l->ends_nl = true;
	l->uidnext = 1;             /* UIDs start at 1 (RFC 3501 2.3.1.1) */
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	l->exists = true;
	while ((r = read(fd, tmp, sizeof(tmp))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		buf_append(&l->data, tmp, (size_t)r);
	}
	close(fd);
	const char *s = l->data.data, *end = s + l->data.len;
	l->ends_nl = l->data.len == 0 || end[-1] == '\n';
	/* header */
	const char *nl = memchr(s, '\n', (size_t)(end - s));
	if (nl != NULL) {
		unsigned long uv, un;
		unsigned long long hms;
		char hdr[128];
		size_t hl = (size_t)(nl - s) < sizeof(hdr) - 1 ?
		    (size_t)(nl - s) : sizeof(hdr) - 1;

		memcpy(hdr, s, hl);
		hdr[hl] = '\0';
		if (sscanf(hdr, "T1 %lu %lu %llu", &uv, &un, &hms) == 3 &&
		    uv > 0 && uv < UINT32_MAX && un > 0 && un < UINT32_MAX) {
			l->header_ok = true;
			l->uidvalidity = (uint32_t)uv;
			l->uidnext = (uint32_t)un;
			l->hms = hms;
		}
		s = nl + 1;
	} else
		s = end;
	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		if (nl == NULL)
			break;              /* torn last line: ignored */
		if (l->n == l->alloc) {
			l->alloc = l->alloc ? l->alloc * 2 : 256;
			l->e = xrealloc(l->e, l->alloc * sizeof(*l->e));
		}
		if (list_line(s, nl, &l->e[l->n])) {
			struct lent *e = &l->e[l->n];

			e->line = (uint32_t)l->lines;
			if (e->uid >= l->uidnext)
				l->uidnext = e->uid + 1;
			if (e->modseq > l->hms)
				l->hms = e->modseq;
			l->n++;
		}
		l->lines++;
		s = nl + 1;
	}
	if (l->uidnext == 0)
		l->uidnext = 1;
	return 0;
}

static void
line_out(struct buf *b, uint32_t uid, uint64_t ms, uint32_t flags,
    const char *base, size_t blen)
{
	char f[IMAP_FLAG_LETTERS_MAX];

	imap_flags_letters(flags & IMAP_F_STORED, f);
	buf_printf(b, "%u %llu %s ", uid, (unsigned long long)ms,
	    *f ? f : "-");
	buf_append(b, base, blen);
	buf_putc(b, '\n');
}

static int
list_append(const char *dir, struct ulist *l, const struct buf *lines)
{
	char *path;
	int fd;
	struct buf b;
	int rc = 0;

	if (lines->len == 0)
		return 0;
	path = xasprintf("%s/%s", dir, IMAP_UIDLIST);
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return -1;
	buf_init(&b, lines->len + 1, 0);
	if (!l->ends_nl)
		buf_putc(&b, '\n');    /* close a torn line first */
	buf_append(&b, lines->data, lines->len);
	if (write(fd, b.data, b.len) != (ssize_t)b.len)
		rc = -1;
	close(fd);
	l->ends_nl = true;
	buf_release(&b);
	return rc;
}

/* Replace the list with header + content, atomically. */
static int
list_rewrite(const char *dir, uint32_t uv, uint32_t un, uint64_t hms,
    const struct buf *content)
{
	char *tmp = xasprintf("%s/%s.tmp", dir, IMAP_UIDLIST);
	char *path = xasprintf("%s/%s", dir, IMAP_UIDLIST);
	struct buf b;
	int fd, rc = -1;

	buf_init(&b, content->len + 64, 0);
	buf_printf(&b, "T1 %u %u %llu\n", uv, un, (unsigned long long)hms);
	buf_append(&b, content->data, content->len);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd >= 0) {
		if (write(fd, b.data, b.len) == (ssize_t)b.len &&
		    fsync(fd) == 0 && close(fd) == 0) {
			fd = -1;
			rc = rename(tmp, path);
		}
		if (fd >= 0)
			close(fd);
		if (rc < 0)
			unlink(tmp);
	}
	buf_release(&b);
	free(tmp);
	free(path);
	return rc;
}

/* --- sync ------------------------------------------------------------------ */

static int
move_new(const char *dir)
{
	char *nd = xasprintf("%s/new", dir);
	DIR *d = opendir(nd);
	struct dirent *de;

	if (d == NULL) {
		free(nd);
		return errno == ENOENT ? 0 : -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char *from = xasprintf("%s/%s", nd, de->d_name);
		char *to = strchr(de->d_name, ':') != NULL ?
		    xasprintf("%s/cur/%s", dir, de->d_name) :
		    xasprintf("%s/cur/%s:2,", dir, de->d_name);

		/* ENOENT: pop3d or another imapd took it first */
		(void)rename(from, to);
		free(from);
		free(to);
	}
	closedir(d);
	free(nd);
	return 0;
}

static const char *sort_pool;

static int
dent_cmp_base(const void *a, const void *b)
{
	const struct dent *x = a, *y = b;
	size_t n = x->blen < y->blen ? x->blen : y->blen;
	int c = memcmp(sort_pool + x->name, sort_pool + y->name, n);

	if (c != 0)
		return c;
	return x->blen < y->blen ? -1 : x->blen > y->blen;
}

static int
dent_cmp_uid(const void *a, const void *b)
{
	const struct dent *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

static int
lent_cmp(const void *a, const void *b)
{
	const struct lent *x = a, *y = b;
	size_t n = x->blen < y->blen ? x->blen : y->blen;
	int c = memcmp(x->base, y->base, n);

	if (c != 0)
		return c;
	if (x->blen != y->blen)
		return x->blen < y->blen ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int
read_cur(const char *dir, struct buf *pool, struct dent **v_r, size_t *n_r)
{
	char *cd = xasprintf("%s/cur", dir);
	DIR *d = opendir(cd);
	struct dirent *de;
	struct dent *v = NULL;
	size_t n = 0, alloc = 0;

	free(cd);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		size_t len = strlen(de->d_name);

		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 256;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		v[n].name = (uint32_t)pool->len;
		v[n].blen = (uint32_t)imap_name_base_len(de->d_name);
		v[n].flags = imap_flags_from_name(de->d_name);
		v[n].uid = 0;
		v[n].modseq = 0;
		v[n].fresh = false;
		buf_append(pool, de->d_name, len + 1);
		n++;
	}
	closedir(d);
	*v_r = v;
	*n_r = n;
	return 0;
}

static bool
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Nothing changed since the last sync, as far as the directory times
 * tell; times within the last 2 s are not trusted (same tick). */
static bool
sync_unchanged(struct imap_mbox *mb)
{
	struct stat sn, sc, sl;
	char *p;
	bool same;
	time_t now = time(NULL);

	if (mb->synced_at == 0)
		return false;
	p = xasprintf("%s/new", mb->dir);
	same = stat(p, &sn) == 0;
	free(p);
	p = xasprintf("%s/cur", mb->dir);
	same = same && stat(p, &sc) == 0;
	free(p);
	p = xasprintf("%s/%s", mb->dir, IMAP_UIDLIST);
	same = same && stat(p, &sl) == 0;
	free(p);
	if (!same)
		return false;
	if (sn.st_mtim.tv_sec >= now - 2 || sc.st_mtim.tv_sec >= now - 2 ||
	    sl.st_mtim.tv_sec >= now - 2 || mb->synced_at >= now - 2 ||
	    sn.st_mtim.tv_sec >= mb->synced_at - 1 ||
	    sc.st_mtim.tv_sec >= mb->synced_at - 1)
		return false;
	return same_time(&sn.st_mtim, &mb->m_new) &&
	    same_time(&sc.st_mtim, &mb->m_cur) && sl.st_size == mb->list_size;
}

static void
sync_remember(struct imap_mbox *mb)
{
	struct stat st;
	char *p;

	p = xasprintf("%s/new", mb->dir);
	if (stat(p, &st) == 0)
		mb->m_new = st.st_mtim;
	free(p);
	p = xasprintf("%s/cur", mb->dir);
	if (stat(p, &st) == 0)
		mb->m_cur = st.st_mtim;
	free(p);
	p = xasprintf("%s/%s", mb->dir, IMAP_UIDLIST);
	mb->list_size = stat(p, &st) == 0 ? (long long)st.st_size : -1;
	free(p);
	mb->synced_at = time(NULL);
}

static uint32_t
new_uidvalidity(uint32_t old)
{
	uint32_t t = (uint32_t)time(NULL);

	return t > old ? t : old + 1;
}

/* Compare the old view with the new one (both by uid). */
static void
sync_changes(const struct imap_mbox *mb, const struct imap_msg *nv,
    uint32_t nn, struct imap_changes *ch)
{
	uint32_t i = 0, j = 0;

	while (i < mb->count) {
		if (j < nn && nv[j].uid == mb->msgs[i].uid) {
			if ((nv[j].flags & IMAP_F_STORED) !=
			    (mb->msgs[i].flags & IMAP_F_STORED)) {
				ch->changed = xrealloc(ch->changed,
				    (ch->nchanged + 1) * sizeof(uint32_t));
				ch->changed[ch->nchanged++] = j + 1;
			}
			i++;
			j++;
		} else if (j < nn && nv[j].uid < mb->msgs[i].uid) {
			j++;        /* cannot happen: new uids are higher */
		} else {
			ch->expunged = xrealloc(ch->expunged,
			    (ch->nexpunged + 1) * sizeof(uint32_t));
			ch->expunged[ch->nexpunged++] = i + 1;
			i++;
		}
	}
}

int
imap_mbox_sync(struct imap_mbox *mb, struct imap_changes *ch, bool force,
    const char **error_r)
{
	struct ulist l;
	struct buf pool, add;
	struct dent *dv = NULL;
	size_t dn = 0, fresh = 0;
	int lockfd, rc = -1;
	uint32_t uv, un;
	uint64_t hms;

	if (ch != NULL)
		memset(ch, 0, sizeof(*ch));
	if (!force && sync_unchanged(mb))
		return 0;
	if ((lockfd = imap_index_lock(mb->dir)) < 0) {
		*error_r = "cannot lock the folder";
		return -1;
	}
	imap_keywords_load(&mb->kw, mb->dir);
	buf_init(&pool, mb->pool.len + 4096, 0);
	buf_init(&add, 256, 0);
	memset(&l, 0, sizeof(l));
	if (move_new(mb->dir) < 0 || read_cur(mb->dir, &pool, &dv, &dn) < 0) {
		*error_r = "cannot read the folder";
		goto out;
	}
	if (list_read(mb->dir, &l) < 0) {
		*error_r = "cannot read the uid list";
		goto out;
	}
	uv = l.header_ok ? l.uidvalidity : new_uidvalidity(mb->uidvalidity);
	un = l.uidnext;
	hms = l.hms;
	/* match files to lines by base name */
	if (l.n > 0)
		qsort(l.e, l.n, sizeof(*l.e), lent_cmp);
	sort_pool = pool.data;
	if (dn > 0)
		qsort(dv, dn, sizeof(*dv), dent_cmp_base);
	size_t k = 0;
	for (size_t i = 0; i < dn; i++) {
		const char *b = pool.data + dv[i].name;
		struct lent *hit = NULL;

		while (k < l.n) {
			size_t m = l.e[k].blen < dv[i].blen ? l.e[k].blen :
			    dv[i].blen;
			int c = memcmp(l.e[k].base, b, m);

			if (c == 0)
				c = l.e[k].blen < dv[i].blen ? -1 :
				    l.e[k].blen > dv[i].blen;
			if (c > 0)
				break;
			if (c == 0)
				hit = &l.e[k];  /* the last line wins */
			k++;
		}
		if (hit == NULL || (i > 0 && dv[i - 1].uid == hit->uid &&
		    dv[i - 1].blen == dv[i].blen)) {
			dv[i].fresh = true;
			fresh++;
			continue;
		}
		dv[i].uid = hit->uid;
		dv[i].modseq = hit->modseq;
		if (hit->flags != dv[i].flags) {
			dv[i].modseq = ++hms;
			line_out(&add, dv[i].uid, dv[i].modseq, dv[i].flags, b,
			    dv[i].blen);
		}
	}
	/* new files, in name (= delivery time) order: they are sorted */
	for (size_t i = 0; i < dn && fresh > 0; i++)
		if (dv[i].fresh) {
			dv[i].uid = un++;
			dv[i].modseq = ++hms;
			line_out(&add, dv[i].uid, dv[i].modseq, dv[i].flags,
			    pool.data + dv[i].name, dv[i].blen);
		}
	if (!l.exists || !l.header_ok || l.lines > 2 * dn + 64) {
		/* (re)write the whole list */
		struct buf all;

		buf_init(&all, dn * 64 + 16, 0);
		for (size_t i = 0; i < dn; i++)
			line_out(&all, dv[i].uid, dv[i].modseq, dv[i].flags,
			    pool.data + dv[i].name, dv[i].blen);
		rc = list_rewrite(mb->dir, uv, un, hms, &all);
		buf_release(&all);
	} else
		rc = list_append(mb->dir, &l, &add);
	if (rc < 0) {
		*error_r = "cannot write the uid list";
		goto out;
	}
	/* the new view */
	if (dn > 0)
		qsort(dv, dn, sizeof(*dv), dent_cmp_uid);
	struct imap_msg *nv = xcalloc(dn ? dn : 1, sizeof(*nv));
	for (size_t i = 0, o = 0; i < dn; i++) {
		nv[i].uid = dv[i].uid;
		nv[i].flags = dv[i].flags | (dv[i].fresh ? IMAP_F_RECENT : 0);
		nv[i].modseq = dv[i].modseq;
		nv[i].name = dv[i].name;
		while (o < mb->count && mb->msgs[o].uid < nv[i].uid)
			o++;
		if (o < mb->count && mb->msgs[o].uid == nv[i].uid) {
			nv[i].size = mb->msgs[o].size;
			nv[i].flags |= mb->msgs[o].flags & IMAP_F_RECENT;
		}
	}
	if (ch != NULL) {
		if (mb->uidvalidity != 0 && mb->uidvalidity != uv)
			ch->uidvalidity_changed = true;
		else
			sync_changes(mb, nv, (uint32_t)dn, ch);
	}
	free(mb->msgs);
	mb->msgs = nv;
	mb->count = (uint32_t)dn;
	mb->alloc = (uint32_t)(dn ? dn : 1);
	buf_release(&mb->pool);
	mb->pool = pool;
	buf_init(&pool, 16, 0);
	mb->uidvalidity = uv;
	mb->uidnext = un;
	mb->highestmodseq = hms;
	sync_remember(mb);
	rc = 0;
out:
	imap_index_unlock(lockfd);
	buf_release(&pool);
	buf_release(&add);
	ulist_release(&l);
	free(dv);
	return rc;
}

void
imap_changes_free(struct imap_changes *ch)
{
	free(ch->expunged);
	free(ch->changed);
	memset(ch, 0, sizeof(*ch));
}

struct imap_mbox *
imap_mbox_new(const char *dir)
{
	struct imap_mbox *mb = xcalloc(1, sizeof(*mb));

	mb->dir = xstrdup(dir);
	buf_init(&mb->pool, 64, 0);
	return mb;
}

void
imap_mbox_free(struct imap_mbox **mbp)
{
	struct imap_mbox *mb = *mbp;

	if (mb == NULL)
		return;
	free(mb->dir);
	free(mb->msgs);
	buf_release(&mb->pool);
	imap_keywords_free(&mb->kw);
	xfree(mbp);
}

long
imap_mbox_find_uid(const struct imap_mbox *mb, uint32_t uid)
{
	long lo = 0, hi = (long)mb->count - 1;

	while (lo <= hi) {
		long mid = (lo + hi) / 2;

		if (mb->msgs[mid].uid == uid)
			return mid;
		if (mb->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* --- flags ------------------------------------------------------------------ */

/* The current name in cur/ of a file with this base, malloc'd, or NULL. */
static char *
find_by_base(const char *dir, const char *base, size_t blen)
{
	char *cd = xasprintf("%s/cur", dir);
	DIR *d = opendir(cd);
	struct dirent *de;
	char *hit = NULL;

	free(cd);
	if (d == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, base, blen) == 0 &&
		    (de->d_name[blen] == ':' || de->d_name[blen] == '\0')) {
			hit = xstrdup(de->d_name);
			break;
		}
	closedir(d);
	return hit;
}

static uint32_t *dirty;
static size_t ndirty, adirty;
static struct imap_mbox *dirty_mb;

int
imap_mbox_set_flags(struct imap_mbox *mb, uint32_t i, uint32_t flags)
{
	const char *cur = imap_msg_name(mb, i);
	char *oldname = xstrdup(cur), *newname, *from, *to;
	int rc;

	flags &= IMAP_F_STORED;
	for (int attempt = 0;; attempt++) {
		newname = name_with_flags(oldname, flags);
		from = xasprintf("%s/cur/%s", mb->dir, oldname);
		to = xasprintf("%s/cur/%s", mb->dir, newname);
		rc = strcmp(from, to) == 0 ? 0 : rename(from, to);
		free(from);
		free(to);
		if (rc == 0 || errno != ENOENT || attempt > 0)
			break;
		/* renamed by someone else meanwhile: find it again */
		char *again = find_by_base(mb->dir, oldname,
		    imap_name_base_len(oldname));
		free(newname);
		newname = NULL;
		if (again == NULL) {
			free(oldname);
			return 1;
		}
		free(oldname);
		oldname = again;
	}
	free(oldname);
	if (rc < 0) {
		free(newname);
		return errno == ENOENT ? 1 : -1;
	}
	mb->msgs[i].name = (uint32_t)mb->pool.len;
	buf_append(&mb->pool, newname, strlen(newname) + 1);
	free(newname);
	mb->msgs[i].flags = (mb->msgs[i].flags & ~IMAP_F_STORED) | flags;
	if (dirty_mb != mb)
		ndirty = 0;
	dirty_mb = mb;
	if (ndirty == adirty) {
		adirty = adirty ? adirty * 2 : 64;
		dirty = xrealloc(dirty, adirty * sizeof(*dirty));
	}
	dirty[ndirty++] = mb->msgs[i].uid;
	return 0;
}

int
imap_mbox_flush_modseq(struct imap_mbox *mb)
{
	struct ulist l;
	struct buf add;
	int fd, rc = -1;

	if (dirty_mb != mb || ndirty == 0) {
		ndirty = 0;
		return 0;
	}
	if ((fd = imap_index_lock(mb->dir)) < 0)
		return -1;
	if (list_read(mb->dir, &l) == 0 && l.exists) {
		uint64_t hms = l.hms > mb->highestmodseq ? l.hms :
		    mb->highestmodseq;

		buf_init(&add, ndirty * 64, 0);
		for (size_t k = 0; k < ndirty; k++) {
			long i = imap_mbox_find_uid(mb, dirty[k]);

			if (i < 0)
				continue;
			const char *name = imap_msg_name(mb, (uint32_t)i);
			mb->msgs[i].modseq = ++hms;
			line_out(&add, mb->msgs[i].uid, hms, mb->msgs[i].flags,
			    name, imap_name_base_len(name));
		}
		rc = list_append(mb->dir, &l, &add);
		mb->highestmodseq = hms;
		buf_release(&add);
	}
	ulist_release(&l);
	imap_index_unlock(fd);
	ndirty = 0;
	dirty_mb = NULL;
	if (adirty > 1024) {
		free(dirty);
		dirty = NULL;
		adirty = 0;
	}
	return rc;
}

/* --- new messages ------------------------------------------------------------ */

static char *
unique_base(void)
{
	static unsigned q;
	struct timeval tv;
	char host[256];

	gettimeofday(&tv, NULL);
	if (gethostname(host, sizeof(host)) < 0)
		strcpy(host, "localhost");
	host[sizeof(host) - 1] = '\0';
	for (char *h = host; *h; h++)
		if (*h == '/' || *h == ':' || *h == ',' || *h == ' ')
			*h = '_';
	return xasprintf("%lld.M%ldP%ldQ%uI.%s", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (long)getpid(), ++q, host);
}

int
imap_mbox_tmp_open(const char *dir, char **tmp_path_r)
{
	char *base = unique_base();
	int fd;

	*tmp_path_r = xasprintf("%s/tmp/%s", dir, base);
	free(base);
	fd = open(*tmp_path_r, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		free(*tmp_path_r);
		*tmp_path_r = NULL;
	}
	return fd;
}

/* Under the lock: place a file into cur/ as name and give it a UID. */
static int
add_locked(const char *dir, const char *name, uint32_t flags, uint32_t *uid_r,
    uint32_t *uv_r)
{
	struct ulist l;
	struct buf add;
	int rc = -1;

	if (list_read(dir, &l) < 0 || !l.exists || !l.header_ok) {
		/* no list yet: a full sync writes it, and numbers this file
		 * like any other (after the lock is dropped) */
		ulist_release(&l);
		return -2;
	}
	buf_init(&add, 128, 0);
	*uid_r = l.uidnext;
	*uv_r = l.uidvalidity;
	line_out(&add, l.uidnext, l.hms + 1, flags, name,
	    imap_name_base_len(name));
	rc = list_append(dir, &l, &add);
	buf_release(&add);
	ulist_release(&l);
	return rc;
}

/* No list yet: sync once (writes it), then find the file's UID. */
static int
add_by_sync(const char *dir, const char *name, uint32_t *uid_r,
    uint32_t *uv_r)
{
	struct imap_mbox *mb = imap_mbox_new(dir);
	const char *err;
	size_t blen = imap_name_base_len(name);
	int rc = -1;

	if (imap_mbox_sync(mb, NULL, true, &err) == 0)
		for (uint32_t i = 0; i < mb->count; i++)
			if (strncmp(imap_msg_name(mb, i), name, blen) == 0) {
				*uid_r = mb->msgs[i].uid;
				*uv_r = mb->uidvalidity;
				rc = 0;
			}
	imap_mbox_free(&mb);
	return rc;
}

static int
place(const char *dir, const char *src, bool link_it, const char *name,
    uint32_t flags, uint32_t *uid_r, uint32_t *uv_r)
{
	char *to = xasprintf("%s/cur/%s", dir, name);
	int fd, rc;

	if ((fd = imap_index_lock(dir)) < 0) {
		free(to);
		return -1;
	}
	rc = link_it ? link(src, to) : rename(src, to);
	free(to);
	if (rc == 0)
		rc = add_locked(dir, name, flags, uid_r, uv_r);
	imap_index_unlock(fd);
	if (rc == -2)
		rc = add_by_sync(dir, name, uid_r, uv_r);
	return rc;
}

int
imap_mbox_deliver(const char *dir, const char *tmp_path, size_t size_lf,
    size_t size_crlf, uint32_t flags, time_t mtime, uint32_t *uid_r,
    uint32_t *uidvalidity_r)
{
	const char *base = strrchr(tmp_path, '/') + 1;
	char f[IMAP_FLAG_LETTERS_MAX];
	char *name;
	int rc;

	imap_flags_letters(flags & IMAP_F_STORED, f);
	name = xasprintf("%s,S=%zu,W=%zu:2,%s", base, size_lf, size_crlf, f);
	if (mtime > 0) {
		struct timeval tv[2] = { { mtime, 0 }, { mtime, 0 } };

		(void)utimes(tmp_path, tv);
	}
	rc = place(dir, tmp_path, false, name, flags, uid_r, uidvalidity_r);
	free(name);
	return rc;
}

int
imap_mbox_copy_in(const char *dir, const char *src_path,
    const char *src_name, uint32_t flags, uint32_t *uid_r,
    uint32_t *uidvalidity_r)
{
	char *base = unique_base();
	char f[IMAP_FLAG_LETTERS_MAX];
	long long s = imap_name_size(src_name, 'S');
	long long w = imap_name_size(src_name, 'W');
	struct buf nb;
	int rc;

	buf_init(&nb, 128, 0);
	buf_append_str(&nb, base);
	if (s >= 0)
		buf_printf(&nb, ",S=%lld", s);
	if (w >= 0)
		buf_printf(&nb, ",W=%lld", w);
	imap_flags_letters(flags & IMAP_F_STORED, f);
	buf_printf(&nb, ":2,%s", f);
	rc = place(dir, src_path, true, nb.data, flags, uid_r, uidvalidity_r);
	if (rc < 0 && (errno == EXDEV || errno == EPERM || errno == EMLINK)) {
		/* no hard links here: copy through tmp/ */
		char *tmp = NULL;
		int out = imap_mbox_tmp_open(dir, &tmp);
		int in = open(src_path, O_RDONLY | O_CLOEXEC);
		char b[65536];
		ssize_t r;

		rc = -1;
		if (out >= 0 && in >= 0) {
			while ((r = read(in, b, sizeof(b))) > 0)
				if (write(out, b, (size_t)r) != r)
					break;
			if (r == 0 && fsync(out) == 0)
				rc = place(dir, tmp, false, nb.data, flags,
				    uid_r, uidvalidity_r);
		}
		if (in >= 0)
			close(in);
		if (out >= 0)
			close(out);
		if (tmp != NULL && rc < 0)
			unlink(tmp);
		free(tmp);
	}
	buf_release(&nb);
	free(base);
	return rc;
}

int
imap_maildir_create(const char *dir)
{
	static const char *const sub[] = { "", "/cur", "/new", "/tmp" };

	for (size_t i = 0; i < 4; i++) {
		char *p = xasprintf("%s%s", dir, sub[i]);
		int r = mkdir(p, 0700);

		free(p);
		if (r < 0 && errno != EEXIST)
			return -1;
	}
	return 0;
}
