/*
 * smtpd.h - what every part of smtpd shares: the settings read from
 * tern.conf (settings.c), and the process-wide objects main.c opens.
 * Session state lives in session.h.
 */
#ifndef TERN_SMTPD_SMTPD_H
#define TERN_SMTPD_SMTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "hostnames.h"

struct policy;
struct spool;
struct evdns_base;
struct accounts;

/* SASL mechanisms, as bits of smtpd_settings.mechs. */
#define MECH_PLAIN 1u
#define MECH_LOGIN 2u
#define MECH_CRAM  4u

struct smtpd_settings {
	bool submission;             /* -s: login required before MAIL */
	/* Longest line content accepted (CRLF not counted): the RFC
	 * limits from the keys plus smtp_line_tolerance. */
	size_t cmd_max;
	size_t text_max;
	unsigned long long max_size; /* smtp_max_message_size, 0 = none */
	unsigned max_hops;
	unsigned max_bad_cmds;
	unsigned max_bad_rcpts;      /* 0 = unlimited */
	unsigned max_rcpts;
	unsigned max_conn;           /* smtp_max_connections, 0 = unlimited */
	unsigned max_conn_share;     /* this worker's share, when alone */
	struct timeval session_timeout;
	struct timeval command_timeout;
	int auth_timeout_ms;
	bool vrfy, expn;
	bool auth_without_tls;
	bool received_auth_user;
	bool reverse_dns;
	bool bare_reject;            /* bare CR/LF in data: refuse */
	unsigned mechs;              /* MECH_* offered */
	struct hostnames names;      /* hostname and hostnames */
	char *auth_sock;             /* state_dir/auth.sock */
	char *queue_sock;            /* state_dir/queue.sock */
	char *maps_dir;              /* state_dir/maps (EXPN) */
};

extern struct smtpd_settings smtpd;
extern struct policy *smtpd_policy;
extern struct spool *smtpd_spool;
extern struct evdns_base *smtpd_dns;      /* NULL unless reverse_dns */
/* Sessions of every smtpd process (state_dir/smtp.conns); NULL: this
 * worker counts alone and takes its share of the limit. */
extern struct connslots *smtpd_conns;

/* (Re)read the settings from the loaded tern.conf. */
void settings_load(bool submission);
void settings_free(void);

/* EXPN's view of the account maps (opened on first use). */
struct accounts *smtpd_accounts(void);
void smtpd_accounts_reopen(void);
void smtpd_accounts_close(void);

#endif
