/*
 * master - the one process that stays root.
 *
 * Reads tern.conf and services.conf (in the config directory, -c DIR,
 * default /etc/tern), binds every listening socket, starts each service's
 * workers with their sockets (see server.h for what a child receives),
 * restarts crashed children with backoff, and answers adminctl on
 * state_dir/master.sock.  SIGHUP re-reads the configuration (a broken file
 * is refused with file:line and nothing changes); SIGTERM/SIGINT stop
 * accepting, let sessions finish for master_drain_timeout, then kill what
 * is left and exit with no child behind.  master never reads a byte from
 * a client.  Files: state_dir/master.pid (lock: one master per state
 * directory), state_dir/stopped-services, log_dir/master.log.
 * Keys: state_dir, log_dir, libexec_dir, mail_user, master_*.  See master(8).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "master.h"
#include "xalloc.h"

struct master M;

static int pid_fd = -1;
static char *pid_path;

static void
usage(void)
{
	fprintf(stderr, "usage: master [-f] [-c CONFDIR]\n"
	    "  -f  stay in the foreground, log to stderr too\n"
	    "  -c  configuration directory (default %s)\n", TERN_SYSCONF_DIR);
	exit(2);
}

/* Create a directory master and the daemons need; owned by the mail user
 * when we are root, so the daemons can write in it after dropping. */
static void
make_dir(const char *path, mode_t mode)
{
	struct passwd *pw;

	if (mkdir(path, mode) < 0 && errno != EEXIST)
		die("cannot create %s: %s", path, strerror(errno));
	if (geteuid() != 0)
		return;
	pw = getpwnam(conf_str("mail_user"));
	if (pw == NULL)
		die("mail_user '%s' does not exist; create it (see README)",
		    conf_str("mail_user"));
	if (chown(path, pw->pw_uid, pw->pw_gid) < 0)
		die("cannot chown %s: %s", path, strerror(errno));
}

/* One master per state directory: hold an flock on master.pid. */
static void
pidfile_lock(void)
{
	char buf[32] = "";

	pid_path = xasprintf("%s/master.pid", conf_str("state_dir"));
	pid_fd = open(pid_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (pid_fd < 0)
		die("cannot open %s: %s", pid_path, strerror(errno));
	if (flock(pid_fd, LOCK_EX | LOCK_NB) < 0) {
		(void)!read(pid_fd, buf, sizeof(buf) - 1);
		buf[strcspn(buf, "\n")] = '\0';
		die("another master (pid %s) is running on %s", buf[0] ? buf : "?",
		    conf_str("state_dir"));
	}
}

static void
pidfile_write(void)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (ftruncate(pid_fd, 0) < 0 || pwrite(pid_fd, buf, (size_t)n, 0) != n)
		die("cannot write %s: %s", pid_path, strerror(errno));
}

static void
master_stop_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	for (struct child *c = M.children; c != NULL; c = c->next) {
		log_exc(LOG_MASTER, "service %s: pid %ld did not stop; killing it",
		    c->svc_name, (long)c->pid);
		kill(c->pid, SIGKILL);
	}
}

static void
master_stop(const char *why)
{
	/* A second of grace beyond the children's own drain timer, so they
	 * get to exit (and clean up) by themselves first. */
	long long ms = conf_time_ms("master_drain_timeout") + 1000;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (M.stopping)
		return;
	M.stopping = true;
	log_msg(LOG_MASTER, "stopping (%s)", why);
	control_close();
	for (struct service *s = M.services; s != NULL; s = s->next) {
		listen_close_all(s);
		service_stop_all(s);
	}
	M.stop_timer = evtimer_new(M.base, master_stop_timeout, NULL);
	evtimer_add(M.stop_timer, &tv);
	if (M.children == NULL)
		event_base_loopexit(M.base, NULL);
}

static void
master_signal(evutil_socket_t sig, short what, void *arg)
{
	char *err = NULL;

	(void)what; (void)arg;
	switch (sig) {
	case SIGCHLD:
		child_reap();
		break;
	case SIGHUP:
		if (!M.stopping && master_reload(&err) < 0)
			free(err);
		break;
	default:
		master_stop(sig == SIGTERM ? "SIGTERM" : "SIGINT");
	}
}

static void
master_start(bool foreground)
{
	char *err = NULL;

	make_dir(conf_str("state_dir"), 0750);
	make_dir(conf_str("log_dir"), 0750);
	make_dir(conf_str("spool_dir"), 0750);
	/* Where mailboxes are made on first delivery (domains with their
	 * own folder_path see to theirs). */
	make_dir(conf_str("mail_dir"), 0750);
	log_open("master", conf_str("log_dir"), conf_bool("log_syslog"));
	log_set_stderr(foreground);
	/* Lock before binding: a second master must not touch the sockets
	 * of the first, not even stale-looking unix ones. */
	pidfile_lock();
	if (master_load(&err) < 0)
		die("%s", err);
	if (!foreground && daemon(0, 0) < 0)
		die("cannot detach: %s", strerror(errno));
	pidfile_write();
}

int
main(int argc, char **argv)
{
	static const int signos[] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT };
	struct event *sigs[4];
	bool foreground = false;
	char *err = NULL;
	int c;

	M.confdir = TERN_SYSCONF_DIR;
	while ((c = getopt(argc, argv, "fc:")) != -1) {
		switch (c) {
		case 'f': foreground = true; break;
		case 'c': M.confdir = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	M.confdir = realpath(M.confdir, NULL);
	if (M.confdir == NULL)
		die("config directory: %s", strerror(errno));
	M.conf_path = xasprintf("%s/tern.conf", M.confdir);
	M.services_path = xasprintf("%s/services.conf", M.confdir);
	signal(SIGPIPE, SIG_IGN);

	/* Validate everything before touching anything. */
	if (conf_load(M.conf_path, &err) < 0)
		die("%s", err);
	master_start(foreground);

	M.base = event_base_new();
	if (M.base == NULL)
		die("cannot create event base");
	for (size_t i = 0; i < 4; i++) {
		sigs[i] = evsignal_new(M.base, signos[i], master_signal, NULL);
		evsignal_add(sigs[i], NULL);
	}
	if (control_open(&err) < 0)
		die("%s", err);
	for (struct service *s = M.services; s != NULL; s = s->next) {
		service_start_all(s);
		log_msg(LOG_MASTER, "service %s: %s", s->conf.name,
		    s->stopped ? "stopped (by admin)" :
		    s->error != NULL ? s->error : "started");
	}
	log_msg(LOG_MASTER, "master %ld ready, config %s", (long)getpid(),
	    M.confdir);

	event_base_dispatch(M.base);

	log_msg(LOG_MASTER, "master exiting");
	for (struct service *s = M.services, *n; s != NULL; s = n) {
		n = s->next;
		service_free(&s);
	}
	for (size_t i = 0; i < 4; i++)
		event_free(sigs[i]);
	if (M.stop_timer != NULL)
		event_free(M.stop_timer);
	event_base_free(M.base);
	unlink(pid_path);
	free(pid_path);
	free(M.conf_path);
	free(M.services_path);
	free(M.stopped_path);
	free(M.confdir);
	log_close();
	return 0;
}
