/*
 * tree_compile - write the checked tree into the maps of accounts.h.
 *
 * Each map is built in a temp file by map_writer and committed to
 * "<map>.new"; only when all five are written are their modes and owners
 * set and each renamed over the live map.  A reader therefore always
 * opens a complete map, and a failure before the renames leaves every
 * old map in force.  The renames happen back to back, so daemons that
 * reopen in between see at worst a users map one rebuild newer than the
 * domains map, never a half-written file.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "buf.h"
#include "conf.h"
#include "confset.h"
#include "domain_keys.h"
#include "map.h"
#include "tree.h"
#include "xalloc.h"

enum { C_DOMAINS, C_USERS, C_ALIASES, C_PASSWD, C_CRAM, C_N };

static const struct {
	const char *file;
	bool secret;
} compile_maps[C_N] = {
	{ ACCT_MAP_DOMAINS, false }, { ACCT_MAP_USERS, false },
	{ ACCT_MAP_ALIASES, false }, { ACCT_MAP_PASSWD, true },
	{ ACCT_MAP_CRAM, true },
};

struct compile {
	const struct tree *t;
	const char *dir;
	struct map_writer *w[C_N];
	struct buf rec;
	char *error;
};

static int
compile_add(struct compile *c, int m, const char *key, const char *val,
    size_t vlen)
{
	if (map_writer_add(c->w[m], key, strlen(key), val, vlen) < 0) {
		c->error = xasprintf("%s: cannot add %s", compile_maps[m].file,
		    key);
		return -1;
	}
	return 0;
}

static int
compile_add_str(struct compile *c, int m, const char *key, const char *val)
{
	if (map_writer_add_str(c->w[m], key, val) < 0) {
		c->error = xasprintf("%s: cannot add %s", compile_maps[m].file,
		    key);
		return -1;
	}
	return 0;
}

/* The value a domain record carries for key: effective and canonical. */
static char *
compile_domain_value(const struct tdomain *d, const char *key)
{
	if (strcmp(key, "catchall") == 0)
		return xstrdup(d->catchall != NULL ? d->catchall : "");
	if (strcmp(key, "folder_path") == 0)
		return xstrdup(d->folder);
	if (strcmp(key, "domain_aliases") == 0) {
		struct buf b;
		char *s;

		buf_init(&b, 64, 0);
		for (size_t i = 0; i < d->ndalias; i++)
			buf_printf(&b, "%s%s", i ? "," : "", d->dalias[i]);
		s = buf_steal(&b);
		buf_release(&b);
		return s;
	}
	return confset_value_canon(d->conf, key);
}

static int
compile_domain(struct compile *c, const struct tdomain *d)
{
	buf_reset(&c->rec);
	buf_append_str(&c->rec, "kind=domain\n");
	for (size_t i = 0; i < domain_table_len; i++) {
		char *v = compile_domain_value(d, domain_table[i].name);

		buf_printf(&c->rec, "%s=%s\n", domain_table[i].name, v);
		free(v);
	}
	if (compile_add(c, C_DOMAINS, d->name, buf_data(&c->rec),
	    buf_len(&c->rec)) < 0)
		return -1;
	for (size_t i = 0; i < d->ndalias; i++) {
		buf_reset(&c->rec);
		buf_printf(&c->rec, "kind=alias\nprimary=%s\n", d->name);
		if (compile_add(c, C_DOMAINS, d->dalias[i], buf_data(&c->rec),
		    buf_len(&c->rec)) < 0)
			return -1;
	}
	return 0;
}

/* Forwarding and auto-reply keys, only when set (delivery(8) reads
 * them); most users have none, so most records stay three lines. */
static void
compile_user_delivery(struct buf *rec, const struct tuser *u)
{
	if (u->forward != NULL)
		buf_printf(rec, "forward=%s\nforward_keep=%d\n", u->forward,
		    u->forward_nokeep ? 0 : 1);
	if (u->thr_msgs > 0)
		buf_printf(rec, "throttle_messages_per_hour=%llu\n",
		    u->thr_msgs);
	if (u->thr_bytes > 0)
		buf_printf(rec, "throttle_bandwidth_per_hour=%llu\n",
		    u->thr_bytes);
	if (!u->autoreply)
		return;
	buf_printf(rec, "autoreply=1\n");
	if (u->ar_subject != NULL)
		buf_printf(rec, "autoreply_subject=%s\n", u->ar_subject);
	if (u->ar_text != NULL)
		buf_printf(rec, "autoreply_text=%s\n", u->ar_text);
	if (u->ar_until != NULL)
		buf_printf(rec, "autoreply_until=%s\n", u->ar_until);
}

static int
compile_user(struct compile *c, const struct tdomain *d,
    const struct tuser *u, bool cram, bool dom_off)
{
	char *key = xasprintf("%s@%s", u->key, d->name);
	int rc = -1;

	buf_reset(&c->rec);
	buf_printf(&c->rec, "name=%s\nquota=%llu\ndisabled=%d\n",
	    u->name != NULL ? u->name : "", u->quota, u->disabled ? 1 : 0);
	compile_user_delivery(&c->rec, u);
	if (compile_add(c, C_USERS, key, buf_data(&c->rec),
	    buf_len(&c->rec)) < 0)
		goto out;
	/* No secret of a user who may not log in: the auth daemon cannot
	 * let one through even if it forgot to look at users.cdb. */
	if (!u->disabled && !dom_off && u->hash[0] == '$' &&
	    compile_add_str(c, C_PASSWD, key, u->hash) < 0)
		goto out;
	if (cram && !u->disabled && !dom_off && u->cram != NULL &&
	    compile_add_str(c, C_CRAM, key, u->cram) < 0)
		goto out;
	rc = 0;
out:
	free(key);
	return rc;
}

