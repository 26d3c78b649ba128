/* Unit test for lib/cfgfile: the config line reader alone. */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cfgfile.h"
#include "tap.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/tern-cfgfile-XXXXXX";
static char *path;		/* tmpdir/f, the file every case writes */
static struct buf *seen;	/* what the callback was handed */

static void
write_file(const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) < 0)
		die("cannot write %s", path);
}

/* Records "sec/key=value@line;" per key and "[sec]@line;" per header. */
static int
record(const struct cfg_line *l, void *arg, char **error_r)
{
	(void)arg;
	if (l->key == NULL) {
		buf_printf(seen, "[%s]@%d;", l->section, l->line);
		if (strcmp(l->section, "failsec") == 0) {
			*error_r = xstrdup("section refused");
			return -1;
		}
		return 0;
	}
	if (strcmp(l->key, "fail") == 0) {
		*error_r = xstrdup("refused");
		return -1;
	}
	if (strcmp(l->key, "failquiet") == 0)
		return -1;
	if (l->section != NULL)
		buf_printf(seen, "%s/", l->section);
	buf_printf(seen, "%s=%s@%d;", l->key, l->value, l->line);
	return 0;
}

/* Parse data; returns the result, with the error (or "") in *err_r. */
static int
parse_n(const void *data, size_t len, bool sections, char **err_r)
{
	char *err = NULL;
	int ret;

	write_file(data, len);
	buf_reset(seen);
	ret = cfgfile_parse(path, sections, false, record, NULL, &err);
	*err_r = err != NULL ? err : xstrdup("");
	if ((ret == 0) != (err == NULL))
		diag("result %d disagrees with error '%s'", ret, *err_r);
	return ret;
}

static int
parse(const char *text, bool sections, char **err_r)
{
	return parse_n(text, strlen(text), sections, err_r);
}

/* Expect text to parse and the callback to see want. */
static void
good(const char *text, bool sections, const char *want, const char *name)
{
	char *err;

	ok(parse(text, sections, &err) == 0, name);
	if (*err != '\0')
		diag("error: %s", err);
	is_str(buf_str(seen), want, name);
	free(err);
}

/* Expect data to fail with "path:msg". */
static void
bad_n(const void *data, size_t len, bool sections, const char *msg,
    const char *name)
{
	char *err, *want = xasprintf("%s:%s", path, msg);

	ok(parse_n(data, len, sections, &err) < 0, name);
	is_str(err, want, name);
	free(err);
	free(want);
}

static void
bad(const char *text, bool sections, const char *msg, const char *name)
{
	bad_n(text, strlen(text), sections, msg, name);
}

static void
test_syntax(void)
{
	good("", false, "", "empty file");
	good("\n\n  \n\t\n", false, "", "blank lines only");
	good("# comment\n  # indented comment\na = 1\n", false, "a=1@3;",
	    "comments skipped");
	good("key_1.x-y  =   some value  \t\n", false,
	    "key_1.x-y=some value@1;", "white space trimmed");
	good("a=\nb =\n", false, "a=@1;b=@2;", "empty values");
	good("a = x # not a comment\n", false, "a=x # not a comment@1;",
	    "'#' inside a value is kept");
	good("a = b = c\n", false, "a=b = c@1;", "second '=' is value");
	good("a = 1\nb = 2", false, "a=1@1;b=2@2;", "no final newline");
	good("a = caf\xc3\xa9 \xff\n", false, "a=caf\xc3\xa9 \xff@1;",
	    "8-bit value passed through");
}

static void
test_continuation(void)
{
	good("a = one,\n  two,\n\tthree\nb = 2\n", false,
	    "a=one, two, three@1;b=2@4;", "continuation lines joined");
	good("a =\n  x\n  y\n", false, "a=x y@1;",
	    "continuation of an empty value");
	good("a = 1\n\n# note\n  2\n", false, "a=1 2@1;",
	    "blank and comment lines inside a continued value");
	bad("  a = 1\n", false, "1: continuation line without a key",
	    "continuation at the start");
	bad("# c\n\n\tb\n", false, "3: continuation line without a key",
	    "continuation after comments only");
	bad("[s]\n  x\n", true, "2: continuation line without a key",
	    "continuation after a section header");
	bad("a = 1\nfail = x\n  y\n", false, "2: refused",
	    "callback error names the line the key starts on");
}

static void
test_keys(void)
{
	bad("key value\n", false, "1: expected key = value", "missing '='");
	bad("key\n", false, "1: expected key = value", "key alone");
	bad("a = 1\n= value\n", false, "2: invalid character in key "
	    "(allowed: letters, digits, '_', '.', '-')", "empty key");
	bad("k@y = 1\n", false, "1: invalid character in key "
	    "(allowed: letters, digits, '_', '.', '-')", "'@' in key");
	bad("k\xc3\xa9y = 1\n", false, "1: invalid character in key "
	    "(allowed: letters, digits, '_', '.', '-')", "8-bit key");
	bad("fail = 1\n", false, "1: refused", "callback message prefixed");
	bad("failquiet = 1\n", false, "1: value rejected",
	    "callback without a message");
}

