/* cfgfile - see cfgfile.h */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfgfile.h"
#include "xalloc.h"

/*
 * Limits.  A config file is written by an admin, but it may also be
 * produced by a script gone wrong or be the wrong file altogether (a
 * mailbox, a core); the caps keep such mistakes to an error message.
 */
#define CFG_FILE_MAX	(1024 * 1024)	/* whole file */
#define CFG_LINE_MAX	(8 * 1024)	/* one physical line */
#define CFG_LOGICAL_MAX	(64 * 1024)	/* value after continuation joins */

struct cfg_parser {
	const char *path;
	bool allow_sections;
	cfg_cb *cb;
	void *arg;
	char *section;		/* current [section] or NULL */
	char *key;		/* pending key (value may still continue) */
	int key_line;
	struct buf value;	/* pending value, continuations joined */
	char *error;		/* "path:line: message" once something failed */
};

static void __attribute__((format(printf, 3, 4)))
cfgfile_error(struct cfg_parser *p, int line, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		die("out of memory formatting a config error");
	va_end(ap);
	p->error = xasprintf("%s:%d: %s", p->path, line, msg);
	free(msg);
}

static bool
cfgfile_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool
cfgfile_namechar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static bool
cfgfile_name_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++)
		if (!cfgfile_namechar(s[i]))
			return false;
	return true;
}

/* Hand the pending key, if any, to the callback. */
static int
cfgfile_flush(struct cfg_parser *p)
{
	struct cfg_line l = {
		.file = p->path, .line = p->key_line, .section = p->section,
		.key = p->key, .value = buf_str(&p->value),
	};
	char *err = NULL;
	int ret = 0;

	if (p->key == NULL)
		return 0;
	if (p->cb(&l, p->arg, &err) < 0) {
		cfgfile_error(p, p->key_line, "%s",
		    err != NULL ? err : "value rejected");
		ret = -1;
	}
	free(err);
	xfree(&p->key);
	buf_reset(&p->value);
	return ret;
}

static int
cfgfile_continue(struct cfg_parser *p, int line, const char *s, size_t n)
{
	if (p->key == NULL) {
		cfgfile_error(p, line, "continuation line without a key");
		return -1;
	}
	/* Joined with one space, as Postfix does for main.cf. */
	if ((buf_len(&p->value) > 0 && buf_putc(&p->value, ' ') < 0) ||
	    buf_append(&p->value, s, n) < 0) {
		cfgfile_error(p, line, "value too long after joining "
		    "continuation lines (over %d bytes)", CFG_LOGICAL_MAX);
		return -1;
	}
	return 0;
}

static int
cfgfile_section(struct cfg_parser *p, int line, const char *s, size_t n)
{
	struct cfg_line l = { .file = p->path, .line = line, .value = "" };
	char *err = NULL;
	int ret = 0;

	if (!p->allow_sections) {
		cfgfile_error(p, line, "sections are not allowed in this file");
		return -1;
	}
	if (n < 2 || s[n - 1] != ']' || !cfgfile_name_ok(s + 1, n - 2)) {
		cfgfile_error(p, line, "bad section header (expected [name])");
		return -1;
	}
	free(p->section);
	p->section = xstrndup(s + 1, n - 2);
	l.section = p->section;
	if (p->cb(&l, p->arg, &err) < 0) {
		cfgfile_error(p, line, "%s",
		    err != NULL ? err : "section rejected");
		ret = -1;
	}
	free(err);
	return ret;
}

