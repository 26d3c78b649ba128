/*
 * mime_int - what the mime*.c files share and nobody else sees.
 */
#ifndef TERN_MIME_INT_H
#define TERN_MIME_INT_H

#include <stddef.h>

#include "mime.h"

struct buf;
struct rfc822_lex;

/* All of a parse result lives in one arena, freed at once. */
struct mime_arena;

struct mime_arena *mime_arena_new(void);
void mime_arena_free(struct mime_arena **ap);
/* Zeroed memory; never fails (xalloc). */
void *mime_arena_alloc(struct mime_arena *a, size_t n);
char *mime_arena_strndup(struct mime_arena *a, const char *s, size_t n);

/* A new child of parent linked after sibling "after" (NULL: as the first
 * child), or the root when parent is NULL; counts it in m->nparts.
 * Content fields default to text/plain. */
struct mime_part *mime_part_new(struct mime_msg *m, struct mime_part *parent,
    struct mime_part *after, size_t hdr_start);

/* Fill p's Content-* fields and its MULTIPART/MESSAGE/TEXT flags from its
 * header, which must be complete (hdr_start/hdr_len final). */
void mime_part_parse_header(struct mime_msg *m, struct mime_part *p);

/* Parse ";"-separated parameters at the cursor into ps (RFC 2045 5.1,
 * RFC 2231), strings in the arena. */
void mime_params_parse(struct mime_arena *a, struct rfc822_lex *lx,
    struct mime_params *ps);

/* Lower-case ASCII in place. */
void mime_lower(char *s, size_t len);

#endif
