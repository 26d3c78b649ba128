/* Unit tests for lib/maildir: layout and modes, delivery (CRLF to LF
 * across reads, S= and W=, durability path), maildirsize accounting and
 * its rebuild rules, scans, and a writer killed half way. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "maildir.h"
#include "tap.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/tern-maildir-XXXXXX";

static char *
P(const char *fmt, const char *a)
{
	return xasprintf("%s/%s%s", tmpdir, fmt, a);
}

static int
count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static char *
first_file(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *r = NULL;

	while (d != NULL && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.') {
			r = xstrdup(de->d_name);
			break;
		}
	if (d != NULL)
		closedir(d);
	return r;
}

static char *
slurp(const char *path, size_t *len_r)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	char *data;
	ssize_t n;

	if (fd < 0 || fstat(fd, &st) < 0)
		return NULL;
	data = xmalloc((size_t)st.st_size + 1);
	n = read(fd, data, (size_t)st.st_size);
	close(fd);
	data[n < 0 ? 0 : n] = '\0';
	*len_r = n < 0 ? 0 : (size_t)n;
	return data;
}

static int
mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* A pipe fed by a child, chunk bytes per write: reads come short. */
static int
feeder(const char *data, size_t len, size_t chunk, pid_t *pid_r)
{
	int p[2];

	if (pipe(p) < 0)
		return -1;
	*pid_r = fork();
	if (*pid_r == 0) {
		close(p[0]);
		for (size_t i = 0; i < len; i += chunk)
			if (write(p[1], data + i, len - i < chunk ? len - i :
			    chunk) < 0)
				_exit(1);
		_exit(0);
	}
	close(p[1]);
	return p[0];
}

static void
test_create(void)
{
	char *md = P("mail/example.com/", "alice"), *err = NULL, *p;

	ok(maildir_create(md, &err) == 0, "create with missing parents");
	p = xasprintf("%s/new", md);
	is_int(mode_of(md), 0700, "maildir is mode 0700");
	is_int(mode_of(p), 0700, "new/ is mode 0700");
	free(p);
	p = P("mail/", "example.com");
	is_int(mode_of(p), 0700, "a parent made on the way is 0700 too");
	free(p);
	ok(maildir_create(md, &err) == 0, "create again: nothing to do");
	p = P("", "afile");
	close(open(p, O_CREAT | O_WRONLY, 0600));
	ok(maildir_create(p, &err) < 0 && err != NULL &&
	    strstr(err, "afile") != NULL, "a file in the way: error names it");
	free(err);
	free(p);
	free(md);
}

static void
test_deliver(void)
{
	static const char msg[] = "Subject: hi\r\n\r\nline one\r\nbare\rcr\r\n"
	    "lf only\nend\r\n";
	static const char want[] = "Return-Path: <a@b>\nDelivered-To: c@d\n"
	    "Subject: hi\n\nline one\nbare\rcr\nlf only\nend\n";
	char *md = P("mail/example.com/", "alice"), *err = NULL, *nd, *name;
	char *path, *data;
	struct maildir_msg m = { .prefix = "Return-Path: <a@b>\n"
	    "Delivered-To: c@d\n" };
	size_t len;
	pid_t pid = -1;
	int st;

	m.prefix_len = strlen(m.prefix);
	/* One byte per read: every CR sits at the end of a chunk. */
	m.fd = feeder(msg, sizeof(msg) - 1, 1, &pid);
	ok(maildir_deliver(md, &m, &err) == 0, "deliver from a pipe");
	close(m.fd);
	waitpid(pid, &st, 0);
	nd = xasprintf("%s/new", md);
	is_int(count_files(nd), 1, "one file in new/");
	name = first_file(nd);
	is_str(name, m.name, "its name is the one returned");
	path = xasprintf("%s/%s", nd, name);
	data = slurp(path, &len);
	ok(len == strlen(want) && memcmp(data, want, len) == 0,
	    "prefix first, CRLF became LF, bare CR and LF kept");
	is_int(m.size, (long long)strlen(want), "S= is the size on disk");
	is_int(m.vsize, (long long)strlen(want) + 8,
	    "W= counts CRLF for each of the 8 line ends");
	{
		char w[64];

		snprintf(w, sizeof(w), ",S=%lld,W=%lld", m.size, m.vsize);
		ok(strstr(name, w) != NULL && strchr(name, '/') == NULL,
		    "the name carries S= and W=");
	}
	ok(strstr(name, ".M") != NULL && strstr(name, "P") != NULL &&
	    strstr(name, "Q") != NULL, "the name has M<usec>P<pid>Q<n>");
	is_int(mode_of(path), 0600, "the file is mode 0600");
	free(err);
	err = NULL;
	{
		char *t = xasprintf("%s/tmp", md);

		is_int(count_files(t), 0, "tmp/ is empty afterwards");
		free(t);
	}
	maildir_msg_release(&m);
	free(data);
	free(path);
	free(name);
	free(nd);
	free(md);
}

