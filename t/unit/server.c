/*
 * Unit tests for lib/server, the daemon skeleton.
 *
 * Each case forks a child that sets up what master would (a listening TCP
 * socket on 127.0.0.1 as fd 3, a status socket as fd 4, the TERN_*
 * environment, "-c DIR") and runs server_main() with the tiny line echo
 * service below.  The parent plays master on the status socket with the
 * blocking ipc API and plays the client over TCP.  A third fd (5), the
 * write end of a pipe, closes when the child exits, so the parent waits
 * for the exit with poll() and a deadline instead of sleeping.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "ipc.h"
#include "linebuf.h"
#include "server.h"
#include "tap.h"
#include "xalloc.h"

/* Generous: sanitizer builds under `prove -j2` are slow. */
#define TIMEOUT_MS 10000
#define STATUS_MAX 65536
#define SERVICE "echo-svc"
#define PROG "echo-test"

static char tmpdir[] = "/tmp/tern-server-XXXXXX";
/* When the tests run as root the daemon must drop to this user. */
static const char *drop_user;
static uid_t daemon_uid;

/* ================= the daemon side (runs in forked children) ========= */

struct echo_session {
	struct bufferevent *bev;
	struct linebuf *lb;
	struct echo_session *next;
};

/* Open sessions; on_exit frees those a drain timeout left behind. */
static struct echo_session *echo_sessions;
static char echo_args[256];
static bool echo_init_done;
static bool echo_init_base_ok;
static long echo_init_uid = -1;
static long echo_pre_uid = -1;
static bool echo_fail_before, echo_fail_after;
static int echo_reloads;
static const char *echo_prefix = "+ECHO";

static void
echo_end(struct echo_session *s)
{
	struct echo_session **pp;

	for (pp = &echo_sessions; *pp != s; pp = &(*pp)->next)
		ASSERT(*pp != NULL);
	*pp = s->next;
	bufferevent_free(s->bev);
	linebuf_free(&s->lb);
	free(s);
	server_session_end();
}

/* A line to every open session (drain and reload notices). */
static void __attribute__((format(printf, 1, 2)))
echo_tell_all(const char *fmt, ...)
{
	va_list ap;

	for (struct echo_session *s = echo_sessions; s != NULL; s = s->next) {
		va_start(ap, fmt);
		evbuffer_add_vprintf(bufferevent_get_output(s->bev), fmt, ap);
		va_end(ap);
		evbuffer_add(bufferevent_get_output(s->bev), "\r\n", 2);
	}
}

static void
echo_flushed(struct bufferevent *bev, void *arg)
{
	(void)bev;
	echo_end(arg);
}

static void
echo_read(struct bufferevent *bev, void *arg)
{
	struct echo_session *s = arg;
	struct evbuffer *out = bufferevent_get_output(bev);
	const char *line;
	size_t len;
	unsigned flags;

	for (;;) {
		switch (linebuf_get(s->lb, bufferevent_get_input(bev), &line,
		    &len, &flags)) {
		case LINE_MORE:
			return;
		case LINE_TOO_LONG:
			evbuffer_add_printf(out, "-ERR too long\r\n");
			continue;
		case LINE_OK:
			break;
		}
		if (len == 5 && memcmp(line, "STATE", 5) == 0) {
			evbuffer_add_printf(out, "+STATE sessions=%u "
			    "draining=%d\r\n", server_sessions(),
			    server_draining());
		} else if (len == 4 && memcmp(line, "QUIT", 4) == 0) {
			evbuffer_add_printf(out, "+BYE\r\n");
			bufferevent_disable(bev, EV_READ);
			bufferevent_setcb(bev, NULL, echo_flushed, NULL, s);
			return;
		} else {
			evbuffer_add_printf(out, "%s %.*s\r\n", echo_prefix,
			    (int)len, line);
		}
	}
}

static void
echo_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev; (void)what;
	echo_end(arg);
}

