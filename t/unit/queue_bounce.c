/* Unit tests for lib/bounce, the queue's delivery status notifications:
 * structure of the report, RET=HDRS/FULL, the size cap, ORCPT and ENVID
 * decoding, and the envelope of the report in the spool. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounce.h"
#include "spool.h"
#include "tap.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/tern-bounce-XXXXXX";

/* A message in the spool; its path and body offset. */
static char *
original(struct spool *s, const char *body, size_t len, off_t *off_r)
{
	struct spool_envelope e, back;
	struct spool_file *f;
	const char *err;
	char *path, *perr = NULL;
	unsigned sub;

	spool_env_init(&e);
	e.time = 1700000000;
	spool_env_set_sender(&e, "alice@example.org");
	spool_env_add_rcpt(&e, "bob@example.net", NULL, "rfc822;Bob+2Bx@x");
	f = spool_file_new(s, &e, &err);
	spool_file_write(f, body, len);
	spool_file_commit(&f, &err);
	sub = spool_subspool_of(s, e.id);
	path = xasprintf("%s/%u/new/%s", spool_dir(s), sub, e.id);
	if (spool_read_envelope(path, &back, off_r, &perr) < 0)
		die("read back: %s", perr);
	spool_env_release(&back);
	spool_env_release(&e);
	return path;
}

static struct bounce
mkbounce(const char *path, off_t off, const char *ret,
    const struct bounce_rcpt *r, size_t n)
{
	struct bounce b = {
		.id = "0123456789ABCDEF012345", .path = path, .body_off = off,
		.sender = "alice@example.org", .envid = "ab+2Bc", .ret = ret,
		.arrival = 1700000000, .hostname = "mx.example.test",
		.rcpts = r, .nrcpts = n,
	};
	return b;
}

static const char *
has(const struct buf *b, const char *s)
{
	return strstr(buf_str(b), s);
}

