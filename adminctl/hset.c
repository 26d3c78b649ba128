/* hset - see hset.h */
#include <string.h>

#include "hset.h"
#include "xalloc.h"

/* FNV-1a: short keys, good spread, no allocation. */
static size_t
hset_hash(const char *s)
{
	size_t h = (size_t)14695981039346656037ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= (size_t)1099511628211ULL;
	}
	return h;
}

static struct hset_slot *
hset_find(const struct hset *h, const char *key, size_t hash)
{
	size_t mask = h->size - 1, i = hash & mask;

	/* The table is never more than half full: this ends. */
	while (h->slots[i].key != NULL) {
		if (h->slots[i].hash == hash && strcmp(h->slots[i].key, key) == 0)
			break;
		i = (i + 1) & mask;
	}
	return &h->slots[i];
}

static void
hset_grow(struct hset *h)
{
	struct hset old = *h;

	h->size = old.size ? old.size * 2 : 64;
	h->slots = xcalloc(h->size, sizeof(*h->slots));
	for (size_t i = 0; i < old.size; i++)
		if (old.slots[i].key != NULL)
			*hset_find(h, old.slots[i].key, old.slots[i].hash) =
			    old.slots[i];
	free(old.slots);
}

void *
hset_put(struct hset *h, const char *key, void *val)
{
	size_t hash = hset_hash(key);
	struct hset_slot *s;

	if ((h->count + 1) * 2 > h->size)
		hset_grow(h);
	s = hset_find(h, key, hash);
	if (s->key != NULL)
		return s->val;
	s->key = key;
	s->val = val;
	s->hash = hash;
	h->count++;
	return NULL;
}

void *
hset_get(const struct hset *h, const char *key)
{
	struct hset_slot *s;

	if (h->size == 0)
		return NULL;
	s = hset_find(h, key, hset_hash(key));
	return s->key != NULL ? s->val : NULL;
}

void
hset_release(struct hset *h)
{
	xfree(&h->slots);
	h->size = h->count = 0;
}
