/*
 * msgcache - ENVELOPE, BODY and BODYSTRUCTURE of a few messages of the
 * selected folder, so a client that asks again (most do: a list view,
 * then the message opened) gets them without a read and a parse.
 *
 * Small on purpose: the design wants an idle session under 64 KiB, so
 * the cache holds at most MCACHE_SLOTS messages and MCACHE_MAX_BYTES of
 * strings, skips values over MCACHE_MAX_VALUE, and is dropped on
 * UNSELECT/CLOSE/SELECT, at IDLE and when the session ends.  Entries are
 * keyed by UID, which is never reused within a UIDVALIDITY (a change of
 * UIDVALIDITY ends the session); expunged UIDs are pruned anyway so their
 * memory goes back.  The values depend only on the message's bytes, which
 * a maildir never changes in place.
 */
#include <stdlib.h>
#include <string.h>

#include "imapd.h"
#include "xalloc.h"

#define MCACHE_SLOTS 16
#define MCACHE_MAX_BYTES 16384
#define MCACHE_MAX_VALUE 4096

struct mcache_entry {
	uint32_t uid;               /* 0: free */
	char *v[MC_ITEMS];
	uint32_t len[MC_ITEMS];
};

struct mcache {
	struct mcache_entry e[MCACHE_SLOTS];
	size_t bytes;
	unsigned hand;              /* next slot to reuse */
};

static void
mcache_clear(struct mcache *c, struct mcache_entry *e)
{
	for (int k = 0; k < MC_ITEMS; k++) {
		c->bytes -= e->len[k];
		free(e->v[k]);
		e->v[k] = NULL;
		e->len[k] = 0;
	}
	e->uid = 0;
}

static struct mcache_entry *
mcache_find(struct mcache *c, uint32_t uid)
{
	for (unsigned k = 0; c != NULL && k < MCACHE_SLOTS; k++)
		if (c->e[k].uid == uid)
			return &c->e[k];
	return NULL;
}

const char *
mcache_get(struct session *s, uint32_t uid, enum mcache_item it,
    size_t *len_r)
{
	struct mcache_entry *e = mcache_find(s->mcache, uid);

	if (e == NULL || e->v[it] == NULL)
		return NULL;
	*len_r = e->len[it];
	return e->v[it];
}

void
mcache_put(struct session *s, uint32_t uid, enum mcache_item it,
    const char *v, size_t len)
{
	struct mcache *c;
	struct mcache_entry *e;

	if (uid == 0 || len > MCACHE_MAX_VALUE)   /* 0: not a UID, never */
		return;                             /* cached */
	if (s->mcache == NULL)
		s->mcache = xcalloc(1, sizeof(*s->mcache));
	c = s->mcache;
	if ((e = mcache_find(c, uid)) == NULL) {
		e = &c->e[c->hand];
		c->hand = (c->hand + 1) % MCACHE_SLOTS;
		mcache_clear(c, e);
		e->uid = uid;
	}
	if (e->v[it] != NULL)
		return;
	/* over the cap: evict other entries, oldest slot first */
	for (unsigned k = 0; c->bytes + len > MCACHE_MAX_BYTES &&
	    k < MCACHE_SLOTS; k++) {
		struct mcache_entry *o = &c->e[(c->hand + k) % MCACHE_SLOTS];

		if (o != e)
			mcache_clear(c, o);
	}
	if (c->bytes + len > MCACHE_MAX_BYTES)
		return;
	e->v[it] = xmalloc(len + 1);
	memcpy(e->v[it], v, len);
	e->v[it][len] = '\0';
	e->len[it] = (uint32_t)len;
	c->bytes += len;
}

void
mcache_prune(struct session *s)
{
	struct mcache *c = s->mcache;

	for (unsigned k = 0; c != NULL && k < MCACHE_SLOTS; k++)
		if (c->e[k].uid != 0 && (s->mb == NULL ||
		    imap_mbox_find_uid(s->mb, c->e[k].uid) < 0))
			mcache_clear(c, &c->e[k]);
}

void
mcache_drop(struct session *s)
{
	struct mcache *c = s->mcache;

	if (c == NULL)
		return;
	for (unsigned k = 0; k < MCACHE_SLOTS; k++)
		mcache_clear(c, &c->e[k]);
	ASSERT(c->bytes == 0);
	free(c);
	s->mcache = NULL;
}
