/*
 * Unit tests for lib/throttle: the three limits, the wait until the next
 * clock hour, a new hour starting from zero, keys kept apart, counts
 * surviving a close and reopen (what a queue restart sees), and old
 * records pruned at a sync.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "throttle.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/tern-throttle-XXXXXX";

int
main(void)
{
	/* 10:20:00 UTC on some day: the hour starts at 10:00. */
	const time_t base = 1800000000 - 1800000000 % 3600 + 20 * 60;
	const time_t next = base - 20 * 60 + 3600;
	struct throttle_limits lim = { .msgs = 3, .bytes = 0, .bounces = 0 };
	struct throttle_count c;
	struct throttle *t;
	const char *which = NULL;
	time_t until = 0;
	char *path, *err = NULL;

	if (mkdtemp(tmpdir) == NULL)
		die("mkdtemp");
	path = xasprintf("%s/throttle.db", tmpdir);
	t = throttle_open(path, &err);
	ok(t != NULL, "open creates the file");
	if (t == NULL) {
		diag("%s", err);
		return done_testing();
	}
	for (int i = 0; i < 3; i++) {
		ok(throttle_allow(t, "d:a.example", &lim, base + i, &until,
		    &which), i == 0 ? "message 1 of 3 allowed" : i == 1 ?
		    "message 2 of 3 allowed" : "message 3 of 3 allowed");
		throttle_charge(t, "d:a.example", 1000, base + i);
	}
	ok(!throttle_allow(t, "d:a.example", &lim, base + 10, &until, &which),
	    "the fourth waits");
	is_int(until, next, "until the next hour");
	is_str(which, "messages", "the message limit");
	ok(throttle_allow(t, "d:b.example", &lim, base + 10, &until, &which),
	    "another key is not affected");
	ok(throttle_allow(t, "d:a.example", &lim, next, &until, &which),
	    "the next hour starts again");
	c = throttle_get(t, "d:a.example", base);
	ok(c.msgs == 3 && c.bytes == 3000 && c.bounces == 0,
	    "counts of the hour");
	c = throttle_get(t, "d:a.example", next);
	ok(c.msgs == 0 && c.bytes == 0, "a new hour reads as zero");

	lim = (struct throttle_limits){ .bytes = 2500 };
	ok(!throttle_allow(t, "d:a.example", &lim, base + 11, &until, &which)
	    && strcmp(which, "bandwidth") == 0, "the bandwidth limit");
	lim = (struct throttle_limits){ .bounces = 2 };
	throttle_bounce(t, "d:c.example", base);
	ok(throttle_allow(t, "d:c.example", &lim, base, &until, &which),
	    "one bounce of two: allowed");
	throttle_bounce(t, "d:c.example", base + 1);
	ok(!throttle_allow(t, "d:c.example", &lim, base + 2, &until, &which)
	    && strcmp(which, "bounces") == 0, "two bounces: waits");
	lim = (struct throttle_limits){ 0 };
	ok(throttle_allow(t, "d:a.example", &lim, base, &until, &which),
	    "no limits: always allowed");

	ok(throttle_sync(t, &err) == 0, "sync");
	throttle_close(&t);
	ok(t == NULL, "close clears the pointer");
	t = throttle_open(path, &err);
	c = throttle_get(t, "d:a.example", base);
	ok(t != NULL && c.msgs == 3 && c.bytes == 3000,
	    "counts survive a reopen");
	/* A record two days old goes at the next sync (the first sync after
	 * open prunes); today's stay. */
	throttle_charge(t, "u:old@a.example", 5, time(NULL) - 2 * 86400);
	throttle_charge(t, "u:new@a.example", 5, time(NULL));
	ok(throttle_sync(t, &err) == 0, "sync prunes");
	c = throttle_get(t, "u:old@a.example", time(NULL) - 2 * 86400);
	is_int(c.msgs, 0, "the old record is gone");
	c = throttle_get(t, "u:new@a.example", time(NULL));
	is_int(c.msgs, 1, "the current one stays");
	throttle_close(&t);

	unlink(path);
	ok(throttle_open("/nonexistent-dir/x.db", &err) == NULL && err != NULL
	    && strstr(err, "/nonexistent-dir/x.db") != NULL,
	    "an unopenable file: error names it");
	free(err);
	rmdir(tmpdir);
	free(path);
	return done_testing();
}
