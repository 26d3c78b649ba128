/*
 * xalloc - allocation that cannot fail, and the two ways to stop.
 *
 * Out of memory is fatal inside the allocator (master restarts us), so
 * callers never test for NULL.  die() is for a wrong world (unreadable
 * config, spool gone); BUG()/ASSERT() are for wrong code and abort for a
 * core with file:line.
 */
#ifndef TERN_XALLOC_H
#define TERN_XALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>   /* free(), for xfree() */

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a fresh string */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Free *pp and set it to NULL. */
#define xfree(pp) do { free(*(pp)); *(pp) = NULL; } while (0)

/* Log at exceptions level (when logging is open), print to stderr, exit 1. */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

void bug_at(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));
#define BUG(...) bug_at(__FILE__, __LINE__, __VA_ARGS__)
#define ASSERT(e) \
	do { if (!(e)) bug_at(__FILE__, __LINE__, "assertion failed: %s", #e); } while (0)

/* Hook for die()/BUG() so they reach the log once it is open; returns
 * true when the message was also shown on stderr. */
extern bool (*xalloc_fatal_hook)(const char *msg);

#endif