static int
compile_alias(struct compile *c, const struct tdomain *d,
    const struct talias *a)
{
	char *key = xasprintf("%s@%s", a->key, d->name);
	int rc;

	buf_reset(&c->rec);
	for (size_t i = 0; i < a->nt; i++)
		buf_printf(&c->rec, "%s\n", a->t[i].addr);
	rc = compile_add(c, C_ALIASES, key, buf_data(&c->rec),
	    buf_len(&c->rec));
	free(key);
	return rc;
}

static int
compile_records(struct compile *c)
{
	const struct tree *t = c->t;
	char serial[32];

	for (size_t i = 0; i < t->ndoms; i++) {
		const struct tdomain *d = &t->doms[i];
		bool cram = confset_bool(d->conf, "auth_cram_md5");
		bool off = confset_bool(d->conf, "disabled");

		if (compile_domain(c, d) < 0)
			return -1;
		for (size_t k = 0; k < d->nusers; k++)
			if (compile_user(c, d, &d->users[k], cram, off) < 0)
				return -1;
		for (size_t k = 0; k < d->naliases; k++)
			if (compile_alias(c, d, &d->aliases[k]) < 0)
				return -1;
	}
	snprintf(serial, sizeof(serial), "%lld", (long long)time(NULL));
	if (compile_add(c, C_DOMAINS, ACCT_SERIAL_KEY, serial,
	    strlen(serial)) < 0)
		return -1;
	if (t->admin_name != NULL) {
		char *key = xasprintf("%s%s", ACCT_ADMIN_PREFIX, t->admin_name);
		int r = compile_add_str(c, C_PASSWD, key, t->admin_hash);

		free(key);
		if (r < 0)
			return -1;
	}
	return 0;
}

static char *
compile_path(const struct compile *c, int m, const char *suffix)
{
	return xasprintf("%s/%s%s", c->dir, compile_maps[m].file, suffix);
}

/* mkdir -p for the maps directory (state_dir may not exist yet). */
static int
compile_mkdirs(const char *dir, char **error_r)
{
	char *p = xstrdup(dir);

	for (char *s = p + 1; ; s++) {
		bool end = *s == '\0';

		if (*s != '/' && !end)
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			*error_r = xasprintf("cannot create %s: %s", p,
			    strerror(errno));
			free(p);
			return -1;
		}
		if (end)
			break;
		*s = '/';
	}
	free(p);
	return 0;
}

/* Build every map into "<map>.new". */
static int
compile_stage(struct compile *c)
{
	const char *err;

	for (int m = 0; m < C_N; m++) {
		char *path = compile_path(c, m, ".new");

		c->w[m] = map_writer_new(path, &err);
		free(path);
		if (c->w[m] == NULL) {
			c->error = xstrdup(err);
			return -1;
		}
	}
	if (compile_records(c) < 0)
		return -1;
	for (int m = 0; m < C_N; m++)
		if (map_writer_commit(&c->w[m], &err) < 0) {
			c->error = xstrdup(err);
			return -1;
		}
	return 0;
}

/* Mode and owner of the staged maps; the secret ones go to auth_user. */
static int
compile_protect(struct compile *c, const struct passwd *pw)
{
	for (int m = 0; m < C_N; m++) {
		char *path = compile_path(c, m, ".new");
		bool secret = compile_maps[m].secret;
		int r = chmod(path, secret ? 0600 : 0644);

		if (r == 0 && secret && pw != NULL)
			r = chown(path, pw->pw_uid, pw->pw_gid);
		if (r < 0)
			c->error = xasprintf("cannot set the mode or owner of "
			    "%s: %s", path, strerror(errno));
		free(path);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int
compile_install(struct compile *c)
{
	for (int m = 0; m < C_N; m++) {
		char *from = compile_path(c, m, ".new");
		char *to = compile_path(c, m, "");
		int r = rename(from, to);

		if (r < 0)
			c->error = xasprintf("cannot rename %s to %s: %s", from,
			    to, strerror(errno));
		free(from);
		free(to);
		if (r < 0)
			return -1;
	}
	return 0;
}

static int
compile_sync_dir(struct compile *c)
{
	int fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r;

	r = fd < 0 ? -1 : fsync(fd);
	if (r < 0)
		c->error = xasprintf("maps are in place, but %s cannot be "
		    "synced: %s", c->dir, strerror(errno));
	if (fd >= 0)
		close(fd);
	return r;
}

static void
compile_cleanup(struct compile *c)
{
	for (int m = 0; m < C_N; m++) {
		char *path = compile_path(c, m, ".new");

		map_writer_abort(&c->w[m]);
		unlink(path);
		free(path);
	}
}

int
tree_compile(const struct tree *t, const char *maps_dir, char **error_r)
{
	struct compile c = { .t = t, .dir = maps_dir };
	struct passwd *pw = NULL;
	int rc = -1;

	if (geteuid() == 0 && (pw = getpwnam(conf_str("auth_user"))) == NULL) {
		*error_r = xasprintf("auth_user '%s' (tern.conf): no such "
		    "user; create it or set auth_user", conf_str("auth_user"));
		return -1;
	}
	if (compile_mkdirs(maps_dir, error_r) < 0)
		return -1;
	buf_init(&c.rec, 1024, 0);
	if (compile_stage(&c) == 0 && compile_protect(&c, pw) == 0 &&
	    compile_install(&c) == 0 && compile_sync_dir(&c) == 0)
		rc = 0;
	if (rc < 0) {
		compile_cleanup(&c);
		*error_r = c.error;
	}
	buf_release(&c.rec);
	return rc;
}
