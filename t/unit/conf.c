/*
 * Unit test for lib/conf: value parsers, the key table, loading tern.conf,
 * and the man page against the table (every key documented with the
 * table's default, no documented key missing from the table).
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "tap.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/tern-conf-XXXXXX";
static char *etc;	/* tmpdir/etc, holds tern.conf */
static char *path;	/* tmpdir/etc/tern.conf */

static void
write_file(const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) < 0)
		die("cannot write %s", path);
}

/* ---- value parsers ---- */

static void
int_ok(const char *s, long long want)
{
	long long v = 0;
	const char *err = NULL;
	char *name = xasprintf("int '%s'", s);

	ok(conf_parse_int(s, &v, &err) == 0 && v == want, name);
	if (err != NULL)
		diag("error: %s", err);
	free(name);
}

static void
int_bad(const char *s, const char *msg)
{
	long long v = 0;
	const char *err = NULL;
	char *name = xasprintf("int '%s' refused", s);

	ok(conf_parse_int(s, &v, &err) < 0, name);
	is_str(err, msg, name);
	free(name);
}

static void
test_parse_int(void)
{
	int_ok("0", 0);
	int_ok("42", 42);
	int_ok("-5", -5);
	int_ok("+7", 7);
	int_ok("007", 7);
	int_ok("9223372036854775807", LLONG_MAX);
	int_ok("-9223372036854775808", LLONG_MIN);
	int_bad("9223372036854775808", "number too large");
	int_bad("-9223372036854775809", "number too large");
	int_bad("99999999999999999999999", "number too large");
	int_bad("", "not a number");
	int_bad("+", "not a number");
	int_bad("--1", "not a number");
	int_bad("12a", "not a number");
	int_bad(" 1", "not a number");
	int_bad("1.5", "not a number");
	int_bad("0x10", "not a number");
}

static void
size_ok(const char *s, unsigned long long want)
{
	unsigned long long v = 0;
	const char *err = NULL;
	char *name = xasprintf("size '%s'", s);

	ok(conf_parse_size(s, &v, &err) == 0 && v == want, name);
	if (err != NULL)
		diag("error: %s", err);
	free(name);
}

static void
size_bad(const char *s, const char *msg)
{
	unsigned long long v = 0;
	const char *err = NULL;
	char *name = xasprintf("size '%s' refused", s);

	ok(conf_parse_size(s, &v, &err) < 0, name);
	is_str(err, msg, name);
	free(name);
}

static void
test_parse_size(void)
{
	size_ok("0", 0);
	size_ok("512", 512);
	size_ok("512b", 512);
	size_ok("4k", 4096);
	size_ok("4K", 4096);
	size_ok("4kb", 4096);
	size_ok("4KB", 4096);
	size_ok("4kB", 4096);
	size_ok("10m", 10ULL << 20);
	size_ok("1g", 1ULL << 30);
	size_ok("1Gb", 1ULL << 30);
	size_ok("18446744073709551615", ULLONG_MAX);
	size_ok("17179869183g", 17179869183ULL << 30);
	size_bad("17179869184g", "number too large");
	size_bad("18446744073709551616", "number too large");
	size_bad("-1k", "negative values are not allowed");
	size_bad("", "empty value");
	size_bad("k", "not a number");
	size_bad("1t", "unknown unit");
	size_bad("1.5g", "unknown unit");
	size_bad("4 k", "unknown unit");
	size_bad("4kbb", "unknown unit");
	size_bad("4\xc3\xa9", "unknown unit");
}

static void
time_ok(const char *s, long long want)
{
	long long v = 0;
	const char *err = NULL;
	char *name = xasprintf("time '%s'", s);

	ok(conf_parse_time_ms(s, &v, &err) == 0 && v == want, name);
	if (err != NULL)
		diag("error: %s", err);
	free(name);
}

static void
time_bad(const char *s, const char *msg)
{
	long long v = 0;
	const char *err = NULL;
	char *name = xasprintf("time '%s' refused", s);

	ok(conf_parse_time_ms(s, &v, &err) < 0, name);
	is_str(err, msg, name);
	free(name);
}

