/*
 * conf - tern.conf: one table declares every key, its type, default,
 * bounds and one-line doc (lib/conf_keys.c); daemons read typed values
 * and nobody parses the file themselves.  man/tern.conf.5 documents each
 * key; t/unit/conf.c checks the page against the table.
 *
 * The file is `key = value` lines; '#' starts a comment line; a line that
 * begins with white space continues the previous value (as in Postfix's
 * main.cf).  Relative paths in path-like keys are taken relative to the
 * directory holding tern.conf.
 */
#ifndef TERN_CONF_H
#define TERN_CONF_H

#include <stdbool.h>
#include <stddef.h>

enum conf_type {
	CONF_STR,    /* any text */
	CONF_PATH,   /* text; relative values resolved against conf_dir() */
	CONF_INT,    /* decimal integer, min/max inclusive */
	CONF_SIZE,   /* bytes: 512, 4k, 10m, 1g (1024-based; kb/mb/gb too) */
	CONF_TIME,   /* 500ms, 30s, 5m, 2h, 7d; a bare number is seconds */
	CONF_BOOL,   /* yes/no, true/false, on/off, 1/0 */
	CONF_LIST,   /* items separated by commas and/or white space */
	CONF_ENUM,   /* one of the words in choices ("a|b|c") */
};

struct conf_key {
	const char *name;
	enum conf_type type;
	const char *def;      /* default, written as in the file */
	const char *min;      /* CONF_INT/SIZE/TIME lower bound or NULL */
	const char *max;      /* upper bound or NULL */
	const char *choices;  /* CONF_ENUM: "a|b|c"; else NULL */
	const char *doc;      /* one line */
};

extern const struct conf_key conf_table[];
extern const size_t conf_table_len;

const struct conf_key *conf_key_find(const char *name);

/* Reset every key to its default (conf_dir() becomes "."). */
void conf_load_defaults(void);

/*
 * Load tern.conf from path: defaults first, then the file.  Returns 0, or
 * -1 with *error_r = "path:line: what is wrong" (malloc'd; caller frees)
 * and the configuration in force before the call left untouched.  Unknown
 * keys, bad values, values out of range and duplicate keys are errors.
 */
int conf_load(const char *path, char **error_r);

/* Set one key from text, as if read from the file (tests, overrides).
 * On error the key keeps its value; on success pointers earlier getters
 * returned for this key are no longer valid.  No position in *error_r. */
int conf_set(const char *key, const char *value, char **error_r);

/* Typed getters; BUG() on an unknown key or a getter of the wrong type. */
const char *conf_str(const char *key);            /* STR, PATH, ENUM */
long long conf_int(const char *key);
unsigned long long conf_size(const char *key);    /* bytes */
long long conf_time_ms(const char *key);          /* milliseconds */
bool conf_bool(const char *key);
/* NULL-terminated array, valid until the next load; *n_r may be NULL. */
const char *const *conf_list(const char *key, size_t *n_r);

/* The value as text, as it would be written in the file. */
const char *conf_text(const char *key);
/* Directory holding the loaded tern.conf (absolute). */
const char *conf_dir(void);

/* Value parsers shared with other config files (services.conf ...).
 * Each returns 0, or -1 with *error_r a static message. */
int conf_parse_int(const char *s, long long *v_r, const char **error_r);
int conf_parse_size(const char *s, unsigned long long *v_r,
    const char **error_r);
int conf_parse_time_ms(const char *s, long long *v_r, const char **error_r);
int conf_parse_bool(const char *s, bool *v_r, const char **error_r);

/*
 * Match s (case-insensitively) against choices "a|b|c".  Returns 0 with
 * *word_r and *len_r = the matching word inside choices (its canonical
 * spelling, not NUL-terminated), or -1 with *error_r a static message.
 */
int conf_parse_enum(const char *s, const char *choices, const char **word_r,
    size_t *len_r, const char **error_r);
/*
 * Split s on commas and white space, dropping empty items.  Returns a
 * malloc'd NULL-terminated array of malloc'd items (never NULL; an empty
 * s gives an empty array); *n_r, if not NULL, gets the count.  Free it
 * with conf_list_free().
 */
char **conf_split_list(const char *s, size_t *n_r);
/* Free a conf_split_list() array and set *listp to NULL. */
void conf_list_free(char ***listp);

/* Free the loaded configuration (clean exit, leak checks); the next
 * getter starts again from the defaults. */
void conf_unload(void);

#endif
