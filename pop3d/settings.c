/* settings - pop3d's view of tern.conf and of the account maps; see
 * pop3d.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "accounts.h"
#include "auth_client.h"
#include "conf.h"
#include "log.h"
#include "mailbox.h"
#include "pop3d.h"
#include "server.h"
#include "xalloc.h"

struct pop3d_settings pop3d;
static struct accounts *accounts;

void
settings_load(void)
{
	long long ms = conf_time_ms("pop_command_timeout");
	unsigned long long conns = (unsigned long long)
	    conf_int("pop_max_connections");
	unsigned workers = (unsigned)server_workers();
	const char *state = conf_str("state_dir");

	settings_free();
	pop3d.timeout.tv_sec = ms / 1000;
	pop3d.timeout.tv_usec = (ms % 1000) * 1000;
	pop3d.max_bad = (unsigned)conf_int("pop_max_bad_commands");
	/* Every pop3d process counts together (state_dir/pop3.conns); a
	 * worker without the file takes its share, rounded up. */
	pop3d.max_conn = (unsigned)conns;
	pop3d.max_conn_share = (unsigned)((conns + workers - 1) / workers);
	pop3d.plain_without_tls = conf_bool("pop_plaintext_without_tls");
	pop3d.plain_loopback = conf_bool("pop_plaintext_loopback");
	pop3d.login_delay_s = conf_time_ms("pop_login_delay") / 1000;
	pop3d.expire_days = (unsigned)conf_int("pop_expire_days");
	pop3d.auth_timeout_ms = (int)conf_time_ms("auth_timeout");
	pop3d.auth_sock = xasprintf("%s/%s", state, AUTH_SOCKET_NAME);
	pop3d.maps_dir = xasprintf("%s/maps", state);
}

void
settings_free(void)
{
	xfree(&pop3d.auth_sock);
	xfree(&pop3d.maps_dir);
}

int
pop3d_accounts_init(void)
{
	const char *err;

	accounts = accounts_open(pop3d.maps_dir, ACCT_PUBLIC, &err);
	if (accounts == NULL) {
		log_exc(LOG_POP, "%s: cannot open the account maps in %s: %s",
		    server_service(), pop3d.maps_dir, err);
		return -1;
	}
	return 0;
}

struct accounts *
pop3d_accounts(void)
{
	return accounts;
}

void
pop3d_accounts_reopen(void)
{
	const char *err;

	if (accounts == NULL) {
		pop3d_accounts_init();
		return;
	}
	if (accounts_reopen(accounts, &err) < 0)
		log_exc(LOG_POP, "%s: cannot reopen the account maps: %s",
		    server_service(), err);
}

void
pop3d_accounts_close(void)
{
	accounts_free(&accounts);
}

int
pop3d_mailbox(const char *user, char **path_r, char **ddir_r,
    const char **error_r)
{
	const char *at = strrchr(user, '@');
	struct acct_domain d;
	char *local;
	int rc;

	*path_r = *ddir_r = NULL;
	if (at == NULL || at == user || accounts == NULL) {
		*error_r = accounts == NULL ? "no account maps" : "no domain";
		return -1;
	}
	rc = accounts_domain(accounts, at + 1, &d);
	if (rc != 1) {
		*error_r = rc == 0 ? "domain not found" : "domain map corrupt";
		return -1;
	}
	local = xstrndup(user, (size_t)(at - user));
	*path_r = mailbox_path(&d, local);
	*ddir_r = mailbox_domain_dir(&d);
	free(local);
	return 0;
}
