/*
 * tree_check - what no single file can tell: domain aliases (not hosted,
 * not claimed twice, within max_domain_aliases), the user and alias
 * limits, alias names that are also users, alias targets and catch-alls
 * that point into a local domain but at nobody, and alias loops through
 * any number of hops and domains.  Linear in users + alias targets.
 */
#include <arpa/inet.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "conf.h"
#include "confset.h"
#include "routing.h"
#include "tree.h"
#include "xalloc.h"

/* Loop reports show at most this many hops. */
#define LOOP_SHOW_MAX 20

/* Where a key's value came from, for messages: "line 4" or "default". */
static char *
check_where(const struct tdomain *d, const char *key)
{
	int line = confset_set_line(d->conf, key);

	return line > 0 ? xasprintf("domain.conf line %d", line) :
	    xstrdup("the default");
}

/* The hosted domain whose mailboxes domain names (itself, or the
 * primary of a domain alias), or NULL when domain is not ours. */
static struct tdomain *
check_local(const struct tree *t, const char *domain)
{
	struct tdomain *d = tree_domain(t, domain);

	return d != NULL ? d : hset_get(&t->daidx, domain);
}

static void
check_one_dalias(struct tree *t, struct tdomain *d, const char *item,
    int line)
{
	struct tdomain *other;
	const char *why;
	char *norm;

	if (addr_domain_normalise(item, strlen(item), &norm, &why) < 0) {
		errs_add(&t->errs, d->conf_path, line, "domain_aliases: '%s': "
		    "%s", item, why);
		return;
	}
	if (strcmp(norm, d->name) == 0)
		errs_add(&t->errs, d->conf_path, line, "domain_aliases: %s is "
		    "the domain itself", norm);
	else if (tree_domain(t, norm) != NULL)
		errs_add(&t->errs, d->conf_path, line, "domain_aliases: %s is "
		    "a hosted domain (domains/%s)", norm, norm);
	else if ((other = hset_put(&t->daidx, norm, d)) != NULL)
		errs_add(&t->errs, d->conf_path, line, other == d ?
		    "domain_aliases: %s is listed twice" : "domain_aliases: "
		    "%s is already a domain alias of %s", norm, other->name);
	else {
		d->dalias[d->ndalias++] = norm;
		return;
	}
	free(norm);
}

static void
check_dalias(struct tree *t, struct tdomain *d)
{
	size_t n;
	const char *const *list = confset_list(d->conf, "domain_aliases", &n);
	int line = confset_set_line(d->conf, "domain_aliases");
	long long max = confset_int(d->conf, "max_domain_aliases");

	d->dalias = xcalloc(n ? n : 1, sizeof(*d->dalias));
	for (size_t i = 0; i < n; i++)
		check_one_dalias(t, d, list[i], line);
	if (n > 0 && !confset_bool(d->conf, "enable_domain_aliases"))
		errs_add(&t->errs, d->conf_path, line, "domain_aliases: not "
		    "allowed: enable_domain_aliases = no");
	if (max > 0 && (long long)n > max) {
		char *w = check_where(d, "max_domain_aliases");

		errs_add(&t->errs, d->conf_path, line, "domain_aliases: %zu "
		    "domain aliases, over the limit max_domain_aliases = %lld "
		    "(%s)", n, max, w);
		free(w);
	}
}

static void
check_limits(struct tree *t, struct tdomain *d)
{
	long long mu = confset_int(d->conf, "max_users");
	long long ma = confset_int(d->conf, "max_user_aliases");
	char *w;

	if (mu > 0 && (long long)d->nusers > mu) {
		w = check_where(d, "max_users");
		errs_add(&t->errs, d->users_path, d->users[mu].line, "user %s: "
		    "%zu users, over the limit max_users = %lld (%s)",
		    d->users[mu].local, d->nusers, mu, w);
		free(w);
	}
	if (ma > 0 && (long long)d->naliases > ma) {
		w = check_where(d, "max_user_aliases");
		errs_add(&t->errs, d->aliases_path, d->aliases[ma].line,
		    "alias %s: %zu aliases, over the limit max_user_aliases = "
		    "%lld (%s)", d->aliases[ma].local, d->naliases, ma, w);
		free(w);
	}
}

