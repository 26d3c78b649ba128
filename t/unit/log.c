/* Unit tests for lib/log: files per subsystem, format, levels, rotation,
 * several writers, die() and the stderr copy. */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "tap.h"
#include "xalloc.h"

#define IDENT "logtest"
#define NCHILD 4
#define NLINES 500
#define PAYLOAD 300           /* bytes of payload per multi-process line */
#define BIG (100 * 1024)
#define LINE_CAP 4096         /* log.c's line buffer: no line is longer */

static char tmpdir[] = "/tmp/tern-log-XXXXXX";

/* Expected file names, in enum order. */
static const char *const names[LOG_NSUBSYS] = {
	"master", "smtp", "pop", "imap", "ldap", "delivery",
	"popretrieval", "auth", "filter", "event", "admin",
};

/* --- helpers --- */

static char *
tpath(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

/* A fresh empty directory tmpdir/name, for one group of checks. */
static char *
fresh_dir(const char *name)
{
	char *d = tpath(name);

	ASSERT(mkdir(d, 0755) == 0);
	return d;
}

static char *
log_path(const char *dir, enum log_subsys s)
{
	return xasprintf("%s/%s.log", dir, names[s]);
}

/* Whole file, NUL-terminated; NULL if it does not exist. */
static char *
slurp(const char *path, size_t *len_r)
{
	struct stat st;
	char *data;
	int fd = open(path, O_RDONLY);

	if (fd < 0) {
		ASSERT(errno == ENOENT);
		*len_r = 0;
		return NULL;
	}
	ASSERT(fstat(fd, &st) == 0);
	data = xmalloc((size_t)st.st_size + 1);
	ASSERT(read(fd, data, (size_t)st.st_size) == st.st_size);
	data[st.st_size] = '\0';
	close(fd);
	*len_r = (size_t)st.st_size;
	return data;
}

static char *
slurp_log(const char *dir, enum log_subsys s, size_t *len_r)
{
	char *p = log_path(dir, s), *d = slurp(p, len_r);

	free(p);
	return d;
}

static bool
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int
count_char(const char *s, size_t len, char c)
{
	int n = 0;

	for (size_t i = 0; i < len; i++)
		n += s[i] == c;
	return n;
}

/* Occurrences of sub in s. */
static int
count_str(const char *s, const char *sub)
{
	int n = 0;

	if (s == NULL)
		return 0;
	for (const char *p = strstr(s, sub); p != NULL; p = strstr(p + 1, sub))
		n++;
	return n;
}

/* The text after "ident[pid] tag: " on a line (its end at '\n'). */
static const char *
msg_of(const char *line)
{
	const char *p = strstr(line, "] ");

	if (p == NULL || (p = strstr(p + 2, ": ")) == NULL)
		return NULL;
	return p + 2;
}

/* Length of the line starting at p, without its '\n'. */
static size_t
line_len(const char *p)
{
	const char *nl = strchr(p, '\n');

	return nl != NULL ? (size_t)(nl - p) : strlen(p);
}

static pid_t
fork_child(void)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	ASSERT(pid >= 0);
	return pid;
}

/* In a child: stderr goes to path (truncated). */
static void
stderr_to(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ASSERT(fd >= 0);
	ASSERT(dup2(fd, STDERR_FILENO) == STDERR_FILENO);
	close(fd);
}

