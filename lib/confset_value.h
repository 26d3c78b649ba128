/*
 * confset_value - one typed value of a confset: parsed from text against
 * its key (type, bounds, choices), copied, freed, printed in canonical
 * form.  Internal to lib/confset*.c; everyone else uses confset.h.
 */
#ifndef TERN_CONFSET_VALUE_H
#define TERN_CONFSET_VALUE_H

#include <stddef.h>

#include "conf.h"

struct conf_value {
	char *text;			/* as written in the file */
	char *str;			/* STR, ENUM (canonical), PATH (resolved) */
	long long num;			/* INT; TIME in ms; BOOL as 0/1 */
	unsigned long long size;	/* SIZE in bytes */
	char **list;			/* LIST: NULL-terminated */
	size_t list_len;
};

/*
 * Parse s as the value of k into *v (zeroed by the caller); a relative
 * PATH is taken from dir ("." leaves it as it is).  Returns 0, or -1 with
 * *error_r malloc'd ("key: what is wrong") and *v to be freed.
 */
int confset_value_parse(const struct conf_key *k, const char *s,
    const char *dir, struct conf_value *v, char **error_r);
/* Deep copy of from into *to. */
void confset_value_copy(struct conf_value *to, const struct conf_value *from);
/* Free what *v holds and zero its pointers. */
void confset_value_free(struct conf_value *v);
/* The canonical machine form (see confset_value_canon()); malloc'd. */
char *confset_value_format(enum conf_type type, const struct conf_value *v);

#endif