static void
test_parse_time(void)
{
	time_ok("0", 0);
	time_ok("10", 10000);
	time_ok("500ms", 500);
	time_ok("30s", 30000);
	time_ok("5m", 300000);
	time_ok("2h", 7200000);
	time_ok("7d", 604800000);
	time_ok("30S", 30000);
	time_ok("9223372036854775807ms", LLONG_MAX);
	time_ok("106751991167d", 106751991167LL * 86400000);
	time_bad("106751991168d", "number too large");
	time_bad("9223372036854775807s", "number too large");
	time_bad("9223372036854775808ms", "number too large");
	time_bad("-1s", "negative values are not allowed");
	time_bad("", "empty value");
	time_bad("s", "not a number");
	time_bad("10x", "unknown unit");
	time_bad("1 s", "unknown unit");
	time_bad("1.5h", "unknown unit");
	time_bad("1w", "unknown unit");
}

static void
test_parse_bool_enum(void)
{
	static const char *const yes[] = { "yes", "YES", "true", "On", "1" };
	static const char *const no[] = { "no", "No", "false", "OFF", "0" };
	static const char *const junk[] = { "", "maybe", "yes ", "2", "y" };
	const char *err = NULL, *word = NULL;
	bool v, all = true;
	size_t i, len = 0;

	for (i = 0; i < 5; i++) {
		all &= conf_parse_bool(yes[i], &v, &err) == 0 && v;
		all &= conf_parse_bool(no[i], &v, &err) == 0 && !v;
		all &= conf_parse_bool(junk[i], &v, &err) < 0;
	}
	ok(all, "booleans");
	ok(conf_parse_enum("NORMAL", "none|exceptions|normal|detailed",
	    &word, &len, &err) == 0 && len == 6 &&
	    strncmp(word, "normal", 6) == 0, "enum canonical spelling");
	ok(conf_parse_enum("detailed", "none|exceptions|normal|detailed",
	    &word, &len, &err) == 0 && len == 8, "enum last word");
	ok(conf_parse_enum("norm", "none|normal", &word, &len, &err) < 0,
	    "enum prefix refused");
	ok(conf_parse_enum("", "a||b", &word, &len, &err) < 0,
	    "enum empty refused");
	ok(conf_parse_enum("a|b", "a|b", &word, &len, &err) < 0,
	    "enum '|' refused");
}

static void
test_split_list(void)
{
	size_t n = 99;
	char **l = conf_split_list(" a, b  c,,\td ,", &n);

	ok(n == 4 && strcmp(l[0], "a") == 0 && strcmp(l[1], "b") == 0 &&
	    strcmp(l[2], "c") == 0 && strcmp(l[3], "d") == 0 && l[4] == NULL,
	    "list split on commas and blanks");
	conf_list_free(&l);
	ok(l == NULL, "list freed and cleared");
	l = conf_split_list(" , ,\t", &n);
	ok(n == 0 && l[0] == NULL, "list of separators is empty");
	conf_list_free(&l);
	l = conf_split_list("", NULL);
	ok(l[0] == NULL, "empty list");
	conf_list_free(&l);
}

/* ---- the table and defaults ---- */

static void
test_table(void)
{
	bool uniq = true, shape = true;
	size_t i, j;

	for (i = 0; i < conf_table_len; i++) {
		const struct conf_key *k = &conf_table[i];
		bool num = k->type == CONF_INT || k->type == CONF_SIZE ||
		    k->type == CONF_TIME;

		for (j = i + 1; j < conf_table_len; j++)
			uniq &= strcmp(k->name, conf_table[j].name) != 0;
		shape &= k->name[0] != '\0' && k->def != NULL &&
		    k->doc != NULL && k->doc[0] != '\0' &&
		    strspn(k->name, "abcdefghijklmnopqrstuvwxyz0123456789_") ==
		    strlen(k->name) &&
		    (k->type == CONF_ENUM) == (k->choices != NULL) &&
		    (num || (k->min == NULL && k->max == NULL));
		if (conf_key_find(k->name) != k)
			shape = false;
	}
	ok(conf_table_len > 0, "table not empty");
	ok(uniq, "key names unique");
	ok(shape, "every entry well formed");
	ok(conf_key_find("no_such_key") == NULL, "unknown key not found");
}