/*
 * Does addr (local@domain, '@' at index at) reach somebody?  NULL when
 * it does or is not ours; else a malloc'd reason.  *alias_r gets the
 * alias it names, if it names one.
 */
static char *
check_resolve(const struct tree *t, const char *addr, size_t at,
    struct talias **alias_r, struct tdomain **dom_r)
{
	const char *domain = addr + at + 1;
	struct tdomain *d = check_local(t, domain);
	char *local, *key;
	void *found;

	*alias_r = NULL;
	if (d == NULL) {
		/* Not ours: fine if it could be routed at all. */
		if (domain[0] != '[' && strchr(domain, '.') == NULL)
			return xasprintf("%s is not a hosted domain and has "
			    "a single label", domain);
		return NULL;
	}
	local = xstrndup(addr, at);
	key = tree_fold(local);
	found = hset_get(&d->uidx, key);
	if (found == NULL && (*alias_r = hset_get(&d->aidx, key)) != NULL) {
		found = *alias_r;
		*dom_r = d;
	}
	free(key);
	free(local);
	return found != NULL ? NULL : xstrdup("no such user or alias");
}

static void
check_targets(struct tree *t, struct tdomain *d)
{
	for (size_t i = 0; i < d->naliases; i++) {
		struct talias *a = &d->aliases[i], *b;
		struct tdomain *bd;

		if (hset_get(&d->uidx, a->key) != NULL)
			errs_add(&t->errs, d->aliases_path, a->line, "alias %s: "
			    "there is a user of that name (%s)", a->local,
			    d->users_path);
		for (size_t k = 0; k < a->nt; k++) {
			char *why = check_resolve(t, a->t[k].addr, a->t[k].at,
			    &b, &bd);

			if (why != NULL)
				errs_add(&t->errs, d->aliases_path,
				    a->t[k].line, "alias %s: target %s: %s",
				    a->local, a->t[k].addr, why);
			free(why);
		}
	}
}

static void
check_catchall(struct tree *t, struct tdomain *d)
{
	const char *v = confset_str(d->conf, "catchall"), *why;
	int line = confset_set_line(d->conf, "catchall");
	struct tdomain *bd;
	struct talias *b;
	char *addr, *err;

	if (*v == '\0')
		return;
	if (!confset_bool(d->conf, "enable_catchalls")) {
		errs_add(&t->errs, d->conf_path, line, "catchall: not allowed: "
		    "enable_catchalls = no");
		return;
	}
	if (aliases_target(v, strlen(v), d->name, &addr, &why) < 0) {
		errs_add(&t->errs, d->conf_path, line, "catchall: '%.80s': %s",
		    v, why);
		return;
	}
	err = check_resolve(t, addr, (size_t)(strrchr(addr, '@') - addr), &b,
	    &bd);
	if (err != NULL) {
		errs_add(&t->errs, d->conf_path, line, "catchall: %s: %s", addr,
		    err);
		free(err);
		free(addr);
		return;
	}
	d->catchall = addr;
}

/* domain_admin, listen_ip, list_address: values that must make sense. */
static void
check_values(struct tree *t, struct tdomain *d)
{
	const char *admin = confset_str(d->conf, "domain_admin");
	const char *ip = confset_str(d->conf, "listen_ip");
	const char *list = confset_str(d->conf, "list_address"), *why;
	const char *folder = confset_str(d->conf, "folder_path");
	unsigned char sa[16];
	char *addr;

	if (*admin && tree_user(d, admin) == NULL)
		errs_add(&t->errs, d->conf_path, confset_set_line(d->conf,
		    "domain_admin"), "domain_admin: %s: no such user in %s",
		    admin, d->name);
	if (*ip && inet_pton(AF_INET, ip, sa) != 1 &&
	    inet_pton(AF_INET6, ip, sa) != 1)
		errs_add(&t->errs, d->conf_path, confset_set_line(d->conf,
		    "listen_ip"), "listen_ip: '%.80s' is not an IP address",
		    ip);
	if (*list) {
		if (aliases_target(list, strlen(list), d->name, &addr,
		    &why) < 0)
			errs_add(&t->errs, d->conf_path, confset_set_line(
			    d->conf, "list_address"), "list_address: '%.80s': "
			    "%s", list, why);
		else
			free(addr);
	}
	d->folder = *folder ? xstrdup(folder) :
	    xasprintf("%s/%s", conf_str("mail_dir"), d->name);
}

