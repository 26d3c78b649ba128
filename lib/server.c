/* server - see server.h */
#include <errno.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ipc.h"
#include "log.h"
#include "server.h"
#include "tls.h"
#include "xalloc.h"

#define SERVER_MAX_LISTENERS 64

static struct {
	const struct server_hooks *hooks;
	struct event_base *base;
	char *conf_path;
	const char *service;
	int nlisten;
	int workers;
	struct server_listener lis[SERVER_MAX_LISTENERS];
	struct evconnlistener *evl[SERVER_MAX_LISTENERS];
	struct ipc_conn *status;
	SSL_CTX *tls;
	unsigned sessions;
	unsigned long long accepted;
	bool draining;
	struct event *drain_timer;
	struct event *report_timer;
	bool report_pending;
} srv;

struct event_base *
server_base(void)
{
	return srv.base;
}

SSL_CTX *
server_tls_ctx(void)
{
	return srv.tls;
}

const char *
server_service(void)
{
	return srv.service;
}

int
server_workers(void)
{
	return srv.workers;
}

unsigned
server_sessions(void)
{
	return srv.sessions;
}

bool
server_draining(void)
{
	return srv.draining;
}

/*
 * Session counts go to master for `adminctl status`.  Reports are
 * coalesced: one frame per event-loop turn at most, however many sessions
 * open and close in it.
 */
static void
server_report_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ipc_msg *m;

	(void)fd; (void)what; (void)arg;
	srv.report_pending = false;
	if (srv.status == NULL)
		return;
	m = ipc_msg_new("status");
	ipc_msg_add_int(m, "sessions", srv.sessions);
	ipc_msg_add_int(m, "accepted", (long long)srv.accepted);
	ipc_conn_send(srv.status, m);
	ipc_msg_free(&m);
}

static void
server_report(void)
{
	if (srv.report_pending || srv.report_timer == NULL)
		return;
	srv.report_pending = true;
	event_active(srv.report_timer, 0, 0);
}

static void
server_maybe_exit(void)
{
	if (srv.draining && srv.sessions == 0)
		event_base_loopexit(srv.base, NULL);
}

void
server_session_end(void)
{
	ASSERT(srv.sessions > 0);
	srv.sessions--;
	server_report();
	server_maybe_exit();
}

static void
server_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	const struct server_listener *sl = arg;

	(void)l;
	if (srv.draining) {
		close(fd);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	evutil_make_socket_closeonexec(fd);
	srv.sessions++;
	srv.accepted++;
	server_report();
	srv.hooks->on_client(fd, sa, (socklen_t)salen, sl);
}

static void
server_accept_error_cb(struct evconnlistener *l, void *arg)
{
	const struct server_listener *sl = arg;
	int err = EVUTIL_SOCKET_ERROR();

	(void)l;
	/* EMFILE and friends pass; never spin: libevent retries next turn. */
	log_exc(srv.hooks->log, "%s: accept on %s: %s", srv.service, sl->name,
	    evutil_socket_error_to_string(err));
}

static void
server_drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	log_exc(srv.hooks->log, "%s: drain timeout with %u sessions open",
	    srv.service, srv.sessions);
	event_base_loopexit(srv.base, NULL);
}

static void
server_drain(const char *why)
{
	struct timeval tv;
	long long ms;

	if (srv.draining)
		return;
	srv.draining = true;
	log_msg(srv.hooks->log, "%s: draining (%s), %u sessions open",
	    srv.service, why, srv.sessions);
	for (int i = 0; i < srv.nlisten; i++)
		if (srv.evl[i] != NULL) {
			evconnlistener_free(srv.evl[i]);
			srv.evl[i] = NULL;
		}
	if (srv.hooks->on_drain != NULL)
		srv.hooks->on_drain();
	ms = conf_time_ms("master_drain_timeout");
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	srv.drain_timer = evtimer_new(srv.base, server_drain_timeout_cb, NULL);
	evtimer_add(srv.drain_timer, &tv);
	server_maybe_exit();
}

static void
server_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	char *err = NULL;

	(void)what; (void)arg;
	if (sig == SIGHUP) {
		if (conf_load(srv.conf_path, &err) < 0) {
			log_exc(srv.hooks->log, "%s: reload: %s; keeping the old "
			    "configuration", srv.service, err);
			free(err);
		}
		log_reopen();
		log_detail(srv.hooks->log, "%s: reloaded", srv.service);
		if (srv.hooks->on_reload != NULL)
			srv.hooks->on_reload();
		return;
	}
	server_drain(sig == SIGTERM ? "SIGTERM" : "SIGINT");
}

