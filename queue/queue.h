/*
 * queue - the queue manager's shared state and the calls between its
 * files.  See main.c for what the daemon does and queue(8) for the
 * record format and the promises.
 *
 *   msg.c      messages in memory: load (take) from the spool, routes,
 *              priorities, the id hash, free
 *   sched.c    who goes next: timer heap, ready heaps by priority,
 *              per-domain caps, the dispatch loop
 *   agent.c    delivery agents: connection pools, jobs, results
 *   outcome.c  what a result means: record lines, retries, bounces,
 *              and settling a message (reschedule, evict, remove)
 *   store.c    the record on disk: batched appends and fsyncs, removal,
 *              damaged files, eviction marks
 *   scan.c     the incremental spool scan
 *   ctl.c      queue.sock: smtpd's "new" and adminctl's spool commands
 *   cmd.c      spool_new_mail_command
 *   throttle.c the sending domains' hourly limits
 *   route.c    routing.conf: gateways and forwarded domains
 *   heap.c     the binary heap the scheduler uses
 */
#ifndef TERN_QUEUE_H
#define TERN_QUEUE_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "djob.h"
#include "log.h"
#include "queue_rec.h"
#include "spool.h"

#define QLOG LOG_DELIVERY
#define NO_DU UINT32_MAX

struct accounts;
struct qmsg;
struct qjob;
struct rdom;

/* --- heap.c --- */

struct qdu;
typedef bool heap_less_fn(const struct qdu *a, const struct qdu *b);
struct heap {
	struct qdu **a;
	size_t n, cap;
	heap_less_fn *less;
};
void heap_init(struct heap *h, heap_less_fn *less);
void heap_release(struct heap *h);
void heap_push(struct heap *h, struct qdu *d);
struct qdu *heap_top(const struct heap *h);
struct qdu *heap_pop(struct heap *h);
void heap_remove(struct heap *h, struct qdu *d);

/* --- messages --- */

struct qrcpt {
	/* in the message's strs block (one allocation for them all) */
	const char *addr, *notify, *orcpt;
	uint32_t du;                /* which delivery unit; NO_DU when done */
	enum qrec_state state;
	bool inflight;              /* in a job right now */
	bool bounced;               /* a report covers it (failed/success) */
	bool warned;                /* a delay warning went out */
	unsigned attempts;
	long long last;             /* unix s of the last attempt */
	long long next_ms;          /* when it is due (ms) */
	char *text;                 /* last diagnostic */
};

enum du_where { DU_IDLE, DU_TIMER, DU_READY, DU_BLOCKED, DU_RUNNING };

/* A delivery unit: the recipients of one message that go the same way
 * (all local ones; the remote ones of one domain).  One job at most. */
struct qdu {
	struct qmsg *m;
	struct rdom *dom;           /* NULL: local delivery */
	uint32_t *ri;               /* recipient indexes */
	uint32_t n;
	enum du_where where;
	size_t hidx;                /* position in its heap */
	long long due;              /* ms */
	int prio;                   /* effective, while ready or blocked */
	unsigned long long seq;     /* FIFO among equals */
	struct qjob *job;
};

struct qmsg {
	struct qmsg *hnext;         /* id hash chain */
	struct qmsg *fnext;         /* flush or removal list */
	struct qmsg *cnext;         /* waiting for the new-mail command */
	char id[SPOOL_ID_LEN + 1];
	unsigned sub;
	char *path;                 /* spool_dir/<sub>/cur/<id> */
	long long arrival;          /* unix s (envelope time) */
	off_t body_off;
	long long size;
	char *sender, *envid, *ret, *body, *smtputf8;
	struct qrcpt *r;
	char *strs;                 /* every recipient's strings */
	uint32_t nr;
	struct qdu *du;
	uint32_t ndu;
	uint32_t njobs;             /* jobs out with agents */
	int prio_base;              /* from the envelope and domain.conf */
	int prio_admin;             /* "p" line; 0 = none */
	int prio_second, prio_third; /* sender domain's; 0 = not set */
	bool has_rec;               /* <id>.rec exists on disk */
	bool rec_truncate;          /* a torn tail to cut before appending */
	size_t rec_clean_len;
	bool in_flush;
	bool removing;
	bool cmd_waiting, cmd_running;
	bool bounce_retry;          /* a bounce failed; try again later */
	bool write_retry;           /* the record write failed; retrying */
	bool throttle_counted;      /* counted against its domain's hour */
	bool held;                  /* adminctl spool hold: no new jobs */
	struct buf recq;            /* record lines not yet written */
};

/* --- the daemon's state --- */