static void
test_big(void)
{
	/* CRLF pairs straddling 64 KiB reads, from a regular file. */
	size_t n = 300000, len;
	char *src = xmalloc(n), *md = P("mail/example.com/", "big");
	char *srcp = P("", "big.src"), *err = NULL, *p, *data;
	struct maildir_msg m = { .prefix = NULL };
	long long lines = 0;
	int fd;

	for (size_t i = 0; i < n; i++) {
		if (i % 37 == 35) {
			src[i] = '\r';
		} else if (i % 37 == 36) {
			src[i] = '\n';
			lines++;
		} else
			src[i] = (char)('a' + i % 26);
	}
	fd = open(srcp, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	ok(write(fd, src, n) == (ssize_t)n, "big source written");
	close(fd);
	maildir_create(md, &err);
	m.fd = open(srcp, O_RDONLY);
	ok(maildir_deliver(md, &m, &err) == 0, "deliver 300 KB");
	close(m.fd);
	is_int(m.size, (long long)n - lines, "one byte less per CRLF");
	is_int(m.vsize, (long long)n, "W= is the original size");
	p = xasprintf("%s/new/%s", md, m.name);
	data = slurp(p, &len);
	ok(len == (size_t)m.size && memchr(data, '\r', len) == NULL,
	    "no CR left in the copy");
	maildir_msg_release(&m);
	free(data);
	free(p);
	free(srcp);
	free(md);
	free(src);
}

static void
test_deliver_errors(void)
{
	char *md = P("", "notamaildir"), *err = NULL, *nd;
	struct maildir_msg m = { .prefix = "x\n", .prefix_len = 2, .fd = -1 };

	mkdir(md, 0700);
	ok(maildir_deliver(md, &m, &err) < 0 && err != NULL &&
	    strstr(err, "tmp") != NULL, "no tmp/: error says so");
	ok(m.name == NULL, "and no name");
	free(err);
	err = NULL;
	free(md);
	md = P("mail/example.com/", "prefixonly");
	maildir_create(md, &err);
	ok(maildir_deliver(md, &m, &err) == 0 && m.size == 2 && m.vsize == 3,
	    "fd -1: the prefix is the message");
	nd = xasprintf("%s/new", md);
	is_int(count_files(nd), 1, "delivered");
	maildir_msg_release(&m);
	free(nd);
	free(md);
}

static void
test_unique(void)
{
	char *a = maildir_unique(), *b = maildir_unique();

	ok(strcmp(a, b) != 0, "two unique names differ");
	ok(strchr(a, '/') == NULL && strchr(a, ':') == NULL,
	    "no / or : in a unique name");
	free(a);
	free(b);
}

static void
put(const char *dir, const char *sub, const char *name, size_t size)
{
	char *p = xasprintf("%s/%s/%s", dir, sub, name);
	int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0600);

	for (size_t i = 0; i < size; i++)
		if (write(fd, "x", 1) != 1)
			break;
	close(fd);
	free(p);
}

static void
write_text(const char *path, const char *text)
{
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);

	if (write(fd, text, strlen(text)) < 0)
		diag("write %s failed", path);
	close(fd);
}

static void
age(const char *path, time_t secs)
{
	struct timeval tv[2];

	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= secs;
	tv[1] = tv[0];
	utimes(path, tv);
}

