/*
 * throttle - hourly sending counters in a Berkeley DB btree.  See
 * throttle.h.
 *
 * A record is the key's current hour and its three counts, stored in
 * network byte order so the file reads the same on any host.  An older
 * hour in the record is the same as zero counts: nothing ever needs
 * expiring for the limits to work, and throttle_sync() drops records
 * older than a day so the file stays as small as the set of active
 * senders.
 */
#include <db.h>
#include <endian.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "throttle.h"
#include "xalloc.h"

/* Records untouched for this many hours are dropped at a sync. */
#define THROTTLE_KEEP_HOURS 24

struct throttle {
	DB *db;
	bool dirty;
	time_t last_prune;
};

struct rec {
	uint64_t hour, msgs, bytes, bounces;
};

struct throttle *
throttle_open(const char *path, char **error_r)
{
	struct throttle *t = xcalloc(1, sizeof(*t));
	int rc;

	if ((rc = db_create(&t->db, NULL, 0)) != 0) {
		*error_r = xasprintf("db_create: %s", db_strerror(rc));
		free(t);
		return NULL;
	}
	rc = t->db->open(t->db, NULL, path, NULL, DB_BTREE, DB_CREATE, 0600);
	if (rc != 0) {
		*error_r = xasprintf("%s: %s", path, db_strerror(rc));
		t->db->close(t->db, 0);
		free(t);
		return NULL;
	}
	return t;
}

void
throttle_close(struct throttle **tp)
{
	struct throttle *t = *tp;

	if (t == NULL)
		return;
	t->db->close(t->db, 0);        /* flushes */
	free(t);
	*tp = NULL;
}

static long long
hour_of(time_t now)
{
	return (long long)(now / 3600);
}

static struct throttle_count
rec_read(struct throttle *t, const char *key, time_t now)
{
	struct throttle_count c = { .hour = hour_of(now) };
	DBT k = { .data = (void *)key, .size = (u_int32_t)strlen(key) };
	struct rec r;
	DBT v = { .data = &r, .ulen = sizeof(r), .flags = DB_DBT_USERMEM };

	if (t->db->get(t->db, NULL, &k, &v, 0) != 0 || v.size != sizeof(r))
		return c;
	if ((long long)be64toh(r.hour) != c.hour)
		return c;
	c.msgs = be64toh(r.msgs);
	c.bytes = be64toh(r.bytes);
	c.bounces = be64toh(r.bounces);
	return c;
}

static void
rec_write(struct throttle *t, const char *key, const struct throttle_count *c)
{
	struct rec r = {
		.hour = htobe64((uint64_t)c->hour),
		.msgs = htobe64(c->msgs),
		.bytes = htobe64(c->bytes),
		.bounces = htobe64(c->bounces),
	};
	DBT k = { .data = (void *)key, .size = (u_int32_t)strlen(key) };
	DBT v = { .data = &r, .size = sizeof(r) };

	/* A failed put only loses a count: the limit is approximate at
	 * worst, never a reason to stop delivering. */
	(void)t->db->put(t->db, NULL, &k, &v, 0);
	t->dirty = true;
}

struct throttle_count
throttle_get(struct throttle *t, const char *key, time_t now)
{
	return rec_read(t, key, now);
}

bool
throttle_allow(struct throttle *t, const char *key,
    const struct throttle_limits *lim, time_t now, time_t *until_r,
    const char **which_r)
{
	struct throttle_count c = rec_read(t, key, now);
	const char *which = NULL;

	if (lim->msgs > 0 && c.msgs >= lim->msgs)
		which = "messages";
	else if (lim->bytes > 0 && c.bytes >= lim->bytes)
		which = "bandwidth";
	else if (lim->bounces > 0 && c.bounces >= lim->bounces)
		which = "bounces";
	if (which == NULL)
		return true;
	*until_r = (time_t)((c.hour + 1) * 3600);
	*which_r = which;
	return false;
}

void
throttle_charge(struct throttle *t, const char *key, unsigned long long bytes,
    time_t now)
{
	struct throttle_count c = rec_read(t, key, now);

	c.msgs++;
	c.bytes += bytes;
	rec_write(t, key, &c);
}

void
throttle_bounce(struct throttle *t, const char *key, time_t now)
{
	struct throttle_count c = rec_read(t, key, now);

	c.bounces++;
	rec_write(t, key, &c);
}

/* Drop records of senders quiet for a day. */
static void
throttle_prune(struct throttle *t, time_t now)
{
	DBC *cur;
	DBT k = { .flags = DB_DBT_MALLOC };
	struct rec r;
	DBT v = { .data = &r, .ulen = sizeof(r), .flags = DB_DBT_USERMEM };
	long long oldest = hour_of(now) - THROTTLE_KEEP_HOURS;

	if (t->db->cursor(t->db, NULL, &cur, 0) != 0)
		return;
	while (cur->get(cur, &k, &v, DB_NEXT) == 0) {
		if (v.size != sizeof(r) || (long long)be64toh(r.hour) < oldest)
			(void)cur->del(cur, 0);
		free(k.data);
		k.data = NULL;
	}
	cur->close(cur);
	t->last_prune = now;
	t->dirty = true;
}

int
throttle_sync(struct throttle *t, char **error_r)
{
	time_t now = time(NULL);
	int rc;

	if (now - t->last_prune >= 3600)
		throttle_prune(t, now);
	if (!t->dirty)
		return 0;
	if ((rc = t->db->sync(t->db, 0)) != 0) {
		*error_r = xasprintf("throttle sync: %s", db_strerror(rc));
		return -1;
	}
	t->dirty = false;
	return 0;
}