static int
wait_status(pid_t pid)
{
	int status;

	ASSERT(waitpid(pid, &status, 0) == pid);
	return status;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

/* --- tests --- */

static void
test_names(void)
{
	int bad = 0;

	for (int s = 0; s < LOG_NSUBSYS; s++) {
		const char *got = log_subsys_name((enum log_subsys)s);

		if (strcmp(got, names[s]) != 0) {
			diag("subsystem %d is '%s', expected '%s'", s, got,
			    names[s]);
			bad++;
		}
	}
	is_int(bad, 0, "log_subsys_name gives each subsystem's file name");

	bad = 0;
	for (int l = LOG_LEVEL_NONE; l <= LOG_LEVEL_DETAIL; l++)
		if (log_level_parse(log_level_name((enum log_level)l)) != l)
			bad++;
	is_int(bad, 0, "log_level_parse(log_level_name(l)) == l, every level");
	ok(strcmp(log_level_name(LOG_LEVEL_NONE), "none") == 0 &&
	    strcmp(log_level_name(LOG_LEVEL_EXC), "exceptions") == 0 &&
	    strcmp(log_level_name(LOG_LEVEL_NORMAL), "normal") == 0 &&
	    strcmp(log_level_name(LOG_LEVEL_DETAIL), "detailed") == 0,
	    "level names are none, exceptions, normal, detailed");
	ok(log_level_parse("") == -1 && log_level_parse("detail") == -1 &&
	    log_level_parse("debug") == -1 &&
	    log_level_parse("normal ") == -1 &&
	    log_level_parse("exception") == -1 &&
	    log_level_parse("detailedx") == -1,
	    "unknown level names give -1");
}

/* Each subsystem writes its own file, named after log_subsys_name(). */
static void
test_files(void)
{
	char *dir = fresh_dir("files"), *d, want[64];
	int bad = 0;
	size_t len;

	log_open(IDENT, dir, false);
	for (int s = 0; s < LOG_NSUBSYS; s++)
		log_exc((enum log_subsys)s, "to %s", names[s]);
	for (int s = 0; s < LOG_NSUBSYS; s++) {
		d = slurp_log(dir, (enum log_subsys)s, &len);
		snprintf(want, sizeof(want), "exc: to %s\n", names[s]);
		if (d == NULL || count_char(d, len, '\n') != 1 ||
		    len < strlen(want) ||
		    strcmp(d + len - strlen(want), want) != 0) {
			diag("%s.log: '%s'", names[s], d ? d : "(missing)");
			bad++;
		}
		free(d);
	}
	is_int(bad, 0, "every subsystem wrote exactly its own line to "
	    "<dir>/<subsys>.log");
	log_close();
	free(dir);
}

/* 2026-11-24T23:50:01.123Z logtest[1234] exc: message */
static void
test_format(void)
{
	char *dir = fresh_dir("format"), *d, *pat;
	const char *old_tz = getenv("TZ");
	char *saved_tz = old_tz != NULL ? xstrdup(old_tz) : NULL;
	time_t before, after, stamp;
	struct tm tm;
	regex_t re;
	size_t len;

	/* Far from UTC, so a local-time stamp would be caught. */
	setenv("TZ", "<+0530>-5:30", 1);
	tzset();
	log_open(IDENT, dir, false);
	before = time(NULL);
	log_exc(LOG_SMTP, "4F2A: hello %d", 42);
	log_msg(LOG_SMTP, "4F2A: normal line");
	log_detail(LOG_DELIVERY, "4F2A: detailed line");
	after = time(NULL);

	d = slurp_log(dir, LOG_SMTP, &len);
	pat = xasprintf("^[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:"
	    "[0-6][0-9]\\.[0-9]{3}Z " IDENT "\\[%ld\\] exc: 4F2A: hello 42\n"
	    "[0-9-]{10}T[0-9:]{8}\\.[0-9]{3}Z " IDENT "\\[%ld\\] normal: "
	    "4F2A: normal line\n$", (long)getpid(), (long)getpid());
	ASSERT(regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) == 0);
	ok(d != NULL && regexec(&re, d, 0, NULL, 0) == 0,
	    "lines are 'ISO-8601.mmmZ ident[pid] tag: message\\n'");
	if (d != NULL)
		diag("line: %.*s", (int)line_len(d), d);
	regfree(&re);
	free(pat);

	memset(&tm, 0, sizeof(tm));
	ok(d != NULL && strptime(d, "%Y-%m-%dT%H:%M:%S", &tm) == d + 19 &&
	    (stamp = timegm(&tm)) >= before - 1 && stamp <= after + 1,
	    "the timestamp is now, in UTC");
	free(d);

	d = slurp_log(dir, LOG_DELIVERY, &len);
	ok(d != NULL && strstr(d, "Z " IDENT "[") == d + 23 &&
	    strstr(d, "] detail: 4F2A: detailed line\n") != NULL &&
	    count_char(d, len, '\n') == 1 && d[len - 1] == '\n',
	    "detailed lines are tagged 'detail'");
	free(d);

	if (saved_tz != NULL)
		setenv("TZ", saved_tz, 1);
	else
		unsetenv("TZ");
	tzset();
	free(saved_tz);
	log_close();
	free(dir);
}

