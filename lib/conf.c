/* conf - see conf.h */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "cfgfile.h"
#include "conf.h"
#include "xalloc.h"

/* Longest piece of a bad value echoed back in an error message. */
#define CONF_ECHO_MAX	80

struct conf_value {
	char *text;			/* as written in the file */
	char *str;			/* STR, ENUM (canonical), PATH (resolved) */
	long long num;			/* INT; TIME in ms; BOOL as 0/1 */
	unsigned long long size;	/* SIZE in bytes */
	char **list;			/* LIST: NULL-terminated */
	size_t list_len;
};

/* One complete configuration: every key has a value. */
struct conf_state {
	char *dir;			/* resolves relative PATH values */
	struct conf_value *vals;	/* conf_table_len entries */
	int *lines;			/* while loading: line that set a key */
};

static struct conf_state *conf_cur;

static void
conf_value_free(struct conf_value *v)
{
	xfree(&v->text);
	xfree(&v->str);
	conf_list_free(&v->list);
	v->list_len = 0;
}

/* Parse s as a number of the given type into v->num or v->size. */
static int
conf_typed(enum conf_type type, const char *s, struct conf_value *v,
    const char **error_r)
{
	switch (type) {
	case CONF_INT:
		return conf_parse_int(s, &v->num, error_r);
	case CONF_SIZE:
		return conf_parse_size(s, &v->size, error_r);
	case CONF_TIME:
		return conf_parse_time_ms(s, &v->num, error_r);
	default:
		BUG("conf_typed on a non-number type %d", (int)type);
	}
}

/* <0, 0, >0 as v is below, at or above the bound written in the table. */
static int
conf_cmp_bound(const struct conf_key *k, const struct conf_value *v,
    const char *bound)
{
	struct conf_value b = { 0 };
	const char *err;

	if (conf_typed(k->type, bound, &b, &err) < 0)
		BUG("conf_table: %s: bad bound '%s': %s", k->name, bound, err);
	if (k->type == CONF_SIZE)
		return (v->size > b.size) - (v->size < b.size);
	return (v->num > b.num) - (v->num < b.num);
}

static int
conf_parse_number(const struct conf_key *k, const char *s,
    struct conf_value *v, char **error_r)
{
	const char *err;

	if (conf_typed(k->type, s, v, &err) < 0) {
		*error_r = xasprintf("%s: invalid value '%.*s': %s", k->name,
		    CONF_ECHO_MAX, s, err);
		return -1;
	}
	if (k->min != NULL && conf_cmp_bound(k, v, k->min) < 0) {
		*error_r = xasprintf("%s: %.*s is below the minimum %s",
		    k->name, CONF_ECHO_MAX, s, k->min);
		return -1;
	}
	if (k->max != NULL && conf_cmp_bound(k, v, k->max) > 0) {
		*error_r = xasprintf("%s: %.*s is above the maximum %s",
		    k->name, CONF_ECHO_MAX, s, k->max);
		return -1;
	}
	return 0;
}

/*
 * A relative path is taken from the directory of tern.conf, so an
 * instance tree can be moved or copied as a whole.  Empty stays empty:
 * for the optional files (TLS keys ...) it means "not set".
 */
static char *
conf_resolve(const char *dir, const char *s)
{
	if (*s == '\0' || *s == '/' || strcmp(dir, ".") == 0)
		return xstrdup(s);
	/* Bounded: each turn drops two bytes. */
	while (s[0] == '.' && s[1] == '/')
		s += 2;
	if (*s == '\0')
		return xstrdup(dir);
	return xasprintf("%s/%s", dir, s);
}

static int
conf_parse_enum_value(const struct conf_key *k, const char *s,
    struct conf_value *v, char **error_r)
{
	const char *word, *err;
	size_t len;

	if (conf_parse_enum(s, k->choices, &word, &len, &err) < 0) {
		*error_r = xasprintf("%s: invalid value '%.*s': expected one "
		    "of %s", k->name, CONF_ECHO_MAX, s, k->choices);
		return -1;
	}
	v->str = xstrndup(word, len);
	return 0;
}