static bool
past(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec ||
	    (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

static void
test_usage(void)
{
	char *md = P("mail/example.com/", "quota"), *err = NULL, *sz, *f;
	char *text;
	struct maildir_usage u;
	size_t len;

	maildir_create(md, &err);
	put(md, "new", "1.M1P1Q1.h,S=1000,W=1010", 5);     /* S= wins */
	put(md, "cur", "2.M1P1Q2.h:2,S", 300);             /* stat */
	f = xasprintf("%s/.Sent", md);
	maildir_create(f, &err);
	put(f, "cur", "3.M1P1Q3.h,S=200:2,S", 200);
	put(f, "tmp", "4.M1P1Q4.h", 50);                   /* not counted */
	free(f);
	ok(maildir_scan(md, &u, &err) == 0 && u.bytes == 1500 && u.count == 3,
	    "scan: INBOX and .Sent, S= from names, tmp/ ignored");
	sz = xasprintf("%s/%s", md, MAILDIR_SIZE_FILE);
	ok(maildir_usage_peek(md, &u, &err) == 0 && u.bytes == 1500 &&
	    access(sz, F_OK) < 0, "peek scans without writing a file");
	ok(maildir_usage(md, 10000, &u, &err) == 0 && u.bytes == 1500 &&
	    u.count == 3, "usage: scanned");
	text = slurp(sz, &len);
	is_str(text, "10000S\n1500 3\n", "maildirsize written: quota, sum");
	free(text);
	maildir_usage_add(md, 500, 1);
	maildir_usage_add(md, -200, -1);
	ok(maildir_usage(md, 10000, &u, &err) == 0 && u.bytes == 1800 &&
	    u.count == 3, "appended lines are summed, negatives too");
	ok(maildir_usage(md, 20000, &u, &err) == 0 && u.bytes == 1500,
	    "another quota: rebuilt from a scan");
	text = slurp(sz, &len);
	is_str(text, "20000S\n1500 3\n", "with the new quota line");
	free(text);
	write_text(sz, "20000S\n1500 3\nbroken\n");
	ok(maildir_usage(md, 20000, &u, &err) == 0 && u.bytes == 1500,
	    "a damaged line: rebuilt");
	write_text(sz, "20000S\n1500 3\n1 1");
	ok(maildir_usage(md, 20000, &u, &err) == 0 && u.count == 3,
	    "a torn last line: rebuilt");
	/* Past 1 KB: its own sum, written back short (one time in 64 a
	 * scan instead). */
	for (int i = 0; i < 1500; i++)
		maildir_usage_add(md, 1, 0);
	int rc = 0;
	for (int tries = 0; tries < 20 && rc != 2; tries++)
		rc = maildir_sizefile_read(sz, 20000, &u);
	ok(rc == 2 && u.bytes == 3000 && u.count == 3,
	    "over 1 KB: long but sound, its sum");
	ok(maildir_usage(md, 20000, &u, &err) == 0 &&
	    (u.bytes == 3000 || u.bytes == 1500),
	    "usage: compacted (or, now and then, scanned)");
	text = slurp(sz, &len);
	ok(len < 64, "the file is short again");
	free(text);
	/* Past 16 KB: always a scan. */
	for (int i = 0; i < 5000; i++)
		maildir_usage_add(md, 1, 0);
	ok(maildir_usage(md, 20000, &u, &err) == 0 && u.bytes == 1500,
	    "over 16 KB: rebuilt from a scan (the small lines are gone)");
	/* Over quota: trusted while fresh, rebuilt when 15 minutes old. */
	write_text(sz, "1000S\n5000 9\n");
	ok(maildir_usage(md, 1000, &u, &err) == 0 && u.bytes == 5000,
	    "over quota and fresh: believed");
	age(sz, 16 * 60);
	ok(maildir_usage(md, 1000, &u, &err) == 0 && u.bytes == 1500,
	    "over quota and 16 minutes old: rebuilt");
	write_text(sz, "5000S,100C\n10 1\n");
	ok(maildir_sizefile_read(sz, 5000, &u) == 1 && u.bytes == 10,
	    "a quota line with a count limit is read");
	ok(maildir_sizefile_read(sz, -1, &u) == 1,
	    "limit -1 takes any quota line");
	unlink(sz);
	maildir_usage_add(md, 10, 1);
	ok(access(sz, F_OK) < 0, "add does not create a missing file");
	free(sz);
	free(md);
}

static void
test_clean_tmp(void)
{
	char *md = P("mail/example.com/", "stale"), *err = NULL, *old, *young;
	char *t;
	struct maildir_usage u;

	maildir_create(md, &err);
	put(md, "tmp", "old", 10);
	put(md, "tmp", "young", 10);
	old = xasprintf("%s/tmp/old", md);
	young = xasprintf("%s/tmp/young", md);
	age(old, 37 * 3600);
	maildir_scan(md, &u, &err);
	ok(access(old, F_OK) < 0, "a scan removes a 37-hour-old tmp file");
	ok(access(young, F_OK) == 0, "and keeps a fresh one");
	t = xasprintf("%s/tmp", md);
	is_int(count_files(t), 1, "one left");
	free(t);
	free(old);
	free(young);
	free(md);
}

/* A writer killed half way leaves nothing in new/. */
static void
test_killed(void)
{
	char *md = P("mail/example.com/", "killed"), *err = NULL, *nd, *td;
	int p[2], st, ifd;
	pid_t pid;
	char chunk[4096];
	bool seen = false;

	maildir_create(md, &err);
	td = xasprintf("%s/tmp", md);
	nd = xasprintf("%s/new", md);
	/* told of every write in tmp/: the wait below needs no sleep */
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ifd < 0 || inotify_add_watch(ifd, td, IN_CREATE | IN_MODIFY) < 0 ||
	    pipe(p) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		struct maildir_msg m = { .fd = p[0] };

		close(p[1]);
		maildir_deliver(md, &m, &err);
		_exit(0);
	}
	close(p[0]);
	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 40; i++)
		if (write(p[1], chunk, sizeof(chunk)) < 0)
			break;
	/* Look for the partial file in tmp/ after each write there, until
	 * a deadline. */
	struct timespec deadline;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += 10;
	while (!seen && !past(&deadline)) {
		struct pollfd pf = { .fd = ifd, .events = POLLIN };
		char *f = first_file(td), ev[4096];

		if (f != NULL) {
			char *fp = xasprintf("%s/%s", td, f);
			struct stat sb;

			seen = stat(fp, &sb) == 0 && sb.st_size > 0;
			free(fp);
			free(f);
		}
		if (!seen && poll(&pf, 1, 1000) > 0)
			while (read(ifd, ev, sizeof(ev)) > 0)
				;
	}
	close(ifd);
	ok(seen, "the writer has a partial file in tmp/");
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	close(p[1]);
	ok(WIFSIGNALED(st), "the writer was killed mid-message");
	is_int(count_files(nd), 0, "nothing in new/");
	free(nd);
	free(td);
	free(md);
}