struct queue {
	struct event_base *base;
	struct spool *spool;
	const char *spool_dir;
	unsigned nsub;
	char *state_dir;
	struct accounts *acct;
	char *hostname;
	/* configuration (re-read on SIGHUP) */
	long long delay_ms;
	long long *retry_ms;
	size_t nretry;
	long long scan_ms;
	unsigned active_max;
	unsigned local_max, remote_max, dom_max;
	long long job_timeout_ms;
	unsigned dns_bounce;
	long long delay_warn_ms;    /* spool_delay_warning; 0 = never */
	char **cmd_argv;            /* NULL: no new-mail command */
	long long cmd_timeout_ms;
	/* state */
	bool stopped;               /* adminctl spool stop */
	bool draining;
	bool exiting;               /* past the skeleton's loop: waiting */
	bool backlog;               /* messages wait on disk for room */
	unsigned nmsgs;
	unsigned long long seq;
	long long force_all;        /* ms of the last "force --all" */
	long long reset_all;        /* ms of the last reset of every message */
};

extern struct queue Q;

long long now_ms(void);
long long now_s(void);

/* main.c */
void queue_config(void);
void queue_drained_check(void);

/* msg.c */
void msg_init(void);
void msg_exit(void);
struct qmsg *msg_find(const char *id);
/*
 * Take message id of subspool sub into memory (renaming it from new/ to
 * cur/ first when from_new).  Unless force, only while fewer than
 * queue_active_max messages are in memory.  1 taken, 0 not (there
 * already, gone, no room: *full_r), -1 damaged (moved aside).
 */
int msg_take(unsigned sub, const char *id, bool from_new, bool force,
    bool *full_r);
void msg_free(struct qmsg *m);
bool msg_finished(const struct qmsg *m);
int msg_prio(const struct qmsg *m, const struct qdu *du);
unsigned msg_attempts(const struct qmsg *m);
long long msg_next_ms(const struct qmsg *m);
void msg_foreach(void (*fn)(struct qmsg *m, void *arg), void *arg);
/* Route of recipients: reopen maps (SIGHUP). */
void msg_reload(void);

/* sched.c */
void sched_init(void);
void sched_exit(void);
void sched_msg(struct qmsg *m);
void sched_unlink(struct qdu *d);
void sched_kick(void);
void sched_job_done(struct qdu *d);
struct rdom *rdom_get(const char *domain);
void rdom_put(struct rdom **rp);
const char *rdom_name(const struct rdom *r);

/* agent.c */
void agent_init(void);
void agent_exit(void);
void agent_config(void);
/* Room for one more job of this kind now? */
bool agent_can_start(bool remote);
/* Start a job for du's due recipients: 0 started (or settled at once),
 * -1 the agent is not reachable (du untouched). */
int agent_start(struct qdu *d);
unsigned agent_busy(void);
long long agent_retry_ms(void);

/* outcome.c */
void outcome_rcpt(struct qmsg *m, uint32_t i, enum djob_status st,
    const char *text);
void outcome_drop(struct qmsg *m, uint32_t i, const char *why);
void outcome_settle(struct qmsg *m);
bool outcome_needs_bounce(const struct qmsg *m);
/* Not due for longer than a scan interval, nothing running: may wait on
 * disk instead of in memory. */
bool outcome_evictable(const struct qmsg *m);
void outcome_init(void);
void outcome_exit(void);

/* store.c */
void store_init(void);
void store_exit(void);
/* m has record lines or a state change: write and settle it soon. */
void store_touch(struct qmsg *m);
/* Remove m from the spool (file first, record second) and memory. */
void store_remove(struct qmsg *m);
/* Forget m until a scan finds it due (its record's mtime says when). */
void store_evict(struct qmsg *m);
/* Move a damaged message (and its record) to spool_dir/damaged/. */
void store_damaged(unsigned sub, const char *id, const char *why);

/* scan.c */
void scan_init(void);
void scan_exit(void);
void scan_start(void);
/* A message left memory: the scan may take more. */
void scan_room(void);
/* A message was put aside on disk until next (unix s). */
void scan_put_aside(long long next);

/* ctl.c */
void ctl_init(void);
void ctl_exit(void);
void ctl_client(evutil_socket_t fd);
void ctl_close_all(void);
void ctl_load_state(void);

/* route.c */
void route_config(void);
void route_exit(void);
/* dj's relay groups for d (0: by MX); *via_r names the route for logs.
 * route_release frees what it made, once the job is encoded. */
size_t route_fill(const struct qdu *d, struct djob *dj, const char **via_r);
void route_release(struct djob *dj);

/* throttle.c */
void qthrottle_init(void);
void qthrottle_exit(void);
/* 0 when m may go out now, else when its domain's hour is over (ms). */
long long qthrottle_hold(const struct qmsg *m);
/* m goes out: count it once against its sender's domain. */
void qthrottle_charge(struct qmsg *m);
/* A null-sender message reached local recipient rcpt: count a bounce
 * against rcpt's domain. */
void qthrottle_bounce(const struct qmsg *m, const char *rcpt);

/* cmd.c */
void cmd_init(void);
void cmd_exit(void);
void cmd_start(struct qmsg *m);
void cmd_forget(struct qmsg *m);

#endif