static void
test_defaults(void)
{
	char *err = NULL;

	/* conf_load_defaults() parses every default and range: a bad one
	 * is a BUG() and this test dies here. */
	conf_load_defaults();
	is_str(conf_dir(), ".", "defaults: conf_dir is .");
	is_str(conf_str("state_dir"), "state", "state_dir default");
	is_str(conf_str("tls_cert_file"), "", "empty path stays empty");
	is_str(conf_str("mail_user"), "tern", "mail_user default");
	is_str(conf_str("log_level_delivery"), "detailed",
	    "delivery logs detailed");
	is_str(conf_str("log_level_imap"), "exceptions",
	    "imap logs exceptions");
	is_int(conf_time_ms("master_drain_timeout"), 30000,
	    "drain timeout 30s");
	is_int(conf_size("ipc_max_frame"), 1024 * 1024, "ipc frame 1m");
	is_int(conf_int("tls_session_cache_size"), 20480, "tls cache size");
	ok(!conf_bool("log_syslog"), "syslog off");
	is_str(conf_text("ipc_max_frame"), "1m", "text form kept");
	is_str(conf_str("tls_min_protocol"), "TLSv1.2", "tls min protocol");
#ifdef TERN_LIBEXEC_DIR
	is_str(conf_str("libexec_dir"), TERN_LIBEXEC_DIR,
	    "libexec_dir from the build");
#endif
	ok(conf_set("log_syslog", "yes", &err) == 0 && err == NULL &&
	    conf_bool("log_syslog"), "conf_set");
	ok(conf_set("ipc_max_frame", "1k", &err) < 0, "conf_set range");
	is_str(err, "ipc_max_frame: 1k is below the minimum 4k",
	    "conf_set error has no position");
	free(err);
	is_int(conf_size("ipc_max_frame"), 1024 * 1024,
	    "failed conf_set keeps the value");
	ok(conf_set("log_sylog", "yes", &err) < 0, "conf_set unknown key");
	is_str(err, "unknown key 'log_sylog' (did you mean 'log_syslog'?)",
	    "did you mean");
	free(err);
}

/* Getters of the wrong type and unknown keys are bugs: they abort. */
static void
test_fatal(void)
{
	static const char *const what[] = {
		"conf_int on a string key", "conf_str on an unknown key",
		"conf_list on a size key",
	};
	int i, st;
	pid_t pid;

	for (i = 0; i < 3; i++) {
		pid = fork();
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);

			dup2(fd, 2);
			if (i == 0)
				(void)conf_int("hostname");
			else if (i == 1)
				(void)conf_str("no_such_key");
			else
				(void)conf_list("ipc_max_frame", NULL);
			_exit(0);
		}
		ok(pid > 0 && waitpid(pid, &st, 0) == pid &&
		    WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, what[i]);
	}
}

/* ---- loading ---- */

static int
load(const char *text, char **err_r)
{
	write_file(text, strlen(text));
	*err_r = NULL;
	return conf_load(path, err_r);
}

/* The settings good_file() puts in force; failed loads must keep them. */
static void
still_good(const char *name)
{
	char *n = xasprintf("old config kept after: %s", name);

	ok(conf_bool("log_syslog") && strcmp(conf_str("hostname"),
	    "mail.example.org") == 0 &&
	    conf_time_ms("master_drain_timeout") == 90000, n);
	free(n);
}

static void
good_file(void)
{
	char *err, *want, real[PATH_MAX];

	ok(load("# Tern\n"
	    "log_syslog = yes\n"
	    "hostname = mail.example.org\n"
	    "master_drain_timeout = 90s\n"
	    "state_dir = var/state\n"
	    "spool_dir = /abs/spool\n"
	    "log_dir = ./log\n"
	    "tls_ciphers = ECDHE+AESGCM:\n"
	    "    ECDHE+CHACHA20\n"
	    "log_level_smtp = Detailed\n"
	    "ipc_max_frame = 8MB\n"
	    "tls_session_cache_size = 0\n"
	    "tls_min_protocol = tlsv1.3\n", &err) == 0, "valid file loads");
	if (err != NULL)
		diag("error: %s", err);
	ok(realpath(etc, real) != NULL, "realpath of the test dir");
	is_str(conf_dir(), real, "conf_dir is absolute");
	want = xasprintf("%s/var/state", real);
	is_str(conf_str("state_dir"), want, "relative path resolved");
	free(want);
	is_str(conf_text("state_dir"), "var/state", "path text as written");
	is_str(conf_str("spool_dir"), "/abs/spool", "absolute path kept");
	want = xasprintf("%s/log", real);
	is_str(conf_str("log_dir"), want, "./ path resolved");
	free(want);
	is_str(conf_str("tls_cert_file"), "", "empty default path not resolved");
	is_str(conf_str("tls_ciphers"), "ECDHE+AESGCM: ECDHE+CHACHA20",
	    "continuation joined");
	is_str(conf_str("log_level_smtp"), "detailed", "enum canonical");
	is_str(conf_text("log_level_smtp"), "Detailed", "enum text as written");
	is_str(conf_str("tls_min_protocol"), "TLSv1.3", "tls protocol");
	is_int(conf_size("ipc_max_frame"), 8 << 20, "size with unit");
	is_int(conf_int("tls_session_cache_size"), 0, "int at minimum");
	still_good("nothing");
}