/* Which of the three messages written at each level reached the file. */
static int
levels_written(const char *dir, enum log_subsys s)
{
	size_t len;
	char *d = slurp_log(dir, s, &len);
	int mask = 0;

	for (int l = LOG_LEVEL_EXC; l <= LOG_LEVEL_DETAIL; l++) {
		char want[32];

		snprintf(want, sizeof(want), ": at level %d\n", l);
		if (count_str(d, want) == 1)
			mask |= 1 << l;
	}
	free(d);
	return mask;
}

static void
write_all_levels(enum log_subsys s)
{
	for (int l = LOG_LEVEL_EXC; l <= LOG_LEVEL_DETAIL; l++)
		log_write(s, (enum log_level)l, "at level %d", l);
}

/* Mask of the levels a subsystem at level `at` writes. */
static int
mask_upto(int at)
{
	int mask = 0;

	for (int l = LOG_LEVEL_EXC; l <= at; l++)
		mask |= 1 << l;
	return mask;
}

/* Defaults from the conf table; above the level is dropped. */
static void
test_levels_default(void)
{
	char *dir = fresh_dir("levels"), key[64];
	int bad = 0;

	log_open(IDENT, dir, false);
	for (int s = 0; s < LOG_NSUBSYS; s++)
		write_all_levels((enum log_subsys)s);
	for (int s = 0; s < LOG_NSUBSYS; s++) {
		snprintf(key, sizeof(key), "log_level_%s", names[s]);
		int want = log_level_parse(conf_str(key));
		int got = levels_written(dir, (enum log_subsys)s);

		if (want < 0 || got != mask_upto(want)) {
			diag("%s: level %s, wrote mask %#x", names[s],
			    conf_str(key), (unsigned)got);
			bad++;
		}
		for (int l = LOG_LEVEL_EXC; l <= LOG_LEVEL_DETAIL; l++) {
			bool on = log_enabled((enum log_subsys)s,
			    (enum log_level)l);

			if (on != (l <= want))
				bad++;
		}
	}
	is_int(bad, 0, "each subsystem writes up to its log_level_* default "
	    "and no further; log_enabled agrees");
	is_int(levels_written(dir, LOG_DELIVERY), mask_upto(LOG_LEVEL_DETAIL),
	    "delivery defaults to detailed");
	is_int(levels_written(dir, LOG_IMAP), mask_upto(LOG_LEVEL_EXC),
	    "imap defaults to exceptions");
	is_int(levels_written(dir, LOG_SMTP), mask_upto(LOG_LEVEL_NORMAL),
	    "smtp defaults to normal");
	ok(!log_enabled(LOG_DELIVERY, LOG_LEVEL_NONE),
	    "level none is never enabled, even at detailed");
	log_write(LOG_DELIVERY, LOG_LEVEL_NONE, "written at none");
	log_close();
	{
		size_t len;
		char *d = slurp_log(dir, LOG_DELIVERY, &len);

		is_int(count_str(d, "written at none"), 0,
		    "a message at level none is not written");
		free(d);
	}
	free(dir);
}

