/*
 * connslots - sessions counted across processes: the workers of every
 * service of one protocol (smtp, submission, smtps, the alternate port)
 * share one limit, such as smtp_max_connections.
 *
 * A small file in the state directory, mapped shared by every process
 * of the protocol, holds one slot per process: its pid, its start time
 * (from /proc, so a reused pid is not mistaken for the old process) and
 * how many sessions it serves now.  Each process writes only its own
 * slot; the total is the sum over the slots of live processes, so a
 * process that is killed stops counting at once, with no cleanup.
 */
#ifndef TERN_CONNSLOTS_H
#define TERN_CONNSLOTS_H

#include <stdbool.h>

/* Slots in a file: processes of one protocol that can count at once. */
#define CONNSLOTS_MAX 256

struct connslots;

/*
 * Open (creating, mode 0600) path and claim a slot for this process.
 * NULL with *error_r (malloc'd) when the file cannot be used or every
 * slot belongs to a live process; the caller then counts alone.
 */
struct connslots *connslots_open(const char *path, char **error_r);
void connslots_close(struct connslots **cp);

/* This process now serves n sessions. */
void connslots_set(struct connslots *c, unsigned n);
/* Sessions served by every live process of the file, this one too. */
unsigned connslots_total(struct connslots *c);

/* state_dir/<name>.conns (conf_str("state_dir")); as connslots_open. */
struct connslots *connslots_open_state(const char *name, char **error_r);
/*
 * A new session makes this process serve n: record it and say whether
 * the limit max (0: none) is passed across every process, *total_r the
 * count that was compared.  Without the file (c NULL) the worker's share
 * of the limit applies to n alone.
 */
bool connslots_over(struct connslots *c, unsigned n, unsigned max,
    unsigned share, unsigned *total_r);
/* A session ended: this process now serves n (c may be NULL). */
void connslots_note(struct connslots *c, unsigned n);

#endif
