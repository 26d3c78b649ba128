/*
 * pop3d - POP3 (110, STLS) and POP3S (995, implicit TLS) access to each
 * user's Maildir INBOX.  See pop3d(8).
 *
 * Listens: the fds master passes for the service ([pop3] with
 * tls = starttls, [pop3s] with tls = implicit in services.conf).  Talks
 * to: auth (state_dir/auth.sock) for every login; pop3d never reads a
 * password hash.  Reads: state_dir/maps (each domain's folder_path).
 * Touches: the user's maildir, as the mail user: a lock file while a
 * session is open, new/ to cur/ at login, the Seen flag after RETR,
 * deletions after QUIT.  Keys: pop_*, auth_timeout, mail_dir, tls_*,
 * log_level_pop.
 *
 * Event-driven: one process serves many sessions (session.c); the only
 * blocking calls are on the local disk (the login scan, reading a
 * message), as for any maildir reader.
 */
#include <event2/event.h>

#include <stdlib.h>

#include "conf.h"
#include "connslots.h"
#include "log.h"
#include "pop3d.h"
#include "server.h"
#include "session.h"

struct connslots *pop3d_conns;

static int
pop3d_init(struct event_base *base)
{
	char *err = NULL;

	(void)base;
	settings_load();
	if ((pop3d_conns = connslots_open_state("pop3", &err)) == NULL) {
		log_exc(LOG_POP, "%s: %s; pop_max_connections is shared out "
		    "among this service's workers instead", server_service(),
		    err);
		free(err);
	}
	/* Without maps no login can find its mailbox; say so, and serve
	 * anyway: a rebuild and a reload bring them. */
	pop3d_accounts_init();
	log_msg(LOG_POP, "%s: ready", server_service());
	return 0;
}

static void
pop3d_client(evutil_socket_t fd, const struct sockaddr *sa, socklen_t salen,
    const struct server_listener *l)
{
	session_accept(fd, sa, salen, l->tls);
}

static void
pop3d_reload(void)
{
	settings_load();
	pop3d_accounts_reopen();
}

/* The loop is over: whatever sessions are left end without UPDATE. */
static void
pop3d_exit(void)
{
	session_free_all();
	connslots_close(&pop3d_conns);
	pop3d_accounts_close();
	settings_free();
}

int
main(int argc, char **argv)
{
	static const struct server_hooks hooks = {
		.name = "pop3d",
		.log = LOG_POP,
		.after_drop = pop3d_init,
		.on_client = pop3d_client,
		.on_reload = pop3d_reload,
		.on_drain = session_drain_all,
		.on_exit = pop3d_exit,
	};

	return server_main(argc, argv, &hooks);
}
