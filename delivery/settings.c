/*
 * settings - what delivery reads from tern.conf, the account maps and
 * the spool it queues new messages in.  Read at start and on SIGHUP;
 * the maps are also checked for a rebuild before every job (a stat of
 * each), so a rebuild is in force for the next message even before
 * master passes its SIGHUP on.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "addrpat.h"
#include "conf.h"
#include "delivery.h"
#include "hostnames.h"
#include "log.h"
#include "spool.h"
#include "xalloc.h"

struct delivery_settings D;

static char *spool_path;
static unsigned spool_subs;

static void
settings_identity(void)
{
	const char *pm = conf_str("postmaster");

	hostnames_release(&D.names);
	hostnames_load(&D.names, LOG_DELIVERY);
	free(D.postmaster);
	D.postmaster = pm[0] != '\0' ? xstrdup(pm) :
	    xasprintf("postmaster@%s", D.names.host);
}

/* The blacklist: a bad item keeps the old list (and is logged). */
static void
settings_blacklist(void)
{
	size_t n;
	const char *const *items = conf_list("forwarding_blacklist", &n);
	char *err = NULL;
	struct addrpat *p = addrpat_new(items, n, &err);

	if (p == NULL) {
		log_exc(LOG_DELIVERY, "delivery: forwarding_blacklist: %s; "
		    "keeping the previous list", err);
		free(err);
		return;
	}
	addrpat_free(&D.fwd_blacklist);
	D.fwd_blacklist = p;
}

static int
settings_spool(void)
{
	const char *dir = conf_str("spool_dir");
	unsigned subs = (unsigned)conf_int("spool_subspools");
	char *err = NULL;
	struct spool *s;

	if (D.spool != NULL && strcmp(dir, spool_path) == 0 &&
	    subs == spool_subs)
		return 0;
	s = spool_open(dir, subs, &err);
	if (s == NULL) {
		log_exc(LOG_DELIVERY, "delivery: spool %s: %s", dir, err);
		free(err);
		return -1;
	}
	spool_close(&D.spool);
	D.spool = s;
	free(spool_path);
	spool_path = xstrdup(dir);
	spool_subs = subs;
	return 0;
}

static void
settings_keys(void)
{
	const char *state = conf_str("state_dir");

	free(D.maps_dir);
	D.maps_dir = xasprintf("%s/maps", state);
	free(D.queue_sock);
	D.queue_sock = xasprintf("%s/queue.sock", state);
	D.over_quota_bounce = strcmp(conf_str("delivery_over_quota"),
	    "bounce") == 0;
	D.disabled_bounce = strcmp(conf_str("delivery_disabled"),
	    "bounce") == 0;
	D.warn_percent = (int)conf_int("quota_warning_percent");
	settings_identity();
	settings_blacklist();
}

int
settings_init(void)
{
	const char *err;

	settings_keys();
	if (settings_spool() < 0)
		return -1;
	D.acct = accounts_open(D.maps_dir, ACCT_PUBLIC, &err);
	if (D.acct == NULL) {
		log_exc(LOG_DELIVERY, "delivery: maps in %s: %s", D.maps_dir,
		    err);
		return -1;
	}
	return 0;
}

void
settings_reload(void)
{
	settings_keys();
	if (settings_spool() < 0)
		log_exc(LOG_DELIVERY, "delivery: keeping the previous spool");
	(void)settings_maps_fresh();
}

bool
settings_maps_fresh(void)
{
	const char *err;

	if (accounts_reopen(D.acct, &err) < 0) {
		/* The old maps stay in use; say so once per job at most. */
		log_exc(LOG_DELIVERY, "delivery: maps in %s: %s", D.maps_dir,
		    err);
		return false;
	}
	return true;
}

void
settings_free(void)
{
	accounts_free(&D.acct);
	spool_close(&D.spool);
	addrpat_free(&D.fwd_blacklist);
	xfree(&D.maps_dir);
	xfree(&D.queue_sock);
	hostnames_release(&D.names);
	xfree(&D.postmaster);
	xfree(&spool_path);
}

void
ldomain_acct(const struct ldomain *d, struct acct_domain *a_r)
{
	a_r->name = d->name;
	a_r->via_alias = false;
	a_r->rec = d->rec;
	a_r->reclen = d->reclen;
}

enum spam_level
spam_level_parse(const char *s, size_t len)
{
	static const char *const names[] = { "none", "low", "medium", "high" };

	for (int i = 0; i < 4; i++)
		if (strlen(names[i]) == len &&
		    strncasecmp(s, names[i], len) == 0)
			return (enum spam_level)i;
	return SPAM_NONE;
}

/*
 * The level from which a domain's *_exclusions key holds mail back;
 * "none" (nothing excluded) comes back as a level above every message.
 */
int
domain_exclusion(const struct ldomain *d, const char *key)
{
	size_t len;
	const char *v = acct_field(d->rec, d->reclen, key, &len);
	enum spam_level l = v != NULL ? spam_level_parse(v, len) : SPAM_MEDIUM;

	return l == SPAM_NONE ? SPAM_HIGH + 1 : (int)l;
}