/*
 * A copy waiting in a batch (in tmp/) is in neither a scan nor the
 * maildirsize: the batch tells what is pending, and the commit adds the
 * line as it moves the copy into new/, so a rebuild meanwhile (by
 * another process, say) does not leave the file short or over.
 */
static void
test_batch_pending(void)
{
	char *md = P("mail/example.com/", "batched"), *err = NULL, *sz;
	struct maildir_batch *b = maildir_batch_new();
	struct maildir_msg m = { .fd = -1, .prefix = "Subject: x\n\nhi\n",
	    .prefix_len = 15 };
	struct maildir_usage pend, u;

	maildir_create(md, &err);
	m.batch = b;
	ok(maildir_deliver(md, &m, &err) == 0 && maildir_batch_size(b) == 1,
	    "a copy waits in the batch");
	sz = xasprintf("%s/%s", md, MAILDIR_SIZE_FILE);
	unlink(sz);                     /* the next look rebuilds */
	maildir_batch_pending(b, md, &pend);
	ok(pend.count == 1 && pend.bytes == m.size,
	    "pending: the copy and its bytes");
	ok(maildir_usage(md, 0, &u, &err) == 0 && u.count == 0,
	    "a rebuild meanwhile counts nothing of it");
	maildir_batch_pending(b, "/elsewhere", &pend);
	ok(pend.count == 0, "nothing pending for another maildir");
	ok(maildir_batch_commit(b, &err) == 0, "committed");
	ok(maildir_scan(md, &pend, &err) == 0 && maildir_usage(md, 0, &u,
	    &err) == 0 && u.count == 1 && u.count == pend.count &&
	    u.bytes == pend.bytes,
	    "the commit added its line: maildirsize and the maildir agree");
	maildir_msg_release(&m);
	maildir_batch_free(&b);
	free(sz);
	free(md);
}

int
main(void)
{
	char *cmd;

	if (mkdtemp(tmpdir) == NULL)
		return 1;
	plan(57);
	test_create();
	test_deliver();
	test_big();
	test_deliver_errors();
	test_unique();
	test_usage();
	test_batch_pending();
	test_clean_tmp();
	test_killed();
	cmd = xasprintf("rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		diag("cannot remove %s", tmpdir);
	free(cmd);
	return done_testing();
}