/* conf changes are read by log_reopen; log_set_level overrides both. */
static void
test_levels_set(void)
{
	char *dir = fresh_dir("levels2"), *p, *err = NULL;

	log_open(IDENT, dir, false);
	log_set_level(LOG_IMAP, LOG_LEVEL_DETAIL);
	log_set_level(LOG_DELIVERY, LOG_LEVEL_EXC);
	log_set_level(LOG_POP, LOG_LEVEL_NONE);
	write_all_levels(LOG_IMAP);
	write_all_levels(LOG_DELIVERY);
	write_all_levels(LOG_POP);
	is_int(levels_written(dir, LOG_IMAP), mask_upto(LOG_LEVEL_DETAIL),
	    "log_set_level raises imap to detailed");
	is_int(levels_written(dir, LOG_DELIVERY), mask_upto(LOG_LEVEL_EXC),
	    "log_set_level lowers delivery to exceptions");
	p = log_path(dir, LOG_POP);
	ok(!exists(p), "level none writes nothing (no file is even created)");
	free(p);

	/* The file says otherwise; a forced level still wins on reopen. */
	ok(conf_set("log_level_imap", "none", &err) == 0 &&
	    conf_set("log_level_smtp", "Detailed", &err) == 0 &&
	    conf_set("log_level_ldap", "none", &err) == 0, "conf_set levels");
	free(err);
	log_reopen();
	ok(log_enabled(LOG_IMAP, LOG_LEVEL_DETAIL),
	    "a level set by log_set_level survives log_reopen");
	ok(log_enabled(LOG_SMTP, LOG_LEVEL_DETAIL),
	    "log_reopen re-reads log_level_smtp from the config");
	write_all_levels(LOG_LDAP);
	p = log_path(dir, LOG_LDAP);
	ok(!log_enabled(LOG_LDAP, LOG_LEVEL_EXC) && !exists(p),
	    "log_level_ldap = none in the config writes nothing");
	free(p);
	log_close();
	conf_load_defaults();
	/* Put the forced ones back to their defaults for later tests. */
	log_set_level(LOG_IMAP, LOG_LEVEL_EXC);
	log_set_level(LOG_DELIVERY, LOG_LEVEL_DETAIL);
	log_set_level(LOG_POP, LOG_LEVEL_EXC);
	free(dir);
}

/* Peer data cannot forge records: CR and LF become spaces. */
static void
test_newlines(void)
{
	char *dir = fresh_dir("newlines"), *d;
	size_t len;

	log_open(IDENT, dir, false);
	log_msg(LOG_SMTP, "a\nb\rc\r\nd\n");
	log_msg(LOG_SMTP, "%s", "\r\n1970-01-01T00:00:00.000Z fake[1] exc: x");
	log_msg(LOG_SMTP, "next");
	d = slurp_log(dir, LOG_SMTP, &len);
	is_int(count_char(d, len, '\n'), 3, "three records, three lines");
	ok(d != NULL && strncmp(msg_of(d), "a b c  d \n", 10) == 0,
	    "newline and CR in a message become spaces");
	ok(d != NULL && count_char(d, len, '\r') == 0 &&
	    strstr(d, "normal:   1970-01-01T00:00:00.000Z fake[1] exc: x\n") !=
	    NULL, "a forged record stays inside its line");
	free(d);
	log_close();
	free(dir);
}

/* Long messages are cut to one line: never split, never overflowed. */
static void
test_long(void)
{
	char *dir = fresh_dir("long"), *big = xmalloc(BIG + 1), *d, *p;
	size_t len, l1;
	int bad = 0, nlines = 0;

	for (size_t i = 0; i < BIG; i++)
		big[i] = (char)('a' + i % 26);
	big[BIG] = '\0';
	big[5000] = '\n';     /* beyond the cut */
	big[100] = '\n';      /* before it */
	log_open(IDENT, dir, false);
	log_msg(LOG_SMTP, "%s", big);
	log_msg(LOG_SMTP, "after the long one");
	d = slurp_log(dir, LOG_SMTP, &len);
	ASSERT(d != NULL);
	l1 = line_len(d);
	is_int(count_char(d, len, '\n'), 2, "a 100 KB message is one line");
	ok(l1 + 1 <= LINE_CAP && l1 > LINE_CAP - 200,
	    "it is cut near the line cap, not far below it");
	diag("cut line: %zu bytes", l1 + 1);
	big[100] = ' ';
	ok(msg_of(d) != NULL &&
	    memcmp(msg_of(d), big, l1 - (size_t)(msg_of(d) - d)) == 0,
	    "what is kept is the start of the message");
	ok(strcmp(d + l1 + 1 + (msg_of(d + l1 + 1) - (d + l1 + 1)),
	    "after the long one\n") == 0, "the next line is intact");
	free(d);

	/* Every length around the cap: one line each, a prefix of the
	 * message, and complete while it fits. */
	p = log_path(dir, LOG_FILTER);
	for (size_t n = 3900; n <= 4200; n++) {
		big[n] = '\0';
		log_msg(LOG_FILTER, "%s", big);
		big[n] = (char)('a' + n % 26);
	}
	d = slurp(p, &len);
	ASSERT(d != NULL);
	for (size_t n = 3900, off = 0; n <= 4200 && off < len; n++) {
		const char *line = d + off, *m = msg_of(line);
		size_t ll = line_len(line);
		size_t hdr = m != NULL ? (size_t)(m - line) : 0;

		nlines++;
		if (m == NULL || line[ll] != '\n' || ll + 1 > LINE_CAP ||
		    memcmp(m, big, ll - hdr) != 0 ||
		    (hdr + n + 1 < LINE_CAP - 1 && ll - hdr != n))
			bad++;
		off += ll + 1;
	}
	is_int(nlines, 301, "301 lengths around the cap: 301 lines");
	is_int(bad, 0, "each a whole prefix of its message, cut only at the "
	    "cap");
	free(d);
	free(p);
	free(big);
	log_close();
	free(dir);
}

