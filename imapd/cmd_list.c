/*
 * cmd_list - LIST and LSUB: RFC 3501's forms, and the extended LIST of
 * RFC 5258 (selection options SUBSCRIBED, REMOTE, RECURSIVEMATCH and
 * RFC 6154's SPECIAL-USE; several patterns; RETURN options SUBSCRIBED,
 * CHILDREN, SPECIAL-USE and RFC 5819's STATUS).
 *
 * One walk serves every form.  The candidates are the existing folders,
 * the parents they imply, and (when subscriptions select) the subscribed
 * names with their parents, sorted so a name's children follow it in one
 * run.  A candidate is listed when it matches a pattern and either meets
 * the selection criteria or, with RECURSIVEMATCH, has a descendant that
 * meets them without matching a pattern itself (CHILDINFO).
 */
#include <stdlib.h>
#include <string.h>

#include "imapd.h"
#include "xalloc.h"

struct list_req {
	bool ext;                 /* RFC 5258 syntax: \NonExistent for ghosts */
	bool sel_subscribed, sel_special, recursive;
	bool ret_subscribed, ret_special;
	const struct imap_arg *status;     /* RETURN (STATUS (items)) */
	const char *ref;
	const char **pats;
	size_t npats;
	char **full;                /* ref + each pattern, made once */
};

struct cand {
	char *name;
	bool exists, subscribed;
};

struct cands {
	struct cand *v;
	size_t n, alloc;
};

/* Byte order: "a" < "a b" < "a.b" < "a0", so a name's children run
 * together after the names that extend it with a byte below '.'. */
static int
cand_cmp(const void *x, const void *y)
{
	return strcmp(((const struct cand *)x)->name,
	    ((const struct cand *)y)->name);
}

static void
cand_add(struct cands *c, const char *name, bool exists, bool subscribed)
{
	if (c->n == c->alloc) {
		c->alloc = c->alloc ? c->alloc * 2 : 32;
		c->v = xrealloc(c->v, c->alloc * sizeof(*c->v));
	}
	c->v[c->n].name = xstrdup(folder_is_inbox(name) ? "INBOX" : name);
	c->v[c->n].exists = exists;
	c->v[c->n].subscribed = subscribed;
	c->n++;
}

/* Sort, then fold duplicates into one entry that keeps both marks. */
static void
cands_sort(struct cands *c)
{
	size_t k = 0;

	qsort(c->v, c->n, sizeof(*c->v), cand_cmp);
	for (size_t i = 0; i < c->n; i++) {
		if (k > 0 && strcmp(c->v[k - 1].name, c->v[i].name) == 0) {
			c->v[k - 1].exists |= c->v[i].exists;
			c->v[k - 1].subscribed |= c->v[i].subscribed;
			free(c->v[i].name);
			continue;
		}
		c->v[k++] = c->v[i];
	}
	c->n = k;
}

static void
cands_free(struct cands *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].name);
	free(c->v);
}

/* Every proper parent of each name so far ("a", "a.b" of "a.b.c"). */
static void
cands_add_parents(struct cands *c)
{
	size_t n = c->n;

	for (size_t i = 0; i < n; i++) {
		const char *name = c->v[i].name;

		for (const char *dot = strchr(name, '.'); dot != NULL;
		    dot = strchr(dot + 1, '.')) {
			if (dot == name)
				continue;
			char *p = xstrndup(name, (size_t)(dot - name));

			cand_add(c, p, false, false);
			free(p);
		}
	}
}

/* The run of entries after i that are its descendants: [*start, *end). */
static void
kids_range(const struct cands *c, size_t i, size_t *start, size_t *end)
{
	const char *name = c->v[i].name;
	size_t l = strlen(name), j = i + 1;

	while (j < c->n && strncmp(c->v[j].name, name, l) == 0 &&
	    c->v[j].name[l] < '.')
		j++;
	*start = j;
	while (j < c->n && strncmp(c->v[j].name, name, l) == 0 &&
	    c->v[j].name[l] == '.')
		j++;
	*end = j;
}

static bool
matches(const struct list_req *r, const char *name)
{
	for (size_t i = 0; i < r->npats; i++)
		if (folder_match(r->full[i], name))
			return true;
	return false;
}

