/*
 * queue_notify - tell the queue manager a message arrived: an ipc frame
 * "new" with fields id (the queue id) and subspool, on a connection to
 * state_dir/queue.sock kept open between messages.  Fire and forget: the
 * message is already durable, and the queue picks up whatever it was
 * not told about when it starts, so a missing socket or a refusal is
 * logged at detailed level and otherwise ignored.
 */
#ifndef TERN_QUEUE_NOTIFY_H
#define TERN_QUEUE_NOTIFY_H

#include "log.h"

struct event_base;

/* Used by every daemon that queues mail (smtpd, delivery): sock is
 * state_dir/queue.sock, ident our name in the hello, sub the log
 * subsystem for the detailed lines.  Strings are copied. */
void queue_notify_init(struct event_base *base, const char *sock,
    const char *ident, enum log_subsys sub);
void queue_notify(const char *qid, unsigned subspool);
void queue_notify_free(void);

#endif
