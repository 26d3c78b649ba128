/*
 * tree_load - read the account tree (see tree.h) into memory.  Each file
 * is read once, line by line; duplicates are found with hash sets, so
 * the work grows linearly with the number of users.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "conf.h"
#include "confset.h"
#include "domain_keys.h"
#include "tree.h"
#include "xalloc.h"

/* Keys that name one domain's own things: never a default. */
static const char *const tree_own_keys[] = {
	"folder_path", "list_address", "domain_aliases", "catchall", NULL,
};

bool
tree_own_key(const char *key)
{
	for (int i = 0; tree_own_keys[i] != NULL; i++)
		if (strcmp(tree_own_keys[i], key) == 0)
			return true;
	return false;
}

int
read_whole(const char *path, char **text_r, size_t *len_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0, size = 4096;
	char *text;
	ssize_t n;

	if (fd < 0)
		return -1;
	text = xmalloc(size);
	for (;;) {
		if (len + 1 == size) {
			size *= 2;
			text = xrealloc(text, size);
		}
		n = read(fd, text + len, size - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	if (n < 0) {
		int saved = errno;

		free(text);
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	text[len] = '\0';
	*text_r = text;
	*len_r = len;
	return 0;
}

char *
tree_fold(const char *local)
{
	char *r = xstrdup(local);

	for (char *p = r; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return r;
}

/* Read path into *text_r; a missing file is empty.  -1 after an error. */
static int
tree_read(struct tree *t, const char *path, char **text_r, size_t *len_r)
{
	if (read_whole(path, text_r, len_r) == 0)
		return 0;
	*text_r = NULL;
	*len_r = 0;
	if (errno == ENOENT)
		return 0;
	errs_add(&t->errs, path, 0, "cannot read: %s", strerror(errno));
	return -1;
}

static void
tree_add_user(struct tdomain *d, struct tuser *u)
{
	if (d->nusers == d->ucap) {
		d->ucap = d->ucap ? d->ucap * 2 : 64;
		d->users = xrealloc(d->users, d->ucap * sizeof(*d->users));
	}
	d->users[d->nusers++] = *u;
}

static void
tree_load_users(struct tree *t, struct tdomain *d)
{
	char *text, *err;
	const char *s, *end;
	size_t len;
	int line = 0;

	if (tree_read(t, d->users_path, &text, &len) < 0 || text == NULL)
		return;
	for (s = text, end = text + len; s < end; ) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl != NULL ? nl : end;
		size_t n = (size_t)(eol - s);
		struct tuser u;
		int r;

		line++;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		r = users_parse_line(s, n, &u, &err);
		if (r < 0) {
			errs_add(&t->errs, d->users_path, line, "%s", err);
			free(err);
		} else if (r > 0) {
			u.line = line;
			tree_add_user(d, &u);
		}
		s = eol + 1;
	}
	free(text);
}

static void
tree_load_aliases(struct tree *t, struct tdomain *d)
{
	char *text;
	size_t len;

	if (tree_read(t, d->aliases_path, &text, &len) < 0 || text == NULL)
		return;
	aliases_parse(d, text, len, &t->errs);
	free(text);
}

/* Users and aliases by folded name; a second one is an error. */
static void
tree_index(struct tree *t, struct tdomain *d)
{
	for (size_t i = 0; i < d->nusers; i++) {
		struct tuser *u = &d->users[i], *o;

		o = hset_put(&d->uidx, u->key, u);
		if (o != NULL)
			errs_add(&t->errs, d->users_path, u->line,
			    "duplicate user %s (first at line %d)", u->local,
			    o->line);
	}
	for (size_t i = 0; i < d->naliases; i++) {
		struct talias *a = &d->aliases[i], *o;

		o = hset_put(&d->aidx, a->key, a);
		if (o != NULL)
			errs_add(&t->errs, d->aliases_path, a->line,
			    "duplicate alias %s (first at line %d)", a->local,
			    o->line);
	}
}

static void
tree_load_domain(struct tree *t, struct tdomain *d)
{
	char *err = NULL;

	d->dir = xasprintf("%s/domains/%s", t->confdir, d->name);
	d->conf_path = xasprintf("%s/domain.conf", d->dir);
	d->users_path = xasprintf("%s/users", d->dir);
	d->aliases_path = xasprintf("%s/aliases", d->dir);
	d->conf = confset_new(domain_table, domain_table_len);
	if (confset_load(d->conf, d->conf_path, NULL, false, &err) < 0) {
		errs_take(&t->errs, err);
		confset_free(&d->conf);
	}
	tree_load_users(t, d);
	tree_load_aliases(t, d);
	tree_index(t, d);
	t->nusers += d->nusers;
	t->naliases += d->naliases;
}

/* A directory entry under domains/: its name must be a normalised
 * domain, and it must be a directory. */
static bool
tree_domain_name_ok(struct tree *t, const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name), *norm = NULL;
	const char *why;
	struct stat st;
	bool ok = false;

	if (stat(path, &st) < 0)
		errs_add(&t->errs, path, 0, "cannot stat: %s", strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		errs_add(&t->errs, path, 0, "not a directory (domains/ holds "
		    "one directory per domain)");
	else if (addr_domain_normalise(name, strlen(name), &norm, &why) < 0)
		errs_add(&t->errs, path, 0, "not a domain name: %s", why);
	else if (strcmp(norm, name) != 0)
		errs_add(&t->errs, path, 0, "directory name must be the "
		    "normalised domain name '%s'", norm);
	else if (strchr(name, '.') == NULL)
		errs_add(&t->errs, path, 0, "a hosted domain needs at least "
		    "two labels");
	else
		ok = true;
	free(norm);
	free(path);
	return ok;
}

static int
tree_cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names of the domain directories; *n_r gets the count. */
static char **
tree_list_domains(struct tree *t, size_t *n_r)
{
	char *dir = xasprintf("%s/domains", t->confdir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *dp = opendir(dir);

	if (dp == NULL && errno != ENOENT)
		errs_add(&t->errs, dir, 0, "cannot read: %s", strerror(errno));
	while (dp != NULL && (de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;       /* ".", "..", editors' temp files */
		if (!tree_domain_name_ok(t, dir, de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	if (dp != NULL)
		closedir(dp);
	free(dir);
	if (n > 0)
		qsort(names, n, sizeof(*names), tree_cmp_name);
	*n_r = n;
	return names;
}

static void
tree_load_defaults(struct tree *t)
{
	char *err = NULL;

	t->defaults_path = xasprintf("%s/defaults/domain.conf", t->confdir);
	t->defaults = confset_new(domain_table, domain_table_len);
	if (confset_load(t->defaults, t->defaults_path, NULL, true,
	    &err) < 0) {
		errs_take(&t->errs, err);
		return;
	}
	for (int i = 0; tree_own_keys[i] != NULL; i++)
		if (confset_is_set(t->defaults, tree_own_keys[i]))
			errs_add(&t->errs, t->defaults_path,
			    confset_set_line(t->defaults, tree_own_keys[i]),
			    "%s belongs to one domain and cannot be a default",
			    tree_own_keys[i]);
}

/* admin.passwd: one "NAME HASH" line, NAME = admin_user. */
static void
tree_load_admin(struct tree *t)
{
	char *path = xasprintf("%s/admin.passwd", t->confdir), *text;
	const char *s, *end, *why;
	size_t len;
	int line = 0;

	if (tree_read(t, path, &text, &len) < 0 || text == NULL)
		goto out;
	for (s = text, end = text + len; s < end; ) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *eol = nl != NULL ? nl : end;
		char name[256], hash[512], extra[2];
		char *l = xstrndup(s, (size_t)(eol - s));
		int n;

		line++;
		s = eol + 1;
		n = sscanf(l, "%255s %511s %1s", name, hash, extra);
		free(l);
		if (n <= 0 || name[0] == '#')
			continue;
		if (n != 2)
			errs_add(&t->errs, path, line, "expected 'NAME HASH'");
		else if (t->admin_name != NULL)
			errs_add(&t->errs, path, line, "only one administrator "
			    "line is allowed");
		else if (strcmp(name, conf_str("admin_user")) != 0)
			errs_add(&t->errs, path, line, "name '%s' is not "
			    "admin_user '%s' of tern.conf", name,
			    conf_str("admin_user"));
		else if (users_check_hash(hash, &why) < 0)
			errs_add(&t->errs, path, line, "%s", why);
		else {
			t->admin_name = xstrdup(name);
			t->admin_hash = xstrdup(hash);
		}
	}
	free(text);
out:
	free(path);
}

size_t
tree_load(struct tree *t, const char *confdir, const char *only)
{
	char **names;
	size_t n;

	memset(t, 0, sizeof(*t));
	t->confdir = xstrdup(confdir);
	tree_load_defaults(t);
	tree_load_admin(t);
	names = tree_list_domains(t, &n);
	t->doms = xcalloc(n ? n : 1, sizeof(*t->doms));
	for (size_t i = 0; i < n; i++) {
		struct tdomain *d;

		if (only != NULL && strcmp(only, names[i]) != 0) {
			free(names[i]);
			continue;
		}
		d = &t->doms[t->ndoms++];
		d->name = names[i];
		tree_load_domain(t, d);
	}
	free(names);
	/* Pointers into doms are stable from here on. */
	for (size_t i = 0; i < t->ndoms; i++)
		hset_put(&t->didx, t->doms[i].name, &t->doms[i]);
	return t->errs.total;
}

static void
tree_domain_release(struct tdomain *d)
{
	for (size_t i = 0; i < d->nusers; i++)
		tuser_release(&d->users[i]);
	for (size_t i = 0; i < d->naliases; i++) {
		struct talias *a = &d->aliases[i];

		for (size_t k = 0; k < a->nt; k++)
			free(a->t[k].addr);
		free(a->t);
		free(a->local);
		free(a->key);
	}
	for (size_t i = 0; i < d->ndalias; i++)
		free(d->dalias[i]);
	free(d->dalias);
	free(d->users);
	free(d->aliases);
	hset_release(&d->uidx);
	hset_release(&d->aidx);
	confset_free(&d->conf);
	free(d->name);
	free(d->dir);
	free(d->conf_path);
	free(d->users_path);
	free(d->aliases_path);
	free(d->catchall);
	free(d->folder);
}

void
tree_release(struct tree *t)
{
	for (size_t i = 0; i < t->ndoms; i++)
		tree_domain_release(&t->doms[i]);
	free(t->doms);
	hset_release(&t->didx);
	hset_release(&t->daidx);
	confset_free(&t->defaults);
	free(t->defaults_path);
	free(t->admin_name);
	free(t->admin_hash);
	free(t->confdir);
	errs_release(&t->errs);
	memset(t, 0, sizeof(*t));
}

struct tdomain *
tree_domain(const struct tree *t, const char *name)
{
	return hset_get(&t->didx, name);
}

struct tuser *
tree_user(const struct tdomain *d, const char *local)
{
	char *k = tree_fold(local);
	struct tuser *u = hset_get(&d->uidx, k);

	free(k);
	return u;
}

struct talias *
tree_alias(const struct tdomain *d, const char *local)
{
	char *k = tree_fold(local);
	struct talias *a = hset_get(&d->aidx, k);

	free(k);
	return a;
}