static void
server_status_msg(struct ipc_conn *c, const struct ipc_msg *m, void *arg)
{
	(void)c; (void)arg;
	if (strcmp(ipc_msg_type(m), "drain") == 0)
		server_drain("asked by master");
}

static void
server_status_close(struct ipc_conn *c, const char *reason, void *arg)
{
	(void)c; (void)arg;
	/* Master is gone: finish what we have, take nothing new. */
	log_exc(srv.hooks->log, "%s: lost master (%s)", srv.service, reason);
	ipc_conn_free(&srv.status);
	server_drain("master gone");
}

static int
server_env_int(const char *name, const char *v, int min, int max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < min || n > max)
		die("%s: bad %s='%s' from master", srv.hooks->name, name, v);
	return (int)n;
}

/* Read what master put in our environment. */
static void
server_read_env(void)
{
	const char *n = getenv("TERN_LISTEN_FDS");
	const char *names = getenv("TERN_LISTEN_NAMES");
	const char *tls = getenv("TERN_TLS");
	char *copy, *save = NULL, *tok;

	srv.service = getenv("TERN_SERVICE");
	if (srv.service == NULL || n == NULL)
		die("%s: not started by master (no TERN_SERVICE/TERN_LISTEN_FDS)",
		    srv.hooks->name);
	srv.nlisten = server_env_int("TERN_LISTEN_FDS", n, 0,
	    SERVER_MAX_LISTENERS);
	srv.workers = getenv("TERN_WORKERS") == NULL ? 1 :
	    server_env_int("TERN_WORKERS", getenv("TERN_WORKERS"), 1, 1024);
	copy = xstrdup(names != NULL ? names : "");
	tok = strtok_r(copy, " ", &save);
	for (int i = 0; i < srv.nlisten; i++) {
		srv.lis[i].index = i;
		srv.lis[i].name = xstrdup(tok != NULL ? tok : "?");
		srv.lis[i].tls = tls != NULL ? tls : "none";
		if (tok != NULL)
			tok = strtok_r(NULL, " ", &save);
	}
	free(copy);
}

/*
 * Root only: become the mail user, chrooted if asked.  Done before the
 * event loop runs, so before any byte from the network is read.
 */