int
main(void)
{
	static const char body[] = "From: alice@example.org\r\nSubject: hi "
	    "there\r\nTo: bob@example.net\r\n\r\nThe body.\r\nSecond line.\r\n";
	struct bounce_rcpt r[2] = {
		{ "bob@example.net", "rfc822;Bob+2Bx@x", "5.1.1 no such user",
		  1700000100, NULL },
		{ "carol@example.net", NULL, "550 5.7.1 refused by policy", 0,
		  NULL },
	};
	struct bounce_rcpt other[3] = {
		{ "dan@example.net", NULL, "4.4.1 connection refused",
		  1700000100, "delayed" },
		{ "eve@example.test", NULL, "2.0.0 delivered to the mailbox", 0,
		  "delivered" },
		{ "fay@example.net", NULL, NULL, 0, "relayed" },
	};
	struct spool *s;
	struct buf out;
	struct bounce b;
	const char *err;
	char *path, *big, *perr = NULL, id[SPOOL_ID_LEN + 1], *x;
	off_t off;

	if (mkdtemp(tmpdir) == NULL)
		die("mkdtemp");
	s = spool_open(tmpdir, 2, &perr);
	path = original(s, body, strlen(body), &off);

	buf_init(&out, 4096, 0);
	b = mkbounce(path, off, NULL, r, 2);
	ok(bounce_format(&b, "FEDCBA9876543210FEDCBA", 1700000200, &out,
	    &err) == 0, "formatted");
	ok(has(&out, "From: Mail Delivery System <MAILER-DAEMON@mx.example."
	    "test>\r\n"), "From: MAILER-DAEMON@hostname");
	ok(has(&out, "To: <alice@example.org>\r\n"), "To: the sender");
	ok(has(&out, "Auto-Submitted: auto-replied\r\n"), "Auto-Submitted");
	ok(has(&out, "Message-ID: <FEDCBA9876543210FEDCBA@mx.example.test>"),
	    "Message-ID from the report's queue id");
	ok(has(&out, "Content-Type: multipart/report; "
	    "report-type=delivery-status;"), "multipart/report");
	ok(has(&out, "Content-Type: message/delivery-status\r\n\r\n"
	    "Reporting-MTA: dns; mx.example.test\r\n"), "Reporting-MTA");
	ok(has(&out, "Original-Envelope-Id: ab+c\r\n"), "ENVID xtext decoded");
	ok(has(&out, "Arrival-Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"),
	    "Arrival-Date in RFC 5322 form");
	ok(has(&out, "Original-Recipient: rfc822;Bob+x@x\r\nFinal-Recipient: "
	    "rfc822; bob@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n"
	    "Diagnostic-Code: x-tern; 5.1.1 no such user\r\nLast-Attempt-Date"),
	    "first recipient block");
	ok(has(&out, "Final-Recipient: rfc822; carol@example.net\r\nAction: "
	    "failed\r\nStatus: 5.7.1\r\nDiagnostic-Code: smtp; 550 5.7.1"),
	    "a remote server's reply is an smtp Diagnostic-Code");
	ok(has(&out, "Content-Type: text/rfc822-headers\r\n\r\nFrom: "
	    "alice@example.org\r\nSubject: hi there\r\n"), "RET default: header");
	ok(!has(&out, "The body."), "and not the body");
	ok(has(&out, "  <carol@example.net>\r\n      550 5.7.1 refused"),
	    "the human part lists each recipient and why");
	x = strstr(buf_str(&out), "boundary=\"");
	ok(x != NULL && has(&out, "--=_report_FEDCBA9876543210FEDCBA_"
	    "1700000200--\r\n"), "the closing boundary");
	buf_reset(&out);

	/* NOTIFY=DELAY and SUCCESS reports: their own Action, Status and
	 * words; a failure anywhere makes it an "Undeliverable" one. */
	b = mkbounce(path, off, NULL, other, 1);
	bounce_format(&b, "FEDCBA9876543210FEDCBA", 1700000200, &out, &err);
	ok(has(&out, "Subject: Delayed: message not yet delivered\r\n") &&
	    has(&out, "Action: delayed\r\nStatus: 4.4.1\r\n") &&
	    has(&out, "has not yet been delivered") && !has(&out, "stopped "
	    "trying"), "a delay warning");
	buf_reset(&out);
	b = mkbounce(path, off, NULL, other + 1, 2);
	bounce_format(&b, "FEDCBA9876543210FEDCBA", 1700000200, &out, &err);
	ok(has(&out, "Subject: Delivered: delivery report\r\n") &&
	    has(&out, "rfc822; eve@example.test\r\nAction: delivered\r\n"
	    "Status: 2.0.0\r\n") && has(&out, "rfc822; fay@example.net\r\n"
	    "Action: relayed\r\nStatus: 2.0.0\r\n") && has(&out, "was "
	    "delivered to") && has(&out, "was passed on"), "success reports");
	buf_reset(&out);
	{
		struct bounce_rcpt mix[2] = { r[0], other[0] };

		b = mkbounce(path, off, NULL, mix, 2);
		bounce_format(&b, "FEDCBA9876543210FEDCBA", 1700000200, &out,
		    &err);
		ok(has(&out, "Subject: Undeliverable") && has(&out, "Action: "
		    "failed") && has(&out, "Action: delayed"), "mixed report");
		buf_reset(&out);
	}

	b = mkbounce(path, off, "FULL", r, 1);
	bounce_format(&b, "FEDCBA9876543210FEDCBA", 1700000200, &out, &err);
	ok(has(&out, "Content-Type: message/rfc822\r\n\r\nFrom: alice@example."
	    "org\r\n") && has(&out, "The body.\r\nSecond line.\r\n"),
	    "RET=FULL: the whole message");
	ok(!has(&out, "carol"), "only the recipients given");
	buf_reset(&out);

	/* Over BOUNCE_FULL_MAX: the header only, and it says so. */
	big = xmalloc(BOUNCE_FULL_MAX + 100);
	memcpy(big, "Subject: big\r\n\r\n", 16);
	memset(big + 16, 'y', BOUNCE_FULL_MAX + 84);
	free(path);
	path = original(s, big, BOUNCE_FULL_MAX + 100, &off);
	b = mkbounce(path, off, "FULL", r, 1);
	bounce_format(&b, "FEDCBA9876543210FEDCBA", 1700000200, &out, &err);
	ok(has(&out, "text/rfc822-headers\r\n\r\nSubject: big\r\n\r\n") &&
	    !has(&out, "yyyy"), "too large for RET=FULL: header only");
	ok(has(&out, "too large to send back whole"), "and says so");
	buf_reset(&out);

	/* A header that never ends is cut at whole lines. */
	memset(big, 'h', BOUNCE_HDRS_MAX * 2);
	for (size_t i = 70; i < BOUNCE_HDRS_MAX * 2; i += 72) {
		big[i] = '\r';
		big[i + 1] = '\n';
	}
	free(path);
	path = original(s, big, BOUNCE_HDRS_MAX * 2, &off);
	b = mkbounce(path, off, NULL, r, 1);
	bounce_format(&b, "FEDCBA9876543210FEDCBA", 1700000200, &out, &err);
	ok(buf_len(&out) < BOUNCE_HDRS_MAX + 8192, "an endless header is cut");
	free(big);
	buf_reset(&out);

	/* Into the spool: the report's envelope. */
	b = mkbounce(path, off, NULL, r, 1);
	ok(bounce_queue(s, &b, id, &err) == 0, "queued");
	{
		char *p = xasprintf("%s/%u/new/%s", tmpdir,
		    spool_subspool_of(s, id), id);
		struct spool_envelope e;

		ok(spool_read_envelope(p, &e, &off, &perr) == 0,
		    "the report is a valid spool file in new/");
		is_str(e.sender, "", "null envelope sender");
		ok(e.nrcpts == 1 && strcmp(e.rcpts[0].addr,
		    "alice@example.org") == 0, "to the original sender");
		is_str(e.rcpts[0].notify, "NEVER", "NOTIFY=NEVER");
		is_str(spool_env_param(&e, "kind"), "dsn", "kind=dsn");
		is_str(spool_env_param(&e, "bounce_of"),
		    "0123456789ABCDEF012345", "bounce_of: the original's id");
		spool_env_release(&e);
		free(p);
	}
	b.path = "/nonexistent/file";
	ok(bounce_queue(s, &b, id, &err) < 0, "an unreadable original fails");
	x = bounce_xtext_decode("a+2Bb+0Ac+zz+4");
	is_str(x, "a+b?c+zz+4", "xtext: +XX decoded, controls replaced, bad "
	    "escapes kept");
	free(x);

	buf_release(&out);
	free(path);
	spool_close(&s);
	{
		char *cmd = xasprintf("rm -rf %s", tmpdir);

		if (system(cmd) != 0)
			diag("cannot remove %s", tmpdir);
		free(cmd);
	}
	return done_testing();
}
