/*
 * conf_value - the value parsers behind conf (see conf.h): integers,
 * sizes, times, booleans, enums and lists.  Strict on purpose: "10 m",
 * "1.5g", "-1k" and "30x" are errors, not guesses, so a typo in tern.conf
 * stops the load instead of quietly meaning something else.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "xalloc.h"

/*
 * Read one or more decimal digits at *sp, advancing *sp past them.  Fails
 * when there are none or the number passes limit.
 */
static int
conf_value_digits(const char **sp, unsigned long long limit,
    unsigned long long *v_r, const char **error_r)
{
	const char *s = *sp;
	unsigned long long v = 0;
	unsigned d;

	if (*s < '0' || *s > '9') {
		*error_r = *s == '-' ? "negative values are not allowed" :
		    "not a number";
		return -1;
	}
	for (; *s >= '0' && *s <= '9'; s++) {
		d = (unsigned)(*s - '0');
		if (v > (limit - d) / 10) {
			*error_r = "number too large";
			return -1;
		}
		v = v * 10 + d;
	}
	*sp = s;
	*v_r = v;
	return 0;
}

int
conf_parse_int(const char *s, long long *v_r, const char **error_r)
{
	unsigned long long v, limit = LLONG_MAX;
	bool neg = false;

	if (*s == '+' || *s == '-') {
		neg = *s == '-';
		s++;
	}
	/* -LLONG_MIN does not fit a long long; allow it one more. */
	if (neg)
		limit++;
	if (*s == '-') {
		*error_r = "not a number";
		return -1;
	}
	if (conf_value_digits(&s, limit, &v, error_r) < 0)
		return -1;
	if (*s != '\0') {
		*error_r = "not a number";
		return -1;
	}
	if (neg)
		*v_r = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN :
		    -(long long)v;
	else
		*v_r = (long long)v;
	return 0;
}

struct conf_unit {
	const char *name;
	unsigned long long mult;
};

static const struct conf_unit conf_size_units[] = {
	{ "", 1 }, { "b", 1 },
	{ "k", 1ULL << 10 }, { "kb", 1ULL << 10 },
	{ "m", 1ULL << 20 }, { "mb", 1ULL << 20 },
	{ "g", 1ULL << 30 }, { "gb", 1ULL << 30 },
};

static const struct conf_unit conf_time_units[] = {
	{ "", 1000 },		/* a bare number is seconds */
	{ "ms", 1 },
	{ "s", 1000 },
	{ "m", 60 * 1000 },
	{ "h", 60 * 60 * 1000 },
	{ "d", 24 * 60 * 60 * 1000 },
};

/* Number then unit; the unit must be one of units[] (case-insensitive). */
static int
conf_value_scaled(const char *s, const struct conf_unit *units, size_t n,
    unsigned long long limit, unsigned long long *v_r, const char **error_r)
{
	unsigned long long v;
	size_t i;

	if (*s == '\0') {
		*error_r = "empty value";
		return -1;
	}
	if (conf_value_digits(&s, limit, &v, error_r) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (strcasecmp(s, units[i].name) != 0)
			continue;
		if (v > limit / units[i].mult) {
			*error_r = "number too large";
			return -1;
		}
		*v_r = v * units[i].mult;
		return 0;
	}
	*error_r = "unknown unit";
	return -1;
}

int
conf_parse_size(const char *s, unsigned long long *v_r, const char **error_r)
{
	return conf_value_scaled(s, conf_size_units,
	    sizeof(conf_size_units) / sizeof(conf_size_units[0]),
	    ULLONG_MAX, v_r, error_r);
}

int
conf_parse_time_ms(const char *s, long long *v_r, const char **error_r)
{
	unsigned long long v;

	if (conf_value_scaled(s, conf_time_units,
	    sizeof(conf_time_units) / sizeof(conf_time_units[0]),
	    LLONG_MAX, &v, error_r) < 0)
		return -1;
	*v_r = (long long)v;
	return 0;
}

int
conf_parse_bool(const char *s, bool *v_r, const char **error_r)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*v_r = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*v_r = false;
			return 0;
		}
	}
	*error_r = "expected yes/no, true/false, on/off or 1/0";
	return -1;
}

int
conf_parse_enum(const char *s, const char *choices, const char **word_r,
    size_t *len_r, const char **error_r)
{
	const char *w = choices, *end;
	size_t len, slen = strlen(s);

	/* Bounded: w moves past one '|' per turn. */
	while (*w != '\0') {
		end = strchr(w, '|');
		len = end != NULL ? (size_t)(end - w) : strlen(w);
		if (len == slen && len > 0 && strncasecmp(s, w, len) == 0) {
			*word_r = w;
			*len_r = len;
			return 0;
		}
		if (end == NULL)
			break;
		w = end + 1;
	}
	*error_r = "not one of the allowed words";
	return -1;
}

static bool
conf_value_sep(char c)
{
	return c != '\0' && strchr(", \t\r\n\v\f", c) != NULL;
}

/* Count items, or copy them into list when it is not NULL. */
static size_t
conf_value_items(const char *s, char **list)
{
	size_t n = 0, len;

	/* Bounded: s advances over a separator or an item each turn. */
	while (*s != '\0') {
		if (conf_value_sep(*s)) {
			s++;
			continue;
		}
		for (len = 0; s[len] != '\0' && !conf_value_sep(s[len]); len++)
			;
		if (list != NULL)
			list[n] = xstrndup(s, len);
		n++;
		s += len;
	}
	return n;
}

char **
conf_split_list(const char *s, size_t *n_r)
{
	size_t n = conf_value_items(s, NULL);
	char **list = xcalloc(n + 1, sizeof(*list));

	conf_value_items(s, list);
	if (n_r != NULL)
		*n_r = n;
	return list;
}

void
conf_list_free(char ***listp)
{
	char **list = *listp;
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; list[i] != NULL; i++)
		free(list[i]);
	xfree(listp);
}
