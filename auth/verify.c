/*
 * verify - who a login names, and whether its secret matches.
 *
 * Login names are "local@domain" with domain a hosted domain or one of
 * its domain aliases; the local part is looked up folded to lower case
 * and the answer is the canonical "local@primary".  The system
 * administrator logs in as admin_user, on service "admin" only.
 *
 * Every request costs exactly one hash (or one HMAC for CRAM-MD5),
 * whatever we find: an unknown user is checked against a dummy hash of
 * the configured scheme and cost, and a disabled one against their own,
 * so the time an answer takes does not tell which users exist.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "accounts.h"
#include "auth.h"
#include "conf.h"
#include "log.h"
#include "passwd.h"
#include "xalloc.h"

/* Answers nothing anyone sends, at the cost of a real CRAM-MD5 check. */
static const char verify_dummy_cram[] =
    "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
/* If password_hash/password_hash_rounds cannot make a hash, this one
 * (yescrypt at libxcrypt's default cost, of a random string nobody
 * kept) stands in for the dummy. */
static const char verify_fallback_hash[] =
    "$y$j9T$14iOclTjbgdOgxJ9rofSd.$tJputZMdlfxDh72USfJ76zhNxVSM3pEjwrSg2S87zX1";

static struct accounts *acct;
static bool acct_broken;        /* the last open failed (logged once) */
static char *dummy_hash;

/* Who a login names, as far as the maps say. */
struct verify_target {
	char *canon;            /* canonical name, malloc'd; NULL: none */
	const char *secret;     /* hash or CRAM-MD5 secret; NULL: none */
	const char *reason;     /* set: fails whatever the password */
};

/* Open the maps if they are not open.  0, or -1 (logged). */
static int
verify_maps(void)
{
	const char *err;
	char *dir;

	if (acct != NULL)
		return 0;
	dir = xasprintf("%s/maps", conf_str("state_dir"));
	acct = accounts_open(dir, ACCT_PUBLIC | ACCT_SECRETS, &err);
	if (acct == NULL && !acct_broken)
		log_exc(LOG_AUTHD, "auth: cannot open the maps in %s: %s; "
		    "logins fail temporarily until they can be read", dir, err);
	else if (acct != NULL && acct_broken)
		log_msg(LOG_AUTHD, "auth: maps in %s readable again", dir);
	acct_broken = acct == NULL;
	free(dir);
	return acct != NULL ? 0 : -1;
}

static void
verify_dummy_make(void)
{
	unsigned char rnd[24];
	char pw[2 * sizeof(rnd) + 1];
	const char *err;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		die("auth: RAND_bytes failed: no random numbers");
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(pw + 2 * i, 3, "%02x", rnd[i]);
	free(dummy_hash);
	dummy_hash = passwd_hash(pw, &err);
	if (dummy_hash == NULL) {
		log_exc(LOG_AUTHD, "auth: cannot make the dummy hash (%s); "
		    "using a built-in one", err);
		dummy_hash = xstrdup(verify_fallback_hash);
	}
	explicit_bzero(pw, sizeof(pw));
}

void
verify_init(void)
{
	(void)verify_maps();            /* logged; retried per request */
	verify_dummy_make();
	cache_init();
}

void
verify_reload(void)
{
	const char *err;

	if (acct != NULL && accounts_reopen(acct, &err) < 0)
		log_exc(LOG_AUTHD, "auth: reopening the maps: %s; the old "
		    "ones stay in use", err);
	(void)verify_maps();
	verify_dummy_make();
	cache_init();          /* the size or TTL may have changed */
}

void
verify_exit(void)
{
	accounts_free(&acct);
	xfree(&dummy_hash);
	cache_exit();
}

void
verify_verdict_clear(struct auth_verdict *v)
{
	xfree(&v->user);
}

/* The password hash, or CRAM-MD5 secret, stored under key. */
static int
verify_secret_lookup(const struct auth_check *c, const char *key,
    struct verify_target *t)
{
	int rc = c->mech == MECH_CRAM_MD5 ? accounts_cram(acct, key, &t->secret)
	    : accounts_passwd(acct, key, &t->secret);

	if (rc == 0) {
		t->secret = NULL;
		if (t->reason == NULL)
			t->reason = c->mech == MECH_CRAM_MD5 ?
			    "no CRAM-MD5 secret" : "no password";
	}
	return rc < 0 ? -1 : 0;
}

