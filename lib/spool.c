/* spool - layout, ids, envelope, writing and reading; see spool.h */
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
#include "hex.h"
#include "spool.h"
#include "spool_int.h"
#include "xalloc.h"

#define SPOOL_WBUF (64 * 1024)
#define SPOOL_ENV_MAX (4 * 1024 * 1024)  /* a sane cap when reading back */

/* --- envelope ------------------------------------------------------- */

void
spool_env_init(struct spool_envelope *e)
{
	memset(e, 0, sizeof(*e));
	e->sender = xstrdup("");
}

void
spool_env_release(struct spool_envelope *e)
{
	free(e->sender);
	for (size_t i = 0; i < e->nrcpts; i++) {
		free(e->rcpts[i].addr);
		free(e->rcpts[i].notify);
		free(e->rcpts[i].orcpt);
	}
	free(e->rcpts);
	for (size_t i = 0; i < e->nparams; i++) {
		free(e->params[i].name);
		free(e->params[i].value);
	}
	free(e->params);
	memset(e, 0, sizeof(*e));
}

void
spool_env_set_sender(struct spool_envelope *e, const char *sender)
{
	free(e->sender);
	e->sender = xstrdup(sender);
}

void
spool_env_add_rcpt(struct spool_envelope *e, const char *addr,
    const char *notify, const char *orcpt)
{
	struct spool_rcpt *r;

	e->rcpts = xrealloc(e->rcpts, (e->nrcpts + 1) * sizeof(*e->rcpts));
	r = &e->rcpts[e->nrcpts++];
	r->addr = xstrdup(addr);
	r->notify = notify != NULL ? xstrdup(notify) : NULL;
	r->orcpt = orcpt != NULL ? xstrdup(orcpt) : NULL;
}

void
spool_env_set_param(struct spool_envelope *e, const char *name,
    const char *value)
{
	for (size_t i = 0; i < e->nparams; i++)
		if (strcmp(e->params[i].name, name) == 0) {
			free(e->params[i].value);
			e->params[i].value = xstrdup(value);
			return;
		}
	e->params = xrealloc(e->params, (e->nparams + 1) * sizeof(*e->params));
	e->params[e->nparams].name = xstrdup(name);
	e->params[e->nparams].value = xstrdup(value);
	e->nparams++;
}

const char *
spool_env_param(const struct spool_envelope *e, const char *name)
{
	for (size_t i = 0; i < e->nparams; i++)
		if (strcmp(e->params[i].name, name) == 0)
			return e->params[i].value;
	return NULL;
}