/* The selection criteria (at least one is set when this is asked). */
static bool
meets(const struct list_req *r, const struct cand *c)
{
	if (r->sel_subscribed && !c->subscribed)
		return false;
	if (r->sel_special && !(c->exists && folder_special_use(c->name)))
		return false;
	return true;
}

static void
list_one(struct session *s, const struct list_req *r,
    const struct cands *c, size_t i)
{
	const struct cand *e = &c->v[i];
	bool criteria = r->sel_subscribed || r->sel_special;
	bool kids = false, childinfo = false;
	size_t ks, ke;

	kids_range(c, i, &ks, &ke);
	for (size_t j = ks; j < ke; j++) {
		kids = kids || c->v[j].exists;
		if (r->recursive && meets(r, &c->v[j]) &&
		    !matches(r, c->v[j].name))
			childinfo = true;
	}
	/* without criteria: every folder, and each missing parent of one */
	if (criteria ? !meets(r, e) && !childinfo : !e->exists && !kids)
		return;

	const char *su = e->exists && r->ret_special ?
	    folder_special_use(e->name) : NULL;
	out(s, "* LIST (");
	if (!e->exists)
		out(s, "%s%s", r->ext ? "\\NonExistent" : "\\Noselect",
		    kids ? " \\HasChildren" : "");
	else
		out(s, "%s", kids ? "\\HasChildren" : "\\HasNoChildren");
	if (r->ret_subscribed && e->subscribed)
		out(s, " \\Subscribed");
	if (su != NULL)
		out(s, " %s", su);
	out(s, ") \".\" ");
	out_mailbox(s, e->name);
	if (childinfo)
		out(s, " (\"CHILDINFO\" (%s%s%s))",
		    r->sel_subscribed ? "\"SUBSCRIBED\"" : "",
		    r->sel_subscribed && r->sel_special ? " " : "",
		    r->sel_special ? "\"SPECIAL-USE\"" : "");
	out(s, "\r\n");
	if (r->status != NULL && e->exists) {
		const char *err;
		char *dir = folder_dir(s, e->name, &err);

		/* a folder that vanished or cannot be read gets no STATUS;
		 * RFC 5819 lets the LIST answer stand without it */
		if (dir != NULL)
			(void)status_send(s, e->name, dir, r->status);
		free(dir);
	}
}

static void
list_walk(struct session *s, const struct list_req *r)
{
	struct cands c = { 0 };
	size_t n;
	char **v = folder_names(s, &n);

	for (size_t i = 0; i < n; i++)
		cand_add(&c, v[i], true, false);
	folder_names_free(v, n);
	if (r->sel_subscribed || r->ret_subscribed) {
		v = subs_read(s, &n);
		for (size_t i = 0; i < n; i++)
			cand_add(&c, v[i], false, true);
		folder_names_free(v, n);
	}
	cands_add_parents(&c);
	cands_sort(&c);
	/* INBOX first, as clients show it */
	for (size_t i = 0; i < c.n; i++)
		if (strcmp(c.v[i].name, "INBOX") == 0 && matches(r, "INBOX"))
			list_one(s, r, &c, i);
	for (size_t i = 0; i < c.n; i++)
		if (strcmp(c.v[i].name, "INBOX") != 0 &&
		    matches(r, c.v[i].name))
			list_one(s, r, &c, i);
	cands_free(&c);
}

static bool
opt_is(const struct imap_arg *a, const char *word, bool *flag)
{
	if (!imap_arg_is(a, word))
		return false;
	*flag = true;
	return true;
}

/* RETURN (...): false on anything unknown or malformed. */
static bool
parse_return(struct list_req *r, const struct imap_arg *l)
{
	bool children = false;

	if (l->type != IMAP_ARG_LIST)
		return false;
	for (size_t i = 0; i < l->n; i++) {
		const struct imap_arg *o = &l->list[i];

		if (opt_is(o, "SUBSCRIBED", &r->ret_subscribed) ||
		    opt_is(o, "CHILDREN", &children) ||
		    opt_is(o, "SPECIAL-USE", &r->ret_special))
			continue;
		if (imap_arg_is(o, "STATUS") && i + 1 < l->n &&
		    status_items_ok(&l->list[i + 1])) {
			r->status = &l->list[++i];
			continue;
		}
		return false;
	}
	return true;
}

