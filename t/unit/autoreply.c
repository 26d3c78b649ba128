/* Unit tests for lib/autoreply: the RFC 3834 rules, autoreply_until,
 * the once-per-period memory (shared by processes, capped, damaged
 * files survived) and the composed reply. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "autoreply.h"
#include "buf.h"
#include "tap.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/tern-autoreply-XXXXXX";

static int
allowed(const char *sender, const char *as, const char *prec, bool list)
{
	struct autoreply_facts f = { .sender = sender, .user = "me@ex.com",
	    .auto_submitted = as, .precedence = prec, .list = list };
	const char *why = NULL;
	int r = autoreply_allowed(&f, &why);

	if (r == 0 && why == NULL)
		return -1;              /* a refusal must say why */
	return r;
}

static void
test_rules(void)
{
	is_int(allowed("a@b.test", NULL, NULL, false), 1, "plain mail: reply");
	is_int(allowed("", NULL, NULL, false), 0, "null sender: none");
	is_int(allowed("a@b.test", "no", NULL, false), 1,
	    "Auto-Submitted: no is a person");
	is_int(allowed("a@b.test", " No (typed)", NULL, false), 1,
	    "... in any case, with a comment");
	is_int(allowed("a@b.test", "auto-replied", NULL, false), 0,
	    "Auto-Submitted: auto-replied: none");
	is_int(allowed("a@b.test", "auto-generated; owner-email=x", NULL,
	    false), 0, "Auto-Submitted: auto-generated with a parameter");
	is_int(allowed("a@b.test", "nonsense", NULL, false), 0,
	    "any other Auto-Submitted: none");
	is_int(allowed("a@b.test", NULL, "bulk", false), 0, "Precedence: bulk");
	is_int(allowed("a@b.test", NULL, "LIST", false), 0, "Precedence: LIST");
	is_int(allowed("a@b.test", NULL, " junk", false), 0,
	    "Precedence: junk");
	is_int(allowed("a@b.test", NULL, "first-class", false), 1,
	    "Precedence: first-class is fine");
	is_int(allowed("a@b.test", NULL, NULL, true), 0, "a List-* header");
	is_int(allowed("ME@ex.com", NULL, NULL, false), 0, "the user itself");
	is_int(allowed("MAILER-DAEMON@b.test", NULL, NULL, false), 0,
	    "MAILER-DAEMON");
	is_int(allowed("owner-list@b.test", NULL, NULL, false), 0, "owner-*");
	is_int(allowed("list-request@b.test", NULL, NULL, false), 0,
	    "*-request");
	is_int(allowed("LISTSERV@b.test", NULL, NULL, false), 0, "LISTSERV");
	is_int(allowed("majordomo@b.test", NULL, NULL, false), 0, "majordomo");
	is_int(allowed("request@b.test", NULL, NULL, false), 1,
	    "'request' alone is a person");
}

static void
test_until(void)
{
	time_t now = time(NULL);
	char y[16], t[16], tm_[16];
	struct tm tm;
	time_t d;

	d = now - 86400;
	localtime_r(&d, &tm);
	strftime(y, sizeof(y), "%Y-%m-%d", &tm);
	localtime_r(&now, &tm);
	strftime(t, sizeof(t), "%Y-%m-%d", &tm);
	d = now + 86400;
	localtime_r(&d, &tm);
	strftime(tm_, sizeof(tm_), "%Y-%m-%d", &tm);
	ok(autoreply_expired(y, now), "until yesterday: expired");
	ok(!autoreply_expired(t, now), "until today: still on");
	ok(!autoreply_expired(tm_, now), "until tomorrow: on");
	ok(!autoreply_expired(NULL, now) && !autoreply_expired("", now),
	    "no date: never expires");
}

static void
test_memory(void)
{
	char *path = xasprintf("%s/mem", tmpdir);
	time_t now = 1700000000;
	int fd, ones = 0;

	is_int(autoreply_remember(path, "a@b.test", now, 86400), 1,
	    "first message from a sender: reply");
	is_int(autoreply_remember(path, "a@b.test", now + 10, 86400), 0,
	    "second the same day: no reply");
	is_int(autoreply_remember(path, "A@B.TEST", now + 20, 86400), 0,
	    "sender compared without case");
	is_int(autoreply_remember(path, "c@d.test", now + 30, 86400), 1,
	    "another sender: reply");
	is_int(autoreply_remember(path, "a@b.test", now + 86401, 86400), 1,
	    "a day later: reply again");
	/* Damage: garbage lines and a torn end are skipped. */
	fd = open(path, O_WRONLY | O_APPEND);
	if (write(fd, "garbage\n\n12 \nx y\n1700000100 torn", 33) < 0)
		diag("write failed");
	close(fd);
	is_int(autoreply_remember(path, "a@b.test", now + 86402, 86400), 0,
	    "a damaged file still remembers the good lines");
	is_int(autoreply_remember(path, "torn", now + 86403, 86400), 1,
	    "a torn last line is not an entry");
	/* Several processes at once: exactly one reply. */
	for (int i = 0; i < 6; i++)
		if (fork() == 0)
			_exit(autoreply_remember(path, "race@b.test",
			    now + 90000, 86400) == 1 ? 7 : 0);
	for (int i = 0; i < 6; i++) {
		int st;

		wait(&st);
		ones += WIFEXITED(st) && WEXITSTATUS(st) == 7;
	}
	is_int(ones, 1, "six processes at once: one reply");
	free(path);
}

