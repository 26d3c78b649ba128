/* ipc - messages and framing; see ipc.h */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ipc.h"
#include "xalloc.h"

struct ipc_field {
	char name[IPC_NAME_MAX + 1];
	size_t len;
	char *val;              /* len bytes plus a NUL */
};

struct ipc_msg {
	char type[IPC_NAME_MAX + 1];
	struct ipc_field *f;
	size_t n, size;
};

static _Thread_local char ipc_errbuf[256];

static uint32_t
ipc_get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static void
ipc_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* Valid name of exactly len bytes (not necessarily NUL-terminated). */
static bool
ipc_name_valid_n(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > IPC_NAME_MAX)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

bool
ipc_name_valid(const char *s)
{
	return ipc_name_valid_n(s, strnlen(s, IPC_NAME_MAX + 1));
}

struct ipc_msg *
ipc_msg_new(const char *type)
{
	struct ipc_msg *m;

	if (!ipc_name_valid(type))
		BUG("ipc: bad message type \"%.40s\"", type);
	m = xcalloc(1, sizeof(*m));
	strcpy(m->type, type);
	return m;
}

void
ipc_msg_free(struct ipc_msg **mp)
{
	struct ipc_msg *m = *mp;
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++)
		free(m->f[i].val);
	free(m->f);
	xfree(mp);
}

const char *
ipc_msg_type(const struct ipc_msg *m)
{
	return m->type;
}

/* Append a field whose name the caller has checked. */
static void
ipc_msg_push(struct ipc_msg *m, const char *name, size_t nlen,
    const void *val, size_t len)
{
	struct ipc_field *f;

	if (m->n == m->size) {
		m->size = m->size == 0 ? 8 : m->size * 2;
		m->f = xrealloc(m->f, m->size * sizeof(*m->f));
	}
	f = &m->f[m->n++];
	memcpy(f->name, name, nlen);
	f->name[nlen] = '\0';
	f->len = len;
	f->val = xmalloc(len + 1);
	if (len > 0)
		memcpy(f->val, val, len);
	f->val[len] = '\0';
}

void
ipc_msg_add(struct ipc_msg *m, const char *name, const void *val, size_t len)
{
	if (!ipc_name_valid(name))
		BUG("ipc: bad field name \"%.40s\"", name);
	if (len > UINT32_MAX)
		BUG("ipc: field %s too large (%zu bytes)", name, len);
	ipc_msg_push(m, name, strlen(name), val, len);
}

void
ipc_msg_add_str(struct ipc_msg *m, const char *name, const char *val)
{
	ipc_msg_add(m, name, val, strlen(val));
}

void
ipc_msg_add_int(struct ipc_msg *m, const char *name, long long v)
{
	char s[32];
	int n = snprintf(s, sizeof(s), "%lld", v);

	ipc_msg_add(m, name, s, (size_t)n);
}

static const struct ipc_field *
ipc_msg_find(const struct ipc_msg *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->f[i].name, name) == 0)
			return &m->f[i];
	return NULL;
}

int
ipc_msg_get(const struct ipc_msg *m, const char *name, const void **val_r,
    size_t *len_r)
{
	const struct ipc_field *f = ipc_msg_find(m, name);

	if (f == NULL)
		return -1;
	*val_r = f->val;
	*len_r = f->len;
	return 0;
}

const char *
ipc_msg_get_str(const struct ipc_msg *m, const char *name)
{
	const struct ipc_field *f = ipc_msg_find(m, name);

	if (f == NULL || memchr(f->val, '\0', f->len) != NULL)
		return NULL;
	return f->val;
}

int
ipc_msg_get_int(const struct ipc_msg *m, const char *name, long long *v_r)
{
	const char *s = ipc_msg_get_str(m, name), *p;
	char *end;
	long long v;

	if (s == NULL)
		return -1;
	/* strtoll alone would accept " 1", "+1" and "1x"; we accept digits. */
	p = s[0] == '-' ? s + 1 : s;
	if (*p == '\0' || strspn(p, "0123456789") != strlen(p))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v_r = v;
	return 0;
}

size_t
ipc_msg_count(const struct ipc_msg *m)
{
	return m->n;
}

void
ipc_msg_field(const struct ipc_msg *m, size_t i, const char **name_r,
    const void **val_r, size_t *len_r)
{
	ASSERT(i < m->n);
	*name_r = m->f[i].name;
	*val_r = m->f[i].val;
	*len_r = m->f[i].len;
}

static void
ipc_append(struct buf *out, const void *p, size_t n)
{
	if (buf_append(out, p, n) < 0)
		BUG("ipc: frame does not fit the output buffer's cap");
}

