/*
 * imapd.h - what imapd's files share: the session, the settings, and each
 * command file's entry points.  See main.c for the overview.
 */
#ifndef TERN_IMAPD_H
#define TERN_IMAPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "accounts.h"
#include "buf.h"
#include "imap_index.h"
#include "imap_parser.h"

enum imap_state { ST_NOAUTH, ST_AUTH, ST_SELECTED, ST_LOGOUT };

/* What a session waits for, if anything, before reading on. */
enum imap_wait {
	W_NONE,
	W_AUTH,         /* the auth daemon's answer */
	W_SASL,         /* an AUTHENTICATE continuation line */
	W_DELAY,        /* the pause after a failed login */
	W_IDLE,         /* IDLE, until DONE */
	W_OUTPUT,       /* a FETCH waits for its answer to drain */
	W_CLOSING,      /* output is flushing, then the session ends */
};

struct imapd_settings {
	size_t max_line, max_literal;
	long long command_timeout_ms, idle_timeout_ms;
	unsigned max_bad;
	unsigned max_conn;          /* imap_max_connections; 0 = no limit */
	unsigned max_conn_share;    /* this worker's share, when alone */
	bool idle, plaintext_without_tls, plaintext_loopback;
	int auth_timeout_ms;
	char *auth_sock;
	char *hostname;
};
extern struct imapd_settings imapd;
extern struct accounts *imapd_accounts;
/* Sessions of every imapd process (state_dir/imap.conns); NULL: alone. */
extern struct connslots *imapd_conns;

struct sasl_state;

struct fetch_run;

struct session {
	struct session *next, *prev;
	struct bufferevent *bev;
	struct imap_parser *parser;
	char id[20];
	char ip[64];
	enum imap_state state;
	enum imap_wait wait;
	bool tls, loopback, starttls_done, condstore;
	unsigned kw_announced;      /* keywords in our last FLAGS list */
	unsigned bad;
	struct event *timer;
	struct auth_query *aq;
	char *tag;                  /* the command in progress (async) */
	struct sasl_state *sasl;
	/* after login */
	char *user;                 /* canonical local@domain */
	char *home;                 /* the maildir (INBOX) */
	char *ddir;                 /* the domain's folder */
	unsigned long long quota;   /* bytes, 0 = none */
	/* the selected folder */
	struct imap_mbox *mb;
	char *mbname;
	bool readonly;
	struct mcache *mcache;      /* msgcache.c; NULL when empty */
	/* IDLE */
	int ino_fd;
	struct event *ino_ev;
	/* a FETCH under way (W_OUTPUT), cmd_fetch.c */
	struct fetch_run *fetch;
};

/* A command: name, handler, states it is legal in, flags. */
struct imap_cmd {
	const char *name;
	void (*fn)(struct session *s, const char *tag, struct imap_arg *args,
	    size_t n, bool uid);
	unsigned states;
	unsigned flags;
};
#define CMD_UID      0x01u    /* may follow "UID" */
#define CMD_NOEXPUNGE 0x02u   /* no EXPUNGE responses afterwards (7.4.1) */
#define BIT(x) (1u << (x))

/* session.c */
void session_accept(evutil_socket_t fd, const struct sockaddr *sa,
    socklen_t salen, const char *tls);