static void
bad_file(const char *text, const char *msg, const char *name)
{
	char *err, *want = xasprintf("%s:%s", path, msg);

	ok(load(text, &err) < 0, name);
	is_str(err, want, name);
	still_good(name);
	free(err);
	free(want);
}

static void
test_bad_files(void)
{
	bad_file("foo = 1\n", "1: unknown key 'foo'", "unknown key");
	bad_file("# x\nlog_levl_smtp = normal\n", "2: unknown key "
	    "'log_levl_smtp' (did you mean 'log_level_smtp'?)",
	    "unknown key with a suggestion");
	bad_file("tls_session_cache_size = 12x\n", "1: tls_session_cache_size: "
	    "invalid value '12x': not a number", "bad int");
	bad_file("tls_session_cache_size = 10000001\n", "1: "
	    "tls_session_cache_size: 10000001 is above the maximum 10000000",
	    "int above range");
	bad_file("ipc_max_frame = 1k\n", "1: ipc_max_frame: 1k is below the "
	    "minimum 4k", "size below range");
	bad_file("ipc_max_frame = 1t\n", "1: ipc_max_frame: invalid value "
	    "'1t': unknown unit", "bad size unit");
	bad_file("master_control_timeout = 6m\n", "1: master_control_timeout: "
	    "6m is above the maximum 5m", "time above range");
	bad_file("master_drain_timeout = 30x\n", "1: master_drain_timeout: "
	    "invalid value '30x': unknown unit", "bad time");
	bad_file("log_syslog = maybe\n", "1: log_syslog: invalid value "
	    "'maybe': expected yes/no, true/false, on/off or 1/0", "bad bool");
	bad_file("log_level_smtp = loud\n", "1: log_level_smtp: invalid value "
	    "'loud': expected one of none|exceptions|normal|detailed",
	    "bad enum");
	bad_file("log_syslog = yes\n# c\nlog_syslog = no\n", "3: duplicate "
	    "key 'log_syslog' (first set on line 1)", "duplicate key");
	bad_file("log_syslog yes\n", "1: expected key = value", "missing '='");
	bad_file("[main]\nlog_syslog = yes\n", "1: sections are not allowed "
	    "in this file", "section not allowed");
	bad_file("  log_syslog = yes\n", "1: continuation line without a key",
	    "continuation at the start");
	bad_file("hostname = new.example\nmaster_drain_timeout = 1ms\n",
	    "2: master_drain_timeout: 1ms is below the minimum 1s",
	    "error after good lines");
	bad_file("log_syslog = no\r\nhostname = x\ry\r\n", "2: bare CR",
	    "bare CR");
}

static void
test_bad_bytes(void)
{
	static const char nul[] = "hostname = a\0b\n";
	char *s, *err, *want;
	size_t big = 1024 * 1024 + 1;

	write_file(nul, sizeof(nul) - 1);
	ok(conf_load(path, &err) < 0, "NUL byte");
	want = xasprintf("%s:1: NUL byte", path);
	is_str(err, want, "NUL byte message");
	still_good("NUL byte");
	free(err);
	free(want);

	s = xmalloc(big + 1);
	memset(s, 'x', big);
	memcpy(s, "hostname = ", 11);
	s[9000] = '\0';
	bad_file(s, "1: line too long (over 8192 bytes)", "over-long line");
	memset(s, '#', big);
	s[big] = '\0';
	ok(load(s, &err) < 0 && strstr(err, "file too large") != NULL,
	    "file too large");
	still_good("file too large");
	free(err);
	free(s);

	err = NULL;
	want = xasprintf("%s/missing.conf", etc);
	ok(conf_load(want, &err) < 0 && err != NULL &&
	    strstr(err, "No such file") != NULL, "missing file");
	still_good("missing file");
	free(err);
	free(want);
	ok(conf_load("/nonexistent-dir/x/tern.conf", &err) < 0 &&
	    strstr(err, "cannot find its directory") != NULL,
	    "missing directory");
	free(err);
}

