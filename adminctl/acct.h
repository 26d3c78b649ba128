/*
 * acct - helpers the account commands (domain, user, alias, defaults,
 * admin) share: arguments, the files of a domain, key = value edits.
 */
#ifndef TERN_ADMINCTL_ACCT_H
#define TERN_ADMINCTL_ACCT_H

#include <stdbool.h>
#include <sys/types.h>

#include "edit.h"
#include "tree.h"

struct confset;

/* A domain argument, normalised; NULL after printing why. */
char *arg_domain(const char *s);
/* An address argument split into canonical local part and domain; -1
 * after printing why. */
int arg_addr(const char *s, char **local_r, char **domain_r);
/* "key=value" argument split (malloc'd); -1 after printing why. */
int arg_kv(const char *s, char **key_r, char **value_r);

/*
 * Read the tree with only domain's files.  -1 after printing "no such
 * domain" (naming the primary when domain is a domain alias of one).
 * Problems in the domain's files are printed as warnings.
 */
int load_one(struct tree *t, const char *domain);

/* confdir/domains/<domain>/<file>, malloc'd. */
char *domain_path(const char *domain, const char *file);

/* Check key = value against domain.conf's table; -1 after printing. */
int domain_kv_check(const char *key, const char *value);

/*
 * key = value files (domain.conf): the line setting key (at column 0),
 * or -1.  kv_set replaces that line (dropping its continuation lines)
 * or appends one; kv_unset deletes it and says whether it was there.
 */
ssize_t kv_find(const struct edfile *f, const char *key);
void kv_set(struct edfile *f, const char *key, const char *value);
bool kv_unset(struct edfile *f, const char *key);

/* The hosted domain whose domain.conf lists alias (normalised) in
 * domain_aliases, malloc'd, or NULL. */
char *domain_alias_owner(const char *alias);
/* item, normalised, is norm. */
bool domain_same(const char *item, const char *norm);

/* The directory of domain exists; else -1 after printing "no such
 * domain" (with a hint when it is a domain alias). */
int domain_exists(const char *domain);

/* --- users file lines (user_lines.c) --- */

/* Index of the line of f holding the user whose folded local part is
 * key, or -1. */
ssize_t users_find(const struct edfile *f, const char *key);
/* line with user key set to value (NULL: removed); malloc'd; NULL when
 * the line cannot be split. */
char *users_line_set(const char *line, const char *key, const char *value);
/* line with its hash field replaced; malloc'd, or NULL. */
char *users_line_hash(const char *line, const char *hash);
/* 0 when line parses as a user, else -1 after printing why. */
int users_line_ok(const char *line);

/* Sub-commands that live in their own files. */
int domain_del(int argc, char **argv);
int domain_list(int argc, char **argv);
int domain_show(int argc, char **argv);
int user_list(int argc, char **argv);
int user_show(int argc, char **argv);

/* Print a domain.conf-style set: every key, "(default)" after those the
 * file does not set; with A.json an object {key: {value, default}}. */
void settings_print(const struct confset *set);

/* "key": "value" with a leading comma unless first. */
void json_field(const char *key, const char *value, bool first);

#endif
