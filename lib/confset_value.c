/*
 * confset_value - see confset_value.h.  The text parsers themselves
 * (numbers with units, booleans, choices, lists) are in conf_value.c.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "confset_value.h"
#include "xalloc.h"

/* Longest piece of a bad value echoed back in an error message. */
#define CONFSET_ECHO_MAX	80

void
confset_value_free(struct conf_value *v)
{
	xfree(&v->text);
	xfree(&v->str);
	conf_list_free(&v->list);
	v->list_len = 0;
}

void
confset_value_copy(struct conf_value *to, const struct conf_value *from)
{
	size_t i;

	*to = *from;
	to->text = xstrdup(from->text);
	to->str = from->str != NULL ? xstrdup(from->str) : NULL;
	if (from->list == NULL)
		return;
	to->list = xcalloc(from->list_len + 1, sizeof(*to->list));
	for (i = 0; i < from->list_len; i++)
		to->list[i] = xstrdup(from->list[i]);
}

/* Parse s as a number of the given type into v->num or v->size. */
static int
confset_value_typed(enum conf_type type, const char *s, struct conf_value *v,
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
		BUG("confset_value_typed on a non-number type %d", (int)type);
	}
}

/* <0, 0, >0 as v is below, at or above the bound written in the table. */
static int
confset_value_cmp_bound(const struct conf_key *k, const struct conf_value *v,
    const char *bound)
{
	struct conf_value b = { 0 };
	const char *err;

	if (confset_value_typed(k->type, bound, &b, &err) < 0)
		BUG("key table: %s: bad bound '%s': %s", k->name, bound, err);
	if (k->type == CONF_SIZE)
		return (v->size > b.size) - (v->size < b.size);
	return (v->num > b.num) - (v->num < b.num);
}

static int
confset_value_number(const struct conf_key *k, const char *s,
    struct conf_value *v, char **error_r)
{
	const char *err;

	if (confset_value_typed(k->type, s, v, &err) < 0) {
		*error_r = xasprintf("%s: invalid value '%.*s': %s", k->name,
		    CONFSET_ECHO_MAX, s, err);
		return -1;
	}
	if (k->min != NULL && confset_value_cmp_bound(k, v, k->min) < 0) {
		*error_r = xasprintf("%s: %.*s is below the minimum %s",
		    k->name, CONFSET_ECHO_MAX, s, k->min);
		return -1;
	}
	if (k->max != NULL && confset_value_cmp_bound(k, v, k->max) > 0) {
		*error_r = xasprintf("%s: %.*s is above the maximum %s",
		    k->name, CONFSET_ECHO_MAX, s, k->max);
		return -1;
	}
	return 0;
}

/*
 * A relative path is taken from the directory of the file, so an
 * instance tree can be moved or copied as a whole.  Empty stays empty:
 * for the optional files (TLS keys ...) it means "not set".
 */
static char *
confset_value_resolve(const char *dir, const char *s)
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
confset_value_enum(const struct conf_key *k, const char *s,
    struct conf_value *v, char **error_r)
{
	const char *word, *err;
	size_t len;

	if (conf_parse_enum(s, k->choices, &word, &len, &err) < 0) {
		*error_r = xasprintf("%s: invalid value '%.*s': expected one "
		    "of %s", k->name, CONFSET_ECHO_MAX, s, k->choices);
		return -1;
	}
	v->str = xstrndup(word, len);
	return 0;
}

int
confset_value_parse(const struct conf_key *k, const char *s, const char *dir,
    struct conf_value *v, char **error_r)
{
	const char *err;
	bool b;

	switch (k->type) {
	case CONF_STR:
		v->str = xstrdup(s);
		break;
	case CONF_PATH:
		v->str = confset_value_resolve(dir, s);
		break;
	case CONF_INT:
	case CONF_SIZE:
	case CONF_TIME:
		if (confset_value_number(k, s, v, error_r) < 0)
			return -1;
		break;
	case CONF_BOOL:
		if (conf_parse_bool(s, &b, &err) < 0) {
			*error_r = xasprintf("%s: invalid value '%.*s': %s",
			    k->name, CONFSET_ECHO_MAX, s, err);
			return -1;
		}
		v->num = b;
		break;
	case CONF_LIST:
		v->list = conf_split_list(s, &v->list_len);
		break;
	case CONF_ENUM:
		if (confset_value_enum(k, s, v, error_r) < 0)
			return -1;
		break;
	}
	v->text = xstrdup(s);
	return 0;
}

static char *
confset_value_join(const struct conf_value *v)
{
	struct buf *b = buf_new(64);
	char *s;
	size_t i;

	for (i = 0; i < v->list_len; i++) {
		if (i > 0)
			buf_putc(b, ',');
		buf_append_str(b, v->list[i]);
	}
	s = buf_steal(b);
	buf_free(&b);
	return s;
}

char *
confset_value_format(enum conf_type type, const struct conf_value *v)
{
	switch (type) {
	case CONF_INT:
	case CONF_TIME:
		return xasprintf("%lld", v->num);
	case CONF_SIZE:
		return xasprintf("%llu", v->size);
	case CONF_BOOL:
		return xstrdup(v->num != 0 ? "1" : "0");
	case CONF_LIST:
		return confset_value_join(v);
	case CONF_STR:
	case CONF_PATH:
	case CONF_ENUM:
		break;
	}
	return xstrdup(v->str);
}
