/*
 * delivery.h - what the files of the local delivery agent share.
 *
 *   main.c      the daemon on the server skeleton
 *   settings.c  tern.conf keys, maps, spool; reopened on SIGHUP
 *   conn.c      connections from the queue: "deliver" in, "result" out
 *   job.c       one job: every recipient resolved, delivered, answered
 *   commit.c    the copies of a turn's jobs made durable together
 *   message.c   the message in the spool file: its headers, its bytes
 *   resolve.c   an address to mailboxes and forwarding targets
 *   local.c     one copy into one mailbox: quotas, Maildir++
 *   warn.c      quota warnings, once
 *   reply.c     auto-replies (lib/autoreply has the rules)
 *   forward.c   new messages into the spool (forwards, replies)
 *   remote.c, smtp_conn.c   the remote mode (-r): SMTP to other servers;
 *               see remote.h
 */
#ifndef TERN_DELIVERY_H
#define TERN_DELIVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "accounts.h"
#include "djob.h"
#include "hostnames.h"
#include "server.h"

struct addrpat;
struct event_base;
struct maildir_batch;
struct spool;
struct spool_envelope;

/* Expansion limits: nested aliases and forwards, and Delivered-To
 * headers looked at (a message with more is a loop anyway). */
#define DELIVERY_MAX_DEPTH 20
#define DELIVERY_MAX_DTO 100
/* Header section read from a message; what is beyond is body to us. */
#define DELIVERY_MAX_HEADER (256 * 1024)

/* Spam levels, in the order of domain.conf's *_exclusions keys. */
enum spam_level { SPAM_NONE, SPAM_LOW, SPAM_MEDIUM, SPAM_HIGH };

struct delivery_settings {
	char *maps_dir;                 /* state_dir/maps */
	char *queue_sock;               /* state_dir/queue.sock */
	struct hostnames names;         /* hostname and hostnames */
	char *postmaster;               /* postmaster, or postmaster@host */
	bool over_quota_bounce;         /* delivery_over_quota = bounce */
	bool disabled_bounce;           /* delivery_disabled = bounce */
	int warn_percent;               /* quota_warning_percent */
	struct addrpat *fwd_blacklist;  /* forwarding_blacklist */
	struct accounts *acct;
	struct spool *spool;
	bool remote;                    /* -r: the remote SMTP agent */
};

extern struct delivery_settings D;

/* settings.c */
int settings_init(void);
void settings_reload(void);
void settings_free(void);
/* Pick up a rebuild of the maps; false when the maps are unusable. */
bool settings_maps_fresh(void);

/* A local domain as a lookup found it; the name is our copy. */
struct ldomain {
	char *name;                     /* primary domain */
	const char *rec;                /* domains.cdb record */
	size_t reclen;
};
/* As lib/mailbox wants it. */
void ldomain_acct(const struct ldomain *d, struct acct_domain *a_r);

/* message.c: the message of a job. */
struct dmsg {
	const char *path;
	int fd;                         /* kept from dmsg_load for pread by
	                                 * each copy; -1: not a regular file */
	off_t offset;
	off_t size;                     /* bytes of message text; 0 unknown */
	char **dto;                     /* Delivered-To values, lower case */
	size_t ndto;
	char *subject, *msgid, *refs;   /* unfolded, or NULL */
	char *auto_submitted, *precedence;
	bool list;                      /* a List-* header */
	enum spam_level spam;
};
int dmsg_load(struct dmsg *m, const char *path, long long offset,
    char **error_r);
void dmsg_release(struct dmsg *m);
/* A new fd positioned at the start of the message; -1 + *error_r. */
int dmsg_open(const struct dmsg *m, char **error_r);
bool dmsg_delivered_to(const struct dmsg *m, const char *addr);

