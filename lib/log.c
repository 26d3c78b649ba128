/* log - see log.h */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "xalloc.h"

/* File name (and conf key suffix) of each subsystem; order as the enum. */
static const char *const subsys_names[LOG_NSUBSYS] = {
	"master", "smtp", "pop", "imap", "ldap", "delivery",
	"popretrieval", "auth", "filter", "event", "admin",
};

static const char *const level_names[] = {
	"none", "exceptions", "normal", "detailed",
};

/* Short tag written on each line. */
static const char *const level_tags[] = { "-", "exc", "normal", "detail" };

static struct {
	char *ident;
	char *dir;          /* NULL: stderr only */
	bool use_syslog;
	bool to_stderr;
	int fd[LOG_NSUBSYS];
	enum log_level level[LOG_NSUBSYS];
	bool level_forced[LOG_NSUBSYS];
	enum log_subsys main;
	bool last_on_stderr;         /* did the last line reach stderr? */
} lg = { .fd = { [0 ... LOG_NSUBSYS - 1] = -1 } };

const char *
log_subsys_name(enum log_subsys s)
{
	ASSERT(s < LOG_NSUBSYS);
	return subsys_names[s];
}

int
log_level_parse(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(*level_names); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

const char *
log_level_name(enum log_level l)
{
	ASSERT(l <= LOG_LEVEL_DETAIL);
	return level_names[l];
}

/* Levels come from log_level_<subsys> in tern.conf unless forced. */
static void
log_read_levels(void)
{
	char key[64];

	for (int s = 0; s < LOG_NSUBSYS; s++) {
		if (lg.level_forced[s])
			continue;
		snprintf(key, sizeof(key), "log_level_%s", subsys_names[s]);
		if (conf_key_find(key) == NULL) {
			lg.level[s] = LOG_LEVEL_NORMAL;
			continue;
		}
		int l = log_level_parse(conf_str(key));
		lg.level[s] = l < 0 ? LOG_LEVEL_NORMAL : (enum log_level)l;
	}
}

static void
log_close_files(void)
{
	for (int s = 0; s < LOG_NSUBSYS; s++) {
		if (lg.fd[s] >= 0)
			close(lg.fd[s]);
		lg.fd[s] = -1;
	}
}

/* Files open lazily on first write so a daemon only holds the ones it uses. */
static int
log_fd(enum log_subsys s)
{
	char *path;

	if (lg.dir == NULL || lg.use_syslog)
		return -1;
	if (lg.fd[s] >= 0)
		return lg.fd[s];
	path = xasprintf("%s/%s.log", lg.dir, subsys_names[s]);
	lg.fd[s] = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (lg.fd[s] < 0 && !lg.to_stderr)
		fprintf(stderr, "%s: cannot open log %s: %s\n", lg.ident, path,
		    strerror(errno));
	free(path);
	return lg.fd[s];
}

static bool
log_fatal_hook(const char *msg)
{
	lg.last_on_stderr = false;
	log_write(lg.main, LOG_LEVEL_EXC, "%s", msg);
	return lg.last_on_stderr;
}

void
log_open(const char *ident, const char *dir, bool use_syslog)
{
	log_close();
	lg.ident = xstrdup(ident);
	lg.dir = dir != NULL ? xstrdup(dir) : NULL;
	lg.use_syslog = use_syslog;
	if (use_syslog)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
	log_read_levels();
	xalloc_fatal_hook = log_fatal_hook;
}

/*
 * After logrotate: open each file we hold anew and swap it in.  A file we
 * cannot open again (a chroot, a permission change) keeps its old fd, so
 * lines still go somewhere.
 */
void
log_reopen(void)
{
	for (int s = 0; s < LOG_NSUBSYS; s++) {
		int old = lg.fd[s];

		if (old < 0)
			continue;
		lg.fd[s] = -1;
		if (log_fd((enum log_subsys)s) < 0)
			lg.fd[s] = old;
		else
			close(old);
	}
	log_read_levels();
}

int
log_open_now(enum log_subsys s)
{
	return log_fd(s);
}

void
log_chown(uid_t uid, gid_t gid)
{
	for (int s = 0; s < LOG_NSUBSYS; s++)
		if (lg.fd[s] >= 0 && fchown(lg.fd[s], uid, gid) < 0)
			log_write(lg.main, LOG_LEVEL_EXC, "cannot chown %s.log: %s",
			    subsys_names[s], strerror(errno));
}

void
log_close(void)
{
	log_close_files();
	if (lg.use_syslog)
		closelog();
	xfree(&lg.ident);
	xfree(&lg.dir);
	xalloc_fatal_hook = NULL;
}

void
log_set_main(enum log_subsys s)
{
	ASSERT(s < LOG_NSUBSYS);
	lg.main = s;
}

void
log_set_stderr(bool on)
{
	lg.to_stderr = on;
}

void
log_set_level(enum log_subsys s, enum log_level l)
{
	ASSERT(s < LOG_NSUBSYS);
	lg.level[s] = l;
	lg.level_forced[s] = true;
}

bool
log_enabled(enum log_subsys s, enum log_level l)
{
	ASSERT(s < LOG_NSUBSYS);
	return l != LOG_LEVEL_NONE && l <= lg.level[s];
}

void
log_vwrite(enum log_subsys s, enum log_level l, const char *fmt, va_list ap)
{
	char line[4096];
	struct timeval tv;
	struct tm tm;
	size_t n, hdr;
	int fd;

	if (!log_enabled(s, l))
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ %s[%ld] %s: ",
	    (long)(tv.tv_usec / 1000), lg.ident ? lg.ident : "tern",
	    (long)getpid(), level_tags[l]);
	if (n > sizeof(line) / 2)
		n = sizeof(line) / 2;     /* an absurd ident must not eat the line */
	hdr = n;
	int m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		m = 0;
	n += (size_t)m;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;     /* long lines are cut, never split */
	/* Peer data may end up in a message: keep one record per line. */
	for (size_t i = hdr; i < n; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	if (lg.use_syslog) {
		static const int prio[] = { LOG_DEBUG, LOG_ERR, LOG_INFO, LOG_DEBUG };
		line[n] = '\0';
		syslog(prio[l], "%s: %s", subsys_names[s], line + hdr);
	}
	line[n++] = '\n';
	fd = log_fd(s);
	if (fd >= 0)
		(void)!write(fd, line, n);
	lg.last_on_stderr = lg.to_stderr || (fd < 0 && !lg.use_syslog);
	if (lg.last_on_stderr)
		(void)!write(STDERR_FILENO, line, n);
}

void
log_write(enum log_subsys s, enum log_level l, const char *fmt, ...)
{
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	log_vwrite(s, l, fmt, ap);
	va_end(ap);
	errno = saved;
}