/* A token we write must survive the line format: no blanks, no controls. */
static bool
spool_token_ok(const char *s, bool empty_ok)
{
	if (*s == '\0')
		return empty_ok;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

/*
 * An address that is not one token (a quoted local part may hold blanks,
 * RFC 5321 4.1.2) goes under the key "<key>x" as xtext (RFC 3461: '+',
 * '=' and every byte outside 0x21-0x7e as "+XX"); plain ones as they
 * are, so almost every envelope reads as before.
 */
static void
spool_put_addr(struct buf *b, const char *key, const char *addr,
    bool empty_ok)
{
	if (spool_token_ok(addr, empty_ok)) {
		buf_printf(b, "%s %s", key, addr);
		return;
	}
	buf_printf(b, "%sx ", key);
	for (const unsigned char *p = (const unsigned char *)addr; *p; p++)
		if (*p < 0x21 || *p > 0x7e || *p == '+' || *p == '=')
			buf_printf(b, "+%02X", *p);
		else
			buf_putc(b, (char)*p);
}

/* Decode xtext in place; -1 for a bad "+XX" or a NUL byte. */
static int
spool_xtext_decode(char *s)
{
	char *o = s;

	for (; *s != '\0'; s++) {
		if (*s != '+') {
			*o++ = *s;
			continue;
		}
		int c = hex_byte(s + 1);

		if (c <= 0)             /* not hex, or a NUL */
			return -1;
		*o++ = (char)c;
		s += 2;
	}
	*o = '\0';
	return 0;
}

static bool
spool_addr_ok(const char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			return false;
	return true;
}

static int
spool_env_format(const struct spool_envelope *e, struct buf *b)
{
	buf_printf(b, "%s\nid %s\ntime %lld\n", SPOOL_MAGIC, e->id, e->time);
	spool_put_addr(b, "sender", e->sender, true);
	buf_putc(b, '\n');
	if (!spool_addr_ok(e->sender) || e->nrcpts == 0)
		return -1;
	for (size_t i = 0; i < e->nrcpts; i++) {
		const struct spool_rcpt *r = &e->rcpts[i];

		if (*r->addr == '\0' || !spool_addr_ok(r->addr) ||
		    (r->notify && !spool_token_ok(r->notify, false)) ||
		    (r->orcpt && !spool_token_ok(r->orcpt, false)))
			return -1;
		spool_put_addr(b, "rcpt", r->addr, false);
		if (r->notify != NULL)
			buf_printf(b, " notify=%s", r->notify);
		if (r->orcpt != NULL)
			buf_printf(b, " orcpt=%s", r->orcpt);
		buf_putc(b, '\n');
	}
	for (size_t i = 0; i < e->nparams; i++) {
		const struct spool_param *p = &e->params[i];

		if (!spool_token_ok(p->name, false) || strchr(p->name, '=') ||
		    !spool_token_ok(p->value, true))
			return -1;
		buf_printf(b, "param %s=%s\n", p->name, p->value);
	}
	buf_putc(b, '\n');
	return 0;
}

/* --- layout and ids ------------------------------------------------- */

static int
spool_mkdir(const char *path, char **error_r)
{
	if (mkdir(path, 0750) < 0 && errno != EEXIST) {
		*error_r = xasprintf("cannot create %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

struct spool *
spool_open(const char *dir, unsigned subspools, char **error_r)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	struct spool *s;
	char *p;

	if (subspools == 0 || spool_mkdir(dir, error_r) < 0)
		return NULL;
	for (unsigned n = 0; n < subspools; n++) {
		p = xasprintf("%s/%u", dir, n);
		int rc = spool_mkdir(p, error_r);
		free(p);
		if (rc < 0)
			return NULL;
		for (size_t i = 0; i < 3; i++) {
			p = xasprintf("%s/%u/%s", dir, n, subs[i]);
			rc = spool_mkdir(p, error_r);
			free(p);
			if (rc < 0)
				return NULL;
		}
	}
	s = xcalloc(1, sizeof(*s));
	s->dir = xstrdup(dir);
	s->subspools = subspools;
	s->new_dirs = xcalloc(subspools, sizeof(*s->new_dirs));
	for (unsigned n = 0; n < subspools; n++)
		s->new_dirs[n] = xasprintf("%s/%u/new", dir, n);
	spool_committer_init(s);
	return s;
}

void
spool_close(struct spool **sp)
{
	struct spool *s = *sp;

	if (s == NULL)
		return;
	spool_committer_stop(s);
	for (unsigned n = 0; n < s->subspools; n++)
		free(s->new_dirs[n]);
	free(s->new_dirs);
	free(s->dir);
	xfree(sp);
}

const char *
spool_dir(const struct spool *s)
{
	return s->dir;
}

unsigned
spool_subspools(const struct spool *s)
{
	return s->subspools;
}

/*
 * seconds (9 hex) + microseconds (5 hex) + pid (6 hex) + counter (2 hex):
 * ids sort by arrival and two processes never make the same one.  The
 * counter covers several ids within one microsecond in one process.
 */
void
spool_new_id(char id[SPOOL_ID_LEN + 1])
{
	static unsigned counter;
	struct timeval tv;

	gettimeofday(&tv, NULL);
	snprintf(id, SPOOL_ID_LEN + 1, "%09llX%05lX%06lX%02X",
	    (unsigned long long)tv.tv_sec & 0xfffffffffULL,
	    (unsigned long)tv.tv_usec & 0xfffff,
	    (unsigned long)getpid() & 0xffffff, counter++ & 0xff);
}

unsigned
spool_subspool_of(const struct spool *s, const char *id)
{
	unsigned h = 5381;

	for (; *id; id++)
		h = h * 33 + (unsigned char)*id;
	return h % s->subspools;
}

/* --- writing -------------------------------------------------------- */

struct spool_file *
spool_file_new(struct spool *s, struct spool_envelope *e,
    const char **error_r)
{
	struct spool_file *f = xcalloc(1, sizeof(*f));
	struct buf *hdr = buf_new(512);

	f->spool = s;
	f->fd = -1;
	/* The writer may not say when: now is when it was accepted. */
	if (e->time == 0)
		e->time = (long long)time(NULL);
	for (int tries = 0; f->fd < 0 && tries < 5; tries++) {
		spool_new_id(e->id);
		f->sub = spool_subspool_of(s, e->id);
		free(f->tmp);
		f->tmp = xasprintf("%s/%u/tmp/%s", s->dir, f->sub, e->id);
		f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		    0640);
		if (f->fd < 0 && errno != EEXIST)
			break;
	}
	if (f->fd < 0) {
		*error_r = strerror(errno);
		goto fail;
	}
	memcpy(f->id, e->id, sizeof(f->id));
	if (spool_env_format(e, hdr) < 0) {
		*error_r = "envelope holds a value the spool cannot store";
		goto fail;
	}
	buf_init(&f->wbuf, SPOOL_WBUF, 0);
	buf_append(&f->wbuf, buf_data(hdr), buf_len(hdr));
	buf_free(&hdr);
	return f;
fail:
	buf_free(&hdr);
	spool_file_abort(&f);
	return NULL;
}

static int
spool_flush(struct spool_file *f)
{
	const char *p = buf_data(&f->wbuf);
	size_t left = buf_len(&f->wbuf);

	while (left > 0) {
		ssize_t n = write(f->fd, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		left -= (size_t)n;
	}
	buf_reset(&f->wbuf);
	return 0;
}

int
spool_file_write(struct spool_file *f, const void *data, size_t len)
{
	f->size += (off_t)len;
	if (buf_len(&f->wbuf) + len > SPOOL_WBUF && spool_flush(f) < 0)
		return -1;
	if (len > SPOOL_WBUF) {
		buf_append(&f->wbuf, data, len);
		return spool_flush(f);
	}
	buf_append(&f->wbuf, data, len);
	return 0;
}

const char *
spool_file_id(const struct spool_file *f)
{
	return f->id;
}

off_t
spool_file_size(const struct spool_file *f)
{
	return f->size;
}

void
spool_file_abort(struct spool_file **fp)
{
	struct spool_file *f = *fp;

	if (f == NULL)
		return;
	if (f->fd >= 0) {
		close(f->fd);
		unlink(f->tmp);
	}
	free(f->tmp);
	if (f->wbuf.data != NULL)
		buf_release(&f->wbuf);
	xfree(fp);
}

/* Group commit, step 1: bytes written to the file, durability later. */
int
spool_file_sync_data_nosync(struct spool_file *f, const char **error_r)
{
	if (spool_flush(f) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	return 0;
}

/* Step 1 of a commit: the bytes are on disk (flush + fdatasync + close). */
int
spool_file_sync_data(struct spool_file *f, const char **error_r)
{
	if (spool_flush(f) < 0 || fdatasync(f->fd) < 0) {
		*error_r = strerror(errno);
		return -1;
	}
	if (close(f->fd) < 0) {
		f->fd = -1;
		unlink(f->tmp);
		*error_r = strerror(errno);
		return -1;
	}
	f->fd = -1;
	return 0;
}

/* Step 2: visible in new/ (the directory fsync is the caller's). */
int
spool_file_publish(struct spool_file *f, const char **error_r)
{
	char *dst = xasprintf("%s/%u/new/%s", f->spool->dir, f->sub, f->id);
	int rc = rename(f->tmp, dst);

	if (rc < 0) {
		*error_r = strerror(errno);
		unlink(f->tmp);
	}
	free(dst);
	return rc;
}

int
spool_file_commit(struct spool_file **fp, const char **error_r)
{
	struct spool_file *f = *fp;
	int rc = -1;

	if (spool_file_sync_data(f, error_r) == 0 &&
	    spool_file_publish(f, error_r) == 0) {
		const char *dir = f->spool->new_dirs[f->sub];

		if ((rc = dirsync(&dir, 1)) < 0)
			*error_r = strerror(errno);
	}
	/* A failed dir fsync leaves a file in new/ that nobody was promised;
	 * the queue delivering it anyway is the safe side. */
	if (f->fd >= 0) {
		close(f->fd);
		unlink(f->tmp);
		f->fd = -1;
	}
	free(f->tmp);
	buf_release(&f->wbuf);
	xfree(fp);
	return rc;
}

/* --- reading -------------------------------------------------------- */

static int
spool_parse_rcpt(struct spool_envelope *e, char *rest, bool xtext)
{
	char *save = NULL, *addr = strtok_r(rest, " ", &save), *t;
	const char *notify = NULL, *orcpt = NULL;

	if (addr == NULL || (xtext && spool_xtext_decode(addr) < 0))
		return -1;
	while ((t = strtok_r(NULL, " ", &save)) != NULL) {
		if (strncmp(t, "notify=", 7) == 0)
			notify = t + 7;
		else if (strncmp(t, "orcpt=", 6) == 0)
			orcpt = t + 6;
		else
			return -1;
	}
	spool_env_add_rcpt(e, addr, notify, orcpt);
	return 0;
}

static int
spool_parse_line(struct spool_envelope *e, char *line, int n)
{
	char *sp = strchr(line, ' ');
	char *rest = sp != NULL ? sp + 1 : line + strlen(line);

	if (n == 0)
		return strcmp(line, SPOOL_MAGIC) == 0 ? 0 : -1;
	if (sp != NULL)
		*sp = '\0';
	if (strcmp(line, "id") == 0) {
		if (strlen(rest) != SPOOL_ID_LEN)
			return -1;
		memcpy(e->id, rest, SPOOL_ID_LEN + 1);
	} else if (strcmp(line, "time") == 0) {
		e->time = strtoll(rest, NULL, 10);
	} else if (strcmp(line, "sender") == 0) {
		spool_env_set_sender(e, rest);
	} else if (strcmp(line, "senderx") == 0) {
		if (spool_xtext_decode(rest) < 0)
			return -1;
		spool_env_set_sender(e, rest);
	} else if (strcmp(line, "rcpt") == 0 || strcmp(line, "rcptx") == 0) {
		return spool_parse_rcpt(e, rest, line[4] == 'x');
	} else if (strcmp(line, "param") == 0) {
		char *eq = strchr(rest, '=');

		if (eq == NULL)
			return -1;
		*eq = '\0';
		spool_env_set_param(e, rest, eq + 1);
	} else
		return -1;
	return 0;
}

int
spool_read_envelope(const char *path, struct spool_envelope *e,
    off_t *body_off_r, char **error_r)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0, total = 0;
	ssize_t len;
	int n = 0;

	spool_env_init(e);
	if (f == NULL) {
		*error_r = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		total += (size_t)len;
		if (line[len - 1] != '\n' || total > SPOOL_ENV_MAX)
			break;
		line[len - 1] = '\0';
		if (len == 1) {                 /* the empty line */
			*body_off_r = (off_t)total;
			free(line);
			fclose(f);
			if (n < 4 || e->nrcpts == 0 || e->id[0] == '\0')
				goto damaged;
			return 0;
		}
		if (spool_parse_line(e, line, n++) < 0) {
			free(line);
			fclose(f);
			*error_r = xasprintf("%s: damaged envelope at line %d",
			    path, n);
			spool_env_release(e);
			return -1;
		}
	}
	free(line);
	fclose(f);
damaged:
	*error_r = xasprintf("%s: damaged or truncated envelope", path);
	spool_env_release(e);
	return -1;
}
