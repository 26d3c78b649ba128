/*
 * hset - a string-keyed hash table for adminctl's checks: duplicate
 * users and aliases, domain names, alias graph nodes.  Open addressing,
 * grows at 50 % load, so a 100,000-user domain is checked in linear time.
 * Keys are borrowed: they must outlive the table.
 */
#ifndef TERN_ADMINCTL_HSET_H
#define TERN_ADMINCTL_HSET_H

#include <stddef.h>

struct hset {
	struct hset_slot {
		const char *key;        /* NULL: empty */
		void *val;
		size_t hash;
	} *slots;
	size_t size;                    /* power of two, or 0 */
	size_t count;
};

/* An empty table needs no init beyond zeroing; hset_release() frees it. */
void hset_release(struct hset *h);

/*
 * Insert key -> val.  Returns NULL when key was new, else the value
 * already stored under key (which stays; val is not stored).
 */
void *hset_put(struct hset *h, const char *key, void *val);
/* The value under key, or NULL. */
void *hset_get(const struct hset *h, const char *key);

#endif
