/*
 * imapd - IMAP4rev1 (RFC 3501) access to users' Maildir++ folders, with
 * IDLE, UIDPLUS, MOVE, NAMESPACE, SPECIAL-USE, LITERAL+, ENABLE, UNSELECT,
 * ID, CHILDREN, QUOTA, LIST-EXTENDED, LIST-STATUS, STATUS=SIZE and
 * CONDSTORE (MODSEQs).
 *
 * Listens: fds passed by master (143 with STARTTLS, 993 implicit TLS).
 * Talks to: auth (state_dir/auth.sock) for logins.  Reads: state_dir/maps
 * (domains.cdb for the domain's folder, users.cdb for quotas).  Touches:
 * the users' maildirs, as the mail user; each folder's tern-uidlist
 * (lib/imap_index.h).  Keys: imap_*, auth_timeout, tls_*, hostname,
 * log_level_imap.  See imapd(8).
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth_client.h"
#include "conf.h"
#include "connslots.h"
#include "imapd.h"
#include "log.h"
#include "server.h"
#include "xalloc.h"

struct imapd_settings imapd;
struct accounts *imapd_accounts;
struct connslots *imapd_conns;

static void
imapd_settings_load(void)
{
	long long conn = conf_int("imap_max_connections");
	long long w = server_workers() > 0 ? server_workers() : 1;

	imapd.max_line = conf_size("imap_max_line");
	imapd.max_literal = conf_size("imap_max_literal");
	imapd.command_timeout_ms = conf_time_ms("imap_command_timeout");
	imapd.idle_timeout_ms = conf_time_ms("imap_idle_timeout");
	imapd.max_bad = (unsigned)conf_int("imap_max_bad_commands");
	/* Every imapd process counts together (state_dir/imap.conns); a
	 * worker without the file takes its share. */
	imapd.max_conn = conn > 0 ? (unsigned)conn : 0;
	imapd.max_conn_share = conn > 0 ? (unsigned)((conn + w - 1) / w) : 0;
	imapd.idle = conf_bool("imap_idle");
	imapd.plaintext_without_tls = conf_bool("imap_plaintext_without_tls");
	imapd.plaintext_loopback = conf_bool("imap_plaintext_loopback");
	imapd.auth_timeout_ms = (int)conf_time_ms("auth_timeout");
	free(imapd.auth_sock);
	imapd.auth_sock = xasprintf("%s/%s", conf_str("state_dir"),
	    AUTH_SOCKET_NAME);
}

static int
imapd_init(struct event_base *base)
{
	const char *err;
	char *maps, *cerr = NULL;

	(void)base;
	imapd_settings_load();
	maps = xasprintf("%s/maps", conf_str("state_dir"));
	imapd_accounts = accounts_open(maps, ACCT_PUBLIC, &err);
	free(maps);
	if (imapd_accounts == NULL) {
		log_exc(LOG_IMAP, "%s: account maps: %s", server_service(), err);
		return -1;
	}
	if ((imapd_conns = connslots_open_state("imap", &cerr)) == NULL) {
		log_exc(LOG_IMAP, "%s: %s; imap_max_connections is shared out "
		    "among this service's workers instead", server_service(),
		    cerr);
		free(cerr);
	}
	log_msg(LOG_IMAP, "%s: ready", server_service());
	return 0;
}

static void
imapd_client(evutil_socket_t fd, const struct sockaddr *sa, socklen_t salen,
    const struct server_listener *l)
{
	session_accept(fd, sa, salen, l->tls);
}

static void
imapd_reload(void)
{
	const char *err;

	imapd_settings_load();
	if (accounts_reopen(imapd_accounts, &err) < 0)
		log_exc(LOG_IMAP, "%s: account maps: %s", server_service(), err);
}

static void
imapd_exit(void)
{
	session_free_all();
	connslots_close(&imapd_conns);
	accounts_free(&imapd_accounts);
	free(imapd.auth_sock);
	imapd.auth_sock = NULL;
}

int
main(int argc, char **argv)
{
	static const struct server_hooks hooks = {
		.name = "imapd",
		.log = LOG_IMAP,
		.after_drop = imapd_init,
		.on_client = imapd_client,
		.on_reload = imapd_reload,
		.on_drain = session_drain_all,
		.on_exit = imapd_exit,
	};

	tzset();
	return server_main(argc, argv, &hooks);
}
