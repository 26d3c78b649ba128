/*
 * map - read-only key/value maps in CDB files (tinycdb).
 *
 * adminctl compiles the config tree into CDB files; daemons look keys up
 * with one probe into the mmap'd file.  A rebuild never touches the file
 * readers have open: map_writer writes "<path>.tmp.<pid>" beside it and
 * renames it into place, so a reader sees either the whole old map or the
 * whole new one.  Readers notice the replacement with
 * map_reopen_if_changed() (on SIGHUP, or before a batch of lookups).
 *
 * Keys and values are byte strings (they may contain NULs).  Strings are
 * stored by convention: map_writer_add_str() stores the key without and
 * the value with its terminating NUL, so map_lookup_str() can hand out a
 * pointer into the map without copying.  Mixing the two conventions on
 * one key is caught: map_lookup_str() refuses a value that is not exactly
 * one C string.
 *
 * Error texts (error_r) point to a per-thread buffer that stays valid
 * until the next map call in the same thread that fails.
 *
 * A map is not safe to share between threads without a lock.
 */
#ifndef TERN_MAP_H
#define TERN_MAP_H

#include <stddef.h>

struct map;
struct map_writer;

/*
 * Open the CDB file at path.  Returns NULL and sets *error_r if the file
 * is missing, unreadable, not a regular file, or not a well-formed CDB
 * (too short, or its hash tables do not fit the file exactly, as after a
 * truncation).
 */
struct map *map_open(const char *path, const char **error_r);

/*
 * Look key up.  Returns 1 and sets *val_r and *vlen_r (the first value stored
 * under key) if found, 0 if not, -1 if the file turns out to be corrupt.
 * The value points into the map and stays valid until the next
 * map_reopen_if_changed() that returns 1, or map_free().
 */
int map_lookup(struct map *m, const void *key, size_t klen,
    const void **val_r, size_t *vlen_r);

/*
 * Look up the C string key (stored without its NUL) whose value was
 * stored by map_writer_add_str().  Returns 1 and sets *val_r (a
 * NUL-terminated string inside the map, same lifetime as map_lookup()),
 * 0 if not found, -1 if corrupt or if the value is not exactly one
 * NUL-terminated string (no final NUL, or a NUL before the end).
 */
int map_lookup_str(struct map *m, const char *key, const char **val_r);

/*
 * stat() the path again; if it now names a different file (device, inode,
 * size or mtime differ), open that one and swap it in.  Returns 1 if
 * swapped (earlier lookup results are now invalid), 0 if unchanged, -1 on
 * error with *error_r set; on error the old map stays open and usable.
 */
int map_reopen_if_changed(struct map *m, const char **error_r);

/* The path the map was opened with (for log lines). */
const char *map_path(const struct map *m);

/* Unmap and free *mp (may be NULL); sets *mp to NULL. */
void map_free(struct map **mp);

/*
 * Start writing a new map that will replace path.  Creates
 * "<path>.tmp.<pid>" exclusively (mode 0640 before umask; fails if it
 * exists, e.g. left behind by a crashed run with the same pid).  Returns
 * NULL and sets *error_r on failure.
 */
struct map_writer *map_writer_new(const char *path, const char **error_r);

/*
 * Add a record.  Returns 0 if added; 1 if key is already in the map (the
 * new record is dropped, the first value stays: maps never hold
 * duplicates); -1 on error (key or value over 4 GiB, write error).
 * After -1 the writer is failed: further adds return -1 and commit
 * returns -1 with the first error.
 */
int map_writer_add(struct map_writer *w, const void *key, size_t klen,
    const void *val, size_t vlen);

/* Add a string record for map_lookup_str(); returns as map_writer_add(). */
int map_writer_add_str(struct map_writer *w, const char *key,
    const char *val);

/*
 * Finish the CDB, fsync it, rename it over path and fsync the directory,
 * so the new map survives a crash once this returns 0.  Frees *wp and
 * sets it to NULL in every case.  Returns -1 with *error_r set on failure:
 * the temp file is removed and path is left as it was, except when only
 * the final directory fsync failed (the new map is then in place but may
 * not survive a crash; the error text says so).  A failed add makes
 * commit fail.
 */
int map_writer_commit(struct map_writer **wp, const char **error_r);

/* Remove the temp file and free *wp (may be NULL); sets *wp to NULL. */
void map_writer_abort(struct map_writer **wp);

#endif
