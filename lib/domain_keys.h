/*
 * domain_keys - every key of a domain's domain.conf (and of
 * defaults/domain.conf): the reference's domain pages (options, technical
 * settings, features, limits, sharing, priority, throttling, events) plus
 * domain aliases and the catch-all.  Load them with confset (confset.h);
 * man/domain.conf.5 documents each and t/unit/confset.c checks the page
 * against the table.
 */
#ifndef TERN_DOMAIN_KEYS_H
#define TERN_DOMAIN_KEYS_H

#include <stddef.h>

#include "conf.h"

extern const struct conf_key domain_table[];
extern const size_t domain_table_len;

#endif
