/* Unit tests for lib/spool: ids, envelope round trip, sync and group
 * commit, aborts, damaged files. */
#include <dirent.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"
#include "tap.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/tern-spool-XXXXXX";

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

static int
count_all(const struct spool *s, const char *sub)
{
	int n = 0;

	for (unsigned i = 0; i < spool_subspools(s); i++) {
		char *p = xasprintf("%s/%u/%s", spool_dir(s), i, sub);
		n += count_files(p);
		free(p);
	}
	return n;
}

static char *
read_file(const char *path, size_t *len_r)
{
	FILE *f = fopen(path, "r");
	char *data;
	long len;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = xmalloc((size_t)len + 1);
	*len_r = fread(data, 1, (size_t)len, f);
	data[*len_r] = '\0';
	fclose(f);
	return data;
}

static void
test_ids(void)
{
	char a[SPOOL_ID_LEN + 1], b[SPOOL_ID_LEN + 1];
	int distinct = 1;

	spool_new_id(a);
	is_int(strlen(a), SPOOL_ID_LEN, "id length");
	for (int i = 0; i < 1000; i++) {
		spool_new_id(b);
		if (strcmp(a, b) == 0)
			distinct = 0;
		strcpy(a, b);
	}
	ok(distinct, "1000 ids in a row are distinct");
	ok(strspn(a, "0123456789ABCDEF") == SPOOL_ID_LEN, "ids are hex");
}

static struct spool_envelope
sample_env(void)
{
	struct spool_envelope e;

	spool_env_init(&e);
	e.time = 1700000000;
	spool_env_set_sender(&e, "alice@example.com");
	spool_env_add_rcpt(&e, "bob@example.org", "SUCCESS,FAILURE",
	    "rfc822;bob@example.org");
	spool_env_add_rcpt(&e, "carol@example.net", NULL, NULL);
	spool_env_set_param(&e, "client", "127.0.0.1");
	spool_env_set_param(&e, "body", "8BITMIME");
	spool_env_set_param(&e, "auth", "");
	return e;
}

/* A writer that leaves time unset (smtpd, forwards) gets the time the
 * file was made: the queue's delay warnings count from it. */
static void
test_time_default(struct spool *s)
{
	struct spool_envelope e = sample_env(), r;
	const char *err = NULL;
	char *path, *rerr = NULL;
	off_t off;
	long long before = (long long)time(NULL), after;
	struct spool_file *f;

	e.time = 0;
	f = spool_file_new(s, &e, &err);
	ok(f != NULL && spool_file_commit(&f, &err) == 0, "time 0: written");
	after = (long long)time(NULL);
	path = xasprintf("%s/%u/new/%s", spool_dir(s), spool_subspool_of(s,
	    e.id), e.id);
	ok(spool_read_envelope(path, &r, &off, &rerr) == 0, "read back");
	ok(r.time >= before && r.time <= after, "time 0 becomes now");
	unlink(path);
	free(path);
	spool_env_release(&r);
	spool_env_release(&e);
}

static void
test_round_trip(struct spool *s)
{
	struct spool_envelope e = sample_env(), r;
	const char *err = NULL, *msg = "Subject: hi\r\n\r\nbody\r\n";
	struct spool_file *f = spool_file_new(s, &e, &err);
	char *path, *data, *rerr = NULL;
	off_t off;
	size_t len;

	ok(f != NULL, "file created");
	is_int(count_all(s, "tmp"), 1, "it sits in tmp/");
	ok(spool_file_write(f, msg, strlen(msg)) == 0, "write");
	is_int(spool_file_size(f), strlen(msg), "size counted");
	ok(spool_file_commit(&f, &err) == 0, "sync commit");
	ok(f == NULL, "commit frees the file");
	is_int(count_all(s, "tmp"), 0, "tmp/ empty");
	is_int(count_all(s, "new"), 1, "one file in new/");
	path = xasprintf("%s/%u/new/%s", spool_dir(s), spool_subspool_of(s,
	    e.id), e.id);
	ok(spool_read_envelope(path, &r, &off, &rerr) == 0, "read back");
	is_str(r.id, e.id, "id");
	is_int(r.time, 1700000000, "time");
	is_str(r.sender, "alice@example.com", "sender");
	is_int(r.nrcpts, 2, "two recipients");
	is_str(r.rcpts[0].notify, "SUCCESS,FAILURE", "notify kept");
	is_str(r.rcpts[0].orcpt, "rfc822;bob@example.org", "orcpt kept");
	ok(r.rcpts[1].notify == NULL, "absent notify stays absent");
	is_str(spool_env_param(&r, "client"), "127.0.0.1", "param");
	is_str(spool_env_param(&r, "auth"), "", "empty param");
	data = read_file(path, &len);
	is_str(data + off, msg, "body starts at the offset, unchanged");
	free(data);
	spool_env_release(&r);
	unlink(path);
	free(path);
	spool_env_release(&e);
}

