/*
 * pop3d.h - what every part of pop3d shares: the settings read from
 * tern.conf (settings.c) and the account maps.  Session state lives in
 * session.h, the mailbox in maildrop.h.
 */
#ifndef TERN_POP3D_POP3D_H
#define TERN_POP3D_POP3D_H

#include <stdbool.h>
#include <sys/time.h>

/*
 * Longest command line (CRLF not counted).  RFC 2449 section 4 allows
 * 255 octets for a command; an AUTH response carries a whole base64
 * SASL message (up to SASL_MAX_DECODED decoded, 1368 encoded), so the
 * reader takes 2048 and refuses anything longer with -ERR.
 */
#define POP3_LINE_MAX 2048
/* A failed login is answered this much later, to slow password guessing
 * without holding up anyone else (a timer, not a sleep). */
#define POP3_FAIL_DELAY_MS 1000
/* Output a session may queue before it stops producing (a multi-line
 * answer) or reading commands, and the level at which it goes on. */
#define POP3_OUT_HIGH (256 * 1024)
#define POP3_OUT_LOW  (64 * 1024)
/* UPDATE state: files unlinked per turn of the event loop, so a session
 * deleting 100,000 messages does not stall the others. */
#define POP3_UPDATE_BATCH 512

struct accounts;

struct pop3d_settings {
	struct timeval timeout;      /* pop_command_timeout */
	unsigned max_bad;            /* pop_max_bad_commands */
	unsigned max_conn;           /* pop_max_connections; 0 = no limit */
	unsigned max_conn_share;     /* this worker's share, when alone */
	bool plain_without_tls;      /* pop_plaintext_without_tls */
	bool plain_loopback;         /* pop_plaintext_loopback */
	long long login_delay_s;     /* pop_login_delay; 0 = none */
	unsigned expire_days;        /* pop_expire_days; 0 = never */
	int auth_timeout_ms;         /* auth_timeout */
	char *auth_sock;             /* state_dir/auth.sock */
	char *maps_dir;              /* state_dir/maps */
};

extern struct pop3d_settings pop3d;
/* Sessions of every pop3d process (state_dir/pop3.conns); NULL: alone. */
extern struct connslots *pop3d_conns;

/* (Re)read the settings from the loaded tern.conf. */
void settings_load(void);
void settings_free(void);

/* The account maps (domains: each domain's folder_path).  Opened by
 * accounts_init(); NULL when they could not be (logged). */
int pop3d_accounts_init(void);
struct accounts *pop3d_accounts(void);
void pop3d_accounts_reopen(void);
void pop3d_accounts_close(void);

/*
 * Where the Maildir of the canonical user "local@domain" is, and its
 * domain's folder (lib/mailbox.h: the domain's folder_path, else
 * mail_dir/<domain>; the local part folded to lower case).  0 with both
 * malloc'd, or -1 with *error_r (static) when the domain is not ours.
 */
int pop3d_mailbox(const char *user, char **path_r, char **ddir_r,
    const char **error_r);

#endif