void session_free_all(void);
void session_rebind(struct session *s);
void session_drain_all(void);
void out(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void out_raw(struct session *s, const void *p, size_t n);
void out_string(struct session *s, const char *p, size_t n);
void tagged(struct session *s, const char *tag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void session_bad(struct session *s, const char *tag, const char *why);
void session_resume(struct session *s);
void session_close(struct session *s, const char *bye);
void session_enter(struct session *s, enum imap_state st);
void session_update(struct session *s, bool expunges);
const char *session_capability(const struct session *s);
bool session_plaintext_ok(const struct session *s);
void session_timer(struct session *s, long long ms);
/* Park s (W_OUTPUT) until its output is down to low bytes; then
 * fetch_continue() runs.  session_output_done() unparks. */
void session_wait_output(struct session *s, size_t low);
void session_output_done(struct session *s);

/* cmd_auth.c */
void cmd_capability(struct session *, const char *, struct imap_arg *,
    size_t, bool);
void cmd_noop(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void cmd_logout(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void cmd_starttls(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void cmd_login(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void cmd_authenticate(struct session *, const char *, struct imap_arg *,
    size_t, bool);
void sasl_line(struct session *s, const char *line, size_t len);
void sasl_free(struct session *s);
void cmd_id(struct session *, const char *, struct imap_arg *, size_t, bool);
void cmd_enable(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void cmd_namespace(struct session *, const char *, struct imap_arg *, size_t,
    bool);

/* folders.c: names and directories */
char *folder_dir(struct session *s, const char *name, const char **err_r);
const char *folder_arg(const struct imap_arg *a);
char *folder_dir_or_no(struct session *s, const char *tag, const char *name);
bool folder_exists(const char *dir);
bool folder_is_inbox(const char *name);
void folders_init_user(struct session *s);
void out_mailbox(struct session *s, const char *name);
const char *folder_special_use(const char *name);
char **folder_names(struct session *s, size_t *n_r);
void folder_names_free(char **v, size_t n);
bool folder_match(const char *pat, const char *name);
char **subs_read(struct session *s, size_t *n_r);
int subs_write(struct session *s, char **v, size_t n);

/* cmd_mailbox.c */
void cmd_create(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void cmd_delete(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void cmd_rename(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void cmd_subscribe(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void cmd_unsubscribe(struct session *, const char *, struct imap_arg *,
    size_t, bool);

/* cmd_list.c */
void cmd_list(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void cmd_lsub(struct session *, const char *, struct imap_arg *, size_t,
    bool);

/* cmd_status.c */
void cmd_status(struct session *, const char *, struct imap_arg *, size_t,
    bool);
bool status_items_ok(const struct imap_arg *items);
int status_send(struct session *s, const char *name, const char *dir,
    const struct imap_arg *items);

/* cmd_select.c */
void cmd_select(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void cmd_close(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void cmd_unselect(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void cmd_check(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void cmd_expunge(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void session_unselect(struct session *s);
int expunge_deleted(struct session *s, const struct imap_seqset *uids);

/* flags.c */
void out_flags(struct session *s, const struct imap_msg *m);
/* "* FLAGS (...)" and "* OK [PERMANENTFLAGS (...)]" for the folder. */
void out_flag_lists(struct session *s);
/* Both lists again if the folder's keywords grew since we sent them. */
void flags_announce(struct session *s);
#define FLAGS_BAD   (-1)        /* malformed: BAD */
#define FLAGS_FULL  (-2)        /* no room for a new keyword: NO [LIMIT] */
#define FLAGS_IOERR (-3)        /* tern-keywords unwritable */
/* A flag or (flag list) into bits; keywords looked up in kw (dir's),
 * added to it when create.  0 or FLAGS_*. */
int parse_flag_list(const struct imap_arg *a, uint32_t *flags_r,
    struct imap_keywords *kw, const char *dir, bool create);
/* flags as bits of folder to_dir's keywords (added there as needed). */
uint32_t flags_for_folder(uint32_t flags, const struct imap_keywords *from,
    struct imap_keywords *to, const char *to_dir);

/* cmd_append.c */
void cmd_append(struct session *, const char *, struct imap_arg *, size_t,
    bool);

/* message.c: one message in memory, CRLF line ends */
struct message {
	struct buf data;        /* the message (or its header), CRLF */
	size_t hdr_len;         /* the header with its blank line */
	bool whole;             /* data is the whole message */
};
/* Read message i; header_only: stop after the header's blank line (a
 * message without one is read whole).  0 or -1. */
int message_load(struct session *s, uint32_t i, struct message *m,
    bool header_only);
void message_release(struct message *m);
uint32_t message_size(struct session *s, uint32_t i);
time_t message_date(struct session *s, uint32_t i);
/* The unfolded value of the first field `name` in h, malloc'd or NULL. */
char *header_get(const char *h, size_t hlen, const char *name);
int seqset_arg(struct session *s, const char *tag, const struct imap_arg *a,
    bool uid, struct imap_seqset *set);
bool msg_in_set(struct session *s, const struct imap_seqset *set,
    uint32_t i, bool uid);

/*
 * msgcache.c: a few messages' ENVELOPE/BODY/BODYSTRUCTURE strings, by UID.
 * mcache_get: the value (valid until the next mcache_* call) or NULL.
 * mcache_put copies v; it may decline (too big).  mcache_prune forgets
 * UIDs no longer in the view; mcache_drop forgets everything.
 */
enum mcache_item { MC_ENVELOPE, MC_BODY, MC_BODYSTRUCTURE, MC_ITEMS };
const char *mcache_get(struct session *s, uint32_t uid, enum mcache_item it,
    size_t *len_r);
void mcache_put(struct session *s, uint32_t uid, enum mcache_item it,
    const char *v, size_t len);
void mcache_prune(struct session *s);
void mcache_drop(struct session *s);

/* cmd_fetch.c, cmd_store.c, cmd_search.c, cmd_idle.c, cmd_quota.c */
void cmd_fetch(struct session *, const char *, struct imap_arg *, size_t,
    bool);
/* W_OUTPUT: the answer drained; go on with the FETCH. */
void fetch_continue(struct session *s);
void fetch_run_free(struct session *s);
void cmd_store(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void cmd_copy(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void cmd_move(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void cmd_search(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void cmd_idle(struct session *, const char *, struct imap_arg *, size_t,
    bool);
void idle_line(struct session *s, const char *line, size_t len);
void idle_stop(struct session *s);
void cmd_getquotaroot(struct session *, const char *, struct imap_arg *,
    size_t, bool);
void cmd_getquota(struct session *, const char *, struct imap_arg *, size_t,
    bool);

#endif
