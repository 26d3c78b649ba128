/*
 * djob - a delivery job: what the queue manager asks a delivery agent to
 * do, and what the agent answers, over lib/ipc frames.
 *
 * The queue connects to an agent's socket (state_dir/delivery.sock for
 * local delivery; the remote SMTP agent has its own), sends one "deliver"
 * frame and waits for one "result" frame, then may send the next job on
 * the same connection.  An agent handles one job at a time.
 *
 *   deliver: id, path (the spool file), offset (where the message starts),
 *            sender, attempt (1 for the first try), nrcpt, and for each
 *            recipient i: rcpt_<i>, notify_<i> and orcpt_<i> when given,
 *            plus envid, ret, body, smtputf8 when the envelope has them,
 *            and for remote jobs that routing.conf sends elsewhere than
 *            to the MX: nrelay, and for each relay group k (a gateway or
 *            a forwarded domain's server, in the order to try them):
 *            relay_<k> (its hosts), relay_user_<k>, relay_password_<k>,
 *            relay_tls_<k>.
 *   result:  nrcpt, and for each recipient i in the same order:
 *            status_<i> = ok | defer | fail, text_<i> = a diagnostic that
 *            starts with an enhanced status code ("5.1.1 user unknown"),
 *            and, when the agent queued a new message (a forward to a
 *            remote address), queued_<i> = its queue id.
 *
 * An agent that dies, or a connection that closes, before "result" means
 * every recipient of the job is deferred; the queue retries.  Recipients
 * are delivered at least once: the agent makes each delivery durable
 * before it answers, the queue records the answer durably before it
 * forgets the job.
 */
#ifndef TERN_DJOB_H
#define TERN_DJOB_H

#include <stddef.h>

#include "ipc.h"

enum djob_status { DJOB_OK, DJOB_DEFER, DJOB_FAIL };

#define DJOB_RELAY_MAX 16

/* One place routing.conf sends a remote job, with its own login. */
struct djob_relay {
	const char *hosts;      /* "host:port ..." in order */
	const char *user, *password;    /* NULL: no login */
	const char *tls;        /* none|optional|require|verify; NULL: the
	                         * agent's smtp_out_tls */
};

struct djob_rcpt {
	const char *addr;
	const char *notify;     /* NULL when not given */
	const char *orcpt;      /* NULL when not given */
	/* filled by the agent */
	enum djob_status status;
	char *text;             /* malloc'd diagnostic */
	char *queued;           /* malloc'd queue id, or NULL */
};

struct djob {
	const char *id;
	const char *path;
	long long offset;
	const char *sender;     /* "" for the null sender */
	long long attempt;
	const char *envid, *ret, *body, *smtputf8;   /* NULL when absent */
	/* Remote jobs routed by routing.conf (none: by MX). */
	struct djob_relay relays[DJOB_RELAY_MAX];
	size_t nrelays;
	struct djob_rcpt *rcpts;
	size_t nrcpts;
};

/* Encode a job as a "deliver" frame (caller frees). */
struct ipc_msg *djob_encode(const struct djob *j);
/*
 * Decode a "deliver" frame.  The strings point into m, which must outlive
 * *j; j->rcpts is malloc'd (djob_release frees it and the agent's texts).
 * 0, or -1 with *error_r for a malformed frame.
 */
int djob_decode(const struct ipc_msg *m, struct djob *j,
    const char **error_r);
void djob_release(struct djob *j);

/* Set recipient i's outcome (text printf-style). */
void djob_set(struct djob *j, size_t i, enum djob_status st,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The agent's "result" frame for j (caller frees). */
struct ipc_msg *djob_result_encode(const struct djob *j);
/* Read a "result" frame into j's recipients (same count and order). */
int djob_result_decode(const struct ipc_msg *m, struct djob *j,
    const char **error_r);

const char *djob_status_name(enum djob_status s);

#endif
