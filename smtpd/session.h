/*
 * session - one SMTP connection: its state machine and timeouts
 * (session.c), the command table (command.c), replies and the limits they
 * count (reply.c), and what the command files (cmd_*.c), the data reader
 * (rx.c) and the message writer (message.c) share about it.
 *
 * States say which commands are legal; a session that waits for
 * something asynchronous (reverse DNS, the TLS handshake, the auth
 * daemon, the spool commit, a client that does not read its replies)
 * is "parked": it reads no input until the wait is over, then goes back
 * to whatever input is already buffered (PIPELINING).
 */
#ifndef TERN_SMTPD_SESSION_H
#define TERN_SMTPD_SESSION_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/queue.h>
#include <sys/time.h>

#include "policy.h"
#include "rx.h"
#include "spool.h"

enum smtp_state {
	ST_GREET,       /* greeted; EHLO or HELO needed */
	ST_READY,       /* EHLO/HELO done, no transaction */
	ST_MAIL,        /* MAIL accepted, no recipient yet */
	ST_RCPT,        /* at least one recipient accepted */
	ST_CHUNKING,    /* BDAT chunks received, not the LAST one */
	ST_DATA,        /* reading DATA up to CRLF.CRLF */
	ST_BDAT,        /* reading the bytes of one BDAT chunk */
	ST_AUTH,        /* reading SASL responses */
	ST_QUIT,        /* no more input: flush the replies and close */
	ST_NSTATES
};

enum smtp_wait {
	WAIT_NONE,
	WAIT_RDNS,      /* DATA/BDAT waits for the PTR lookup */
	WAIT_TLS,       /* STARTTLS handshake */
	WAIT_AUTH,      /* auth daemon */
	WAIT_COMMIT,    /* spool commit */
	WAIT_OUTPUT,    /* too many replies unread by the client */
	WAIT_MX,        /* RCPT: is the domain's MX a smart host primary? */
};

enum smtp_body { BODY_7BIT, BODY_8BITMIME, BODY_BINARYMIME };

/* One mail transaction, from MAIL to the end of the message. */
struct txn {
	struct spool_envelope env;   /* sender, recipients */
	struct policy_mail pm;       /* the policy's facts about MAIL */
	unsigned long long declared_size;   /* SIZE=, 0 if not given */
	unsigned long long max_size;        /* effective limit, 0 = none */
	enum smtp_body body;
	bool smtputf8;
	char *envid;                 /* ENVID= (xtext), or NULL */
	char *ret;                   /* RET= FULL|HDRS, or NULL */
	char qid[SPOOL_ID_LEN + 1];  /* once the file exists */
	struct rx rx;                /* the data reader */
	unsigned long long chunks;   /* BDAT chunks taken */
};

struct auth_xchg;
struct auth_query;
struct rdns_query;
struct mxaddrs_query;
struct rcpt_wait;
struct bufferevent;
struct event;
struct linebuf;
struct evbuffer;
struct evbuffer_cb_entry;

#define SESSION_ID_LEN 16

struct session {
	LIST_ENTRY(session) entry;          /* every session of the process */
	char id[SESSION_ID_LEN + 1];
	struct bufferevent *bev;
	struct linebuf *lb;
	struct event *kick;                 /* runs session_kick() soon */
	bool starttls_ok;                   /* a tls = starttls listener */
	enum smtp_state state;
	enum smtp_wait wait;
	struct policy_client client;        /* addr, tls, auth_user */
	char ip[64];                        /* client IP as text */
	char *rdns;                         /* verified PTR name, or NULL */
	char *name;                         /* ours, for greeting and EHLO */
	char *helo;                         /* EHLO/HELO argument */
	bool esmtp;                         /* EHLO, not HELO */
	char *tls_desc;                     /* "TLSv1.3 ... (256 bits)" */
	char *auth_user;
	unsigned bad_cmds;
	unsigned bad_rcpts;
	unsigned long long msgs;            /* messages accepted */
	bool started;                       /* session_start() ran */
	bool partial;                       /* part of a line is buffered */
	bool last_crlf;                     /* the last line ended in CRLF */
	int timeout_mode;                   /* session_timeouts() */
	struct timeval close_by;            /* ST_QUIT: give up flushing */
	bool commit_pending;                /* a commit callback will come */
	bool gone;                          /* ended while commit_pending */
	bool closing;                       /* ST_QUIT: waiting for flush */
	bool eof;                           /* the client sent all it will */
	struct evbuffer_cb_entry *under_cb; /* ST_QUIT under STARTTLS */
	bool in_txn;                        /* txn holds a MAIL */
	struct txn txn;
	/* BDAT chunk being read: bytes left, LAST given, reply owed at its
	 * end when the chunk is refused (code 0: chunk accepted). */
	unsigned long long bdat_left;
	unsigned long long bdat_size;
	bool bdat_last;
	enum smtp_state bdat_return;        /* state after a refused chunk */
	struct smtp_reply bdat_refusal;
	struct auth_xchg *ax;               /* SASL exchange (cmd_auth.c) */
	struct auth_query *auth_q;
	struct rdns_query *rdns_q;
	struct mxaddrs_query *mx_q;         /* WAIT_MX (cmd_rcpt.c) */
	struct rcpt_wait *rcpt_w;
};