static void
echo_client(evutil_socket_t fd, const struct sockaddr *sa, socklen_t salen,
    const struct server_listener *l)
{
	struct echo_session *s = xcalloc(1, sizeof(*s));

	(void)sa; (void)salen;
	s->bev = bufferevent_socket_new(server_base(), fd,
	    BEV_OPT_CLOSE_ON_FREE);
	s->lb = linebuf_new(512);
	linebuf_watermark(s->bev, 512);
	bufferevent_setcb(s->bev, echo_read, NULL, echo_event, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	s->next = echo_sessions;
	echo_sessions = s;
	evbuffer_add_printf(bufferevent_get_output(s->bev),
	    "+OK service=%s listener=%d,%s tls=%s ctx=%d pre=%ld init=%d "
	    "base=%d uid=%ld args=%s\r\n", server_service(), l->index,
	    l->name, l->tls, server_tls_ctx() != NULL, echo_pre_uid,
	    echo_init_done, echo_init_base_ok, echo_init_uid, echo_args);
}

/* Record what we were given; "--bad" is a usage error, "--fail-before"
 * and "--fail-after" make those hooks fail. */
static int
echo_args_hook(int argc, char **argv)
{
	size_t n = 0;

	n += (size_t)snprintf(echo_args, sizeof(echo_args), "%d", argc);
	for (int i = 0; i < argc && n < sizeof(echo_args); i++) {
		if (strcmp(argv[i], "--bad") == 0)
			return -1;
		echo_fail_before |= strcmp(argv[i], "--fail-before") == 0;
		echo_fail_after |= strcmp(argv[i], "--fail-after") == 0;
		n += (size_t)snprintf(echo_args + n, sizeof(echo_args) - n,
		    ",%s", argv[i]);
	}
	return argv[argc] == NULL ? 0 : -1;
}

static int
echo_before_drop(void)
{
	echo_pre_uid = (long)geteuid();
	return echo_fail_before ? -1 : 0;
}

static int
echo_after_drop(struct event_base *base)
{
	echo_init_done = true;
	echo_init_base_ok = base != NULL && base == server_base();
	echo_init_uid = (long)geteuid();
	return echo_fail_after ? -1 : 0;
}

static void
echo_reload(void)
{
	char *path = xasprintf("%s/reloaded", conf_str("state_dir"));
	FILE *f = fopen(path, "w");

	echo_reloads++;
	echo_prefix = "+ECHO2";
	if (f != NULL) {
		fprintf(f, "reloads=%d\n", echo_reloads);
		fclose(f);
	}
	free(path);
	echo_tell_all("+RELOADED %d level=%s", echo_reloads,
	    conf_str("log_level_smtp"));
}

static void
echo_drain(void)
{
	echo_tell_all("+DRAINING sessions=%u draining=%d", server_sessions(),
	    server_draining());
}

/* After the loop: free what a drain timeout left, and say so on stderr
 * (the parent reads the child's stderr file). */
static void
echo_exit(void)
{
	int n = 0;

	for (; echo_sessions != NULL && n < 1000; n++)
		echo_end(echo_sessions);
	fprintf(stderr, "on_exit: freed %d sessions, %u left\n", n,
	    server_sessions());
}

static const struct server_hooks echo_hooks = {
	.name = PROG,
	.log = LOG_SMTP,
	.args = echo_args_hook,
	.before_drop = echo_before_drop,
	.after_drop = echo_after_drop,
	.on_client = echo_client,
	.on_reload = echo_reload,
	.on_drain = echo_drain,
	.on_exit = echo_exit,
};

/* The same service taking no arguments. */
static const struct server_hooks echo_hooks_noargs = {
	.name = PROG,
	.log = LOG_SMTP,
	.on_client = echo_client,
	.on_exit = echo_exit,
};

/* ================= the master side (the test process) ================ */

struct daemon {
	pid_t pid;
	int status;     /* our end of the status socket; -1 once closed */
	int gone;       /* EOF here when the child has exited */
	int port;
	char *dir;
	long long accepted;   /* from the last status frame */
};

struct opts {
	bool no_service;
	bool no_args_hook;    /* hooks.args = NULL */
	const char *args[4];  /* after "-c DIR" */
	int drain_s;          /* master_drain_timeout; 0: 2s */
	const char *tls;      /* TERN_TLS; NULL: "none" */
	const char *conf;     /* more tern.conf lines */
};

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
write_file(const char *path, const char *text)
{
	char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ASSERT(fd >= 0);
	ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	ASSERT(rename(tmp, path) == 0);
	free(tmp);
}

/* Whole file, NUL-terminated; NULL if it does not exist. */
static char *
slurp(const char *path)
{
	struct stat st;
	char *data;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return NULL;
	ASSERT(fstat(fd, &st) == 0);
	data = xmalloc((size_t)st.st_size + 1);
	ASSERT(read(fd, data, (size_t)st.st_size) == st.st_size);
	data[st.st_size] = '\0';
	close(fd);
	return data;
}

static bool
file_has(const struct daemon *d, const char *name, const char *sub)
{
	char *p = xasprintf("%s/%s", d->dir, name), *data = slurp(p);
	bool r = data != NULL && strstr(data, sub) != NULL;

	free(data);
	free(p);
	return r;
}

static void
write_conf(const struct daemon *d, int drain_s, const char *extra)
{
	char *path = xasprintf("%s/tern.conf", d->dir);
	char *text = xasprintf("state_dir = %s/state\nspool_dir = %s/spool\n"
	    "log_dir = %s/log\nmaster_drain_timeout = %ds\n%s", d->dir, d->dir,
	    d->dir, drain_s, extra);

	write_file(path, text);
	free(text);
	free(path);
}

static void
make_dir(const char *path)
{
	ASSERT(mkdir(path, 0755) == 0);
	if (drop_user != NULL)
		ASSERT(chown(path, daemon_uid, (gid_t)-1) == 0);
}

/* In the child: fds, environment, argv as master sets them; never returns. */
static void __attribute__((noreturn))
daemon_exec(const struct daemon *d, const struct opts *o, int lfd, int sfd,
    int gfd)
{
	int tmp[3] = { fcntl(lfd, F_DUPFD, 64), fcntl(sfd, F_DUPFD, 64),
		fcntl(gfd, F_DUPFD, 64) };
	char *errf = xasprintf("%s/stderr", d->dir), *names, *argv[8];
	int argc = 0, fd, rc;

	for (int i = 0; i < 3; i++)
		if (tmp[i] < 0 || dup2(tmp[i], 3 + i) != 3 + i)
			_exit(111);
	close_range(6, ~0U, 0);
	fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
		_exit(111);
	close(fd);
	free(errf);
	if (!o->no_service)
		setenv("TERN_SERVICE", SERVICE, 1);
	else
		unsetenv("TERN_SERVICE");
	setenv("TERN_LISTEN_FDS", "1", 1);
	names = xasprintf("127.0.0.1:%d", d->port);
	setenv("TERN_LISTEN_NAMES", names, 1);
	free(names);
	setenv("TERN_TLS", o->tls != NULL ? o->tls : "none", 1);
	setenv("TERN_STATUS_FD", "4", 1);
	if (drop_user != NULL)
		setenv("TERN_USER", drop_user, 1);
	unsetenv("TERN_CHROOT");
	argv[argc++] = PROG;
	argv[argc++] = "-c";
	argv[argc++] = d->dir;
	for (int i = 0; i < 4 && o->args[i] != NULL; i++)
		argv[argc++] = (char *)o->args[i];
	argv[argc] = NULL;
	rc = server_main(argc, argv,
	    o->no_args_hook ? &echo_hooks_noargs : &echo_hooks);
	exit(rc);
}

static void
daemon_start(struct daemon *d, const char *name, const struct opts *o)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t slen = sizeof(sin);
	int lfd, sp[2], gp[2];
	char *sub;

	memset(d, 0, sizeof(*d));
	d->dir = xasprintf("%s/%s", tmpdir, name);
	ASSERT(mkdir(d->dir, 0755) == 0);
	sub = xasprintf("%s/log", d->dir);
	make_dir(sub);
	free(sub);
	sub = xasprintf("%s/state", d->dir);
	make_dir(sub);
	free(sub);
	sub = xasprintf("%s/spool", d->dir);
	make_dir(sub);
	free(sub);
	write_conf(d, o->drain_s > 0 ? o->drain_s : 2,
	    o->conf != NULL ? o->conf : "");

	/* Port 0: the kernel picks a free one. */
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT(lfd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ASSERT(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	ASSERT(listen(lfd, 16) == 0);
	ASSERT(getsockname(lfd, (struct sockaddr *)&sin, &slen) == 0);
	d->port = ntohs(sin.sin_port);
	ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0);
	ASSERT(pipe2(gp, O_CLOEXEC) == 0);

	fflush(stdout);
	d->pid = fork();
	ASSERT(d->pid >= 0);
	if (d->pid == 0)
		daemon_exec(d, o, lfd, sp[1], gp[1]);
	/* Only the child may hold the listener: once it closes it, a
	 * connect must be refused. */
	close(lfd);
	close(sp[1]);
	close(gp[1]);
	d->status = sp[0];
	d->gone = gp[0];
}

/* The hello exchange, then the first status frame (sessions=0). */
static bool
daemon_hello(struct daemon *d)
{
	const char *err = NULL;

	if (ipc_server_hello(d->status, "master", TIMEOUT_MS, &err) < 0) {
		diag("hello: %s", err);
		return false;
	}
	return true;
}

/*
 * Read status frames until one reports `want` sessions; reports are
 * coalesced, so intermediate counts may never be seen.  Returns false on
 * timeout or a bad frame.  d->accepted gets that frame's count.
 */
static bool
status_until(struct daemon *d, long long want)
{
	long long deadline = now_ms() + TIMEOUT_MS, sessions, left;

	for (int i = 0; i < 10000 && (left = deadline - now_ms()) > 0; i++) {
		struct ipc_msg *m = NULL;
		const char *err = NULL;

		if (ipc_recv(d->status, STATUS_MAX, (int)left, &m, &err) < 0) {
			diag("status: %s", err);
			return false;
		}
		if (strcmp(ipc_msg_type(m), "status") != 0 ||
		    ipc_msg_get_int(m, "sessions", &sessions) < 0 ||
		    ipc_msg_get_int(m, "accepted", &d->accepted) < 0) {
			diag("unexpected frame '%s'", ipc_msg_type(m));
			ipc_msg_free(&m);
			return false;
		}
		ipc_msg_free(&m);
		if (sessions == want)
			return true;
	}
	diag("no status frame with sessions=%lld in time", want);
	return false;
}

/* Wait up to ms for the child to exit: its wait status, or -1 after
 * killing it on timeout. */
static int
daemon_wait(struct daemon *d, int ms)
{
	struct pollfd pfd = { .fd = d->gone, .events = POLLIN };
	char c;
	int st, r;

	do
		r = poll(&pfd, 1, ms);
	while (r < 0 && errno == EINTR);
	if (r == 0) {
		diag("daemon %ld did not exit within %d ms", (long)d->pid, ms);
		kill(d->pid, SIGKILL);
		ASSERT(waitpid(d->pid, &st, 0) == d->pid);
		return -1;
	}
	ASSERT(read(d->gone, &c, 1) == 0);
	ASSERT(waitpid(d->pid, &st, 0) == d->pid);
	return st;
}

/* Still running (checked without waiting). */
static bool
daemon_running(const struct daemon *d)
{
	struct pollfd pfd = { .fd = d->gone, .events = POLLIN };

	return poll(&pfd, 1, 0) == 0;
}

static bool
exited_with(int st, int code)
{
	if (st == -1)
		return false;
	if (WIFSIGNALED(st))
		diag("killed by signal %d", WTERMSIG(st));
	else if (WEXITSTATUS(st) != code)
		diag("exit status %d", WEXITSTATUS(st));
	return WIFEXITED(st) && WEXITSTATUS(st) == code;
}

/* Sanitizer reports land in the child's stderr file: show them. */
static void
daemon_free(struct daemon *d)
{
	char *p = xasprintf("%s/stderr", d->dir), *err = slurp(p);

	ok(err == NULL || strstr(err, "Sanitizer") == NULL,
	    "no sanitizer report from the daemon");
	if (err != NULL && strstr(err, "Sanitizer") != NULL)
		diag("%s", err);
	free(err);
	free(p);
	if (d->status >= 0)
		close(d->status);
	close(d->gone);
	free(d->dir);
}

/* --- the client --- */

/* Connected TCP socket with a read timeout, or -1 with errno. */
static int
tcp_connect(int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct timeval tv = { TIMEOUT_MS / 1000, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

	ASSERT(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	ASSERT(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
	return fd;
}

/* One line without its CRLF into buf; length, or -1 on EOF/timeout. */
static int
get_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	char c;

	while (n + 1 < size) {
		if (read(fd, &c, 1) != 1) {
			buf[n] = '\0';
			return -1;
		}
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (int)n;
}

static void
put_line(int fd, const char *s)
{
	char *l = xasprintf("%s\r\n", s);

	ASSERT(write(fd, l, strlen(l)) == (ssize_t)strlen(l));
	free(l);
}

/* Send a line, return whether the answer is exactly want. */
static bool
ask(int fd, const char *line, const char *want)
{
	char buf[512];

	put_line(fd, line);
	if (get_line(fd, buf, sizeof(buf)) < 0 || strcmp(buf, want) != 0) {
		diag("'%s' got '%s', expected '%s'", line, buf, want);
		return false;
	}
	return true;
}

/* Read one line and check it starts with prefix. */
static bool
expect(int fd, const char *prefix, char *buf, size_t size)
{
	if (get_line(fd, buf, size) < 0 ||
	    strncmp(buf, prefix, strlen(prefix)) != 0) {
		diag("got '%s', expected '%s...'", buf, prefix);
		return false;
	}
	return true;
}

/* A client that connected and read its greeting, or -1. */
static int
client(struct daemon *d, char *greet, size_t size)
{
	int fd = tcp_connect(d->port);

	if (fd < 0) {
		diag("connect: %s", strerror(errno));
		return -1;
	}
	if (!expect(fd, "+OK ", greet, size)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* True if the listener is gone: a connect is refused. */
static bool
refused(const struct daemon *d)
{
	int fd = tcp_connect(d->port);

	if (fd >= 0) {
		close(fd);
		return false;
	}
	return errno == ECONNREFUSED;
}

/* --- the cases --- */

static void
test_serve(void)
{
	static const struct opts o = { .args = { "alpha", "beta", NULL } };
	struct daemon d;
	char greet[512], want[128], buf[512];
	int c1, c2, c3;

	daemon_start(&d, "serve", &o);
	ok(daemon_hello(&d), "the daemon says hello on the status socket");
	ok(status_until(&d, 0) && d.accepted == 0,
	    "its first status frame: sessions=0 accepted=0");

	c1 = client(&d, greet, sizeof(greet));
	ok(c1 >= 0, "a TCP client is served");
	ok(strstr(greet, " init=1 base=1 ") != NULL,
	    "after_drop ran, with server_base(), before the first connection");
	snprintf(want, sizeof(want), " pre=%ld ", (long)geteuid());
	ok(strstr(greet, want) != NULL, geteuid() == 0 ?
	    "before_drop runs as root" : "before_drop runs");
	snprintf(want, sizeof(want), " uid=%ld ", (long)daemon_uid);
	ok(strstr(greet, want) != NULL, drop_user != NULL ?
	    "after_drop already runs as the mail user (TERN_USER)" :
	    "after_drop runs as the invoking user when not root");
	ok(strstr(greet, " args=3,echo-test,alpha,beta") != NULL,
	    "the args hook gets argv[0] and the args after -c DIR");
	snprintf(want, sizeof(want), "+OK service=" SERVICE " listener=0,"
	    "127.0.0.1:%d tls=none ctx=0 ", d.port);
	ok(strncmp(greet, want, strlen(want)) == 0, "on_client gets the "
	    "listener's index, name and tls; server_service() is TERN_SERVICE; "
	    "no TLS context for tls none");
	if (c1 < 0)
		BUG("cannot go on without a client");
	ok(status_until(&d, 1) && d.accepted == 1,
	    "status: sessions=1 accepted=1");
	ok(ask(c1, "hello there", "+ECHO hello there"), "the session echoes");
	ok(ask(c1, "STATE", "+STATE sessions=1 draining=0"),
	    "server_sessions() is 1, server_draining() false");

	c2 = client(&d, greet, sizeof(greet));
	ok(c2 >= 0 && status_until(&d, 2) && d.accepted == 2,
	    "a second client: sessions=2 accepted=2");
	close(c1);
	ok(status_until(&d, 1) && d.accepted == 2,
	    "the first leaves: sessions=1 accepted=2");
	ok(ask(c2, "STATE", "+STATE sessions=1 draining=0"),
	    "server_sessions() follows");
	close(c2);
	ok(status_until(&d, 0) && d.accepted == 2,
	    "both gone: sessions=0 accepted=2");

	c3 = client(&d, greet, sizeof(greet));
	ok(c3 >= 0 && status_until(&d, 1) && d.accepted == 3,
	    "a third client: accepted=3");
	ok(c3 >= 0 && ask(c3, "QUIT", "+BYE") && get_line(c3, buf,
	    sizeof(buf)) < 0, "the server ends a session itself");
	ok(status_until(&d, 0) && d.accepted == 3, "then sessions=0 again");
	if (c3 >= 0)
		close(c3);

	kill(d.pid, SIGTERM);
	ok(exited_with(daemon_wait(&d, TIMEOUT_MS), 0),
	    "SIGTERM with no session open: exit 0");
	daemon_free(&d);
}

static void
test_args(void)
{
	static const struct opts bad = { .args = { "alpha", "--bad", NULL } };
	static const struct opts none_taken = { .no_args_hook = true,
		.args = { "stray", NULL } };
	static const struct opts none = { .no_args_hook = true };
	static const struct opts before = { .args = { "--fail-before" } };
	static const struct opts after = { .args = { "--fail-after" } };
	struct daemon d;

	daemon_start(&d, "usage", &bad);
	ok(exited_with(daemon_wait(&d, TIMEOUT_MS), 2),
	    "a usage error from the args hook exits 2");
	ok(file_has(&d, "stderr", "usage: " PROG " -c CONFDIR"),
	    "with a usage line on stderr");
	daemon_free(&d);

	daemon_start(&d, "noargs-stray", &none_taken);
	ok(exited_with(daemon_wait(&d, TIMEOUT_MS), 2),
	    "no args hook: an argument after -c DIR is a usage error");
	daemon_free(&d);

	daemon_start(&d, "noargs", &none);
	ok(daemon_hello(&d) && status_until(&d, 0),
	    "no args hook and no arguments: the daemon runs");
	kill(d.pid, SIGTERM);
	ok(exited_with(daemon_wait(&d, TIMEOUT_MS), 0), "and exits 0");
	daemon_free(&d);

	daemon_start(&d, "fail-before", &before);
	ok(exited_with(daemon_wait(&d, TIMEOUT_MS), 1) &&
	    file_has(&d, "stderr", "fatal: " SERVICE ": start-up failed"),
	    "before_drop failing: start-up failed, exit 1");
	daemon_free(&d);

	daemon_start(&d, "fail-after", &after);
	ok(exited_with(daemon_wait(&d, TIMEOUT_MS), 1) &&
	    file_has(&d, "stderr", "fatal: " SERVICE ": start-up failed"),
	    "after_drop failing: start-up failed, exit 1");
	daemon_free(&d);
}

static void
test_no_service(void)
{
	static const struct opts o = { .no_service = true };
	struct daemon d;

	daemon_start(&d, "noservice", &o);
	ok(exited_with(daemon_wait(&d, TIMEOUT_MS), 1),
	    "without TERN_SERVICE the daemon dies with status 1");
	ok(file_has(&d, "stderr", "fatal: " PROG ": not started by master"),
	    "saying why on stderr");
	ok(file_has(&d, "log/smtp.log", "exc: fatal: " PROG ": not started "
	    "by master"), "and in the daemon's own log (hooks->log)");
	daemon_free(&d);
}

static void
test_reload(void)
{
	static const struct opts o = { .args = { NULL } };
	struct daemon d;
	char greet[512], buf[512], *path;
	int c;

	daemon_start(&d, "reload", &o);
	ok(daemon_hello(&d) && status_until(&d, 0), "reload: daemon up");
	c = client(&d, greet, sizeof(greet));
	if (c < 0)
		BUG("cannot go on without a client");
	ok(ask(c, "before", "+ECHO before"), "old reply before SIGHUP");

	/* A changed tern.conf: smtp now logs detailed lines. */
	write_conf(&d, 2, "log_level_smtp = detailed\n");
	kill(d.pid, SIGHUP);
	ok(expect(c, "+RELOADED 1 level=detailed", buf, sizeof(buf)),
	    "SIGHUP calls on_reload after re-reading tern.conf");
	ok(ask(c, "after", "+ECHO2 after"), "the reply changed");
	ok(file_has(&d, "state/reloaded", "reloads=1\n"),
	    "on_reload wrote its file");
	ok(file_has(&d, "log/smtp.log", "detail: " SERVICE ": reloaded"),
	    "log levels were re-read (a detailed line appears)");

	/* A broken tern.conf: the old one stays in force. */
	write_conf(&d, 2, "no_such_key = 1\n");
	kill(d.pid, SIGHUP);
	ok(expect(c, "+RELOADED 2 level=detailed", buf, sizeof(buf)),
	    "a broken tern.conf on SIGHUP keeps the old configuration");
	ok(file_has(&d, "log/smtp.log", "keeping the old configuration"),
	    "and says so in the log");
	ok(ask(c, "STATE", "+STATE sessions=1 draining=0"),
	    "SIGHUP does not drain");
	close(c);
	ok(status_until(&d, 0), "session closed");
	kill(d.pid, SIGTERM);
	ok(exited_with(daemon_wait(&d, TIMEOUT_MS), 0), "then exit 0");
	path = xasprintf("%s/state/reloaded", d.dir);
	unlink(path);
	free(path);
	daemon_free(&d);
}

/* SIGTERM: stop accepting, let the open session finish, then exit. */
static void
test_sigterm(void)
{
	static const struct opts o = { .args = { NULL } };
	struct daemon d;
	char greet[512], buf[512];
	int c;

	daemon_start(&d, "sigterm", &o);
	ok(daemon_hello(&d) && status_until(&d, 0), "sigterm: daemon up");
	c = client(&d, greet, sizeof(greet));
	if (c < 0)
		BUG("cannot go on without a client");
	ok(status_until(&d, 1), "one session open");
	kill(d.pid, SIGTERM);
	ok(expect(c, "+DRAINING sessions=1 draining=1", buf, sizeof(buf)),
	    "SIGTERM calls on_drain with the session still open");
	ok(refused(&d), "the listener is closed: a new connect is refused");
	ok(ask(c, "still here", "+ECHO still here"),
	    "the open session still works");
	ok(ask(c, "STATE", "+STATE sessions=1 draining=1"),
	    "server_draining() is true");
	ok(daemon_running(&d), "and keeps the daemon running");
	close(c);
	ok(exited_with(daemon_wait(&d, TIMEOUT_MS), 0),
	    "the daemon exits 0 once the session closes");
	ok(file_has(&d, "log/smtp.log", "normal: " SERVICE ": draining "
	    "(SIGTERM), 1 sessions open"), "the drain is logged");
	ok(file_has(&d, "stderr", "on_exit: freed 0 sessions, 0 left\n"),
	    "on_exit ran, with nothing left to free");
	daemon_free(&d);
}

/* SIGTERM with a session that never ends: master_drain_timeout. */
static void
test_drain_timeout(void)
{
	static const struct opts o = { .args = { NULL }, .drain_s = 1 };
	struct daemon d;
	char greet[512], buf[512];
	long long t0, took;
	int c, st;

	daemon_start(&d, "timeout", &o);
	ok(daemon_hello(&d) && status_until(&d, 0), "timeout: daemon up");
	c = client(&d, greet, sizeof(greet));
	if (c < 0)
		BUG("cannot go on without a client");
	ok(status_until(&d, 1), "one session open, and it will stay open");
	t0 = now_ms();
	kill(d.pid, SIGTERM);
	ok(expect(c, "+DRAINING", buf, sizeof(buf)), "draining");
	st = daemon_wait(&d, 1000 + TIMEOUT_MS);
	took = now_ms() - t0;
	ok(exited_with(st, 0), "the daemon exits (status 0) with the session "
	    "still open");
	ok(took >= 950 && took < 1000 + TIMEOUT_MS,
	    "after master_drain_timeout (1s)");
	diag("exited %lld ms after SIGTERM", took);
	ok(get_line(c, buf, sizeof(buf)) < 0, "the client sees the close");
	ok(file_has(&d, "log/smtp.log", "exc: " SERVICE ": drain timeout with "
	    "1 sessions open"), "the timeout is logged");
	ok(file_has(&d, "stderr", "on_exit: freed 1 sessions, 0 left\n"),
	    "on_exit got to free the session the timeout left");
	close(c);
	daemon_free(&d);
}

/* EOF on the status socket: master is gone; drain and exit. */
static void
test_master_gone(void)
{
	static const struct opts o = { .args = { NULL } };
	struct daemon d;
	char greet[512], buf[512];
	int c;

	daemon_start(&d, "gone", &o);
	ok(daemon_hello(&d) && status_until(&d, 0), "gone: daemon up");
	c = client(&d, greet, sizeof(greet));
	if (c < 0)
		BUG("cannot go on without a client");
	ok(status_until(&d, 1), "one session open");
	close(d.status);
	d.status = -1;
	ok(expect(c, "+DRAINING sessions=1 draining=1", buf, sizeof(buf)),
	    "closing the status socket starts a drain");
	ok(refused(&d), "no new connections");
	ok(ask(c, "last words", "+ECHO last words"), "the session still works");
	close(c);
	ok(exited_with(daemon_wait(&d, TIMEOUT_MS), 0),
	    "and the daemon exits 0 when it ends");
	ok(file_has(&d, "log/smtp.log", "exc: " SERVICE ": lost master "
	    "(peer closed)"), "losing master is logged");
	daemon_free(&d);
}

/* A "drain" frame from master does what SIGTERM does. */
static void
test_master_drain(void)
{
	static const struct opts o = { .args = { NULL } };
	struct ipc_msg *m = ipc_msg_new("drain");
	struct daemon d;
	const char *err = NULL;

	daemon_start(&d, "drain", &o);
	ok(daemon_hello(&d) && status_until(&d, 0), "drain: daemon up");
	ok(ipc_send(d.status, m, &err) == 0, "master sends drain");
	ok(exited_with(daemon_wait(&d, TIMEOUT_MS), 0),
	    "with no session open the daemon exits 0 at once");
	ok(file_has(&d, "log/smtp.log", "draining (asked by master)"),
	    "saying why");
	ipc_msg_free(&m);
	daemon_free(&d);
}

/* A key only root can read: the context must be built before the drop. */
static void
make_creds(const char *dir, char **cert_r, char **key_r)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	FILE *f;

	ASSERT(key != NULL && x != NULL);
	*cert_r = xasprintf("%s/cert.pem", dir);
	*key_r = xasprintf("%s/key.pem", dir);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, name);
	ASSERT(X509_sign(x, key, EVP_sha256()) > 0);
	ASSERT((f = fopen(*cert_r, "w")) != NULL);
	ASSERT(PEM_write_X509(f, x) == 1);
	fclose(f);
	ASSERT((f = fopen(*key_r, "w")) != NULL);
	ASSERT(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1);
	fclose(f);
	ASSERT(chmod(*key_r, 0400) == 0);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void
test_tls(void)
{
	static const struct opts no_cert = { .tls = "starttls" };
	struct opts o = { .tls = "implicit" };
	struct daemon d;
	char greet[512], *cert, *key, *conf;
	char *dir = xasprintf("%s/creds", tmpdir);
	int c;

	daemon_start(&d, "tls-nocert", &no_cert);
	ok(exited_with(daemon_wait(&d, TIMEOUT_MS), 1),
	    "TERN_TLS=starttls without a certificate: exit 1");
	ok(file_has(&d, "stderr", "fatal: " SERVICE ": TLS: "),
	    "saying TLS is the problem");
	daemon_free(&d);

	ASSERT(mkdir(dir, 0755) == 0);
	make_creds(dir, &cert, &key);
	conf = xasprintf("tls_cert_file = %s\ntls_key_file = %s\n", cert, key);
	o.conf = conf;
	daemon_start(&d, "tls", &o);
	ok(daemon_hello(&d) && status_until(&d, 0), "tls: daemon up");
	c = client(&d, greet, sizeof(greet));
	ok(c >= 0 && strstr(greet, " tls=implicit ctx=1 ") != NULL,
	    drop_user != NULL ? "server_tls_ctx() is built from a root-only "
	    "key before the drop" : "server_tls_ctx() is built for implicit");
	if (c >= 0)
		close(c);
	kill(d.pid, SIGTERM);
	ok(exited_with(daemon_wait(&d, TIMEOUT_MS), 0), "tls: exit 0");
	daemon_free(&d);
	free(conf);
	free(cert);
	free(key);
	free(dir);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

int
main(void)
{
	struct passwd *pw;

	signal(SIGPIPE, SIG_IGN);
	ASSERT(mkdtemp(tmpdir) != NULL);
	daemon_uid = geteuid();
	if (daemon_uid == 0) {
		/* As root the skeleton drops privileges; let it become
		 * nobody, who must then reach tern.conf and its dirs. */
		pw = getpwnam("nobody");
		ASSERT(pw != NULL && pw->pw_uid != 0);
		drop_user = "nobody";
		daemon_uid = pw->pw_uid;
		ASSERT(chmod(tmpdir, 0755) == 0);
	}
	test_serve();
	test_args();
	test_no_service();
	test_reload();
	test_sigterm();
	test_drain_timeout();
	test_master_gone();
	test_master_drain();
	test_tls();
	ASSERT(nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0);
	return done_testing();
}