/* logrotate moves the file away; log_reopen starts a new one. */
static void
test_reopen(void)
{
	char *dir = fresh_dir("rotate"), *cur = log_path(dir, LOG_SMTP);
	char *old = xasprintf("%s.1", cur), *d;
	size_t len;

	log_open(IDENT, dir, false);
	log_msg(LOG_SMTP, "line one");
	ASSERT(rename(cur, old) == 0);
	log_msg(LOG_SMTP, "line two, before reopen");
	ok(!exists(cur), "before log_reopen lines follow the renamed file");
	log_reopen();
	log_msg(LOG_SMTP, "line three, after reopen");
	d = slurp(cur, &len);
	ok(d != NULL && count_char(d, len, '\n') == 1 &&
	    strstr(d, "normal: line three, after reopen\n") != NULL,
	    "after log_reopen a new file gets the later lines");
	free(d);
	d = slurp(old, &len);
	ok(d != NULL && count_char(d, len, '\n') == 2 &&
	    strstr(d, ": line one\n") != NULL &&
	    strstr(d, ": line two, before reopen\n") != NULL,
	    "the rotated file keeps the old lines");
	free(d);
	log_close();
	free(old);
	free(cur);
	free(dir);
}

static void
test_errno(void)
{
	char *dir = fresh_dir("errno"), *gone = tpath("errno/nonexistent");
	char *errf = tpath("errno/stderr"), *d;
	size_t len;
	pid_t pid;
	int st;

	log_open(IDENT, dir, false);
	errno = EXDEV;
	log_msg(LOG_SMTP, "a written line");
	is_int(errno, EXDEV, "errno is kept across a written line");
	errno = EXDEV;
	log_detail(LOG_IMAP, "a dropped line");
	is_int(errno, EXDEV, "errno is kept across a dropped line");
	errno = ENOENT;
	log_msg(LOG_SMTP, "open: %s", strerror(errno));
	log_msg(LOG_SMTP, "open: %m");
	d = slurp_log(dir, LOG_SMTP, &len);
	is_int(count_str(d, strerror(ENOENT)), 2, "%m in a message shows the "
	    "caller's errno");
	free(d);
	log_close();

	/* A log file that cannot be opened: the line goes to stderr. */
	pid = fork_child();
	if (pid == 0) {
		int e;

		stderr_to(errf);
		log_open(IDENT, gone, false);
		errno = EXDEV;
		log_msg(LOG_SMTP, "cannot land in a file");
		e = errno;
		log_close();
		_exit(e == EXDEV ? 0 : 1);
	}
	st = wait_status(pid);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "errno is kept when the log file cannot be opened");
	d = slurp(errf, &len);
	ok(count_str(d, "cannot open log") == 1 &&
	    count_str(d, "normal: cannot land in a file\n") == 1,
	    "then the failure and the line go to stderr");
	free(d);
	free(errf);
	free(gone);
	free(dir);
}