static void
test_cap(void)
{
	char *path = xasprintf("%s/cap", tmpdir);
	struct buf b;
	time_t now = 1700000000;
	FILE *f;
	size_t lines = 0;
	int c;

	buf_init(&b, 1 << 20, 0);
	for (int i = 0; i < AUTOREPLY_MEMORY_MAX; i++)
		buf_printf(&b, "%lld s%d@x.test\n", (long long)now + i, i);
	f = fopen(path, "w");
	fwrite(b.data, 1, b.len, f);
	fclose(f);
	buf_release(&b);
	is_int(autoreply_remember(path, "new@x.test", now + 20000, 86400), 1,
	    "a full memory takes a new sender");
	f = fopen(path, "r");
	while ((c = fgetc(f)) != EOF)
		lines += c == '\n';
	fclose(f);
	is_int(lines, AUTOREPLY_MEMORY_MAX, "it stays at the cap");
	is_int(autoreply_remember(path, "s0@x.test", now + 20001, 86400), 1,
	    "the oldest sender was dropped");
	is_int(autoreply_remember(path, "s5000@x.test", now + 20002, 86400), 0,
	    "a recent one is still there");
	free(path);
}

static void
test_compose(void)
{
	struct autoreply_msg m = {
		.from = "alice@ex.com", .from_name = "Alice \"A\" Smith",
		.to = "bob@b.test", .subject = NULL,
		.orig_subject = "Lunch?", .orig_msgid = " <abc@b.test> ",
		.orig_refs = "<x@y>", .text = "Away.\\nBack Monday.",
		.id = "1.M2P3Q4.host", .host = "mx.ex.com", .now = 1700000000,
	};
	struct buf b;

	buf_init(&b, 1024, 0);
	autoreply_compose(&b, &m);
	ok(strstr(b.data, "From: \"Alice \\\"A\\\" Smith\" <alice@ex.com>\r\n")
	    != NULL, "From: the user, name quoted");
	ok(strstr(b.data, "To: <bob@b.test>\r\n") != NULL, "To: the sender");
	ok(strstr(b.data, "Subject: Auto: Lunch?\r\n") != NULL,
	    "Subject: Auto: and the original's");
	ok(strstr(b.data, "In-Reply-To: <abc@b.test>\r\n") != NULL,
	    "In-Reply-To");
	ok(strstr(b.data, "References: <x@y> <abc@b.test>\r\n") != NULL,
	    "References: the original's and its id");
	ok(strstr(b.data, "Auto-Submitted: auto-replied\r\n") != NULL,
	    "Auto-Submitted: auto-replied (RFC 3834)");
	ok(strstr(b.data, "Message-ID: <1.M2P3Q4.host@mx.ex.com>\r\n") != NULL,
	    "our own Message-ID");
	ok(strstr(b.data, "\r\n\r\nAway.\r\nBack Monday.\r\n") != NULL,
	    "the text, \\n as a line break, 7bit");
	ok(strstr(b.data, "\n\n") == NULL && strstr(b.data, "\r\r") == NULL,
	    "CRLF throughout");
	buf_reset(&b);
	m.subject = "Abwesend: B\xc3\xbcro zu";
	m.text = "Gr\xc3\xbc\xc3\x9f" "e";
	m.orig_msgid = "not an id";
	m.from_name = "J\xc3\xb6rg";
	autoreply_compose(&b, &m);
	ok(strstr(b.data, "Subject: =?UTF-8?B?") != NULL,
	    "a UTF-8 subject is encoded");
	ok(strstr(b.data, "Content-Transfer-Encoding: base64\r\n") != NULL &&
	    strstr(b.data, "R3LDvMOfZQ0K") != NULL, "a UTF-8 body is base64");
	ok(strstr(b.data, "In-Reply-To") == NULL,
	    "a malformed Message-ID is not copied");
	ok(strstr(b.data, "From: <alice@ex.com>\r\n") != NULL,
	    "a non-ASCII name is left out");
	buf_reset(&b);
	m.orig_subject = NULL;
	m.subject = NULL;
	m.text = NULL;
	autoreply_compose(&b, &m);
	ok(strstr(b.data, "Subject: Automatic reply\r\n") != NULL,
	    "no subject anywhere: a plain one");
	ok(strstr(b.data, "automatic reply") != NULL, "a default text");
	buf_release(&b);
}

int
main(void)
{
	char *cmd;

	if (mkdtemp(tmpdir) == NULL)
		return 1;
	plan(50);
	test_rules();
	test_until();
	test_memory();
	test_cap();
	test_compose();
	cmd = xasprintf("rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		diag("cannot remove %s", tmpdir);
	free(cmd);
	return done_testing();
}
