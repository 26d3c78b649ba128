/*
 * tree - the account part of the config tree, as adminctl reads it.
 *
 *   domains/<domain>/domain.conf   domain settings (domain.conf(5))
 *   domains/<domain>/users         "local  hash  [key=value ...]" lines
 *   domains/<domain>/aliases       "local: target, target ..." lines
 *   defaults/domain.conf           settings a new domain starts with
 *   admin.passwd                   "NAME HASH" of the system administrator
 *
 * tree_load() reads it, tree_check() validates what crosses files (domain
 * aliases, limits, alias targets and loops, catch-alls), tree_compile()
 * writes the maps of accounts.h.  Every problem found on the way is
 * collected in tree.errs as "path:line: message", so one run reports
 * them all; the maps are written only when there is none.
 */
#ifndef TERN_ADMINCTL_TREE_H
#define TERN_ADMINCTL_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "hset.h"

struct confset;

/* Most errors kept (and printed); the rest are only counted. */
#define ERRS_MAX 100

struct errs {
	char **msg;
	size_t n, cap;
	size_t total;           /* including those over ERRS_MAX */
};

/* Record "path:line: message" (line 0: "path: message"). */
void errs_add(struct errs *e, const char *path, int line, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));
/* Record a message that already names its position; takes msg. */
void errs_take(struct errs *e, char *msg);
/* Print every message to stderr, then how many there were. */
void errs_print(const struct errs *e);
void errs_release(struct errs *e);

struct tuser {
	char *local;            /* canonical local part, as written */
	char *key;              /* local folded to lower case: map key part */
	char *hash;             /* crypt(3) string, "*" or "!..." */
	char *name;             /* display name, or NULL */
	unsigned long long quota;       /* bytes; 0 = none of its own */
	bool disabled;
	char *cram;             /* CRAM-MD5 secret, or NULL */
	/* Forwarding and the auto-responder (delivery(8)); NULL = not set. */
	char *forward;          /* "a@b,c@d", each address normalised */
	bool forward_nokeep;    /* forward_keep = no: no local copy */
	bool autoreply;
	char *ar_subject, *ar_text;     /* text as written ("\n" kept) */
	char *ar_until;         /* YYYY-MM-DD */
	/* Throttling of what the user sends (queue(8)); 0 = no limit. */
	unsigned long long thr_msgs, thr_bytes;
	int line;
};

struct ttarget {
	char *addr;             /* normalised local@domain */
	size_t at;              /* index of the '@' in addr */
	int line;
};

struct talias {
	char *local, *key;      /* as struct tuser */
	int line;
	struct ttarget *t;
	size_t nt, tcap;
	int mark;               /* loop check: 0 new, 1 on the path, 2 done */
};

struct tdomain {
	char *name;             /* normalised; the directory name */
	char *dir;              /* confdir/domains/name */
	char *conf_path, *users_path, *aliases_path;
	struct confset *conf;   /* NULL when domain.conf did not load */
	struct tuser *users;
	size_t nusers, ucap;
	struct talias *aliases;
	size_t naliases, acap;
	struct hset uidx;       /* key -> struct tuser * */
	struct hset aidx;       /* key -> struct talias * */
	char **dalias;          /* normalised domain aliases (tree_check) */
	size_t ndalias;
	char *catchall;         /* full address (tree_check), or NULL */
	char *folder;           /* effective mail folder (tree_check) */
};

struct tree {
	char *confdir;
	struct tdomain *doms;   /* sorted by name */
	size_t ndoms;
	struct hset didx;       /* name -> struct tdomain * */
	struct hset daidx;      /* domain alias -> primary struct tdomain * */
	struct confset *defaults;       /* defaults/domain.conf */
	char *defaults_path;
	char *admin_name, *admin_hash;  /* admin.passwd, or NULL */
	struct errs errs;
	size_t nusers, naliases;        /* totals */
	size_t cram_missing;    /* users of CRAM domains without a secret */
};

/*
 * Read the tree under confdir.  only: NULL for every domain, or the one
 * domain to read (list and show commands).  Problems go to t->errs; what
 * could be read is in *t either way.  Returns the number of errors.
 */
size_t tree_load(struct tree *t, const char *confdir, const char *only);
void tree_release(struct tree *t);

/* Validate across files (call after tree_load of every domain). */
void tree_check(struct tree *t);

/*
 * Write the maps into maps_dir: each to a temp file, then all renamed
 * into place (passwd.cdb and cram.cdb mode 0600, given to auth_user when
 * we are root).  0, or -1 with *error_r (malloc'd); on -1 before any
 * rename the old maps are untouched.
 */
int tree_compile(const struct tree *t, const char *maps_dir,
    char **error_r);

/* The domain named name (normalised), or NULL. */
struct tdomain *tree_domain(const struct tree *t, const char *name);
/* The user / alias of d with this local part (any case), or NULL. */
struct tuser *tree_user(const struct tdomain *d, const char *local);
struct talias *tree_alias(const struct tdomain *d, const char *local);

/* True for keys that name one domain's own things (folder_path,
 * list_address, domain_aliases, catchall): never copied from defaults. */
bool tree_own_key(const char *key);

/* Local part folded to lower case (ASCII), malloc'd. */
char *tree_fold(const char *local);

/* --- the line formats (tree_users.c, tree_aliases.c) --- */

/* Keys a users line may carry after the hash; NULL-terminated. */
extern const char *const user_keys[];

/* A users line split into blank-separated tokens (quotes respected). */
struct utok {
	size_t ws;              /* where the blanks before the token start */
	size_t start, end;      /* the token: s[start..end) */
};
#define USERS_MAX_TOKENS 16

/* Split s[0..len); 0 and *n_r, or -1 with a static *why_r. */
int users_tokens(const char *s, size_t len, struct utok *tok, size_t *n_r,
    const char **why_r);
/* A value as a token: quoted when empty or holding blanks, '"', '\\'. */
char *users_quote(const char *v);

/*
 * Parse one users line (no newline).  1 and *u filled (u->line is left
 * alone), 0 for a blank or comment line, -1 with *error_r (malloc'd, no
 * position).
 */
int users_parse_line(const char *s, size_t len, struct tuser *u,
    char **error_r);
void tuser_release(struct tuser *u);
/* 0 when hash is a crypt string we store, else -1 with a static why. */
int users_check_hash(const char *hash, const char **why_r);

/*
 * Parse all of an aliases file held in text[0..len) for domain; aliases
 * are appended to d (d->aliases), problems to e.
 */
void aliases_parse(struct tdomain *d, const char *text, size_t len,
    struct errs *e);
/*
 * Normalise one alias target as written in domain's aliases file: a bare
 * local part gets "@domain".  0 and *addr_r (malloc'd), or -1 and a
 * static *why_r.
 */
int aliases_target(const char *s, size_t len, const char *domain,
    char **addr_r, const char **why_r);

/* Index of the first of stops in s[0..len) outside double quotes, or
 * len. */
size_t aliases_span(const char *s, size_t len, const char *stops);

/* Read all of path (any size) into a malloc'd NUL-terminated buffer;
 * -1 with errno set on failure. */
int read_whole(const char *path, char **text_r, size_t *len_r);

#endif
