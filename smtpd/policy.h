/*
 * policy - smtpd's decisions about who may send what to whom.
 *
 * The protocol code (session, commands) asks; this module answers with a
 * verdict and, when refusing, the SMTP reply to send.  It knows the
 * relay rules (smtp_relay and friends), the client address lists
 * (smtp_whitelist, smtp_blacklist, smtp_auth_bypass), blocked senders,
 * which addresses a logged-in user may send as, and the local recipients
 * (domains, users, aliases, catch-alls, list addresses, through
 * lib/accounts).  It never blocks: every lookup is a CDB probe.
 */
#ifndef TERN_SMTPD_POLICY_H
#define TERN_SMTPD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "addr.h"

/* A refusal or acceptance to send: "550 5.1.1 <text>". */
struct smtp_reply {
	int code;            /* 250, 452, 550 ... */
	char enh[16];        /* "5.1.1" */
	char text[256];      /* without code and enhanced code */
};

/* What the session knows about its client. */
struct policy_client {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	bool tls;
	bool submission;          /* a submission service: login required */
	const char *auth_user;    /* "local@domain" once logged in, or NULL */
};

/* Facts about the transaction that later checks need. */
struct policy_mail {
	bool sender_local_domain;   /* the sender's domain is hosted here */
	bool sender_local_user;     /* ... and the address exists */
	bool bypass;                /* client in smtp_auth_bypass */
	bool whitelisted;           /* client in smtp_whitelist */
	unsigned long long max_size;    /* smallest applicable limit, 0 = none */
	unsigned max_rcpts;             /* smallest applicable limit */
	char sender_domain[256];        /* primary name when local, else "" */
	unsigned long long size;        /* declared SIZE, 0 = none (quota) */
	bool sender_requires_auth;      /* local sender domain sets
	                                 * require_smtp_auth */
};

/* A recipient's resolution, for the envelope and for logs. */
struct policy_rcpt {
	bool local;
	char kind[16];            /* "user", "alias", "catchall", "list",
	                           * "postmaster", "remote", "forward",
	                           * "backup-mx" */
	bool ask_mx;              /* refused as a relay, unless the domain's
	                           * MX is a smart host primary: look it up
	                           * and ask policy_rcpt_backup_mx() */
};

struct policy;

/*
 * Load the lists from tern.conf and open the account maps.  NULL on a
 * bad list item ("smtp_whitelist: '10.0.0.1/33': prefix length out of
 * range (IPv4: 0-32)") or unreadable maps; *error_r is then a static
 * buffer, valid until the next policy_new().
 */
struct policy *policy_new(const char **error_r);
/* After SIGHUP (tern.conf already reloaded): lists re-read, maps
 * reopened.  A bad list is logged and every old setting stays. */
void policy_reload(struct policy *p);
void policy_free(struct policy **pp);

/* At connect: false + reply (554 5.7.1) for a blacklisted client. */
bool policy_connect(struct policy *p, const struct policy_client *c,
    struct smtp_reply *r);
/* True when the client counts as logged in (auth or smtp_auth_bypass). */
bool policy_authenticated(struct policy *p, const struct policy_client *c);

/*
 * MAIL FROM: sender (null_path for <>), declared SIZE (0 = none).
 * Checks blocked senders, that a logged-in user may use this address,
 * that a submission client logged in, the declared size against the
 * limits, and a disabled sender domain.  Fills *m for the RCPT checks.
 */
bool policy_mail_from(struct policy *p, const struct policy_client *c,
    const struct addr *sender, unsigned long long size,
    struct policy_mail *m, struct smtp_reply *r);

/*
 * RCPT TO: local recipients must exist (550 5.1.1), their domain must not
 * be disabled, mailboxes over quota get 452/552 per smtp_over_quota;
 * other domains need relay permission (554 5.7.1); relay-hack forms
 * (%, !, quoted @) are refused; nrcpts (already accepted) is checked
 * against m->max_rcpts (452 4.5.3).
 */
bool policy_rcpt_to(struct policy *p, const struct policy_client *c,
    const struct policy_mail *m, const struct addr *rcpt, size_t nrcpts,
    struct policy_rcpt *out, struct smtp_reply *r);

/*
 * After out->ask_mx: addrs are the domain's mail server addresses (its
 * MX hosts', or its own).  True, with out's kind "backup-mx", when one of
 * them is a primary of a routing.conf [smarthost] section: we are the
 * domain's backup MX and take the mail to hold for it.
 */
bool policy_rcpt_backup_mx(struct policy *p,
    const struct sockaddr_storage *addrs, size_t n, struct policy_rcpt *out);

/* VRFY (when smtp_vrfy): 250 with the address, or 550/252. */
void policy_vrfy(struct policy *p, const struct addr *a,
    struct smtp_reply *r);

/* Fill r; text is printf-style.  Returns false, for "return refuse()". */
bool policy_reply(struct smtp_reply *r, int code, const char *enh,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
