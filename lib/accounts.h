/*
 * accounts - the compiled account maps every daemon looks up.
 *
 * `adminctl rebuild` compiles the config tree (domains/<d>/domain.conf,
 * users, aliases; see adminctl(8)) into CDB files in state_dir/maps/:
 *
 *   domains.cdb  "example.com"       -> "kind=domain\n" + every domain.conf
 *                                       key as "key=value\n" (effective)
 *                "example.net"       -> "kind=alias\nprimary=example.com\n"
 *                                       (a domain alias)
 *                "@serial"           -> rebuild time, for logs
 *   users.cdb    "alice@example.com" -> "name=...\nquota=...\ndisabled=0\n"
 *   aliases.cdb  "sales@example.com" -> one target address per line
 *   passwd.cdb   "alice@example.com" -> crypt hash   (auth daemon only)
 *                "@admin:NAME"       -> the system administrator's hash
 *   cram.cdb     "alice@example.com" -> CRAM-MD5 secret (auth daemon only)
 *
 * Keys are lower case: domain names as A-labels, local parts folded to
 * ASCII lower case (mail to Alice@ reaches alice@).  passwd.cdb and
 * cram.cdb are mode 0600, owned by auth_user when rebuilt as root, so no
 * network-facing daemon can read a hash.  A lookup is one CDB probe per
 * map; accounts_reopen() picks up a rebuild (maps are replaced by rename).
 */
#ifndef TERN_ACCOUNTS_H
#define TERN_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>

#define ACCT_MAP_DOMAINS "domains.cdb"
#define ACCT_MAP_USERS   "users.cdb"
#define ACCT_MAP_ALIASES "aliases.cdb"
#define ACCT_MAP_PASSWD  "passwd.cdb"
#define ACCT_MAP_CRAM    "cram.cdb"
#define ACCT_ADMIN_PREFIX "@admin:"
#define ACCT_SERIAL_KEY  "@serial"

enum acct_maps {
	ACCT_PUBLIC = 1,     /* domains, users, aliases */
	ACCT_SECRETS = 2,    /* passwd, cram: the auth daemon only */
};

struct accounts;

/* Record of a local domain, resolved through domain aliases. */
struct acct_domain {
	const char *name;       /* the primary domain (NUL-terminated) */
	bool via_alias;         /* the name looked up was a domain alias */
	const char *rec;        /* "key=value\n" lines of domain.conf */
	size_t reclen;
};

/*
 * Open the maps of `which` in dir (state_dir/maps).  A missing map is
 * treated as empty (a fresh install before the first rebuild); an
 * unreadable or corrupt one is an error.  NULL + *error_r on error.
 */
struct accounts *accounts_open(const char *dir, unsigned which,
    const char **error_r);
/* Reopen maps that were replaced; 0, or -1 (old maps stay in use). */
int accounts_reopen(struct accounts *a, const char **error_r);
void accounts_free(struct accounts **ap);

/*
 * Look a domain up (any case; a trailing dot is not accepted).  1 and
 * *d_r when it is ours (a domain alias resolves to its primary), 0 when
 * not, -1 on a corrupt map.  Pointers are valid until the next reopen.
 */
int accounts_domain(struct accounts *a, const char *domain,
    struct acct_domain *d_r);

/*
 * The record of local@domain where domain is a primary domain name (as
 * in acct_domain.name); local is folded here.  1 found, 0 not, -1 error.
 */
int accounts_user(struct accounts *a, const char *local, const char *domain,
    const char **rec_r, size_t *len_r);
/* Alias targets of local@domain (one address per line). */
int accounts_alias(struct accounts *a, const char *local, const char *domain,
    const char **targets_r, size_t *len_r);
/* Password hash of local@domain, or of the admin ("@admin:NAME" key). */
int accounts_passwd(struct accounts *a, const char *key,
    const char **hash_r);
int accounts_cram(struct accounts *a, const char *key,
    const char **secret_r);

/*
 * The value of key in a "key=value\n" record: returns a pointer to it and
 * its length in *len_r, or NULL when the record has no such key.
 */
const char *acct_field(const char *rec, size_t reclen, const char *key,
    size_t *len_r);
/* acct_field as a bool ("1", "yes"...) / number; def when missing. */
bool acct_field_bool(const char *rec, size_t reclen, const char *key,
    bool def);
long long acct_field_int(const char *rec, size_t reclen, const char *key,
    long long def);

/*
 * The map key for local@domain: local folded to ASCII lower case, domain
 * lower case.  malloc'd.
 */
char *acct_key(const char *local, const char *domain);

#endif