/* Service "admin": admin_user and nobody else.  0, or -1 (map error). */
static int
verify_find_admin(const struct auth_check *c, struct verify_target *t)
{
	const char *admin = conf_str("admin_user");
	char *key;
	int rc;

	if (admin[0] == '\0' || strcmp(c->user, admin) != 0) {
		t->reason = "unknown user";
		return 0;
	}
	key = xasprintf("%s%s", ACCT_ADMIN_PREFIX, admin);
	rc = verify_secret_lookup(c, key, t);
	free(key);
	t->canon = xstrdup(admin);
	return rc;
}

/* A mail service: "local@domain".  0, or -1 (map error). */
static int
verify_find_user(const struct auth_check *c, struct verify_target *t)
{
	const char *admin = conf_str("admin_user");
	const char *at = strrchr(c->user, '@'), *rec;
	struct acct_domain d;
	char *local = NULL, *primary = NULL;
	bool domain_off;
	size_t len;
	int rc;

	/* The administrator's password is not for reading mail. */
	if ((admin[0] != '\0' && strcmp(c->user, admin) == 0) || at == NULL ||
	    at == c->user || at[1] == '\0') {
		t->reason = "unknown user";
		return 0;
	}
	local = xstrndup(c->user, (size_t)(at - c->user));
	rc = accounts_domain(acct, at + 1, &d);
	if (rc <= 0) {
		if (rc == 0)
			t->reason = "unknown user";
		goto out;
	}
	primary = xstrdup(d.name);     /* d.name goes at the next lookup */
	domain_off = acct_field_bool(d.rec, d.reclen, "disabled", false);
	rc = accounts_user(acct, local, primary, &rec, &len);
	if (rc <= 0) {
		if (rc == 0)
			t->reason = "unknown user";
		goto out;
	}
	if (domain_off)
		t->reason = "domain disabled";
	else if (acct_field_bool(rec, len, "disabled", false))
		t->reason = "user disabled";
	/* Disabled or not, their own hash is checked: same cost. */
	t->canon = acct_key(local, primary);
	rc = verify_secret_lookup(c, t->canon, t);
out:
	free(local);
	free(primary);
	return rc < 0 ? -1 : 0;
}

/* The one expensive step: 1 match, 0 not, -1 our stored secret is bad. */
static int
verify_secret(const struct auth_check *c, const struct verify_target *t)
{
	int r;

	if (c->mech == MECH_CRAM_MD5)
		r = passwd_cram_verify(t->secret != NULL ? t->secret :
		    verify_dummy_cram, c->challenge, c->challenge_len,
		    c->digest);
	else if (t->secret != NULL && cache_hit(t->canon, t->secret,
	    c->password))
		r = 1;
	else {
		r = passwd_verify(c->password, t->secret != NULL ? t->secret :
		    dummy_hash);
		if (r == 1 && t->secret != NULL)
			cache_store(t->canon, t->secret, c->password);
	}
	return t->secret != NULL ? r : 0;
}

void
verify_check(const struct auth_check *c, struct auth_verdict *v)
{
	struct verify_target t = { 0 };
	int match;

	if (verify_maps() < 0 || (c->admin ? verify_find_admin(c, &t) :
	    verify_find_user(c, &t)) < 0) {
		if (acct != NULL)
			log_exc(LOG_AUTHD, "auth: a map lookup failed: is a "
			    "map in %s/maps corrupt?", conf_str("state_dir"));
		v->temp = true;
		v->reason = "maps unavailable";
		goto out;
	}
	match = verify_secret(c, &t);
	if (t.reason != NULL)
		v->reason = t.reason;
	else if (match < 0) {
		log_exc(LOG_AUTHD, "auth: unusable %s for %s in %s",
		    c->mech == MECH_CRAM_MD5 ? "CRAM-MD5 secret" :
		    "password hash", t.canon, c->mech == MECH_CRAM_MD5 ?
		    ACCT_MAP_CRAM : ACCT_MAP_PASSWD);
		v->temp = true;
		v->reason = c->mech == MECH_CRAM_MD5 ?
		    "unusable CRAM-MD5 secret" : "unusable password hash";
	} else if (match == 0)
		v->reason = "bad password";
	else {
		v->ok = true;
		v->user = t.canon;
		t.canon = NULL;
	}
out:
	free(t.canon);
}