static void
test_reload(void)
{
	char *err, *want;

	ok(load("hostname = x\r\nlog_level_pop = none\r\n", &err) == 0,
	    "CRLF file loads");
	is_str(conf_str("log_level_pop"), "none", "CRLF value");
	ok(!conf_bool("log_syslog"), "keys not in the new file are defaults");
	ok(load("", &err) == 0, "empty file loads");
	want = xasprintf("%s/state", conf_dir());
	is_str(conf_str("state_dir"), want, "default path resolved too");
	free(want);
	is_str(conf_str("hostname"), "", "empty default");
	/* The file named through "..": conf_dir() is still canonical. */
	want = xasprintf("%s/../etc/tern.conf", etc);
	ok(conf_load(want, &err) == 0 && strstr(conf_dir(), "..") == NULL,
	    "conf_dir canonical");
	free(want);
	ok(load("log_syslog = on\n", &err) == 0 &&
	    conf_set("state_dir", "s2", &err) == 0, "conf_set after load");
	want = xasprintf("%s/s2", conf_dir());
	is_str(conf_str("state_dir"), want, "conf_set resolves paths");
	free(want);
}

/* ---- the man page against the table ---- */

struct man_entry {
	char *name;
	char *def;	/* NULL until a "Default: " line is seen */
};

/* Keys whose built-in default is set at build time (PREFIX): the page
 * shows the value for the default prefix. */
static bool
man_build_time(const char *name)
{
	return strcmp(name, "libexec_dir") == 0;
}

static struct man_entry *
man_read(const char *file, size_t *n_r)
{
	struct man_entry *e = NULL;
	size_t n = 0, cap = 0, len;
	char line[1024];
	FILE *fp = fopen(file, "r");

	*n_r = 0;
	if (fp == NULL)
		return NULL;
	/* Bounded by the file's length. */
	while (fgets(line, sizeof(line), fp) != NULL) {
		len = strcspn(line, "\n");
		line[len] = '\0';
		if (strncmp(line, ".It Cm ", 7) == 0) {
			if (n == cap) {
				cap = cap ? cap * 2 : 64;
				e = xrealloc(e, cap * sizeof(*e));
			}
			e[n].name = xstrndup(line + 7, strcspn(line + 7, " "));
			e[n++].def = NULL;
		} else if (strncmp(line, "Default: ", 9) == 0 && n > 0 &&
		    e[n - 1].def == NULL) {
			e[n - 1].def = xstrdup(line + 9);
		}
	}
	fclose(fp);
	*n_r = n;
	return e;
}

static const struct man_entry *
man_find(const struct man_entry *e, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(e[i].name, name) == 0)
			return &e[i];
	return NULL;
}

static void
test_man(void)
{
	const char *src = getenv("TERN_SRC");
	char *file = xasprintf("%s/man/tern.conf.5", src ? src : ".");
	struct man_entry *e;
	const struct man_entry *m;
	size_t n, i;

	e = man_read(file, &n);
	ok(e != NULL, "man/tern.conf.5 readable (run from the repo root or "
	    "set TERN_SRC)");
	for (i = 0; i < conf_table_len; i++) {
		const struct conf_key *k = &conf_table[i];
		const char *want = k->def[0] != '\0' ? k->def : "(empty)";
		char *name = xasprintf("man: %s documented, Default: %s",
		    k->name, want);

		m = man_find(e, n, k->name);
		if (m != NULL && man_build_time(k->name))
			ok(m->def != NULL, name);
		else
			is_str(m != NULL ? m->def : NULL, want, name);
		free(name);
	}
	for (i = 0; i < n; i++) {
		char *name = xasprintf("man: %s is in the table and documented "
		    "once", e[i].name);

		ok(conf_key_find(e[i].name) != NULL &&
		    man_find(e, i, e[i].name) == NULL, name);
		free(name);
	}
	for (i = 0; i < n; i++) {
		free(e[i].name);
		free(e[i].def);
	}
	free(e);
	free(file);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		die("mkdtemp failed");
	etc = xasprintf("%s/etc", tmpdir);
	path = xasprintf("%s/tern.conf", etc);
	if (mkdir(etc, 0700) < 0)
		die("mkdir %s failed", etc);

	test_parse_int();
	test_parse_size();
	test_parse_time();
	test_parse_bool_enum();
	test_split_list();
	test_table();
	test_defaults();
	test_fatal();
	good_file();
	test_bad_files();
	test_bad_bytes();
	test_reload();
	test_man();

	conf_unload();
	unlink(path);
	rmdir(etc);
	rmdir(tmpdir);
	free(path);
	free(etc);
	return done_testing();
}