void
ipc_msg_encode(const struct ipc_msg *m, struct buf *out)
{
	size_t start = buf_len(out), i;
	unsigned char len[4] = { 0, 0, 0, 0 };

	ipc_append(out, len, 4);
	ipc_append(out, m->type, strlen(m->type) + 1);
	for (i = 0; i < m->n; i++) {
		ipc_append(out, m->f[i].name, strlen(m->f[i].name) + 1);
		ipc_put32(len, (uint32_t)m->f[i].len);
		ipc_append(out, len, 4);
		ipc_append(out, m->f[i].val, m->f[i].len);
	}
	if (buf_len(out) - start - 4 > UINT32_MAX)
		BUG("ipc: message %s too large", m->type);
	ipc_put32((unsigned char *)out->data + start,
	    (uint32_t)(buf_len(out) - start - 4));
}

/* Parse one name at p[0..len) ending in NUL; returns its length or -1. */
static long
ipc_parse_name(const char *p, size_t len)
{
	const char *nul = memchr(p, '\0', len < IPC_NAME_MAX + 1 ?
	    len : IPC_NAME_MAX + 1);

	if (nul == NULL || !ipc_name_valid_n(p, (size_t)(nul - p)))
		return -1;
	return nul - p;
}

/* Parse a whole body; NULL and *error_r if it is malformed. */
static struct ipc_msg *
ipc_parse_body(const char *p, size_t len, const char **error_r)
{
	struct ipc_msg *m;
	size_t pos, vlen;
	long nlen;

	if (len == 0 || p[0] == '\0') {
		*error_r = "malformed frame: empty type";
		return NULL;
	}
	if ((nlen = ipc_parse_name(p, len)) < 0) {
		*error_r = "malformed frame: bad message type";
		return NULL;
	}
	m = xcalloc(1, sizeof(*m));
	memcpy(m->type, p, (size_t)nlen);
	for (pos = (size_t)nlen + 1; pos < len; pos += vlen) {
		const char *name = p + pos;

		if ((nlen = ipc_parse_name(name, len - pos)) < 0) {
			*error_r = "malformed frame: bad field name";
			goto fail;
		}
		pos += (size_t)nlen + 1;
		if (len - pos < 4) {
			*error_r = "malformed frame: truncated value length";
			goto fail;
		}
		vlen = ipc_get32((const unsigned char *)p + pos);
		pos += 4;
		if (vlen > len - pos) {
			*error_r = "malformed frame: value beyond end of frame";
			goto fail;
		}
		ipc_msg_push(m, name, (size_t)nlen, p + pos, vlen);
	}
	return m;
fail:
	ipc_msg_free(&m);
	return NULL;
}

enum ipc_status
ipc_decode(const void *data, size_t len, size_t max, struct ipc_msg **m_r,
    size_t *used_r, const char **error_r)
{
	uint32_t n;

	if (len < 4)
		return IPC_MORE;
	n = ipc_get32(data);
	/* Refuse now: waiting for the body would let the peer make us
	 * buffer up to 4 GiB. */
	if (n > max) {
		snprintf(ipc_errbuf, sizeof(ipc_errbuf),
		    "frame too large (%lu > %zu bytes)", (unsigned long)n, max);
		*error_r = ipc_errbuf;
		return IPC_ERROR;
	}
	if (len - 4 < n)
		return IPC_MORE;
	*m_r = ipc_parse_body((const char *)data + 4, n, error_r);
	if (*m_r == NULL)
		return IPC_ERROR;
	*used_r = 4 + (size_t)n;
	return IPC_OK;
}

struct ipc_msg *
ipc_hello_new(const char *myname)
{
	struct ipc_msg *m = ipc_msg_new("hello");

	ipc_msg_add_int(m, "version", IPC_VERSION);
	ipc_msg_add_str(m, "name", myname);
	return m;
}

/* The name ends up in log lines: printable ASCII only, and short. */
static bool
ipc_hello_name_ok(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0')
		return false;
	for (i = 0; name[i] != '\0'; i++)
		if (i >= 64 || name[i] <= ' ' || name[i] > '~')
			return false;
	return true;
}

int
ipc_hello_check(const struct ipc_msg *m, const char **error_r)
{
	const char *name = ipc_msg_get_str(m, "name");
	long long v;

	if (strcmp(m->type, "hello") != 0) {
		snprintf(ipc_errbuf, sizeof(ipc_errbuf),
		    "expected hello, got %s", m->type);
		*error_r = ipc_errbuf;
		return -1;
	}
	if (!ipc_hello_name_ok(name) ||
	    ipc_msg_get_int(m, "version", &v) < 0) {
		*error_r = "malformed hello: need version and a printable name";
		return -1;
	}
	if (v != IPC_VERSION) {
		snprintf(ipc_errbuf, sizeof(ipc_errbuf), "version mismatch: "
		    "peer %s speaks %lld, we speak %d", name, v,
		    IPC_VERSION);
		*error_r = ipc_errbuf;
		return -1;
	}
	return 0;
}

struct ipc_msg *
ipc_msg_copy(const struct ipc_msg *m)
{
	struct ipc_msg *c = ipc_msg_new(ipc_msg_type(m));

	for (size_t i = 0; i < ipc_msg_count(m); i++) {
		const char *name;
		const void *val;
		size_t len;

		ipc_msg_field(m, i, &name, &val, &len);
		ipc_msg_add(c, name, val, len);
	}
	return c;
}
