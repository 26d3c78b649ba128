/* xalloc - see xalloc.h */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xalloc.h"

bool (*xalloc_fatal_hook)(const char *msg);

static void __attribute__((noreturn))
xalloc_oom(size_t n)
{
	char msg[80];

	snprintf(msg, sizeof(msg), "out of memory allocating %zu bytes", n);
	if (xalloc_fatal_hook != NULL)
		xalloc_fatal_hook(msg);
	(void)!write(STDERR_FILENO, msg, strlen(msg));
	(void)!write(STDERR_FILENO, "\n", 1);
	_exit(1);
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		xalloc_oom(n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		xalloc_oom(n * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		xalloc_oom(n);
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		xalloc_oom(strlen(fmt));
	va_end(ap);
	return s;
}

static void __attribute__((noreturn))
vfatal(const char *prefix, const char *fmt, va_list ap, int do_abort)
{
	char msg[1024];
	size_t n;

	n = (size_t)snprintf(msg, sizeof(msg), "%s", prefix);
	if (n < sizeof(msg))
		vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	if (xalloc_fatal_hook == NULL || !xalloc_fatal_hook(msg))
		fprintf(stderr, "%s\n", msg);
	if (do_abort)
		abort();
	exit(1);
}

void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfatal("fatal: ", fmt, ap, 0);
}

void
bug_at(const char *file, int line, const char *fmt, ...)
{
	char prefix[256];
	va_list ap;

	snprintf(prefix, sizeof(prefix), "BUG at %s:%d: ", file, line);
	va_start(ap, fmt);
	vfatal(prefix, fmt, ap, 1);
}
