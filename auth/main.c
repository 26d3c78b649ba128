/*
 * auth - the only process that reads password hashes.
 *
 * Answers "is this login good?" for smtpd, pop3d, imapd, ldapd and the
 * admin side: PLAIN and LOGIN passwords against passwd.cdb, CRAM-MD5
 * against cram.cdb; refuses disabled users and disabled domains; accepts
 * the full address in any case of the local part, through a domain alias
 * too, and admin_user on service "admin".  Every failure is logged with
 * the client's IP; a password never is.
 *
 * Listens: unix:auth.sock, fds passed by master; the ipc framing, one
 * request/reply exchange per frame (lib/auth_client.h has the protocol).
 * A request is checked synchronously: a slow hash blocks only the worker
 * that runs it, and the other workers of the pool keep accepting; callers
 * wait asynchronously.  Reads: state_dir/maps/{domains,users,passwd,
 * cram}.cdb, reopened on SIGHUP (adminctl rebuild).  Runs as auth_user
 * (services.conf "user = tern-auth"), which owns passwd.cdb and cram.cdb.
 * Keys: state_dir, admin_user, auth_timeout, password_hash,
 * password_hash_rounds, log_level_auth.  See auth(8).
 */
#include "auth.h"
#include "server.h"

static int
auth_init(struct event_base *base)
{
	(void)base;
	verify_init();
	return 0;
}

static void
auth_exit(void)
{
	conn_exit();
	verify_exit();
}

int
main(int argc, char **argv)
{
	static const struct server_hooks hooks = {
		.name = "auth",
		.log = LOG_AUTHD,
		.after_drop = auth_init,      /* maps, after the drop */
		.on_client = conn_start,
		.on_reload = verify_reload,   /* adminctl rebuild's SIGHUP */
		.on_exit = auth_exit,
	};

	return server_main(argc, argv, &hooks);
}