/* Fill a multi-process line's payload; the same from both sides. */
static void
mp_payload(int c, int n, char *p)
{
	for (int i = 0; i < PAYLOAD; i++)
		p[i] = (char)('A' + (c * 7 + n * 13 + i) % 26);
	p[PAYLOAD] = '\0';
}

/* NCHILD processes append NLINES lines each to one file. */
static void
test_processes(void)
{
	char *dir = fresh_dir("procs"), *d, *pat, payload[PAYLOAD + 1];
	static bool seen[NCHILD][NLINES];
	pid_t pids[NCHILD];
	int bad = 0, good = 0, dup = 0, failed = 0, c, n;
	size_t len, pos;
	regex_t re;

	log_open(IDENT, dir, false);
	/* The parent's file is open before the fork, so children share its
	 * description as a pre-forked daemon would, except child 0 which
	 * reopens its own. */
	log_msg(LOG_DELIVERY, "parent before fork");
	for (c = 0; c < NCHILD; c++) {
		pids[c] = fork_child();
		if (pids[c] == 0) {
			if (c == 0)
				log_reopen();
			for (n = 0; n < NLINES; n++) {
				mp_payload(c, n, payload);
				log_msg(LOG_DELIVERY, "mp c=%d n=%03d %s", c, n,
				    payload);
			}
			_exit(0);
		}
	}
	for (c = 0; c < NCHILD; c++) {
		int st = wait_status(pids[c]);

		failed += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	}
	is_int(failed, 0, "all writers exited 0");
	d = slurp_log(dir, LOG_DELIVERY, &len);
	ASSERT(d != NULL);
	pat = xasprintf("^[0-9-]{10}T[0-9:]{8}\\.[0-9]{3}Z " IDENT
	    "\\[[0-9]+\\] normal: mp c=([0-9]) n=([0-9]{3}) ([A-Z]{%d})$",
	    PAYLOAD);
	ASSERT(regcomp(&re, pat, REG_EXTENDED) == 0);
	pos = line_len(d) + 1;           /* the parent's line */
	for (int i = 0; pos < len && i < NCHILD * NLINES + 10; i++) {
		regmatch_t m[4];
		size_t ll = line_len(d + pos);

		d[pos + ll] = '\0';
		if (regexec(&re, d + pos, 4, m, 0) == 0 &&
		    sscanf(d + pos + m[1].rm_so, "%d n=%d", &c, &n) == 2 &&
		    c < NCHILD && n < NLINES) {
			mp_payload(c, n, payload);
			if (strcmp(d + pos + m[3].rm_so, payload) != 0)
				bad++;
			else if (seen[c][n])
				dup++;
			else {
				seen[c][n] = true;
				good++;
			}
		} else {
			if (bad++ < 3)
				diag("bad line: %.80s", d + pos);
		}
		pos += ll + 1;
	}
	is_int(good, NCHILD * NLINES, "4 processes x 500 lines: 2000 complete "
	    "lines, each once");
	is_int(bad + dup, 0, "no line interleaved, torn or doubled");
	ok(pos == len, "nothing after the last line");
	regfree(&re);
	free(pat);
	free(d);
	log_close();
	free(dir);
}