/* Quoted local parts may hold blanks: written as xtext, read back. */
static void
test_quoted(struct spool *s)
{
	struct spool_envelope e, r;
	const char *err = NULL;
	struct spool_file *f;
	char *path, *data, *rerr = NULL;
	off_t off;
	size_t len;

	spool_env_init(&e);
	spool_env_set_sender(&e, "\"s t\"@y.example");
	spool_env_add_rcpt(&e, "\"a b+c=d\"@x.example", "DELAY", NULL);
	spool_env_add_rcpt(&e, "plain+tag@x.example", NULL, NULL);
	f = spool_file_new(s, &e, &err);
	ok(f != NULL && spool_file_commit(&f, &err) == 0,
	    "blanks in quoted addresses accepted");
	path = xasprintf("%s/%u/new/%s", spool_dir(s), spool_subspool_of(s,
	    e.id), e.id);
	data = read_file(path, &len);
	ok(strstr(data, "\nsenderx \"s+20t\"@y.example\n") != NULL &&
	    strstr(data, "\nrcptx \"a+20b+2Bc+3Dd\"@x.example notify=DELAY\n")
	    != NULL && strstr(data, "\nrcpt plain+tag@x.example\n") != NULL,
	    "as xtext under senderx/rcptx; plain ones as before");
	free(data);
	ok(spool_read_envelope(path, &r, &off, &rerr) == 0, "read back");
	is_str(r.sender, "\"s t\"@y.example", "sender exact");
	is_str(r.rcpts[0].addr, "\"a b+c=d\"@x.example", "recipient exact");
	is_str(r.rcpts[0].notify, "DELAY", "its notify");
	is_str(r.rcpts[1].addr, "plain+tag@x.example", "plain one exact");
	spool_env_release(&r);
	unlink(path);
	free(path);
	spool_env_release(&e);
}

static void
test_refusals(struct spool *s)
{
	struct spool_envelope e;
	const char *err = NULL;
	struct spool_file *f;

	spool_env_init(&e);
	spool_env_add_rcpt(&e, "bad\naddress@x", NULL, NULL);
	f = spool_file_new(s, &e, &err);
	ok(f == NULL && err != NULL, "line break in an address refused");
	spool_env_release(&e);
	spool_env_init(&e);
	f = spool_file_new(s, &e, &err);
	ok(f == NULL, "no recipients refused");
	spool_env_release(&e);
	spool_env_init(&e);
	spool_env_add_rcpt(&e, "a@b", NULL, NULL);
	spool_env_set_param(&e, "x", "line\nbreak");
	f = spool_file_new(s, &e, &err);
	ok(f == NULL, "newline in a param refused");
	spool_env_release(&e);
	is_int(count_all(s, "tmp"), 0, "refusals leave nothing in tmp/");

	e = sample_env();
	f = spool_file_new(s, &e, &err);
	spool_file_write(f, "x", 1);
	spool_file_abort(&f);
	ok(f == NULL, "abort frees");
	is_int(count_all(s, "tmp") + count_all(s, "new"), 0,
	    "abort leaves nothing");
	spool_env_release(&e);
}

static void
test_damaged(void)
{
	static const char *const bad[] = {
		"", "TERN-SPOOL 2\n\n", "TERN-SPOOL 1\nid X\n\n",
		"TERN-SPOOL 1\nid 0123456789ABCDEF012345\ntime 1\nsender a\n\n",
		"TERN-SPOOL 1\nid 0123456789ABCDEF012345\ntime 1\nsender a\n"
		    "rcpt b@c\n",
		"TERN-SPOOL 1\nid 0123456789ABCDEF012345\ntime 1\nsender a\n"
		    "rcpt b@c bogus=1\n\n",
		"TERN-SPOOL 1\nid 0123456789ABCDEF012345\nwhat 1\n\n",
	};
	char *path = xasprintf("%s/damaged", tmpdir);

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct spool_envelope e;
		char *err = NULL;
		off_t off;
		FILE *f = fopen(path, "w");

		fputs(bad[i], f);
		fclose(f);
		ok(spool_read_envelope(path, &e, &off, &err) == -1 &&
		    err != NULL, "damaged envelope refused");
		free(err);
	}
	unlink(path);
	free(path);
}

struct async_state {
	int done, failed;
	struct event_base *base;
	int expect;
};

static void
async_cb(bool ok_, const char *error, void *arg)
{
	struct async_state *st = arg;

	(void)error;
	st->done++;
	if (!ok_)
		st->failed++;
	if (st->done == st->expect)
		event_base_loopexit(st->base, NULL);
}

static void
test_async(struct spool *s)
{
	struct async_state st = { 0 };
	struct timeval guard = { 20, 0 };
	const int n = 200;

	st.base = event_base_new();
	st.expect = n;
	for (int i = 0; i < n; i++) {
		struct spool_envelope e = sample_env();
		const char *err = NULL;
		struct spool_file *f = spool_file_new(s, &e, &err);
		char body[64];

		snprintf(body, sizeof(body), "Subject: %d\r\n\r\n%d\r\n", i, i);
		spool_file_write(f, body, strlen(body));
		spool_file_commit_async(&f, st.base, async_cb, &st);
		ok(f == NULL || i > 0, "async commit takes the file");
		spool_env_release(&e);
	}
	is_int(st.done, 0, "no callback before the loop runs");
	event_base_loopexit(st.base, &guard);
	event_base_dispatch(st.base);
	is_int(st.done, n, "every commit reported once");
	is_int(st.failed, 0, "none failed");
	is_int(count_all(s, "new"), n, "all files in new/");
	is_int(count_all(s, "tmp"), 0, "none left in tmp/");
	event_base_free(st.base);
}

int
main(void)
{
	struct spool *s;
	char *err = NULL;
	char *cmd;

	plan(253);
	evthread_use_pthreads();     /* before any event base, see spool.h */
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	cmd = xasprintf("%s/spool", tmpdir);
	s = spool_open(cmd, 10, &err);
	ok(s != NULL, "spool opened");
	is_int(count_files(cmd), 10, "ten subspools");
	free(cmd);
	test_ids();
	test_round_trip(s);
	test_time_default(s);
	test_quoted(s);
	test_refusals(s);
	test_damaged();
	test_async(s);
	spool_close(&s);
	ok(s == NULL, "closed");
	cmd = xasprintf("rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		diag("cleanup failed");
	free(cmd);
	return done_testing();
}
