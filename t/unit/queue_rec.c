/* Unit tests for lib/queue_rec (the recipient record) and lib/queue_info
 * (the spool seen from outside): lines in and out, torn and hostile
 * input fed whole and one byte at a time, the small helpers. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue_info.h"
#include "queue_rec.h"
#include "tap.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/tern-qrec-XXXXXX";

static void
test_lines(void)
{
	struct qrec q;
	struct buf b;

	buf_init(&b, 256, 0);
	qrec_put_defer(&b, 0, 1000, 1900, 1, "4.2.0 busy");
	qrec_put_done(&b, 1, 1001, QREC_OK, "2.0.0 fine");
	qrec_put_done(&b, 2, 1002, QREC_FAIL, "5.1.1 no\nsuch\tuser");
	qrec_put_bounce(&b, "0123456789ABCDEF012345", (size_t[]){ 2 }, 1);
	qrec_put_prio(&b, 7);
	qrec_put_hold(&b, true);
	qrec_put_hold(&b, false);
	qrec_put_hold(&b, true);
	qrec_put_done(&b, 3, 1003, QREC_DROP, NULL);
	ok(strstr(buf_str(&b), "d 2 1002 fail 5.1.1 no?such?user\n") != NULL,
	    "control characters in a text become '?'");
	ok(strstr(buf_str(&b), "d 3 1003 drop -\n") != NULL,
	    "an empty text is written as '-'");
	qrec_init(&q, 4);
	qrec_apply_all(&q, buf_data(&b), buf_len(&b));
	is_int(q.r[0].state, QREC_PENDING, "t: still pending");
	is_int(q.r[0].attempts, 1, "t: attempts");
	is_int(q.r[0].next, 1900, "t: next attempt");
	is_int(q.r[0].last, 1000, "t: time of the attempt");
	is_str(q.r[0].text, "4.2.0 busy", "t: text");
	is_int(q.r[1].state, QREC_OK, "d ok");
	is_int(q.r[2].state, QREC_FAIL, "d fail");
	ok(q.r[2].bounced && !q.r[1].bounced, "b marks its recipients only");
	is_int(q.r[3].state, QREC_DROP, "d drop");
	is_int(q.prio, 7, "p");
	ok(q.held, "h: the last hold line wins");
	is_int(q.bad, 0, "no bad lines");
	is_int(q.torn, 0, "nothing torn");
	is_int(q.clean_len, buf_len(&b), "clean to the end");
	qrec_release(&q);

	/* One byte at a time: every prefix parses; whole lines only. */
	for (size_t n = 0; n <= buf_len(&b); n++) {
		size_t lines = 0;

		for (size_t i = 0; i < n; i++)
			lines += buf_data(&b)[i] == '\n';
		qrec_init(&q, 4);
		qrec_apply_all(&q, buf_data(&b), n);
		if (q.bad != 0 || q.clean_len + q.torn != n ||
		    (q.clean_len > 0 && buf_data(&b)[q.clean_len - 1] != '\n')) {
			ok(0, "prefix parse");
			diag("prefix %zu", n);
			qrec_release(&q);
			break;
		}
		qrec_release(&q);
		if (n == buf_len(&b))
			ok(1, "every prefix: whole lines applied, the tail torn");
	}
	buf_release(&b);
}

static void
test_hostile(void)
{
	static const char *const bad[] = {
		"t 9 1 2 3 x\n",          /* no such recipient */
		"t -1 1 2 3 x\n",
		"t 0 x 2 3 x\n",
		"t 0 1 2\n",              /* too short */
		"d 0 1 maybe x\n",        /* unknown outcome */
		"p 11\n", "p 0\n", "p\n",
		"b nothex 0\n",
		"zz 1\n",
		"h 2\n",
		"h\n",
		"r\n",
		"t 0 99999999999999999999 2 3 x\n",
		"\n",
	};
	struct qrec q;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		qrec_init(&q, 2);
		qrec_apply_all(&q, bad[i], strlen(bad[i]));
		if (q.r[0].state != QREC_PENDING || q.r[0].attempts != 0 ||
		    q.prio != 0 || q.held) {
			ok(0, "hostile line ignored");
			diag("%s", bad[i]);
		}
		qrec_release(&q);
	}
	ok(1, "hostile lines change nothing");
	qrec_init(&q, 2);
	qrec_apply_all(&q, "d 0 5 ok fine\nt 0 6 7 1 late\n", 29);
	is_int(q.r[0].state, QREC_OK, "a deferral after the end changes "
	    "nothing");
	qrec_release(&q);
	qrec_init(&q, 3);
	qrec_apply_all(&q, "t 0 5 50 2 x\nd 1 5 fail y\nr 60\n", 32);
	ok(q.r[0].attempts == 0 && q.r[0].next == 60 && q.r[0].last == 60,
	    "r: a pending recipient starts over, due at the reset");
	ok(q.r[2].next == 60, "r: also one never tried");
	is_int(q.r[1].state, QREC_FAIL, "r: a finished one stays finished");
	qrec_release(&q);
	qrec_init(&q, 1);
	qrec_apply_all(&q, "t 0 5 50 2 x\nd 0 5 o", 20);
	ok(q.torn == 7 && q.r[0].state == QREC_PENDING,
	    "a torn last line is not applied");
	qrec_release(&q);
}

