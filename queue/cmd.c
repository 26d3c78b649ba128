/*
 * cmd - the reference's "command-line file to run on new mail":
 * spool_new_mail_command runs once for each new message before its first
 * delivery attempt, with %filepath replaced by the spool file's path.
 *
 * The argv comes from the admin's config only, split on white space;
 * no shell and nothing from the envelope is ever expanded.  The program
 * runs as the mail user in its own process group, stdin/stdout/stderr
 * on /dev/null, started with posix_spawn and reaped on SIGCHLD, so the
 * event loop never waits for it.  After spool_new_mail_timeout its whole
 * process group is killed and delivery goes ahead.  If the file is gone
 * when it exits, the program deleted the message: its recipients are
 * dropped (no bounce) and logged.  At most CMD_PARALLEL run at once; the
 * rest wait their turn (their delivery delay runs meanwhile).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "queue.h"
#include "xalloc.h"

#define CMD_PARALLEL 16

extern char **environ;

struct cmdrun {
	struct cmdrun *next;
	struct qmsg *m;
	pid_t pid;
	struct event *timer;
	bool killed;
};

static struct {
	struct cmdrun *running;
	unsigned nrunning;
	struct qmsg *waiting, **waiting_tail;
	struct event *sigchld;
} C;

static char **
cmd_argv(const char *path)
{
	size_t n = 0;
	char **argv;

	while (Q.cmd_argv[n] != NULL)
		n++;
	argv = xcalloc(n + 1, sizeof(*argv));
	for (size_t i = 0; i < n; i++) {
		const char *w = Q.cmd_argv[i], *p = strstr(w, "%filepath");

		argv[i] = p == NULL ? xstrdup(w) : xasprintf("%.*s%s%s",
		    (int)(p - w), w, path, p + strlen("%filepath"));
	}
	return argv;
}

static void
cmd_argv_free(char **argv)
{
	for (size_t i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* The command is over (or could not start): deliver, or drop. */
static void
cmd_done(struct qmsg *m, const char *how)
{
	struct stat st;

	m->cmd_running = false;
	if (stat(m->path, &st) < 0 && errno == ENOENT) {
		log_msg(QLOG, "%s: the new-mail command deleted the message "
		    "(%s)", m->id, how);
		for (uint32_t i = 0; i < m->nr; i++)
			outcome_drop(m, i, "deleted by the new-mail command");
	} else
		log_detail(QLOG, "%s: new-mail command %s", m->id, how);
	store_touch(m);
}

static void
cmd_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cmdrun *c = arg;

	(void)fd; (void)what;
	log_exc(QLOG, "%s: new-mail command still running after %llds; "
	    "killed", c->m->id, Q.cmd_timeout_ms / 1000);
	kill(-c->pid, SIGKILL);
	kill(c->pid, SIGKILL);
	c->killed = true;
}

static int
cmd_spawn(struct qmsg *m)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, dfl;
	char **argv = cmd_argv(m->path);
	struct cmdrun *c;
	struct timeval tv;
	pid_t pid;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGCHLD);
	sigaddset(&dfl, SIGHUP);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGINT);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &dfl);
	posix_spawnattr_setpgroup(&at, 0);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP |
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc != 0) {
		log_exc(QLOG, "%s: cannot run the new-mail command %s: %s",
		    m->id, argv[0], strerror(rc));
		cmd_argv_free(argv);
		return -1;
	}
	log_detail(QLOG, "%s: new-mail command %s started, pid %ld", m->id,
	    argv[0], (long)pid);
	cmd_argv_free(argv);
	c = xcalloc(1, sizeof(*c));
	c->m = m;
	c->pid = pid;
	c->timer = evtimer_new(Q.base, cmd_timeout_cb, c);
	tv.tv_sec = Q.cmd_timeout_ms / 1000;
	tv.tv_usec = Q.cmd_timeout_ms % 1000 * 1000;
	evtimer_add(c->timer, &tv);
	c->next = C.running;
	C.running = c;
	C.nrunning++;
	m->cmd_running = true;
	return 0;
}

static void
cmd_next(void)
{
	while (C.waiting != NULL && C.nrunning < CMD_PARALLEL &&
	    !Q.draining) {
		struct qmsg *m = C.waiting;

		C.waiting = m->cnext;
		if (C.waiting == NULL)
			C.waiting_tail = &C.waiting;
		m->cmd_waiting = false;
		if (cmd_spawn(m) < 0)
			cmd_done(m, "could not start");
	}
}

void
cmd_start(struct qmsg *m)
{
	ASSERT(!m->cmd_waiting && !m->cmd_running);
	m->cmd_waiting = true;
	m->cnext = NULL;
	*C.waiting_tail = m;
	C.waiting_tail = &m->cnext;
	cmd_next();
}

void
cmd_forget(struct qmsg *m)
{
	struct qmsg **pp;

	for (pp = &C.waiting; *pp != NULL; pp = &(*pp)->cnext)
		if (*pp == m) {
			*pp = m->cnext;
			break;
		}
	C.waiting_tail = &C.waiting;
	while (*C.waiting_tail != NULL)
		C.waiting_tail = &(*C.waiting_tail)->cnext;
	m->cmd_waiting = false;
}

static void
cmd_reaped(pid_t pid, int status)
{
	struct cmdrun **pp, *c;
	char how[64];

	for (pp = &C.running; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->pid == pid)
			break;
	if (*pp == NULL)
		return;
	c = *pp;
	*pp = c->next;
	C.nrunning--;
	event_free(c->timer);
	if (c->killed)
		snprintf(how, sizeof(how), "killed after the timeout");
	else if (WIFEXITED(status))
		snprintf(how, sizeof(how), "exited with %d",
		    WEXITSTATUS(status));
	else
		snprintf(how, sizeof(how), "ended by signal %d",
		    WTERMSIG(status));
	/* Whatever the program left behind in its group goes too. */
	kill(-pid, SIGKILL);
	cmd_done(c->m, how);
	free(c);
}

static void
cmd_sigchld_cb(evutil_socket_t fd, short what, void *arg)
{
	pid_t pid;
	int status;

	(void)fd; (void)what; (void)arg;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		cmd_reaped(pid, status);
	cmd_next();
}

void
cmd_init(void)
{
	C.waiting_tail = &C.waiting;
	C.sigchld = evsignal_new(Q.base, SIGCHLD, cmd_sigchld_cb, NULL);
	evsignal_add(C.sigchld, NULL);
}

void
cmd_exit(void)
{
	while (C.running != NULL) {
		struct cmdrun *c = C.running;
		int status;

		C.running = c->next;
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
		waitpid(c->pid, &status, 0);
		event_free(c->timer);
		c->m->cmd_running = false;
		free(c);
	}
	C.nrunning = 0;
	while (C.waiting != NULL)
		cmd_forget(C.waiting);
	if (C.sigchld != NULL)
		event_free(C.sigchld);
	C.sigchld = NULL;
}