/* Parse s as the value of k into v (zeroed by the caller). */
static int
conf_value_parse(const struct conf_key *k, const char *s, const char *dir,
    struct conf_value *v, char **error_r)
{
	const char *err;
	bool b;

	switch (k->type) {
	case CONF_STR:
		v->str = xstrdup(s);
		break;
	case CONF_PATH:
		v->str = conf_resolve(dir, s);
		break;
	case CONF_INT:
	case CONF_SIZE:
	case CONF_TIME:
		if (conf_parse_number(k, s, v, error_r) < 0)
			return -1;
		break;
	case CONF_BOOL:
		if (conf_parse_bool(s, &b, &err) < 0) {
			*error_r = xasprintf("%s: invalid value '%.*s': %s",
			    k->name, CONF_ECHO_MAX, s, err);
			return -1;
		}
		v->num = b;
		break;
	case CONF_LIST:
		v->list = conf_split_list(s, &v->list_len);
		break;
	case CONF_ENUM:
		if (conf_parse_enum_value(k, s, v, error_r) < 0)
			return -1;
		break;
	}
	v->text = xstrdup(s);
	return 0;
}

/* Replace the value of k in set; on error set is unchanged. */
static int
conf_state_store(struct conf_state *set, const struct conf_key *k,
    const char *s, char **error_r)
{
	struct conf_value v = { 0 };
	struct conf_value *slot = &set->vals[k - conf_table];

	if (conf_value_parse(k, s, set->dir, &v, error_r) < 0) {
		conf_value_free(&v);
		return -1;
	}
	conf_value_free(slot);
	*slot = v;
	return 0;
}

static void
conf_state_free(struct conf_state **statep)
{
	struct conf_state *set = *statep;
	size_t i;

	if (set == NULL)
		return;
	for (i = 0; i < conf_table_len; i++)
		conf_value_free(&set->vals[i]);
	free(set->vals);
	free(set->lines);
	free(set->dir);
	xfree(statep);
}

/* A set holding every default; takes dir.  A bad default is our bug. */
static struct conf_state *
conf_state_new(char *dir)
{
	struct conf_state *set = xcalloc(1, sizeof(*set));
	char *err;
	size_t i;

	set->dir = dir;
	set->vals = xcalloc(conf_table_len, sizeof(*set->vals));
	set->lines = xcalloc(conf_table_len, sizeof(*set->lines));
	for (i = 0; i < conf_table_len; i++)
		if (conf_state_store(set, &conf_table[i], conf_table[i].def,
		    &err) < 0)
			BUG("conf_table: bad default: %s", err);
	return set;
}

const struct conf_key *
conf_key_find(const char *name)
{
	size_t i;

	for (i = 0; i < conf_table_len; i++)
		if (strcmp(conf_table[i].name, name) == 0)
			return &conf_table[i];
	return NULL;
}

/* Edit distance, for "did you mean"; long names are not compared. */
#define CONF_SUGGEST_LEN 64

static size_t
conf_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, prev[CONF_SUGGEST_LEN + 1],
	    cur[CONF_SUGGEST_LEN + 1], best;

	if (la > CONF_SUGGEST_LEN || lb > CONF_SUGGEST_LEN)
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

static const char *
conf_suggest(const char *name)
{
	const char *best = NULL;
	size_t i, d, best_d = 3;	/* up to two typos */

	for (i = 0; i < conf_table_len; i++) {
		d = conf_distance(name, conf_table[i].name);
		if (d < best_d) {
			best_d = d;
			best = conf_table[i].name;
		}
	}
	return best;
}

static char *
conf_unknown(const char *name)
{
	const char *near = conf_suggest(name);

	if (near != NULL)
		return xasprintf("unknown key '%s' (did you mean '%s'?)",
		    name, near);
	return xasprintf("unknown key '%s'", name);
}

