/* confset - see confset.h */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "cfgfile.h"
#include "confset.h"
#include "confset_value.h"
#include "xalloc.h"

/* confset.lines: set by confset_set(), not by a line of a file. */
#define CONFSET_LINE_CALL	(-1)

/* Every key of the table has a value. */
struct confset {
	const struct conf_key *table;
	size_t n;
	char *dir;			/* resolves relative PATH values */
	struct conf_value *vals;	/* n entries */
	int *lines;			/* line that set a key, 0 = not set */
};

/* Replace the value of k in set; on error set is unchanged. */
static int
confset_store(struct confset *set, const struct conf_key *k, const char *s,
    char **error_r)
{
	struct conf_value v = { 0 };
	struct conf_value *slot = &set->vals[k - set->table];

	if (confset_value_parse(k, s, set->dir, &v, error_r) < 0) {
		confset_value_free(&v);
		return -1;
	}
	confset_value_free(slot);
	*slot = v;
	return 0;
}

/* A set with no values yet; takes dir. */
static struct confset *
confset_alloc(const struct conf_key *table, size_t n, char *dir)
{
	struct confset *set = xcalloc(1, sizeof(*set));

	ASSERT(table != NULL && n > 0);
	set->table = table;
	set->n = n;
	set->dir = dir;
	set->vals = xcalloc(n, sizeof(*set->vals));
	set->lines = xcalloc(n, sizeof(*set->lines));
	return set;
}

/* Every key at its table default, paths resolved against set->dir. */
static void
confset_fill_defaults(struct confset *set)
{
	char *err;
	size_t i;

	for (i = 0; i < set->n; i++)
		if (confset_store(set, &set->table[i], set->table[i].def,
		    &err) < 0)
			BUG("key table: bad default: %s", err);
}

struct confset *
confset_new(const struct conf_key *table, size_t n)
{
	struct confset *set = confset_alloc(table, n, xstrdup("."));

	confset_fill_defaults(set);
	return set;
}

/* Free what set holds, not set itself. */
static void
confset_clear(struct confset *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		confset_value_free(&set->vals[i]);
	xfree(&set->vals);
	xfree(&set->lines);
	xfree(&set->dir);
}

void
confset_free(struct confset **sp)
{
	if (*sp == NULL)
		return;
	confset_clear(*sp);
	xfree(sp);
}

const struct conf_key *
confset_key(const struct confset *set, const char *name)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (strcmp(set->table[i].name, name) == 0)
			return &set->table[i];
	return NULL;
}

/* Edit distance, for "did you mean"; long names are not compared. */
#define CONFSET_SUGGEST_LEN 64

static size_t
confset_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j,
	    prev[CONFSET_SUGGEST_LEN + 1], cur[CONFSET_SUGGEST_LEN + 1], best;

	if (la > CONFSET_SUGGEST_LEN || lb > CONFSET_SUGGEST_LEN)
		return (size_t)-1;
	for (j = 0; j <= lb; j++)
		prev[j] = j;
	for (i = 1; i <= la; i++) {
		cur[0] = i;
		for (j = 1; j <= lb; j++) {
			best = prev[j - 1] + (a[i - 1] != b[j - 1]);
			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			cur[j] = best;
		}
		memcpy(prev, cur, sizeof(prev));
	}
	return prev[lb];
}

static char *
confset_unknown(const struct confset *set, const char *name)
{
	const char *near = NULL;
	size_t i, d, best_d = 3;	/* up to two typos */

	for (i = 0; i < set->n; i++) {
		d = confset_distance(name, set->table[i].name);
		if (d < best_d) {
			best_d = d;
			near = set->table[i].name;
		}
	}
	if (near != NULL)
		return xasprintf("unknown key '%s' (did you mean '%s'?)",
		    name, near);
	return xasprintf("unknown key '%s'", name);
}

static int
confset_load_line(const struct cfg_line *l, void *arg, char **error_r)
{
	struct confset *set = arg;
	const struct conf_key *k;
	size_t i;

	ASSERT(l->key != NULL);		/* no sections in these files */
	k = confset_key(set, l->key);
	if (k == NULL) {
		*error_r = confset_unknown(set, l->key);
		return -1;
	}
	i = (size_t)(k - set->table);
	if (set->lines[i] != 0) {
		*error_r = xasprintf("duplicate key '%s' (first set on line "
		    "%d)", k->name, set->lines[i]);
		return -1;
	}
	if (confset_store(set, k, l->value, error_r) < 0)
		return -1;
	set->lines[i] = l->line;
	return 0;
}

