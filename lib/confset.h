/*
 * confset - one set of typed values over a key table (struct conf_key,
 * see conf.h).  tern.conf is one such set (lib/conf.c keeps it behind the
 * conf_* calls); each domain's domain.conf and defaults/domain.conf are
 * others, over domain_table (lib/domain_keys.h).  Every file is read by
 * cfgfile with the same rules and the same errors as tern.conf.
 *
 *	struct confset *d = confset_new(domain_table, domain_table_len);
 *
 *	if (confset_load(d, "domains/example.org/domain.conf", NULL, false,
 *	    &err) < 0)
 *		... err is "path:line: what is wrong"; d is as it was ...
 *	if (confset_bool(d, "disabled")) ...
 *	confset_free(&d);
 *
 * A set is not shared between threads; sets are independent of each
 * other and of the global tern.conf.
 */
#ifndef TERN_CONFSET_H
#define TERN_CONFSET_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"

struct confset;

/*
 * A set holding every key of table at its default; table (n entries) must
 * outlive the set.  confset_dir() is ".".  A default or a bound the table
 * gets wrong is our bug: BUG().
 */
struct confset *confset_new(const struct conf_key *table, size_t n);
/* Free *sp (NULL is fine) and set it to NULL. */
void confset_free(struct confset **sp);

/*
 * Replace the values of set with those of the file at path.  The new
 * values start from the table defaults (base == NULL) or from a copy of
 * base's values (base must be over the same table; it may be set itself),
 * and the file's lines are applied on top.  Relative path values in the
 * file, and relative path defaults, are taken from the directory holding
 * the file; values copied from base keep the resolution they had there.
 *
 * Returns 0, or -1 with *error_r = "path:line: what is wrong" (malloc'd;
 * the caller frees) and set untouched.  Unknown keys (with a "did you
 * mean" when a key is close), bad values, values out of range and
 * duplicate keys are errors.  With missing_ok, a missing file (or missing
 * directory) is not an error: the set gets the starting values.
 *
 * After a load, confset_is_set() is true for the keys the file names and
 * only those: a value copied from base counts as not set here.  Pointers
 * earlier getters returned are no longer valid.
 */
int confset_load(struct confset *set, const char *path,
    const struct confset *base, bool missing_ok, char **error_r);

/*
 * Set one key from text, as if read from the file (overrides, tests); a
 * relative path is taken from confset_dir().  Returns 0, or -1 with
 * *error_r malloc'd (no position) and the key keeping its value.  On
 * success the key counts as set (at line 0) and pointers earlier getters
 * returned for it are no longer valid.
 */
int confset_set(struct confset *set, const char *key, const char *value,
    char **error_r);

/* True when the last load's file or a confset_set() gave key a value,
 * not just a default or base's value.  BUG() on an unknown key. */
bool confset_is_set(const struct confset *set, const char *key);
/* Line of the file that set key; 0 if not set by the file.  BUG() on an
 * unknown key. */
int confset_set_line(const struct confset *set, const char *key);

/* The table entry for name, or NULL if the set's table has no such key. */
const struct conf_key *confset_key(const struct confset *set,
    const char *name);

/* Typed getters, as the conf_* ones (conf.h): BUG() on an unknown key or
 * a getter of the wrong type.  Strings and lists stay valid until the
 * next load or confset_set() of that key, or confset_free(). */
const char *confset_str(const struct confset *set, const char *key);
long long confset_int(const struct confset *set, const char *key);
unsigned long long confset_size(const struct confset *set, const char *key);
long long confset_time_ms(const struct confset *set, const char *key);
bool confset_bool(const struct confset *set, const char *key);
/* NULL-terminated; *n_r (may be NULL) gets the count. */
const char *const *confset_list(const struct confset *set, const char *key,
    size_t *n_r);
/* The value as text, as it would be written in the file. */
const char *confset_text(const struct confset *set, const char *key);

/*
 * The value in the machine form compiled maps store: INT as decimal, SIZE
 * in bytes, TIME in milliseconds, BOOL as 0 or 1, ENUM in its canonical
 * spelling, STR as written, PATH resolved, LIST items joined with ','.
 * malloc'd; the caller frees.  BUG() on an unknown key.
 */
char *confset_value_canon(const struct confset *set, const char *key);

/* Absolute directory of the last loaded file; "." before any load, or
 * when a missing_ok load found no directory. */
const char *confset_dir(const struct confset *set);

#endif