/* "a@x -> b@y -> a@x" for the loop closing at b, from the DFS stack. */
struct check_frame {
	struct tdomain *d;
	struct talias *a;
	size_t next;
};

static void
check_loop_report(struct tree *t, struct check_frame *st, size_t top,
    struct talias *b, int line)
{
	struct buf msg;
	size_t from = top, shown = 0;

	while (st[from].a != b)
		from--;
	buf_init(&msg, 128, 0);
	for (size_t i = from; i <= top; i++) {
		if (shown++ == LOOP_SHOW_MAX) {
			buf_append_str(&msg, "... -> ");
			break;
		}
		buf_printf(&msg, "%s@%s -> ", st[i].a->local, st[i].d->name);
	}
	buf_printf(&msg, "%s@%s", b->local, st[from].d->name);
	errs_add(&t->errs, st[top].d->aliases_path, line, "alias %s: alias "
	    "loop: %s", st[top].a->local, buf_str(&msg));
	buf_release(&msg);
}

/* Depth-first from a, without recursion: alias chains may be long. */
static void
check_loops_from(struct tree *t, struct tdomain *d, struct talias *a,
    struct check_frame *st)
{
	size_t top = 0;

	st[0] = (struct check_frame){ d, a, 0 };
	a->mark = 1;
	for (;;) {
		struct check_frame *f = &st[top];
		struct tdomain *bd;
		struct talias *b;
		char *why;

		if (f->next == f->a->nt) {
			f->a->mark = 2;
			if (top-- == 0)
				return;
			continue;
		}
		why = check_resolve(t, f->a->t[f->next].addr,
		    f->a->t[f->next].at, &b, &bd);
		f->next++;
		free(why);
		if (b == NULL || b->mark == 2)
			continue;
		if (b->mark == 1) {
			check_loop_report(t, st, top, b,
			    f->a->t[f->next - 1].line);
			continue;
		}
		b->mark = 1;
		st[++top] = (struct check_frame){ bd, b, 0 };
	}
}

static void
check_loops(struct tree *t)
{
	struct check_frame *st = xcalloc(t->naliases + 1, sizeof(*st));

	for (size_t i = 0; i < t->ndoms; i++)
		for (size_t k = 0; k < t->doms[i].naliases; k++)
			if (t->doms[i].aliases[k].mark == 0)
				check_loops_from(t, &t->doms[i],
				    &t->doms[i].aliases[k], st);
	free(st);
}

/* routing.conf (routing(5)): its own syntax, and no forwarded domain
 * that we host ourselves (mail for it would never reach the mailboxes). */
static void
check_routing(struct tree *t)
{
	char *path = xasprintf("%s/routing.conf", t->confdir);
	char *err = NULL;
	struct routing *r = routing_load(path, &err);

	if (r == NULL) {
		errs_take(&t->errs, err);
		free(path);
		return;
	}
	for (size_t i = 0; i < r->nfw; i++)
		for (size_t j = 0; j < r->fw[i].ndomains; j++)
			if (check_local(t, r->fw[i].domains[j]) != NULL)
				errs_add(&t->errs, path, r->fw[i].line,
				    "[forward]: %s is a local domain",
				    r->fw[i].domains[j]);
	routing_free(&r);
	free(path);
}

void
tree_check(struct tree *t)
{
	for (size_t i = 0; i < t->ndoms; i++)
		if (t->doms[i].conf != NULL)
			check_dalias(t, &t->doms[i]);
	for (size_t i = 0; i < t->ndoms; i++) {
		struct tdomain *d = &t->doms[i];

		check_targets(t, d);
		if (d->conf == NULL)
			continue;
		check_limits(t, d);
		check_catchall(t, d);
		check_values(t, d);
		if (confset_bool(d->conf, "auth_cram_md5"))
			for (size_t k = 0; k < d->nusers; k++)
				if (d->users[k].cram == NULL &&
				    strcmp(d->users[k].hash, "*") != 0)
					t->cram_missing++;
	}
	check_loops(t);
	check_routing(t);
}
