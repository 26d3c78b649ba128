/* settings - smtpd's view of tern.conf; see smtpd.h */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "accounts.h"
#include "auth_client.h"
#include "conf.h"
#include "hostnames.h"
#include "log.h"
#include "server.h"
#include "smtpd.h"
#include "xalloc.h"

struct smtpd_settings smtpd;
static struct accounts *expn_accounts;

static struct timeval
settings_tv(const char *key)
{
	long long ms = conf_time_ms(key);
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return tv;
}

/* "PLAIN LOGIN CRAM-MD5" minus LOGIN when smtp_disable_auth_login. */
static unsigned
settings_mechs(void)
{
	const char *const *l = conf_list("smtp_auth_mechanisms", NULL);
	unsigned m = 0;

	for (; *l != NULL; l++) {
		if (strcasecmp(*l, "PLAIN") == 0)
			m |= MECH_PLAIN;
		else if (strcasecmp(*l, "LOGIN") == 0)
			m |= MECH_LOGIN;
		else if (strcasecmp(*l, "CRAM-MD5") == 0)
			m |= MECH_CRAM;
		else
			log_exc(LOG_SMTP, "smtp_auth_mechanisms: unknown "
			    "mechanism '%s' ignored", *l);
	}
	if (conf_bool("smtp_disable_auth_login"))
		m &= ~MECH_LOGIN;
	return m;
}

void
settings_load(bool submission)
{
	const char *state = conf_str("state_dir");
	unsigned long long conns;
	int workers = server_workers();

	settings_free();
	smtpd.submission = submission;
	/* The keys count CRLF; the line reader does not. */
	smtpd.cmd_max = conf_size("smtp_max_command_line") - 2 +
	    conf_size("smtp_line_tolerance");
	smtpd.text_max = conf_size("smtp_max_text_line") - 2 +
	    conf_size("smtp_line_tolerance");
	smtpd.max_size = conf_size("smtp_max_message_size");
	smtpd.max_hops = (unsigned)conf_int("smtp_max_hops");
	smtpd.max_bad_cmds = (unsigned)conf_int("smtp_max_bad_commands");
	smtpd.max_bad_rcpts = (unsigned)conf_int("smtp_max_bad_recipients");
	smtpd.max_rcpts = (unsigned)conf_int("smtp_max_recipients");
	/* The limit covers every smtpd process (lib/connslots); a worker
	 * that cannot share the count takes its share, rounded up. */
	conns = (unsigned long long)conf_int("smtp_max_connections");
	smtpd.max_conn = (unsigned)conns;
	smtpd.max_conn_share = (unsigned)((conns + (unsigned)workers - 1) /
	    (unsigned)workers);
	smtpd.session_timeout = settings_tv("smtp_session_timeout");
	smtpd.command_timeout = settings_tv("smtp_command_timeout");
	smtpd.auth_timeout_ms = (int)conf_time_ms("auth_timeout");
	smtpd.vrfy = conf_bool("smtp_vrfy");
	smtpd.expn = conf_bool("smtp_expn");
	smtpd.auth_without_tls = conf_bool("smtp_auth_without_tls");
	smtpd.received_auth_user = conf_bool("smtp_received_auth_user");
	smtpd.reverse_dns = conf_bool("smtp_reverse_dns");
	smtpd.bare_reject = strcmp(conf_str(submission ?
	    "submission_bare_line_endings" : "smtp_bare_line_endings"),
	    "reject") == 0;
	smtpd.mechs = settings_mechs();
	hostnames_load(&smtpd.names, LOG_SMTP);
	smtpd.auth_sock = xasprintf("%s/%s", state, AUTH_SOCKET_NAME);
	smtpd.queue_sock = xasprintf("%s/queue.sock", state);
	smtpd.maps_dir = xasprintf("%s/maps", state);
}

void
settings_free(void)
{
	hostnames_release(&smtpd.names);
	free(smtpd.auth_sock);
	free(smtpd.queue_sock);
	free(smtpd.maps_dir);
	memset(&smtpd, 0, sizeof(smtpd));
}

struct accounts *
smtpd_accounts(void)
{
	const char *err;

	if (expn_accounts == NULL) {
		expn_accounts = accounts_open(smtpd.maps_dir, ACCT_PUBLIC, &err);
		if (expn_accounts == NULL)
			log_exc(LOG_SMTP, "EXPN: cannot open the account maps "
			    "in %s: %s", smtpd.maps_dir, err);
	}
	return expn_accounts;
}

void
smtpd_accounts_reopen(void)
{
	const char *err;

	if (expn_accounts != NULL && accounts_reopen(expn_accounts, &err) < 0)
		log_exc(LOG_SMTP, "EXPN: cannot reopen the account maps: %s",
		    err);
}

void
smtpd_accounts_close(void)
{
	accounts_free(&expn_accounts);
}
