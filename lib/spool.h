/*
 * spool - the durable queue smtpd writes and the queue manager reads.
 *
 * Layout: spool_dir/<n>/{tmp,new,cur} for n in 0 .. spool_subspools-1,
 * so no directory grows without bound.  A message is one file named by
 * its queue id: written in <n>/tmp, made durable, renamed into <n>/new,
 * and <n>/new made durable, before anyone is told it was accepted.  The
 * file is never modified after that (per-recipient progress lives beside
 * it, owned by the queue manager).
 *
 * File format (version 1), all lines LF-terminated:
 *
 *   TERN-SPOOL 1
 *   id <queue id>
 *   time <unix seconds when accepted>
 *   sender <address or empty for the null sender>
 *   rcpt <address> [notify=<NEVER|SUCCESS,FAILURE,DELAY>] [orcpt=<xtext>]
 *   ...                   (one rcpt line per recipient)
 *   param <name>=<value>  (envelope facts: envid, ret, body, smtputf8,
 *   ...                    client, helo, auth, priority, size ...)
 *   <empty line>
 *   <the message, as received after dot-unstuffing, CRLF line ends>
 *
 * An address that is not one token (a quoted local part with blanks)
 * is written as "senderx" or "rcptx" with the address in xtext (RFC
 * 3461: '+', '=' and bytes outside 0x21-0x7e as "+XX"); readers give
 * back the address itself.  Other values are validated by the writer's
 * caller and never hold white space or control characters; the writer
 * refuses them, and line breaks anywhere.
 */
#ifndef TERN_SPOOL_H
#define TERN_SPOOL_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define SPOOL_MAGIC "TERN-SPOOL 1"
#define SPOOL_ID_LEN 22

struct spool_rcpt {
	char *addr;
	char *notify;      /* NULL: not given */
	char *orcpt;       /* NULL: not given */
};

struct spool_param {
	char *name;
	char *value;
};

struct spool_envelope {
	char id[SPOOL_ID_LEN + 1];
	long long time;
	char *sender;                /* "" for <> */
	struct spool_rcpt *rcpts;
	size_t nrcpts;
	struct spool_param *params;
	size_t nparams;
};

/* Envelope building; strings are copied. */
void spool_env_init(struct spool_envelope *e);
void spool_env_release(struct spool_envelope *e);
void spool_env_set_sender(struct spool_envelope *e, const char *sender);
void spool_env_add_rcpt(struct spool_envelope *e, const char *addr,
    const char *notify, const char *orcpt);
void spool_env_set_param(struct spool_envelope *e, const char *name,
    const char *value);
const char *spool_env_param(const struct spool_envelope *e,
    const char *name);

struct spool;
struct spool_file;

/*
 * Open the spool at dir with n subspools, creating what is missing.
 * NULL + *error_r (malloc'd) when a directory cannot be made.
 */
struct spool *spool_open(const char *dir, unsigned subspools,
    char **error_r);
void spool_close(struct spool **sp);
const char *spool_dir(const struct spool *s);
unsigned spool_subspools(const struct spool *s);

/* A fresh queue id: 22 upper-case hex digits, unique across processes. */
void spool_new_id(char id[SPOOL_ID_LEN + 1]);
/* Which subspool a queue id lives in. */
unsigned spool_subspool_of(const struct spool *s, const char *id);

/*
 * Start a message: a new id goes into e->id, the file is created in
 * <n>/tmp and the envelope written.  NULL + *error_r (static text,
 * "disk full" style) on failure; nothing is left behind.
 */
struct spool_file *spool_file_new(struct spool *s, struct spool_envelope *e,
    const char **error_r);
/* Append message bytes (buffered).  0, or -1 with errno set (ENOSPC...). */
int spool_file_write(struct spool_file *f, const void *data, size_t len);
const char *spool_file_id(const struct spool_file *f);
/* Bytes of message written so far. */
off_t spool_file_size(const struct spool_file *f);
/* Give up: the temp file is removed. */
void spool_file_abort(struct spool_file **fp);

/*
 * Make the message durable and visible: flush, fdatasync, rename into
 * <n>/new, fsync <n>/new.  Blocking; 0, or -1 with *error_r and the temp
 * file removed (nothing half-written stays).
 */
int spool_file_commit(struct spool_file **fp, const char **error_r);

/*
 * The same, in the background for an event-driven daemon: the commit runs
 * in the spool's committer thread, which groups the commits of sessions
 * that finish together (one fsync per directory per group).  cb runs in
 * base's loop once the message is durable (ok) or has failed (error set,
 * file removed).  The callback is always called, exactly once; it never
 * runs before spool_file_commit_async returns.  libevent threading must
 * be on (evthread_use_pthreads()) before base is created; server_main()
 * does this for every daemon.
 */
typedef void spool_commit_cb(bool ok, const char *error, void *arg);
void spool_file_commit_async(struct spool_file **fp, struct event_base *base,
    spool_commit_cb *cb, void *arg);

/*
 * Read the envelope of a committed message file.  On success 0, *e filled
 * (spool_env_release it) and *body_off_r the offset where the message
 * starts; -1 with *error_r (malloc'd) for a damaged file.
 */
int spool_read_envelope(const char *path, struct spool_envelope *e,
    off_t *body_off_r, char **error_r);

#endif