static void
test_helpers(void)
{
	char code[16], longtext[2000];
	struct buf b;

	ok(qrec_notify_failure(NULL), "no NOTIFY: failure reports");
	ok(qrec_notify_failure("FAILURE"), "FAILURE");
	ok(qrec_notify_failure("success,failure"), "SUCCESS,FAILURE any case");
	ok(qrec_notify_failure("DELAY,FAILURE"), "DELAY,FAILURE");
	ok(!qrec_notify_failure("NEVER"), "NEVER");
	ok(!qrec_notify_failure("SUCCESS,DELAY"), "SUCCESS,DELAY");
	ok(!qrec_notify_failure("XFAILUREX"), "a word inside another is not it");
	qrec_status_code("5.1.1 no such user", "5.0.0", code, sizeof(code));
	is_str(code, "5.1.1", "status code at the start");
	qrec_status_code("550 5.7.1 go away", "5.0.0", code, sizeof(code));
	is_str(code, "5.7.1", "status code after an SMTP reply code");
	qrec_status_code("4.4.7 retries exhausted", "5.0.0", code,
	    sizeof(code));
	is_str(code, "4.4.7", "4.x.x");
	qrec_status_code("5.1.10000 x", "5.0.0", code, sizeof(code));
	is_str(code, "5.0.0", "too many digits: the default");
	qrec_status_code("oops", "4.0.0", code, sizeof(code));
	is_str(code, "4.0.0", "none: the default");
	qrec_status_code("3.1.1 x", "5.0.0", code, sizeof(code));
	is_str(code, "5.0.0", "class 3 is not a status");
	ok(qrec_id_valid("0123456789ABCDEF012345"), "a queue id");
	ok(!qrec_id_valid("0123456789abcdef012345"), "lower case is not");
	ok(!qrec_id_valid("0123456789ABCDEF01234"), "21 digits is not");
	ok(!qrec_id_valid("0123456789ABCDEF012345.rec"), "a record is not");
	memset(longtext, 'a', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	buf_init(&b, 64, 0);
	qrec_put_defer(&b, 0, 1, 2, 3, longtext);
	ok(buf_len(&b) < QREC_TEXT_MAX + 40 && buf_str(&b)[buf_len(&b) - 1] ==
	    '\n', "a long text is cut, the line still ends");
	buf_release(&b);
}

static void
write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		die("write %s", path);
	close(fd);
}

static void
test_info(void)
{
	char *p, *err = NULL, out[20], age[32];
	const char *id = "0123456789ABCDEF012345";
	unsigned sub, *subs;
	bool in_new;
	size_t n;
	struct qinfo qi;
	struct qrec q;

	for (int i = 0; i < 3; i++) {
		p = xasprintf("%s/%d", tmpdir, i == 2 ? 17 : i);
		mkdir(p, 0750);
		free(p);
		for (int k = 0; k < 2; k++) {
			p = xasprintf("%s/%d/%s", tmpdir, i == 2 ? 17 : i,
			    k ? "new" : "cur");
			mkdir(p, 0750);
			free(p);
		}
	}
	subs = qinfo_subspools(tmpdir, 2, &n);
	ok(n == 3 && subs[0] == 0 && subs[1] == 1 && subs[2] == 17,
	    "subspools: the configured ones and an old one");
	free(subs);
	p = xasprintf("%s/17/cur/%s", tmpdir, id);
	write_file(p, "TERN-SPOOL 1\nid 0123456789ABCDEF012345\ntime 100\n"
	    "sender a@b.example\nrcpt x@y.example\nrcpt z@y.example\n"
	    "param priority=3\n\nSubject: hi\r\n\r\nbody\r\n");
	free(p);
	p = xasprintf("%s/17/cur/%s.rec", tmpdir, id);
	write_file(p, "t 0 150 400 2 4.2.0 busy\nd 1 150 ok 2.0.0 fine\nt 0 1");
	free(p);
	ok(qinfo_find(tmpdir, 2, id, &sub, &in_new) == 0 && sub == 17 &&
	    !in_new, "found in the old subspool's cur/");
	ok(qinfo_find(tmpdir, 2, "0123456789ABCDEF054321", &sub, &in_new) < 0,
	    "a missing one is not found");
	ok(qinfo_load(tmpdir, 17, id, false, 15, &qi, &err) == 0, "loaded");
	is_str(qi.status, "deferred", "status deferred");
	ok(qi.attempts == 2 && qi.next == 400 && qi.delivered == 1 &&
	    qi.finished == 1 && qi.rec.torn == 5, "figures from the record");
	qinfo_release(&qi);
	p = xasprintf("%s/17/cur/%s.rec", tmpdir, id);
	unlink(p);
	free(p);
	ok(qinfo_load(tmpdir, 17, id, false, 15, &qi, &err) == 0 &&
	    strcmp(qi.status, "pending") == 0 && qi.next == 115,
	    "no record: pending, due at arrival + delay");
	qinfo_release(&qi);
	p = xasprintf("%s/0/cur/%s", tmpdir, "0123456789ABCDEF099999");
	write_file(p, "TERN-SPOOL 1\nid 0123");
	free(p);
	ok(qinfo_load(tmpdir, 0, "0123456789ABCDEF099999", false, 0, &qi,
	    &err) < 0 && err != NULL, "a damaged file: an error");
	free(err);
	qinfo_time(0, out);
	is_str(out, "1970-01-01 00:00:00", "time format");
	qinfo_age(90061, age, sizeof(age));
	is_str(age, "1d1h", "age in days");
	qinfo_age(59, age, sizeof(age));
	is_str(age, "59s", "age in seconds");
	qrec_init(&q, 1);
	p = xasprintf("%s/none.rec", tmpdir);
	ok(qrec_read(p, &q, &err) == 0 && !q.exists, "a missing record: empty");
	free(p);
	qrec_release(&q);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		die("mkdtemp");
	test_lines();
	test_hostile();
	test_helpers();
	test_info();
	if (system(NULL) != 0) {
		char *cmd = xasprintf("rm -rf %s", tmpdir);

		if (system(cmd) != 0)
			diag("cannot remove %s", tmpdir);
		free(cmd);
	}
	return done_testing();
}
