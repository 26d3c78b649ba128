/*
 * session - one POP3 connection: its state machine, the command table,
 * replies, limits and timeouts (session.c), and what the command files
 * (cmd_*.c) share about it.
 *
 * States (RFC 1939 section 3): AUTHORIZATION until a login opens the
 * maildrop, then TRANSACTION; QUIT there enters UPDATE, where the marked
 * messages are removed; then the connection closes.  A session that
 * waits for something (the TLS handshake, the auth daemon, the delay
 * after a failed login, a client slow to read a long answer) is
 * "parked": it takes no new command until the wait is over, then goes on
 * with whatever input is buffered (PIPELINING).
 */
#ifndef TERN_POP3D_SESSION_H
#define TERN_POP3D_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/time.h>

enum pop3_state {
	ST_AUTH,        /* AUTHORIZATION: USER, PASS, AUTH, STLS, CAPA */
	ST_SASL,        /* AUTH PLAIN: waiting for the client's response */
	ST_TRANS,       /* TRANSACTION: the maildrop is ours */
	ST_UPDATE,      /* after QUIT: removing the deleted messages */
	ST_QUIT,        /* no more input: flush the replies and close */
	ST_NSTATES
};

enum pop3_wait {
	WAIT_NONE,
	WAIT_TLS,       /* TLS handshake (implicit or STLS) */
	WAIT_AUTH,      /* auth daemon */
	WAIT_DELAY,     /* the pause after a failed login */
	WAIT_OUTPUT,    /* a long answer or many replies unread */
};

struct bufferevent;
struct evbuffer;
struct event;
struct linebuf;
struct maildrop;
struct auth_query;
struct session;

/*
 * A multi-line answer written a piece at a time (RETR, TOP, LIST, UIDL),
 * so neither a large message nor a long list is ever held in memory:
 * fill() adds to out until it is past POP3_OUT_HIGH or the answer is
 * complete (returns true, the terminating ".CRLF" written); the session
 * calls it again when the client has read enough.  done() frees the
 * stream, also when the session ends half way (complete false).
 */
struct stream {
	bool (*fill)(struct session *s, struct stream *st,
	    struct evbuffer *out);
	void (*done)(struct session *s, struct stream *st, bool complete);
};

#define SESSION_ID_LEN 16
#define SESSION_IP_MAX 64

struct session {
	LIST_ENTRY(session) entry;     /* every session of the process */
	char id[SESSION_ID_LEN + 1];
	char ip[SESSION_IP_MAX];       /* client address as text */
	struct bufferevent *bev;
	struct linebuf *lb;
	struct event *kick;            /* resume soon, or after a delay */
	enum pop3_state state;
	enum pop3_wait wait;
	bool loopback;                 /* client on 127.0.0.0/8 or ::1 */
	bool tls;                      /* TLS is up */
	bool starttls_ok;              /* a tls = starttls listener */
	bool started;                  /* greeted (or refused) */
	bool partial;                  /* part of a line is buffered */
	bool closing;                  /* ST_QUIT: waiting for the flush */
	bool fail_pending;             /* WAIT_DELAY: the -ERR to send */
	unsigned bad_cmds;
	struct timeval close_by;       /* ST_QUIT: stop waiting for flush */
	char *user;                    /* USER argument, until PASS */
	char *login;                   /* canonical user once logged in */
	struct auth_query *auth_q;
	struct maildrop *md;           /* ST_TRANS, ST_UPDATE */
	struct stream *stream;         /* a multi-line answer in progress */
	/* For the log line at the end. */
	unsigned long long retr_msgs, retr_bytes;
	unsigned deleted;
};

/* --- session.c ----------------------------------------------------- */

/* A new connection (the on_client hook). */
void session_accept(int fd, const struct sockaddr *sa, socklen_t salen,
    const char *listener_tls);
/* Drain: sessions not logged in are told so and closed; the others
 * finish (master_drain_timeout at most). */
void session_drain_all(void);
/* Exit: free every session left, deleting nothing. */
void session_free_all(void);

void session_set_state(struct session *s, enum pop3_state st);
/* Read and write through bev from now on (STLS's new layer). */
void session_set_bev(struct session *s, struct bufferevent *bev);
/* Park s until session_resume(). */
void session_park(struct session *s, enum pop3_wait w);
/* The wait is over: go on with buffered input, from a fresh stack. */
void session_resume(struct session *s);
/* Resume after ms milliseconds instead (parked in WAIT_DELAY). */
void session_resume_after(struct session *s, long ms);
/* Stop reading; close once the replies are sent. */
void session_close(struct session *s);
/* Start a multi-line answer; the session takes no command until it is
 * complete.  st is the caller's, freed through st->done. */
void session_stream(struct session *s, struct stream *st);

/* "+OK text" and "-ERR text" ("-ERR [CODE] text" by the caller). */
void reply_ok(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void reply_err(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A refused command that counts against pop_max_bad_commands: -ERR, and
 * at the limit a last -ERR and the end of the session. */
void reply_bad(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* One raw line of a multi-line answer; CRLF added. */
void reply_line(struct session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* --- the commands (cmd_*.c) --------------------------------------- */

/* args: the text after the verb and its blanks ("" if none), trailing
 * blanks cut, NUL-terminated, len bytes. */
typedef void cmd_fn(struct session *s, const char *args, size_t len);

cmd_fn cmd_capa, cmd_stls, cmd_noop, cmd_quit, cmd_rset,      /* misc */
    cmd_user, cmd_pass, cmd_auth,                             /* auth */
    cmd_stat, cmd_list, cmd_uidl, cmd_dele,                   /* list */
    cmd_retr, cmd_top;                                        /* retr */

/* cmd_auth.c: a SASL response line in ST_SASL; forget a login in
 * progress (session end, STLS). */
void auth_line(struct session *s, const char *line, size_t len);
void auth_abort(struct session *s);
/* Passwords may be sent on this connection (USER, SASL PLAIN). */
bool auth_plain_ok(const struct session *s);
/* The delay after a failed login is over: send its -ERR. */
void auth_fail_reply(struct session *s);

/* cmd_misc.c: STLS may be offered now. */
bool stls_offered(const struct session *s);
/* UPDATE: one batch of removals; the +OK and the close at the end. */
void update_step(struct session *s);

/* cmd_list.c: "n" of a command argument: 1..count and not deleted.
 * Replies itself and returns 0 when it is not. */
unsigned msg_arg(struct session *s, const char *arg, size_t len,
    bool allow_deleted);

#endif