static void
test_sections(void)
{
	good("a = 1\n[one]\nb = 2\n[two.x-y_z]\nc = 3\n", true,
	    "a=1@1;[one]@2;one/b=2@3;[two.x-y_z]@4;two.x-y_z/c=3@5;",
	    "sections when allowed");
	good("[s]  \n", true, "[s]@1;", "trailing blanks after header");
	bad("a = 1\n[s]\n", false, "2: sections are not allowed in this file",
	    "section refused");
	bad("[a b]\n", true, "1: bad section header (expected [name])",
	    "space in section name");
	bad("[]\n", true, "1: bad section header (expected [name])",
	    "empty section name");
	bad("[s\n", true, "1: bad section header (expected [name])",
	    "unclosed section");
	bad("[s] x\n", true, "1: bad section header (expected [name])",
	    "text after section");
	bad("[failsec]\n", true, "1: section refused",
	    "callback refuses a section");
}

static void
test_bytes(void)
{
	good("a = 1\r\nb = 2\r\n", false, "a=1@1;b=2@2;", "CRLF accepted");
	good("a = 1\r\n  2\r\n", false, "a=1 2@1;", "CRLF with continuation");
	bad("a = 1\nb = x\ry\n", false, "2: bare CR", "bare CR in a line");
	bad("a = 1\r\r\n", false, "1: bare CR", "CR CR LF");
	bad("a = 1\r", false, "1: bare CR", "CR at end of file");
	bad("\r\n\r", false, "2: bare CR", "lone CR line");
	bad_n("a = 1\nb = x\0y\n", 12, false, "2: NUL byte", "NUL in value");
	bad_n("\0", 1, false, "1: NUL byte", "file of one NUL");
	bad_n("# c\0\n", 5, false, "1: NUL byte", "NUL in a comment");
}

static void
test_limits(void)
{
	size_t big = 1024 * 1024;
	char *s = xmalloc(big + 2);
	char *err;

	/* 8192 bytes exactly: "a = " plus 8188 x */
	memcpy(s, "a = ", 4);
	memset(s + 4, 'x', 8188);
	memcpy(s + 8192, "\n", 2);
	ok(parse(s, false, &err) == 0, "8192-byte line accepted");
	free(err);
	memcpy(s + 8192, "x\n", 3);
	bad(s, false, "1: line too long (over 8192 bytes)",
	    "8193-byte line refused");

	/* "a = x" and nine continuation lines of 7999 bytes each pass the
	 * 64 KiB joined cap on the ninth. */
	size_t pos = 0;
	memcpy(s, "a = x\n", 6);
	pos = 6;
	for (size_t i = 0; i < 9; i++) {
		s[pos] = ' ';
		memset(s + pos + 1, 'y', 7998);
		s[pos + 7999] = '\n';
		pos += 8000;
	}
	s[pos] = '\0';
	bad(s, false, "10: value too long after joining continuation lines "
	    "(over 65536 bytes)", "joined value over 64 KiB");
	s[pos - 8000] = '\0';
	ok(parse(s, false, &err) == 0, "joined value under 64 KiB accepted");
	free(err);

	/* Exactly 1 MiB of comment lines is fine; one byte more is not. */
	memset(s, '#', big);
	for (size_t i = 4000; i < big; i += 4000)
		s[i] = '\n';
	ok(parse_n(s, big, false, &err) == 0, "1 MiB file accepted");
	free(err);
	s[big] = '\n';
	ok(parse_n(s, big + 1, false, &err) < 0, "1 MiB + 1 refused");
	ok(strstr(err, "file too large") != NULL, "file too large message");
	free(err);
	free(s);
}

static void
test_files(void)
{
	char *err, *gone = xasprintf("%s/nonexistent", tmpdir), *want;

	buf_reset(seen);
	ok(cfgfile_parse(gone, false, true, record, NULL, &err) == 0 &&
	    err == NULL && buf_len(seen) == 0, "missing file is ok if asked");
	ok(cfgfile_parse(gone, false, false, record, NULL, &err) < 0,
	    "missing file is an error");
	want = xasprintf("%s: cannot open: No such file or directory", gone);
	is_str(err, want, "missing file message");
	free(err);
	free(want);
	ok(cfgfile_parse(tmpdir, false, true, record, NULL, &err) < 0 &&
	    err != NULL && strstr(err, "cannot read") != NULL,
	    "a directory is an error");
	free(err);
	free(gone);
}

/* Every prefix of a valid file, and seeded random junk: never a crash,
 * and the result always agrees with the error. */
static void
test_hostile(void)
{
	static const char sample[] = "a = 1\r\n[s]\nb = two\n  three\n# c\n";
	static const char bytes[] = "a= \t\n\r#[]_\0\xff";
	char junk[256], *err;
	uint32_t seed = 12345;
	int agree = 1;
	size_t i, j;

	for (i = 0; i <= sizeof(sample) - 1; i++) {
		int r = parse_n(sample, i, true, &err);
		agree &= (r == 0) == (*err == '\0');
		free(err);
	}
	ok(agree, "every prefix of a file parses or fails cleanly");
	agree = 1;
	for (i = 0; i < 300; i++) {
		for (j = 0; j < sizeof(junk); j++) {
			seed = seed * 1103515245 + 12345;
			/* bias towards the bytes the parser cares about */
			junk[j] = bytes[(seed >> 16) % sizeof(bytes)];
		}
		int r = parse_n(junk, (seed >> 8) % sizeof(junk), i % 2, &err);
		agree &= (r == 0) == (*err == '\0');
		free(err);
	}
	ok(agree, "random junk parses or fails cleanly");
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		die("mkdtemp failed");
	path = xasprintf("%s/f", tmpdir);
	seen = buf_new(256);

	test_syntax();
	test_continuation();
	test_keys();
	test_sections();
	test_bytes();
	test_limits();
	test_files();
	test_hostile();

	buf_free(&seen);
	unlink(path);
	rmdir(tmpdir);
	free(path);
	return done_testing();
}
