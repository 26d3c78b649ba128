/*
 * child - start, watch, restart and stop the daemons master runs.
 *
 * A child gets its service's listening sockets as fds 3.., a status
 * socket after them, and its environment (see server.h).  A child that
 * dies unasked is restarted: at once the first time, then after 1s, 2s,
 * 4s ... up to master_restart_delay_max while it keeps dying within
 * CHILD_STABLE_SECS of starting, so a crash loop never spins the CPU.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "ipc.h"
#include "log.h"
#include "master.h"
#include "xalloc.h"

#define CHILD_STABLE_SECS 10

static void child_restart_cb(evutil_socket_t fd, short what, void *arg);

unsigned
service_running(const struct service *s)
{
	unsigned n = 0;

	for (int i = 0; i < s->conf.workers; i++)
		if (s->slot[i] != NULL && s->slot[i]->ready)
			n++;
	return n;
}

static void
child_status_msg(struct ipc_conn *conn, const struct ipc_msg *m, void *arg)
{
	struct child *c = arg;
	long long v;

	(void)conn;
	if (strcmp(ipc_msg_type(m), "status") != 0)
		return;
	c->ready = true;
	if (ipc_msg_get_int(m, "sessions", &v) == 0 && v >= 0)
		c->sessions = (unsigned)v;
	if (ipc_msg_get_int(m, "accepted", &v) == 0 && v >= 0)
		c->accepted = (unsigned long long)v;
}

static void
child_status_close(struct ipc_conn *conn, const char *reason, void *arg)
{
	struct child *c = arg;

	(void)conn; (void)reason;
	/* The process exit is what matters; SIGCHLD reports it. */
	ipc_conn_free(&c->status);
}

/* In the child, between fork and exec: fds 3.. are the listeners, then
 * the status socket; nothing else stays open. */
