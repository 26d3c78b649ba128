/*
 * server - the skeleton every network daemon runs on.
 *
 * master binds the listening sockets and starts a daemon with them as fds
 * 3, 4, ... and describes them in the environment (see master(8)):
 *
 *   TERN_SERVICE       service name from services.conf
 *   TERN_LISTEN_FDS    how many listening fds start at 3
 *   TERN_LISTEN_NAMES  their addresses, space separated, for logs
 *   TERN_TLS           none | starttls | implicit
 *   TERN_WORKERS       how many workers the service has (shares of limits)
 *   TERN_STATUS_FD     socket to master: we report session counts; EOF
 *                      means master is gone and we drain and exit
 *   TERN_USER, TERN_CHROOT   who to become, where to chroot (root only)
 *
 * server_main() does, once for everyone: read tern.conf, open logs, build
 * the TLS server context from the tls_* keys when TERN_TLS is not "none"
 * (still root: key files may be root-only), call before_drop, chroot and
 * drop to the mail user
 * before the first network byte, ignore SIGPIPE, run the libevent loop,
 * accept connections and hand each to on_client, SIGHUP = re-read config,
 * reopen logs and call on_reload, SIGTERM or SIGINT (or a "drain" frame
 * on the status socket) = stop accepting, let sessions finish
 * (master_drain_timeout at most), call on_exit, exit 0.  A daemon never calls
 * setuid, chroot or signal itself.
 */
#ifndef TERN_SERVER_H
#define TERN_SERVER_H

#include <event2/event.h>
#include <event2/util.h>
#include <stdbool.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "log.h"

struct server_listener {
	int index;            /* 0.. in TERN_LISTEN_FDS order */
	const char *name;     /* "127.0.0.1:25", "unix:/path" */
	const char *tls;      /* "none", "starttls", "implicit" */
};

struct server_hooks {
	const char *name;              /* program name for logs */
	enum log_subsys log;           /* subsystem for the skeleton's lines */
	/* Arguments after "-c DIR" (the service's args from services.conf),
	 * argv[0] is the program; 0 or -1 (usage error).  NULL: none taken. */
	int (*args)(int argc, char **argv);
	/* Still root (when started as root): open key files.  0 or -1. */
	int (*before_drop)(void);
	/* Unprivileged, event base ready: open maps, clients.  0 or -1. */
	int (*after_drop)(struct event_base *base);
	/* A new connection; the daemon owns fd and must call
	 * server_session_end() once when the session is over. */
	void (*on_client)(evutil_socket_t fd, const struct sockaddr *sa,
	    socklen_t salen, const struct server_listener *l);
	/* After SIGHUP re-read tern.conf and reopened logs. */
	void (*on_reload)(void);
	/* Stop requested: listeners are closed; wind sessions down. */
	void (*on_drain)(void);
	/* The loop is over (drained, or master_drain_timeout passed): free
	 * whatever sessions are left, before the event base goes. */
	void (*on_exit)(void);
};

/* Run the daemon; returns the process exit status. */
int server_main(int argc, char **argv, const struct server_hooks *hooks);

struct event_base *server_base(void);
/* The TLS server context (TERN_TLS starttls or implicit), else NULL. */
SSL_CTX *server_tls_ctx(void);
const char *server_service(void);   /* TERN_SERVICE */
/* Workers of this service (TERN_WORKERS, 1 when unset): a per-service
 * limit is shared out as limit / workers per process. */
int server_workers(void);
/* Sessions open in this process. */
unsigned server_sessions(void);
/* A session handed out by on_client has ended. */
void server_session_end(void);
/* True once a drain has started (refuse new work politely). */
bool server_draining(void);

#endif