/* job.c: a job under way. */
struct job {
	struct djob *dj;
	struct dmsg msg;
	char **done;                    /* user keys given a copy */
	size_t ndone, capdone;
	time_t now;
	/* Mailbox copies made durable together at the end of the job
	 * (lib/maildir's batch); in_batch[i]: recipient i has one there. */
	struct maildir_batch *batch;
	bool *in_batch;
	size_t cur;                     /* the recipient being resolved */
	bool loaded;                    /* msg was read */
};
/* Every recipient of dj resolved and delivered; the mailbox copies wait
 * in batch, which the caller commits (commit.c) before job_finish.  dj
 * stays the caller's. */
struct job *job_start(struct djob *dj, struct maildir_batch *batch);
/* The results final (not_durable: why the batch failed, or NULL) and
 * logged; frees jb. */
void job_finish(struct job *jb, const char *not_durable);

/* commit.c: started jobs wait for one commit per event-loop turn; then
 * each is finished (job_finish) and done(arg) answers it. */
typedef void commit_done_fn(void *arg);
struct maildir_batch *commit_batch(void);
void commit_add(struct job *jb, commit_done_fn *done, void *arg);
/* Commit and answer what waits, now. */
void commit_flush(void);
void commit_exit(void);
bool job_done(const struct job *jb, const char *key);
void job_mark_done(struct job *jb, const char *key);

/* resolve.c: what one recipient of a job came to. */
struct xnode {
	char *addr;                     /* alias or user key on the way */
	int parent;                     /* index, -1 at the top */
};
struct xout {
	char *addr;                     /* to queue as a new recipient */
	int parent;                     /* node it hangs from, or -1 */
	bool remote;                    /* forwarding target elsewhere */
	enum djob_status st;            /* !remote: why it is requeued */
	char *text;
};
struct xrun {
	struct job *jb;
	size_t rcpt;                    /* index in the job */
	struct xnode *nodes;
	size_t nnodes, capnodes;
	struct xout *out;
	size_t nout, capout;
	char **reached;                 /* user keys that have the message */
	size_t nreached;
	size_t delivered;               /* = nreached */
	size_t hits;                    /* reached, counting repeats */
	size_t dropped;                 /* targets the blacklist dropped */
};
void resolve_rcpt(struct xrun *x, const char *addr);
void xrun_release(struct xrun *x);

/* local.c: one copy into key's mailbox; *text_r is malloc'd. */
enum djob_status local_deliver(struct job *jb, const struct ldomain *d,
    const char *local, const char *key, const char *urec, size_t ulen,
    char **text_r);
/* The mailbox directory of local in d and of d; malloc'd. */
char *local_mailbox(const struct ldomain *d, const char *local);

/* warn.c: quota warnings, at most once until usage drops again. */
void warn_user(struct job *jb, const struct ldomain *d, const char *key,
    const char *udir, long long used, long long quota, bool full);
void warn_domain(struct job *jb, const struct ldomain *d, const char *ddir,
    long long used, long long limit, bool full);
/* Usage went below the threshold: the next crossing warns again. */
void warn_rearm(const char *flag_path);

/* reply.c */
void reply_maybe(struct job *jb, const struct ldomain *d, const char *key,
    const char *urec, size_t ulen);

/* forward.c */
/*
 * Queue one new message: envelope e (rcpts, params; the sender is the
 * caller's), then prefix (CRLF header lines, may be NULL) and, when
 * src_fd >= 0, the bytes read from it.  The queue is told.  0 and
 * *qid_r (malloc'd), or -1 and a static *error_r.
 */
int forward_spool(struct spool_envelope *e, const char *prefix,
    size_t plen, int src_fd, char **qid_r, const char **error_r);
/* The copy for x's remote targets and requeued addresses. */
int forward_queue(struct xrun *x, char **qid_r, const char **error_r);


/* conn.c */
void conn_start(evutil_socket_t fd, const struct sockaddr *sa,
    socklen_t salen, const struct server_listener *l);
void conn_drain(void);
void conn_exit(void);

/* Domain record helpers. */
enum spam_level spam_level_parse(const char *s, size_t len);
int domain_exclusion(const struct ldomain *d, const char *key);

#endif
