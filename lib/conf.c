/*
 * conf - see conf.h.  tern.conf is one confset (lib/confset.c) over
 * conf_table; this file keeps it and the conf_* calls every daemon uses.
 */
#include <string.h>

#include "conf.h"
#include "confset.h"
#include "xalloc.h"

/* The configuration in force; NULL until the first getter or load. */
static struct confset *conf_cur;

const struct conf_key *
conf_key_find(const char *name)
{
	size_t i;

	for (i = 0; i < conf_table_len; i++)
		if (strcmp(conf_table[i].name, name) == 0)
			return &conf_table[i];
	return NULL;
}

void
conf_load_defaults(void)
{
	confset_free(&conf_cur);
	conf_cur = confset_new(conf_table, conf_table_len);
}

void
conf_unload(void)
{
	confset_free(&conf_cur);
}

static struct confset *
conf_current(void)
{
	if (conf_cur == NULL)
		conf_load_defaults();
	return conf_cur;
}

int
conf_load(const char *path, char **error_r)
{
	/* confset_load() leaves the set as it was when the file is bad. */
	return confset_load(conf_current(), path, NULL, false, error_r);
}

int
conf_set(const char *key, const char *value, char **error_r)
{
	return confset_set(conf_current(), key, value, error_r);
}

const char *
conf_str(const char *key)
{
	return confset_str(conf_current(), key);
}

long long
conf_int(const char *key)
{
	return confset_int(conf_current(), key);
}

unsigned long long
conf_size(const char *key)
{
	return confset_size(conf_current(), key);
}

long long
conf_time_ms(const char *key)
{
	return confset_time_ms(conf_current(), key);
}

bool
conf_bool(const char *key)
{
	return confset_bool(conf_current(), key);
}

const char *const *
conf_list(const char *key, size_t *n_r)
{
	return confset_list(conf_current(), key, n_r);
}

const char *
conf_text(const char *key)
{
	return confset_text(conf_current(), key);
}

const char *
conf_dir(void)
{
	return confset_dir(conf_current());
}
