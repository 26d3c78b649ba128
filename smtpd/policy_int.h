/*
 * policy_int - what policy.c, policy_mail.c and policy_rcpt.c share.
 * Not for the rest of smtpd: policy.h is the interface.
 */
#ifndef TERN_SMTPD_POLICY_INT_H
#define TERN_SMTPD_POLICY_INT_H

#include <stdbool.h>

#include "accounts.h"
#include "addrpat.h"
#include "iplist.h"
#include "policy.h"

enum policy_relay {
	RELAY_NOBODY,
	RELAY_LOCAL_USERS,
	RELAY_LOCAL_DOMAINS,
	RELAY_ANYONE,
};

/* Everything read from tern.conf, swapped as a whole on reload. */
struct policy_conf {
	struct iplist *white, *black, *bypass;
	struct addrpat *blocked, *sender_any;
	char *mail_dir;
	enum policy_relay relay;
	bool relay_when_auth;
	bool auth_local_deliveries;
	bool over_quota_permanent;
	unsigned long long max_size;    /* 0 = none */
	unsigned max_rcpts;
};

struct policy {
	struct policy_conf conf;
	struct accounts *acct;
	struct routing *routing;        /* routing.conf; NULL: none read */
};

/* The domain.conf facts the checks need, copied out of a record (its
 * name pointer would not survive the next accounts_domain()). */
struct policy_domain {
	char name[256];                 /* primary name */
	bool disabled;
	bool require_auth;
	bool catchalls;
	unsigned long long max_size;    /* 0 = none */
	unsigned long long max_rcpts;   /* 0 = none */
	const char *rec;                /* the whole record: valid until */
	size_t reclen;                  /* the maps are reopened */
};

/*
 * Look domain up: 1 local (facts in *d, which may be NULL), 0 not ours
 * (also for address literals and NULL), -1 map error (logged).
 */
int policy_domain_get(struct policy *p, const char *domain,
    struct policy_domain *d);

bool policy_client_in(const struct iplist *l, const struct policy_client *c);

/* Reply for a map that could not be read. */
bool policy_tempfail(struct smtp_reply *r);

#endif
