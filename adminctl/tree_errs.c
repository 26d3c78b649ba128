/* tree_errs - collecting "path:line: message" errors; see tree.h. */
#include <stdarg.h>
#include <stdio.h>

#include "tree.h"
#include "xalloc.h"

void
errs_take(struct errs *e, char *msg)
{
	e->total++;
	if (e->n == ERRS_MAX) {
		free(msg);
		return;
	}
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 16;
		e->msg = xrealloc(e->msg, e->cap * sizeof(*e->msg));
	}
	e->msg[e->n++] = msg;
}

void
errs_add(struct errs *e, const char *path, int line, const char *fmt, ...)
{
	va_list ap;
	char *m;

	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	if (line > 0)
		errs_take(e, xasprintf("%s:%d: %s", path, line, m));
	else
		errs_take(e, xasprintf("%s: %s", path, m));
	free(m);
}

void
errs_print(const struct errs *e)
{
	for (size_t i = 0; i < e->n; i++)
		fprintf(stderr, "%s\n", e->msg[i]);
	if (e->total > e->n)
		fprintf(stderr, "adminctl: ... and %zu more errors\n",
		    e->total - e->n);
}

void
errs_release(struct errs *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->msg[i]);
	xfree(&e->msg);
	e->n = e->cap = e->total = 0;
}
