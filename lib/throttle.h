/*
 * throttle - hourly sending counters for domains, users and mailing lists
 * (the reference's Throttling; FEATURES.md SO-15), kept in a Berkeley DB
 * file in the state directory so a restart does not hand out a fresh
 * allowance.
 *
 * A counter covers one clock hour (UTC): messages sent, bytes sent and
 * bounces received in that hour.  Once any of them reaches its limit,
 * the sender's mail waits for the next hour: throttle_allow() says when.
 * Nothing is refused or lost; the caller reschedules.
 *
 * One process writes a file (the queue manager); updates reach the disk
 * at throttle_sync(), which the caller runs on a timer: a crash forgets
 * at most the counts since the last sync.
 *
 * Keys are chosen by the caller: "d:<domain>", "u:<address>",
 * "l:<list address>".
 */
#ifndef TERN_THROTTLE_H
#define TERN_THROTTLE_H

#include <stdbool.h>
#include <time.h>

struct throttle;

struct throttle_limits {
	unsigned long long msgs;        /* 0: no limit */
	unsigned long long bytes;       /* 0: no limit */
	unsigned long long bounces;     /* 0: no limit */
};

struct throttle_count {
	long long hour;                 /* unix time / 3600 */
	unsigned long long msgs, bytes, bounces;
};

/* Open (creating) path.  NULL with *error_r (malloc'd) on failure. */
struct throttle *throttle_open(const char *path, char **error_r);
/* Flush and close; *tp becomes NULL. */
void throttle_close(struct throttle **tp);

/*
 * May key send one more message now?  True, or false with *until_r = the
 * first second of the next hour and *which_r = "messages", "bandwidth"
 * or "bounces" (the limit reached).
 */
bool throttle_allow(struct throttle *t, const char *key,
    const struct throttle_limits *lim, time_t now, time_t *until_r,
    const char **which_r);
/* Count one message of bytes sent by key. */
void throttle_charge(struct throttle *t, const char *key,
    unsigned long long bytes, time_t now);
/* Count one bounce received by key. */
void throttle_bounce(struct throttle *t, const char *key, time_t now);
/* This hour's counts for key (all zero when none). */
struct throttle_count throttle_get(struct throttle *t, const char *key,
    time_t now);
/* Write what changed to disk; 0, or -1 with *error_r (malloc'd). */
int throttle_sync(struct throttle *t, char **error_r);

#endif