static void __attribute__((noreturn))
child_exec(struct service *s, int status_fd)
{
	int n = s->conf.nlisten, tmp[SERVICE_MAX_LISTEN + 1];
	struct buf *names = buf_new(128);
	char **argv;
	size_t na = 0;

	for (int i = 0; i < n; i++)
		tmp[i] = fcntl(s->fds[i], F_DUPFD_CLOEXEC, 64);
	tmp[n] = fcntl(status_fd, F_DUPFD_CLOEXEC, 64);
	for (int i = 0; i <= n; i++)
		if (tmp[i] < 0 || dup2(tmp[i], 3 + i) < 0)
			_exit(111);
	close_range(4 + n, ~0U, 0);
	for (int i = 0; i < n; i++)
		buf_printf(names, "%s%s", i ? " " : "", s->conf.listen[i].text);
	setenv("TERN_SERVICE", s->conf.name, 1);
	setenv("TERN_LISTEN_FDS", xasprintf("%d", n), 1);
	setenv("TERN_LISTEN_NAMES", buf_str(names), 1);
	setenv("TERN_TLS", s->conf.tls, 1);
	setenv("TERN_WORKERS", xasprintf("%d", s->conf.workers), 1);
	setenv("TERN_STATUS_FD", xasprintf("%d", 3 + n), 1);
	setenv("TERN_USER", s->conf.user, 1);
	setenv("TERN_CHROOT", s->conf.chroot, 1);
	for (na = 0; s->conf.args != NULL && s->conf.args[na] != NULL; na++)
		;
	argv = xcalloc(na + 4, sizeof(char *));
	argv[0] = s->conf.program;
	argv[1] = "-c";
	argv[2] = M.confdir;
	for (size_t i = 0; i < na; i++)
		argv[3 + i] = s->conf.args[i];
	/* Signals master blocks or ignores must not leak into the child. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	execv(argv[0], argv);
	fprintf(stderr, "master: cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

void
child_spawn(struct service *s, int slot)
{
	struct child *c;
	int sp[2];
	pid_t pid;

	ASSERT(s->slot[slot] == NULL);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
		log_exc(LOG_MASTER, "service %s: socketpair: %s", s->conf.name,
		    strerror(errno));
		return;
	}
	pid = fork();
	if (pid < 0) {
		log_exc(LOG_MASTER, "service %s: fork: %s", s->conf.name,
		    strerror(errno));
		close(sp[0]);
		close(sp[1]);
		return;
	}
	if (pid == 0) {
		close(sp[0]);
		child_exec(s, sp[1]);
	}
	close(sp[1]);
	c = xcalloc(1, sizeof(*c));
	c->svc = s;
	c->svc_name = xstrdup(s->conf.name);
	c->slot = slot;
	c->pid = pid;
	c->started = time(NULL);
	evutil_make_socket_nonblocking(sp[0]);
	c->status = ipc_conn_new(M.base, sp[0], "master", 64 * 1024,
	    child_status_msg, child_status_close, c);
	c->next = M.children;
	M.children = c;
	s->slot[slot] = c;
	log_detail(LOG_MASTER, "service %s: started worker %d, pid %ld",
	    s->conf.name, slot, (long)pid);
}

static void
child_kill_cb(evutil_socket_t fd, short what, void *arg)
{
	struct child *c = arg;

	(void)fd; (void)what;
	log_exc(LOG_MASTER, "service %s: pid %ld still running after "
	    "master_drain_timeout; killing it", c->svc_name, (long)c->pid);
	kill(c->pid, SIGKILL);
}

/* Ask a child to finish its sessions and exit; kill it if it dawdles. */
void
child_drain(struct child *c)
{
	long long ms = conf_time_ms("master_drain_timeout") + 1000;
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	if (c->draining)
		return;
	c->draining = true;
	if (c->svc != NULL && c->svc->slot[c->slot] == c)
		c->svc->slot[c->slot] = NULL;
	kill(c->pid, SIGTERM);
	c->kill_ev = evtimer_new(M.base, child_kill_cb, c);
	evtimer_add(c->kill_ev, &tv);
}

static void
child_free(struct child **cp)
{
	struct child *c = *cp;

	ipc_conn_free(&c->status);
	if (c->kill_ev != NULL)
		event_free(c->kill_ev);
	free(c->svc_name);
	xfree(cp);
}

static void
child_schedule_restart(struct service *s, int slot, time_t ran)
{
	long long max_ms = conf_time_ms("master_restart_delay_max");
	long long ms = 0;
	struct timeval tv;

	if (ran >= CHILD_STABLE_SECS)
		s->fails[slot] = 0;
	s->fails[slot]++;
	if (s->fails[slot] > 1) {
		unsigned shift = s->fails[slot] - 2;
		ms = shift >= 20 ? max_ms : 1000LL << shift;
		if (ms > max_ms)
			ms = max_ms;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	if (s->restart_ev[slot] == NULL)
		s->restart_ev[slot] = evtimer_new(M.base, child_restart_cb, s);
	evtimer_add(s->restart_ev[slot], &tv);
	log_msg(LOG_MASTER, "service %s: restarting worker %d in %lld ms",
	    s->conf.name, slot, ms);
}

static void
child_restart_cb(evutil_socket_t fd, short what, void *arg)
{
	struct service *s = arg;

	(void)fd; (void)what;
	if (s->stopped || M.stopping || s->error != NULL)
		return;
	/* One callback serves every slot: start each empty slot whose own
	 * timer is no longer pending. */
	for (int i = 0; i < s->conf.workers; i++)
		if (s->slot[i] == NULL && s->restart_ev[i] != NULL &&
		    !evtimer_pending(s->restart_ev[i], NULL)) {
			s->restarts++;
			child_spawn(s, i);
		}
}

static void
child_exited(struct child *c, int status)
{
	struct service *s = c->svc;
	bool expected = c->draining || s == NULL || s->stopped || M.stopping;

	if (WIFSIGNALED(status))
		log_write(LOG_MASTER, expected ? LOG_LEVEL_DETAIL : LOG_LEVEL_EXC,
		    "service %s: pid %ld killed by signal %d%s", c->svc_name,
		    (long)c->pid, WTERMSIG(status),
		    WCOREDUMP(status) ? " (core dumped)" : "");
	else
		log_write(LOG_MASTER, expected ? LOG_LEVEL_DETAIL : LOG_LEVEL_EXC,
		    "service %s: pid %ld exited with status %d", c->svc_name,
		    (long)c->pid, WEXITSTATUS(status));
	if (s != NULL && s->slot[c->slot] == c) {
		s->slot[c->slot] = NULL;
		if (!expected)
			child_schedule_restart(s, c->slot,
			    time(NULL) - c->started);
	}
}

void
child_reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (struct child **cp = &M.children; *cp != NULL;
		    cp = &(*cp)->next) {
			struct child *c = *cp;

			if (c->pid != pid)
				continue;
			*cp = c->next;
			child_exited(c, status);
			child_free(&c);
			break;
		}
	}
	if (M.stopping && M.children == NULL)
		event_base_loopexit(M.base, NULL);
}

void
service_start_all(struct service *s)
{
	if (s->stopped || s->error != NULL)
		return;
	for (int i = 0; i < s->conf.workers; i++)
		if (s->slot[i] == NULL)
			child_spawn(s, i);
}

/* Drain every child of s; keep the sockets unless the caller closes them. */
void
service_stop_all(struct service *s)
{
	for (int i = 0; i < SERVICE_MAX_WORKERS; i++) {
		if (s->slot[i] != NULL)
			child_drain(s->slot[i]);
		if (s->restart_ev[i] != NULL)
			evtimer_del(s->restart_ev[i]);
	}
}

void
service_free(struct service **sp)
{
	struct service *s = *sp;

	service_stop_all(s);
	for (struct child *c = M.children; c != NULL; c = c->next)
		if (c->svc == s)
			c->svc = NULL;
	listen_close_all(s);
	for (int i = 0; i < SERVICE_MAX_WORKERS; i++)
		if (s->restart_ev[i] != NULL)
			event_free(s->restart_ev[i]);
	struct service_table t = { .svc = &s->conf, .n = 1 };
	/* services_free frees the array too; give it a copy it can own. */
	t.svc = xmalloc(sizeof(s->conf));
	memcpy(t.svc, &s->conf, sizeof(s->conf));
	services_free(&t);
	free(s->error);
	xfree(sp);
}