/*
 * The absolute directory holding path into *dir_r: returns 0, or 1 when
 * missing_ok and the directory does not exist (then *dir_r is "." and
 * there is no file to read), or -1 with an error.
 */
static int
confset_find_dir(const char *path, bool missing_ok, char **dir_r,
    char **error_r)
{
	char *copy = xstrdup(path);
	int rc = 0;

	*dir_r = realpath(dirname(copy), NULL);
	if (*dir_r == NULL && missing_ok && errno == ENOENT) {
		*dir_r = xstrdup(".");
		rc = 1;
	} else if (*dir_r == NULL) {
		*error_r = xasprintf("%s: cannot find its directory: %s",
		    path, strerror(errno));
		rc = -1;
	}
	free(copy);
	return rc;
}

int
confset_load(struct confset *set, const char *path,
    const struct confset *base, bool missing_ok, char **error_r)
{
	struct confset *next;
	char *dir;
	size_t i;
	int nodir;

	*error_r = NULL;
	ASSERT(base == NULL || (base->table == set->table &&
	    base->n == set->n));
	nodir = confset_find_dir(path, missing_ok, &dir, error_r);
	if (nodir < 0)
		return -1;
	/* Build the whole new set aside; the old values stay in force
	 * until the new ones are known to be good.  (base may be set.) */
	next = confset_alloc(set->table, set->n, dir);
	if (base == NULL)
		confset_fill_defaults(next);
	else
		for (i = 0; i < set->n; i++)
			confset_value_copy(&next->vals[i], &base->vals[i]);
	if (nodir == 0 && cfgfile_parse(path, false, missing_ok,
	    confset_load_line, next, error_r) < 0) {
		confset_free(&next);
		return -1;
	}
	confset_clear(set);
	*set = *next;
	free(next);
	return 0;
}

int
confset_set(struct confset *set, const char *key, const char *value,
    char **error_r)
{
	const struct conf_key *k = confset_key(set, key);

	*error_r = NULL;
	if (k == NULL) {
		*error_r = confset_unknown(set, key);
		return -1;
	}
	if (confset_store(set, k, value, error_r) < 0)
		return -1;
	set->lines[k - set->table] = CONFSET_LINE_CALL;
	return 0;
}

/* Index of key in the table; BUG() when there is none. */
static size_t
confset_index(const struct confset *set, const char *key)
{
	const struct conf_key *k = confset_key(set, key);

	if (k == NULL)
		BUG("unknown config key '%s'", key);
	return (size_t)(k - set->table);
}

bool
confset_is_set(const struct confset *set, const char *key)
{
	return set->lines[confset_index(set, key)] != 0;
}

int
confset_set_line(const struct confset *set, const char *key)
{
	int line = set->lines[confset_index(set, key)];

	return line > 0 ? line : 0;
}

#define CONFSET_T(t) (1u << (t))

static const struct conf_value *
confset_get(const struct confset *set, const char *key, unsigned types)
{
	size_t i = confset_index(set, key);

	if ((types & CONFSET_T(set->table[i].type)) == 0)
		BUG("config key '%s' read as the wrong type", key);
	return &set->vals[i];
}

const char *
confset_str(const struct confset *set, const char *key)
{
	return confset_get(set, key, CONFSET_T(CONF_STR) |
	    CONFSET_T(CONF_PATH) | CONFSET_T(CONF_ENUM))->str;
}

long long
confset_int(const struct confset *set, const char *key)
{
	return confset_get(set, key, CONFSET_T(CONF_INT))->num;
}

unsigned long long
confset_size(const struct confset *set, const char *key)
{
	return confset_get(set, key, CONFSET_T(CONF_SIZE))->size;
}

long long
confset_time_ms(const struct confset *set, const char *key)
{
	return confset_get(set, key, CONFSET_T(CONF_TIME))->num;
}

bool
confset_bool(const struct confset *set, const char *key)
{
	return confset_get(set, key, CONFSET_T(CONF_BOOL))->num != 0;
}

const char *const *
confset_list(const struct confset *set, const char *key, size_t *n_r)
{
	const struct conf_value *v = confset_get(set, key,
	    CONFSET_T(CONF_LIST));

	if (n_r != NULL)
		*n_r = v->list_len;
	return (const char *const *)v->list;
}

const char *
confset_text(const struct confset *set, const char *key)
{
	return confset_get(set, key, ~0u)->text;
}

char *
confset_value_canon(const struct confset *set, const char *key)
{
	size_t i = confset_index(set, key);

	return confset_value_format(set->table[i].type, &set->vals[i]);
}

const char *
confset_dir(const struct confset *set)
{
	return set->dir;
}