static void
server_drop_privileges(void)
{
	const char *user = getenv("TERN_USER");
	const char *root = getenv("TERN_CHROOT");
	struct passwd *pw;

	/* Our log file opens now, while log_dir is reachable: after a chroot
	 * it would not be. */
	log_open_now(srv.hooks->log);
	if (geteuid() != 0)
		return;
	if (user == NULL || *user == '\0')
		user = conf_str("mail_user");
	pw = getpwnam(user);
	if (pw == NULL)
		die("%s: unknown mail user '%s'", srv.service, user);
	if (pw->pw_uid == 0)
		die("%s: refusing to run as root (mail user '%s')", srv.service,
		    user);
	log_chown(pw->pw_uid, pw->pw_gid);
	if (root != NULL && *root != '\0') {
		if (chroot(root) < 0 || chdir("/") < 0)
			die("%s: chroot %s: %s", srv.service, root,
			    strerror(errno));
	}
	if (setgroups(1, &pw->pw_gid) < 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
		die("%s: cannot become %s: %s", srv.service, user,
		    strerror(errno));
	if (setuid(0) == 0 || geteuid() == 0)
		BUG("still root after dropping privileges");
}

static void
server_open_listeners(void)
{
	for (int i = 0; i < srv.nlisten; i++) {
		int fd = 3 + i;

		evutil_make_socket_nonblocking(fd);
		evutil_make_socket_closeonexec(fd);
		/* backlog 0: master already called listen(). */
		srv.evl[i] = evconnlistener_new(srv.base, server_accept_cb,
		    &srv.lis[i], LEV_OPT_CLOSE_ON_FREE, 0, fd);
		if (srv.evl[i] == NULL)
			die("%s: cannot listen on fd %d (%s)", srv.service, fd,
			    srv.lis[i].name);
		evconnlistener_set_error_cb(srv.evl[i], server_accept_error_cb);
	}
}

static void
server_open_status(void)
{
	const char *s = getenv("TERN_STATUS_FD");
	int fd;

	if (s == NULL)
		return;
	fd = server_env_int("TERN_STATUS_FD", s, 3, 1024);
	evutil_make_socket_nonblocking(fd);
	evutil_make_socket_closeonexec(fd);
	srv.status = ipc_conn_new(srv.base, fd, srv.hooks->name, 64 * 1024,
	    server_status_msg, server_status_close, NULL);
	srv.report_timer = event_new(srv.base, -1, 0, server_report_cb, NULL);
	server_report();
}

/* Before the privilege drop: the key file may be readable by root only.
 * A certificate change reaches us as a restart by master, not a reload. */
static void
server_open_tls(void)
{
	const char *mode = getenv("TERN_TLS");
	struct tls_settings ts;
	char *err = NULL;

	if (mode == NULL || strcmp(mode, "none") == 0)
		return;
	tls_settings_from_conf(&ts);
	srv.tls = tls_server_ctx_new(&ts, &err);
	if (srv.tls == NULL)
		die("%s: TLS: %s", srv.service, err);
}

static void
server_usage(const char *name)
{
	fprintf(stderr, "usage: %s -c CONFDIR [ARGS] (started by master)\n", name);
	exit(2);
}

int
server_main(int argc, char **argv, const struct server_hooks *hooks)
{
	const char *confdir = TERN_SYSCONF_DIR;
	struct event *sigs[3];
	static const int signos[3] = { SIGHUP, SIGTERM, SIGINT };
	char *err = NULL;
	sigset_t startup, old;

	/* master may SIGHUP or SIGTERM us before our handlers exist; hold
	 * those signals until the event loop can take them. */
	sigemptyset(&startup);
	sigaddset(&startup, SIGHUP);
	sigaddset(&startup, SIGTERM);
	sigaddset(&startup, SIGINT);
	sigprocmask(SIG_BLOCK, &startup, &old);
	srv.hooks = hooks;
	if (argc >= 3 && strcmp(argv[1], "-c") == 0) {
		confdir = argv[2];
		argv[2] = argv[0];
		argc -= 2;
		argv += 2;
	}
	if (hooks->args != NULL ? hooks->args(argc, argv) < 0 : argc > 1)
		server_usage(hooks->name);
	srv.conf_path = xasprintf("%s/tern.conf", confdir);
	if (conf_load(srv.conf_path, &err) < 0)
		die("%s", err);
	log_open(hooks->name, conf_str("log_dir"), conf_bool("log_syslog"));
	log_set_main(hooks->log);
	server_read_env();
	signal(SIGPIPE, SIG_IGN);
	server_open_tls();
	if (hooks->before_drop != NULL && hooks->before_drop() < 0)
		die("%s: start-up failed", srv.service);
	server_drop_privileges();

	/* Helper threads (the spool committer) wake our loop with
	 * event_active(): only safe on a base made after this. */
	if (evthread_use_pthreads() < 0)
		die("%s: libevent has no pthreads support", srv.service);
	srv.base = event_base_new();
	if (srv.base == NULL)
		die("%s: cannot create event base", srv.service);
	for (int i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(srv.base, signos[i], server_signal_cb, NULL);
		evsignal_add(sigs[i], NULL);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (hooks->after_drop != NULL && hooks->after_drop(srv.base) < 0)
		die("%s: start-up failed", srv.service);
	server_open_status();
	server_open_listeners();
	log_detail(hooks->log, "%s: started, %d listeners", srv.service,
	    srv.nlisten);

	event_base_dispatch(srv.base);

	log_detail(hooks->log, "%s: exiting", srv.service);
	if (hooks->on_exit != NULL)
		hooks->on_exit();
	for (int i = 0; i < srv.nlisten; i++) {
		if (srv.evl[i] != NULL)
			evconnlistener_free(srv.evl[i]);
		free((char *)srv.lis[i].name);
	}
	for (int i = 0; i < 3; i++)
		event_free(sigs[i]);
	if (srv.drain_timer != NULL)
		event_free(srv.drain_timer);
	if (srv.report_timer != NULL)
		event_free(srv.report_timer);
	ipc_conn_free(&srv.status);
	tls_ctx_free(&srv.tls);
	event_base_free(srv.base);
	free(srv.conf_path);
	log_close();
	return 0;
}