static int
cfgfile_key(struct cfg_parser *p, int line, const char *s, size_t n)
{
	size_t k = 0, v;

	while (k < n && cfgfile_namechar(s[k]))
		k++;
	if (k == 0 || (k < n && s[k] != '=' && !cfgfile_blank(s[k]))) {
		cfgfile_error(p, line, "invalid character in key (allowed: "
		    "letters, digits, '_', '.', '-')");
		return -1;
	}
	for (v = k; v < n && cfgfile_blank(s[v]); v++)
		;
	if (v == n || s[v] != '=') {
		cfgfile_error(p, line, "expected key = value");
		return -1;
	}
	for (v++; v < n && cfgfile_blank(s[v]); v++)
		;
	p->key = xstrndup(s, k);
	p->key_line = line;
	/* The value buf was emptied by the flush and a line is shorter
	 * than its cap, so this cannot fail. */
	if (buf_append(&p->value, s + v, n - v) < 0)
		BUG("config line longer than the value cap");
	return 0;
}

static int
cfgfile_line(struct cfg_parser *p, int line, const char *s, size_t n)
{
	size_t i;

	if (n > CFG_LINE_MAX) {
		cfgfile_error(p, line, "line too long (over %d bytes)",
		    CFG_LINE_MAX);
		return -1;
	}
	if (memchr(s, '\0', n) != NULL) {
		cfgfile_error(p, line, "NUL byte");
		return -1;
	}
	/* CRLF was stripped by the caller; a CR anywhere else is a
	 * mangled file, and guessing what it meant hides the damage. */
	if (memchr(s, '\r', n) != NULL) {
		cfgfile_error(p, line, "bare CR");
		return -1;
	}
	while (n > 0 && cfgfile_blank(s[n - 1]))
		n--;
	for (i = 0; i < n && cfgfile_blank(s[i]); i++)
		;
	if (i == n || s[i] == '#')
		return 0;
	if (i > 0)
		return cfgfile_continue(p, line, s + i, n - i);
	if (cfgfile_flush(p) < 0)
		return -1;
	if (s[0] == '[')
		return cfgfile_section(p, line, s, n);
	return cfgfile_key(p, line, s, n);
}

static int
cfgfile_scan(struct cfg_parser *p, const char *data, size_t len)
{
	size_t pos = 0, n;
	const char *s, *nl;
	int line = 0;

	/* Bounded: pos grows by at least one byte per turn. */
	while (pos < len) {
		s = data + pos;
		nl = memchr(s, '\n', len - pos);
		n = nl != NULL ? (size_t)(nl - s) : len - pos;
		pos += n + (nl != NULL);
		line++;
		if (nl != NULL && n > 0 && s[n - 1] == '\r')
			n--;
		if (cfgfile_line(p, line, s, n) < 0)
			return -1;
	}
	return cfgfile_flush(p);
}

/* Read all of fd into b; the cap on b turns a huge file into an error. */
static int
cfgfile_read(struct cfg_parser *p, int fd, struct buf *b)
{
	char chunk[16384];
	ssize_t n;

	/* Bounded: every turn adds bytes until the cap, EOF or an error. */
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			p->error = xasprintf("%s: cannot read: %s", p->path,
			    strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		if (buf_append(b, chunk, (size_t)n) < 0) {
			p->error = xasprintf("%s: file too large (over %d "
			    "bytes)", p->path, CFG_FILE_MAX);
			return -1;
		}
	}
}

int
cfgfile_parse(const char *path, bool allow_sections, bool missing_ok,
    cfg_cb *cb, void *arg, char **error_r)
{
	struct cfg_parser p = {
		.path = path, .allow_sections = allow_sections,
		.cb = cb, .arg = arg,
	};
	struct buf data;
	int fd, ret = -1;

	*error_r = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT && missing_ok)
			return 0;
		*error_r = xasprintf("%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	buf_init(&data, 4096, CFG_FILE_MAX);
	buf_init(&p.value, 256, CFG_LOGICAL_MAX);
	if (cfgfile_read(&p, fd, &data) == 0)
		ret = cfgfile_scan(&p, buf_data(&data), buf_len(&data));
	close(fd);
	buf_release(&data);
	buf_release(&p.value);
	free(p.key);
	free(p.section);
	*error_r = p.error;
	return ret;
}