/* --- session.c ----------------------------------------------------- */

/* A new connection (the on_client hook). */
void session_accept(int fd, const struct sockaddr *sa, socklen_t salen,
    const char *listener_tls);
/* Drain: idle sessions are told 421 and closed, the rest at their next
 * command outside a transaction. */
void session_drain_all(void);
/* Exit: free every session left (those with a commit in flight are
 * freed by its callback); true while any is left. */
void session_free_all(void);
bool session_any_left(void);
/* message.c's commit callback is done with s (frees it if gone). */
void session_commit_done(struct session *s);

void session_set_state(struct session *s, enum smtp_state st);
/* Read and write through bev from now on (STARTTLS's new layer). */
void session_set_bev(struct session *s, struct bufferevent *bev);
/* Park s until session_resume(). */
void session_park(struct session *s, enum smtp_wait w);
/* The wait is over: go on with buffered input, from a fresh stack. */
void session_resume(struct session *s);
/* Stop reading; close once the replies are sent. */
void session_close(struct session *s);

/* Send "code enh text".  enh may be NULL (greeting, 354, 334). */
void reply(struct session *s, int code, const char *enh, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));
/* One line of a multi-line reply: "code-text" or, when last, "code text". */
void reply_line(struct session *s, int code, bool last, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));
void reply_policy(struct session *s, const struct smtp_reply *r);
/*
 * A refused command that counts against smtp_max_bad_commands: reply,
 * and when the limit is reached add 421 and close.
 */
void reply_bad(struct session *s, int code, const char *enh,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A recipient refused by policy: reply r; 5xx ones count against
 * smtp_max_bad_recipients (421 and close at the limit). */
void reply_bad_rcpt(struct session *s, const struct smtp_reply *r);

/* Forget the transaction (aborting an unfinished message). */
void txn_reset(struct session *s);

/* command.c: run one command line (flags: LINE_F_*); a line too long. */
void command_run(struct session *s, const char *line, size_t len,
    unsigned flags);
void command_too_long(struct session *s);

/* --- the commands (cmd_*.c) --------------------------------------- */

/* args: the text after the verb and one space ("" if none), NUL-
 * terminated, len bytes (it may hold NULs only where a caller checks). */
typedef void cmd_fn(struct session *s, const char *args, size_t len);

cmd_fn cmd_ehlo, cmd_helo, cmd_mail, cmd_rcpt, cmd_data, cmd_bdat,
    cmd_auth, cmd_starttls, cmd_rset, cmd_noop, cmd_quit, cmd_help,
    cmd_vrfy, cmd_expn;

/* The greeting, once the session may speak (session.c). */
void session_greet(struct session *s);

/* cmd_auth.c: a SASL response line in ST_AUTH; abort on session end. */
void auth_line(struct session *s, const char *line, size_t len);
void auth_abort(struct session *s);
/* cmd_auth.c: AUTH may be offered now; and the EHLO keyword line. */
bool auth_offered(const struct session *s);
void auth_ehlo_line(struct session *s, bool last);

/* cmd_rcpt.c: a recipient parked for its MX check, freed. */
void rcpt_wait_free(struct rcpt_wait **wp);

/* cmd_starttls.c: STARTTLS may be offered now. */
bool starttls_offered(const struct session *s);

/* cmd_data.c: message bytes in ST_DATA or ST_BDAT; true when the input
 * is used up and more must come. */
bool data_input(struct session *s, struct evbuffer *in);

/*
 * message.c: open the spool file for the transaction (envelope, Received
 * header) and start the data reader; 0, or -1 (logged) when the spool
 * cannot take it.  message_end: the data is complete: refuse it or
 * commit it (parking s until the 250).
 */
int message_open(struct session *s, bool dot_mode, bool binary);
void message_end(struct session *s);

/* received.c: the Received header for the message being opened. */
int received_write(struct session *s, struct spool_file *f);

/*
 * params.c: split "FROM:<path> SIZE=10" (kw "FROM:") into the path and a
 * malloc'd copy of the parameters.  0, or -1 when kw or the path is
 * missing or the path is not followed by a space.
 */
int esmtp_split(const char *args, size_t len, const char *kw,
    const char **path_r, size_t *plen_r, char **params_r);
/* ESMTP parameters ("SIZE=10 BODY=8BITMIME"). */
struct esmtp_param {
	const char *name;         /* upper-cased copy in the caller's buffer */
	const char *value;        /* NULL when the parameter has no '=' */
};
/*
 * Split s (modified in place) into at most max parameters.  Returns the
 * count, or -1 for a malformed list (empty keyword, too many).
 */
int esmtp_params(char *s, struct esmtp_param *p, int max);
/* RFC 3461 xtext: printable ASCII, '+' followed by two upper-case hex
 * digits, no '='; UTF-8 too when utf8 (RFC 6533 utf-8-addr-xtext). */
bool esmtp_xtext_ok(const char *s, bool utf8);
/* True if s holds a byte >= 0x80. */
bool esmtp_has_8bit(const char *s, size_t len);

#endif