/* The command's arguments into r; NULL or the reason for a BAD. */
static const char *
parse_list(struct list_req *r, const struct imap_arg *a, size_t n)
{
	size_t i = 0;
	bool remote;

	if (n > 0 && a[0].type == IMAP_ARG_LIST) {
		r->ext = true;
		for (size_t k = 0; k < a[0].n; k++) {
			const struct imap_arg *o = &a[0].list[k];

			if (!opt_is(o, "SUBSCRIBED", &r->sel_subscribed) &&
			    !opt_is(o, "REMOTE", &remote) &&
			    !opt_is(o, "RECURSIVEMATCH", &r->recursive) &&
			    !opt_is(o, "SPECIAL-USE", &r->sel_special))
				return "Unknown LIST selection option";
		}
		i++;
	}
	if (i + 2 > n || (r->ref = folder_arg(&a[i])) == NULL)
		return "LIST reference pattern";
	i++;
	if (a[i].type == IMAP_ARG_LIST) {
		r->ext = true;
		if (a[i].n == 0)
			return "LIST: empty pattern list";
		r->pats = xcalloc(a[i].n, sizeof(*r->pats));
		for (size_t k = 0; k < a[i].n; k++)
			if ((r->pats[r->npats++] = folder_arg(&a[i].list[k])) ==
			    NULL)
				return "LIST reference pattern";
	} else {
		r->pats = xcalloc(1, sizeof(*r->pats));
		if ((r->pats[r->npats++] = folder_arg(&a[i])) == NULL)
			return "LIST reference pattern";
	}
	i++;
	if (i < n) {
		r->ext = true;
		if (i + 2 != n || !imap_arg_is(&a[i], "RETURN") ||
		    !parse_return(r, &a[i + 1]))
			return "LIST: bad RETURN options";
	}
	/* RFC 5258 3: RECURSIVEMATCH only refines another criterion */
	if (r->recursive && !r->sel_subscribed && !r->sel_special)
		return "RECURSIVEMATCH needs another selection option";
	if (r->sel_subscribed)
		r->ret_subscribed = true;
	return NULL;
}

void
cmd_list(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	struct list_req r = { .ret_special = true };
	const char *why;

	(void)uid;
	if ((why = parse_list(&r, a, n)) != NULL) {
		session_bad(s, tag, why);
		free(r.pats);
		return;
	}
	/* LIST "" "": the hierarchy separator and root (RFC 3501 6.3.8) */
	if (r.npats == 1 && *r.pats[0] == '\0')
		out(s, "* LIST (\\Noselect) \".\" \"\"\r\n");
	else {
		r.full = xcalloc(r.npats, sizeof(*r.full));
		for (size_t i = 0; i < r.npats; i++)
			r.full[i] = xasprintf("%s%s", r.ref, r.pats[i]);
		list_walk(s, &r);
		for (size_t i = 0; i < r.npats; i++)
			free(r.full[i]);
		free(r.full);
	}
	free(r.pats);
	tagged(s, tag, "OK LIST completed");
}

/* LSUB: the subscribed names that match, as they were subscribed. */
void
cmd_lsub(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	const char *ref, *pat;

	(void)uid;
	if (n != 2 || (ref = folder_arg(&a[0])) == NULL ||
	    (pat = folder_arg(&a[1])) == NULL) {
		session_bad(s, tag, "LSUB reference pattern");
		return;
	}
	size_t nv;
	char **v = subs_read(s, &nv);
	char *full = xasprintf("%s%s", ref, pat);

	for (size_t i = 0; i < nv && *pat != '\0'; i++) {
		if (!folder_match(full, v[i]))
			continue;
		out(s, "* LSUB () \".\" ");
		out_mailbox(s, v[i]);
		out(s, "\r\n");
	}
	free(full);
	folder_names_free(v, nv);
	tagged(s, tag, "OK LSUB completed");
}