static int
conf_load_line(const struct cfg_line *l, void *arg, char **error_r)
{
	struct conf_state *set = arg;
	const struct conf_key *k;
	size_t i;

	ASSERT(l->key != NULL);		/* tern.conf has no sections */
	k = conf_key_find(l->key);
	if (k == NULL) {
		*error_r = conf_unknown(l->key);
		return -1;
	}
	i = (size_t)(k - conf_table);
	if (set->lines[i] != 0) {
		*error_r = xasprintf("duplicate key '%s' (first set on line "
		    "%d)", k->name, set->lines[i]);
		return -1;
	}
	if (conf_state_store(set, k, l->value, error_r) < 0)
		return -1;
	set->lines[i] = l->line;
	return 0;
}

/* The absolute directory holding path, or -1 with an error. */
static int
conf_find_dir(const char *path, char **dir_r, char **error_r)
{
	char *copy = xstrdup(path);

	*dir_r = realpath(dirname(copy), NULL);
	if (*dir_r == NULL)
		*error_r = xasprintf("%s: cannot find its directory: %s",
		    path, strerror(errno));
	free(copy);
	return *dir_r != NULL ? 0 : -1;
}

int
conf_load(const char *path, char **error_r)
{
	struct conf_state *set;
	char *dir;

	*error_r = NULL;
	if (conf_find_dir(path, &dir, error_r) < 0)
		return -1;
	/* Build the whole new set aside; the old one stays in force
	 * until the new one is known to be good. */
	set = conf_state_new(dir);
	if (cfgfile_parse(path, false, false, conf_load_line, set,
	    error_r) < 0) {
		conf_state_free(&set);
		return -1;
	}
	conf_state_free(&conf_cur);
	conf_cur = set;
	return 0;
}

void
conf_load_defaults(void)
{
	conf_state_free(&conf_cur);
	conf_cur = conf_state_new(xstrdup("."));
}

void
conf_unload(void)
{
	conf_state_free(&conf_cur);
}

static struct conf_state *
conf_current(void)
{
	if (conf_cur == NULL)
		conf_load_defaults();
	return conf_cur;
}

int
conf_set(const char *key, const char *value, char **error_r)
{
	const struct conf_key *k = conf_key_find(key);

	*error_r = NULL;
	if (k == NULL) {
		*error_r = conf_unknown(key);
		return -1;
	}
	return conf_state_store(conf_current(), k, value, error_r);
}

#define CONF_T(t) (1u << (t))

static const struct conf_value *
conf_get(const char *key, unsigned types)
{
	const struct conf_key *k = conf_key_find(key);

	if (k == NULL)
		BUG("unknown config key '%s'", key);
	if ((types & CONF_T(k->type)) == 0)
		BUG("config key '%s' read as the wrong type", key);
	return &conf_current()->vals[k - conf_table];
}

const char *
conf_str(const char *key)
{
	return conf_get(key, CONF_T(CONF_STR) | CONF_T(CONF_PATH) |
	    CONF_T(CONF_ENUM))->str;
}

long long
conf_int(const char *key)
{
	return conf_get(key, CONF_T(CONF_INT))->num;
}

unsigned long long
conf_size(const char *key)
{
	return conf_get(key, CONF_T(CONF_SIZE))->size;
}

long long
conf_time_ms(const char *key)
{
	return conf_get(key, CONF_T(CONF_TIME))->num;
}

bool
conf_bool(const char *key)
{
	return conf_get(key, CONF_T(CONF_BOOL))->num != 0;
}

const char *const *
conf_list(const char *key, size_t *n_r)
{
	const struct conf_value *v = conf_get(key, CONF_T(CONF_LIST));

	if (n_r != NULL)
		*n_r = v->list_len;
	return (const char *const *)v->list;
}

const char *
conf_text(const char *key)
{
	return conf_get(key, ~0u)->text;
}

const char *
conf_dir(void)
{
	return conf_current()->dir;
}