/* die() and BUG() reach master.log (the default main subsystem). */
static void
test_fatal(void)
{
	char *dir = fresh_dir("fatal"), *errf = tpath("fatal/stderr"), *d;
	char want[128];
	size_t len;
	pid_t pid;
	int st;

	log_open(IDENT, dir, false);
	pid = fork_child();
	if (pid == 0) {
		stderr_to(errf);
		die("cannot read %s: %d", "spool", 42);
	}
	st = wait_status(pid);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 1, "die() exits with status 1");
	d = slurp_log(dir, LOG_MASTER, &len);
	snprintf(want, sizeof(want), IDENT "[%ld] exc: fatal: cannot read "
	    "spool: 42\n", (long)pid);
	ok(count_str(d, want) == 1 && count_char(d, len, '\n') == 1,
	    "die() after log_open writes its message to master.log");
	free(d);
	d = slurp(errf, &len);
	is_int(count_str(d, "fatal: cannot read spool: 42\n"), 1,
	    "and shows it once on stderr");
	free(d);

	/* With the stderr copy on, still once. */
	pid = fork_child();
	if (pid == 0) {
		stderr_to(errf);
		log_set_stderr(true);
		die("second %s", "death");
	}
	st = wait_status(pid);
	d = slurp(errf, &len);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 1 &&
	    count_str(d, "fatal: second death\n") == 1,
	    "with log_set_stderr(true) die() shows it on stderr once");
	free(d);

	/* A daemon's fatal lines go to its own log. */
	pid = fork_child();
	if (pid == 0) {
		stderr_to(errf);
		log_set_main(LOG_SMTP);
		die("third %s", "death");
	}
	st = wait_status(pid);
	d = slurp_log(dir, LOG_SMTP, &len);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 1 &&
	    count_str(d, "exc: fatal: third death\n") == 1,
	    "after log_set_main(LOG_SMTP) die() writes to smtp.log");
	free(d);
	d = slurp_log(dir, LOG_MASTER, &len);
	is_int(count_str(d, "third death"), 0, "and not to master.log");
	free(d);

	pid = fork_child();
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };

		setrlimit(RLIMIT_CORE, &no_core);
		stderr_to(errf);
		ASSERT(1 + 1 == 3);
	}
	st = wait_status(pid);
	ok(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, "ASSERT() aborts");
	d = slurp_log(dir, LOG_MASTER, &len);
	ok(count_str(d, "exc: BUG at t/unit/log.c:") == 1 &&
	    count_str(d, "assertion failed: 1 + 1 == 3\n") == 1,
	    "the BUG line, with file and line, is in master.log");
	free(d);
	log_close();
	unlink(errf);
	free(errf);
	free(dir);
}

/* log_set_stderr copies lines to stderr; no directory means stderr. */
static void
test_stderr(void)
{
	char *dir = fresh_dir("stderr"), *errf = tpath("stderr/stderr");
	char *d, *e;
	size_t len, elen;
	pid_t pid;
	int st;

	pid = fork_child();
	if (pid == 0) {
		stderr_to(errf);
		log_open(IDENT, dir, false);
		log_set_stderr(true);
		log_msg(LOG_SMTP, "copied to stderr");
		log_set_stderr(false);
		log_msg(LOG_SMTP, "file only");
		log_close();
		_exit(0);
	}
	st = wait_status(pid);
	d = slurp_log(dir, LOG_SMTP, &len);
	e = slurp(errf, &elen);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && d != NULL && e != NULL &&
	    count_char(d, len, '\n') == 2 && count_char(e, elen, '\n') == 1 &&
	    strncmp(d, e, elen) == 0 && strstr(e, "normal: copied to stderr\n"),
	    "log_set_stderr(true) copies the same line to stderr; false "
	    "stops it");
	free(d);
	free(e);

	pid = fork_child();
	if (pid == 0) {
		stderr_to(errf);
		log_open(IDENT, NULL, false);
		log_msg(LOG_SMTP, "no directory");
		log_close();
		_exit(0);
	}
	st = wait_status(pid);
	e = slurp(errf, &elen);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    count_char(e, elen, '\n') == 1 &&
	    count_str(e, IDENT "[") == 1 &&
	    count_str(e, "normal: no directory\n") == 1,
	    "log_open with no directory logs to stderr");
	free(e);
	unlink(errf);
	free(errf);
	free(dir);
}

/* use_syslog: lines go to syslog, never to files in the directory. */
static void
test_syslog(void)
{
	char *dir = fresh_dir("syslog"), *p = log_path(dir, LOG_SMTP);

	log_open(IDENT, dir, true);
	log_exc(LOG_SMTP, "to syslog");
	ok(!exists(p), "with use_syslog no log file is written");
	log_close();
	free(p);
	free(dir);
}

int
main(void)
{
	ASSERT(mkdtemp(tmpdir) != NULL);
	conf_load_defaults();
	test_names();
	test_files();
	test_format();
	test_levels_default();
	test_levels_set();
	test_newlines();
	test_long();
	test_reopen();
	test_errno();
	test_processes();
	test_fatal();
	test_stderr();
	test_syslog();
	conf_unload();
	ASSERT(nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0);
	return done_testing();
}
