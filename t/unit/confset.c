/*
 * Unit test for lib/confset: sets of values over a key table of their
 * own, loaded over the defaults or over another set (defaults/domain.conf
 * then domain.conf), is_set and lines, canonical values, errors with
 * file:line, failed loads that change nothing, sets independent of each
 * other and of tern.conf; then domain_table and man/domain.conf.5 (and
 * man/tern.conf.5) checked against their tables, type, default and range.
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

#include "conf.h"
#include "confset.h"
#include "domain_keys.h"
#include "tap.h"
#include "xalloc.h"

/* A table of every type, unrelated to tern.conf. */
static const struct conf_key test_table[] = {
	{ "name", CONF_STR, "", NULL, NULL, NULL, "A string." },
	{ "folder", CONF_PATH, "data", NULL, NULL, NULL, "A path." },
	{ "other_folder", CONF_PATH, "", NULL, NULL, NULL, "An empty path." },
	{ "count", CONF_INT, "100", "-5", "1000", NULL, "An integer." },
	{ "quota", CONF_SIZE, "500m", "0", "1g", NULL, "A size." },
	{ "wait", CONF_TIME, "30s", "1s", "1h", NULL, "A time." },
	{ "enabled", CONF_BOOL, "yes", NULL, NULL, NULL, "A boolean." },
	{ "aliases", CONF_LIST, "", NULL, NULL, NULL, "A list." },
	{ "level", CONF_ENUM, "medium", NULL, NULL, "none|low|medium|high",
	  "A choice." },
};
#define TEST_LEN (sizeof(test_table) / sizeof(test_table[0]))

static char tmpdir[] = "/tmp/tern-confset-XXXXXX";
static char *real;	/* realpath of tmpdir */
static char *defs;	/* tmpdir/defaults/domain.conf */
static char *dom;	/* tmpdir/domains/example.org/domain.conf */

static void
write_file(const char *file, const char *text)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len || close(fd) < 0)
		die("cannot write %s", file);
}

static char *
canon(const struct confset *s, const char *key)
{
	static char *last;

	free(last);
	last = s != NULL ? confset_value_canon(s, key) : NULL;
	return last;
}

/* ---- defaults, getters, canonical values ---- */

static void
test_defaults(void)
{
	struct confset *s = confset_new(test_table, TEST_LEN);
	size_t n = 9;

	is_str(confset_dir(s), ".", "new set: dir is .");
	is_str(confset_str(s, "name"), "", "str default");
	is_str(confset_str(s, "folder"), "data", "path default unresolved");
	is_int(confset_int(s, "count"), 100, "int default");
	is_int(confset_size(s, "quota"), 500 << 20, "size default");
	is_int(confset_time_ms(s, "wait"), 30000, "time default");
	ok(confset_bool(s, "enabled"), "bool default");
	ok(confset_list(s, "aliases", &n)[0] == NULL && n == 0,
	    "list default empty");
	is_str(confset_str(s, "level"), "medium", "enum default");
	is_str(confset_text(s, "quota"), "500m", "text as written");
	ok(!confset_is_set(s, "count") && confset_set_line(s, "count") == 0,
	    "defaults are not set");
	ok(confset_key(s, "quota") == &test_table[4], "confset_key");
	ok(confset_key(s, "hostname") == NULL, "tern.conf key not in table");

	is_str(canon(s, "count"), "100", "canon int");
	is_str(canon(s, "quota"), "524288000", "canon size in bytes");
	is_str(canon(s, "wait"), "30000", "canon time in ms");
	is_str(canon(s, "enabled"), "1", "canon bool yes");
	is_str(canon(s, "aliases"), "", "canon empty list");
	is_str(canon(s, "level"), "medium", "canon enum");
	is_str(canon(s, "name"), "", "canon empty string");
	confset_free(&s);
	ok(s == NULL, "confset_free clears the pointer");
	confset_free(&s);
	ok(s == NULL, "confset_free(NULL) is fine");
}

static void
test_set(void)
{
	struct confset *s = confset_new(test_table, TEST_LEN);
	char *err = (char *)"x";

	ok(confset_set(s, "count", "-5", &err) == 0 && err == NULL,
	    "confset_set");
	is_int(confset_int(s, "count"), -5, "set value read back");
	is_str(canon(s, "count"), "-5", "canon negative int");
	ok(confset_is_set(s, "count") && confset_set_line(s, "count") == 0,
	    "confset_set: set, at line 0");
	ok(confset_set(s, "enabled", "off", &err) == 0 &&
	    strcmp(canon(s, "enabled"), "0") == 0, "canon bool no");
	ok(confset_set(s, "aliases", "a.example, b.example\tc.example",
	    &err) == 0, "set a list");
	is_str(canon(s, "aliases"), "a.example,b.example,c.example",
	    "canon list joined with commas");
	ok(confset_set(s, "level", "HIGH", &err) == 0, "set an enum");
	is_str(canon(s, "level"), "high", "canon enum spelling");
	is_str(confset_text(s, "level"), "HIGH", "enum text as written");
	ok(confset_set(s, "wait", "2m", &err) == 0 &&
	    strcmp(canon(s, "wait"), "120000") == 0, "canon time");
	ok(confset_set(s, "quota", "4k", &err) == 0 &&
	    strcmp(canon(s, "quota"), "4096") == 0, "canon size");

	ok(confset_set(s, "count", "1001", &err) < 0, "set out of range");
	is_str(err, "count: 1001 is above the maximum 1000",
	    "set error has no position");
	free(err);
	is_int(confset_int(s, "count"), -5, "failed set keeps the value");
	ok(confset_set(s, "cont", "1", &err) < 0, "set unknown key");
	is_str(err, "unknown key 'cont' (did you mean 'count'?)",
	    "did you mean, from the set's own table");
	free(err);
	ok(confset_set(s, "log_syslog", "yes", &err) < 0, "a tern.conf key "
	    "is unknown here");
	is_str(err, "unknown key 'log_syslog'", "no suggestion when far");
	free(err);
	confset_free(&s);
}

/* ---- loading over the defaults and over a base set ---- */

static void
test_load(void)
{
	struct confset *base = confset_new(test_table, TEST_LEN);
	struct confset *s = confset_new(test_table, TEST_LEN);
	char *err = NULL, *want, *ddir = xasprintf("%s/defaults", real),
	    *edir = xasprintf("%s/domains/example.org", real);

	write_file(defs, "# defaults for new domains\n"
	    "count = 7\n"
	    "folder = store\n"
	    "aliases = one.example,\n"
	    "  two.example\n"
	    "level = low\n");
	ok(confset_load(base, defs, NULL, false, &err) == 0, "load defaults");
	if (err != NULL)
		diag("error: %s", err);
	is_str(confset_dir(base), ddir, "dir is the file's, absolute");
	is_int(confset_int(base, "count"), 7, "value from the file");
	want = xasprintf("%s/store", ddir);
	is_str(confset_str(base, "folder"), want, "relative path resolved");
	free(want);
	is_str(canon(base, "aliases"), "one.example,two.example",
	    "continued list");
	ok(confset_is_set(base, "count") && confset_set_line(base, "count")
	    == 2, "is_set and line");
	ok(confset_is_set(base, "aliases") &&
	    confset_set_line(base, "aliases") == 4, "line of a continued key");
	ok(!confset_is_set(base, "quota") &&
	    confset_set_line(base, "quota") == 0, "key not in the file");

	write_file(dom, "count = 9\nquota = 2g\n");
	ok(confset_load(s, dom, base, false, &err) < 0, "range checked");
	want = xasprintf("%s:2: quota: 2g is above the maximum 1g", dom);
	is_str(err, want, "error names file:line");
	free(want);
	free(err);
	ok(!confset_is_set(s, "count") && confset_int(s, "count") == 100 &&
	    strcmp(confset_dir(s), ".") == 0, "failed load: set untouched");

	write_file(dom, "count = 9\nquota = 1g\nother_folder = ./x\n");
	ok(confset_load(s, dom, base, false, &err) == 0, "load over base");
	is_int(confset_int(s, "count"), 9, "file beats base");
	is_int(confset_size(s, "quota"), 1 << 30, "file beats default");
	is_str(confset_str(s, "level"), "low", "value inherited from base");
	is_str(canon(s, "aliases"), "one.example,two.example",
	    "list inherited from base");
	want = xasprintf("%s/store", ddir);
	is_str(confset_str(s, "folder"), want,
	    "inherited path keeps base's resolution");
	free(want);
	want = xasprintf("%s/x", edir);
	is_str(confset_str(s, "other_folder"), want, "own path resolved");
	free(want);
	is_str(confset_dir(s), edir, "dir is the domain's");
	ok(!confset_is_set(s, "level") && confset_is_set(s, "count") &&
	    confset_set_line(s, "other_folder") == 3,
	    "only the file's keys are set");
	is_int(confset_int(base, "count"), 7, "base unchanged");

	/* Load over the defaults: nothing of base is left. */
	ok(confset_load(s, dom, NULL, false, &err) == 0, "reload over "
	    "defaults");
	is_str(confset_str(s, "level"), "medium", "default again");
	want = xasprintf("%s/data", edir);
	is_str(confset_str(s, "folder"), want,
	    "relative default resolved against the file's dir");
	free(want);

	/* A set may be its own base: the file layers on what it has. */
	write_file(dom, "level = none\n");
	ok(confset_load(s, dom, s, false, &err) == 0 &&
	    confset_int(s, "count") == 9 &&
	    strcmp(confset_str(s, "level"), "none") == 0 &&
	    !confset_is_set(s, "count") && confset_is_set(s, "level"),
	    "set as its own base");
	free(ddir);
	free(edir);
	confset_free(&s);
	confset_free(&base);
}

static void
test_missing(void)
{
	struct confset *base = confset_new(test_table, TEST_LEN);
	struct confset *s = confset_new(test_table, TEST_LEN);
	char *err = NULL, *file = xasprintf("%s/defaults/none.conf", real),
	    *nodir = xasprintf("%s/no/such/dir/domain.conf", real),
	    *want;

	ok(confset_set(base, "count", "3", &err) == 0, "base count 3");
	ok(confset_set(s, "count", "1", &err) == 0, "set count 1");
	ok(confset_load(s, file, NULL, false, &err) < 0 && err != NULL &&
	    strstr(err, "No such file") != NULL, "missing file is an error");
	free(err);
	is_int(confset_int(s, "count"), 1, "... and changes nothing");
	ok(confset_load(s, nodir, NULL, false, &err) < 0 &&
	    strstr(err, "cannot find its directory") != NULL,
	    "missing directory is an error");
	free(err);
	is_int(confset_int(s, "count"), 1, "... and changes nothing");

	ok(confset_load(s, file, base, true, &err) == 0 && err == NULL,
	    "missing_ok: missing file");
	ok(confset_int(s, "count") == 3 && !confset_is_set(s, "count"),
	    "missing_ok: base's values, nothing set");
	want = xasprintf("%s/defaults", real);
	is_str(confset_dir(s), want, "missing_ok: dir still known");
	free(want);
	ok(confset_load(s, nodir, NULL, true, &err) == 0 &&
	    confset_int(s, "count") == 100 &&
	    strcmp(confset_dir(s), ".") == 0,
	    "missing_ok: missing directory gives the defaults");
	free(file);
	free(nodir);
	confset_free(&s);
	confset_free(&base);
}

/* Every way a file can be wrong: error text, and the set untouched. */
static void
bad_load(struct confset *s, const char *text, const char *msg,
    const char *name)
{
	char *err = NULL, *want = xasprintf("%s:%s", dom, msg);

	write_file(dom, text);
	ok(confset_load(s, dom, NULL, false, &err) < 0, name);
	is_str(err, want, name);
	ok(confset_int(s, "count") == 42 && confset_is_set(s, "count") &&
	    confset_set_line(s, "count") == 2 && !confset_is_set(s, "wait") &&
	    strcmp(confset_str(s, "level"), "high") == 0,
	    "set untouched after the failed load");
	free(err);
	free(want);
}

static void
test_errors(void)
{
	struct confset *s = confset_new(test_table, TEST_LEN);
	char *err = NULL;

	write_file(dom, "level = high\ncount = 42\n");
	ok(confset_load(s, dom, NULL, false, &err) == 0, "good file");
	bad_load(s, "levle = low\n", "1: unknown key 'levle' (did you mean "
	    "'level'?)", "unknown key, did you mean");
	bad_load(s, "hostname = x\n", "1: unknown key 'hostname'",
	    "tern.conf key refused");
	bad_load(s, "count = 1\n# c\ncount = 2\n", "3: duplicate key 'count' "
	    "(first set on line 1)", "duplicate key");
	bad_load(s, "count = ten\n", "1: count: invalid value 'ten': not a "
	    "number", "bad int");
	bad_load(s, "count = -6\n", "1: count: -6 is below the minimum -5",
	    "int below range");
	bad_load(s, "wait = 2h\n", "1: wait: 2h is above the maximum 1h",
	    "time above range");
	bad_load(s, "enabled = sure\n", "1: enabled: invalid value 'sure': "
	    "expected yes/no, true/false, on/off or 1/0", "bad bool");
	bad_load(s, "level = extreme\n", "1: level: invalid value 'extreme': "
	    "expected one of none|low|medium|high", "bad enum");
	bad_load(s, "name = a\nquota = 1t\n", "2: quota: invalid value '1t': "
	    "unknown unit", "error after a good line");
	bad_load(s, "[x]\n", "1: sections are not allowed in this file",
	    "no sections");
	confset_free(&s);
}

/* Sets are separate from each other and from the global tern.conf. */
static void
test_independent(void)
{
	struct confset *a = confset_new(test_table, TEST_LEN);
	struct confset *b = confset_new(test_table, TEST_LEN);
	struct confset *g = confset_new(conf_table, conf_table_len);
	char *err = NULL;

	conf_load_defaults();
	ok(conf_set("hostname", "global.example", &err) == 0, "global set");
	ok(confset_set(a, "name", "a", &err) == 0 &&
	    confset_set(b, "name", "b", &err) == 0, "two sets set");
	is_str(confset_str(a, "name"), "a", "set a keeps its value");
	is_str(confset_str(b, "name"), "b", "set b keeps its value");
	write_file(dom, "hostname = file.example\nlog_syslog = yes\n");
	ok(confset_load(g, dom, NULL, false, &err) == 0,
	    "a set over conf_table loads");
	is_str(confset_str(g, "hostname"), "file.example", "its own value");
	is_str(conf_str("hostname"), "global.example",
	    "global tern.conf untouched");
	ok(!conf_bool("log_syslog"), "global bool untouched");
	is_str(conf_dir(), ".", "global dir untouched");
	write_file(dom, "count = 5\n");
	ok(confset_load(a, dom, NULL, false, &err) == 0 &&
	    confset_int(a, "count") == 5 && confset_int(b, "count") == 100 &&
	    strcmp(confset_str(b, "name"), "b") == 0,
	    "loading one set leaves the other");
	confset_free(&a);
	ok(strcmp(confset_str(b, "name"), "b") == 0, "free one, other lives");
	confset_free(&b);
	confset_free(&g);
	is_str(conf_str("hostname"), "global.example", "global still there");
	conf_unload();
}

static void
test_fatal(void)
{
	static const char *const what[] = {
		"int getter on a string key", "getter on an unknown key",
		"list getter on a size key", "is_set on an unknown key",
		"canon on an unknown key", "base over another table",
	};
	size_t i;
	int st;
	pid_t pid;

	for (i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
		pid = fork();
		if (pid == 0) {
			struct confset *s = confset_new(test_table, TEST_LEN);
			struct confset *d = confset_new(domain_table,
			    domain_table_len);
			int fd = open("/dev/null", O_WRONLY);
			char *err;

			dup2(fd, 2);
			if (i == 0)
				(void)confset_int(s, "name");
			else if (i == 1)
				(void)confset_str(s, "max_users");
			else if (i == 2)
				(void)confset_list(s, "quota", NULL);
			else if (i == 3)
				(void)confset_is_set(s, "nope");
			else if (i == 4)
				(void)confset_value_canon(s, "nope");
			else
				(void)confset_load(s, dom, d, true, &err);
			_exit(0);
		}
		ok(pid > 0 && waitpid(pid, &st, 0) == pid &&
		    WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT, what[i]);
	}
}

/* ---- domain_table ---- */

static void
test_domain_table(void)
{
	struct confset *d;
	bool uniq = true, shape = true;
	size_t i, j;

	for (i = 0; i < domain_table_len; i++) {
		const struct conf_key *k = &domain_table[i];
		bool num = k->type == CONF_INT || k->type == CONF_SIZE ||
		    k->type == CONF_TIME;

		for (j = i + 1; j < domain_table_len; j++)
			uniq &= strcmp(k->name, domain_table[j].name) != 0;
		shape &= k->name[0] != '\0' && k->def != NULL &&
		    k->doc != NULL && k->doc[0] != '\0' &&
		    strspn(k->name, "abcdefghijklmnopqrstuvwxyz0123456789_") ==
		    strlen(k->name) &&
		    (k->type == CONF_ENUM) == (k->choices != NULL) &&
		    (num || (k->min == NULL && k->max == NULL));
	}
	ok(domain_table_len == 75, "75 domain keys");
	ok(uniq, "domain key names unique");
	ok(shape, "every domain entry well formed");

	/* Parses every default and bound: a bad one is a BUG() here. */
	d = confset_new(domain_table, domain_table_len);
	is_int(confset_size(d, "max_disk_space"), 500ULL << 20, "500 MB");
	is_int(confset_size(d, "max_message_size"), 10000 * 1024,
	    "10,000 KB");
	is_int(confset_int(d, "max_users"), 100, "100 users");
	is_int(confset_int(d, "max_domain_aliases"), 2, "2 domain aliases");
	is_int(confset_int(d, "max_user_aliases"), 1000, "1000 user aliases");
	is_int(confset_int(d, "max_lists"), 0, "lists unlimited");
	is_int(confset_int(d, "max_recipients"), 200, "200 recipients");
	is_int(confset_int(d, "priority_standard"), 5, "priority 5");
	is_int(confset_size(d, "oversize_threshold"), 2 << 20, "2 MB");
	is_int(confset_int(d, "throttle_messages_per_hour"), 5000, "5000/h");
	is_int(confset_size(d, "throttle_bandwidth_per_hour"), 100 << 20,
	    "100 MB/h");
	is_int(confset_int(d, "throttle_bounces_per_hour"), 1000,
	    "1000 bounces/h");
	is_int(confset_int(d, "smtp_port"), 25, "smtp 25");
	is_int(confset_int(d, "ldap_port"), 389, "ldap 389");
	ok(!confset_bool(d, "enable_catchalls"), "catch-alls off");
	is_str(confset_str(d, "autoresponder_exclusions"), "medium",
	    "autoresponder exclusions");
	is_str(canon(d, "event_user_added"), "1", "events on");
	is_str(canon(d, "max_disk_space"), "524288000", "canon 500m");
	confset_free(&d);
}

/* ---- man pages against their tables ---- */

struct man_entry {
	char *name;
	char *type, *def, *range;	/* NULL until seen */
};

static struct man_entry *
man_read(const char *file, size_t *n_r)
{
	struct man_entry *e = NULL, *cur;
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
			memset(&e[n], 0, sizeof(e[n]));
			e[n++].name = xstrndup(line + 7,
			    strcspn(line + 7, " "));
			continue;
		}
		if (n == 0)
			continue;
		cur = &e[n - 1];
		if (strncmp(line, "Type: ", 6) == 0 && cur->type == NULL)
			cur->type = xstrdup(line + 6);
		else if (strncmp(line, "Default: ", 9) == 0 &&
		    cur->def == NULL)
			cur->def = xstrdup(line + 9);
		else if (strncmp(line, "Range: ", 7) == 0 &&
		    cur->range == NULL)
			cur->range = xstrdup(line + 7);
	}
	fclose(fp);
	*n_r = n;
	return e;
}

static void
man_free(struct man_entry *e, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(e[i].name);
		free(e[i].type);
		free(e[i].def);
		free(e[i].range);
	}
	free(e);
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

/* "Type: ..." as the pages write it. */
static char *
man_type(const struct conf_key *k)
{
	static const char *const names[] = {
		[CONF_STR] = "string", [CONF_PATH] = "path",
		[CONF_INT] = "integer", [CONF_SIZE] = "size",
		[CONF_TIME] = "time", [CONF_BOOL] = "boolean",
		[CONF_LIST] = "list",
	};
	char *s, *p;

	if (k->type != CONF_ENUM)
		return xasprintf("%s.", names[k->type]);
	/* "choice: a, b, c." from "a|b|c" */
	s = xmalloc(strlen("choice: .") + 2 * strlen(k->choices) + 1);
	p = s + sprintf(s, "choice: ");
	for (const char *c = k->choices; *c != '\0'; c++) {
		if (*c == '|') {
			*p++ = ',';
			*p++ = ' ';
		} else {
			*p++ = *c;
		}
	}
	strcpy(p, ".");
	return s;
}

/* Check one key's entry; build_time: only that a default is shown. */
static void
man_check_key(const struct man_entry *m, const struct conf_key *k,
    const char *page, bool build_time)
{
	char *name = xasprintf("%s: %s documented", page, k->name);
	char *type = man_type(k), *range = NULL;

	if (!ok(m != NULL, name)) {
		free(name);
		free(type);
		return;
	}
	free(name);
	name = xasprintf("%s: %s Type: %s", page, k->name, type);
	is_str(m->type, type, name);
	free(name);
	name = xasprintf("%s: %s Default: %s", page, k->name,
	    *k->def ? k->def : "(empty)");
	if (build_time)
		ok(m->def != NULL, name);
	else
		is_str(m->def, *k->def ? k->def : "(empty)", name);
	free(name);
	if (k->min != NULL || k->max != NULL)
		range = xasprintf("%s to %s.", k->min ? k->min : "0",
		    k->max ? k->max : "unlimited");
	name = xasprintf("%s: %s Range: %s", page, k->name,
	    range ? range : "(none)");
	is_str(m->range, range, name);
	free(name);
	free(range);
	free(type);
}

static void
man_check(const char *page, const struct conf_key *table, size_t n)
{
	const char *src = getenv("TERN_SRC");
	char *file = xasprintf("%s/man/%s", src ? src : ".", page), *name;
	struct confset *s = confset_new(table, n);
	struct man_entry *e;
	size_t ne, i;

	e = man_read(file, &ne);
	name = xasprintf("man/%s readable (run from the repo root or set "
	    "TERN_SRC)", page);
	ok(e != NULL, name);
	free(name);
	for (i = 0; i < n; i++)
		man_check_key(man_find(e, ne, table[i].name), &table[i], page,
		    strcmp(table[i].name, "libexec_dir") == 0);
	for (i = 0; i < ne; i++) {
		name = xasprintf("%s: %s is in the table and documented once",
		    page, e[i].name);
		ok(confset_key(s, e[i].name) != NULL &&
		    man_find(e, i, e[i].name) == NULL, name);
		free(name);
	}
	man_free(e, ne);
	free(file);
	confset_free(&s);
}

int
main(void)
{
	char *d;

	if (mkdtemp(tmpdir) == NULL)
		die("mkdtemp failed");
	real = realpath(tmpdir, NULL);
	if (real == NULL)
		die("realpath %s failed", tmpdir);
	defs = xasprintf("%s/defaults/domain.conf", tmpdir);
	dom = xasprintf("%s/domains/example.org/domain.conf", tmpdir);
	d = xasprintf("%s/defaults", tmpdir);
	if (mkdir(d, 0700) < 0)
		die("mkdir %s failed", d);
	free(d);
	d = xasprintf("%s/domains", tmpdir);
	if (mkdir(d, 0700) < 0)
		die("mkdir %s failed", d);
	free(d);
	d = xasprintf("%s/domains/example.org", tmpdir);
	if (mkdir(d, 0700) < 0)
		die("mkdir %s failed", d);
	free(d);

	test_defaults();
	test_set();
	test_load();
	test_missing();
	test_errors();
	test_independent();
	test_fatal();
	test_domain_table();
	man_check("domain.conf.5", domain_table, domain_table_len);
	man_check("tern.conf.5", conf_table, conf_table_len);

	canon(NULL, NULL);
	unlink(defs);
	unlink(dom);
	d = xasprintf("%s/domains/example.org", tmpdir);
	rmdir(d);
	free(d);
	d = xasprintf("%s/domains", tmpdir);
	rmdir(d);
	free(d);
	d = xasprintf("%s/defaults", tmpdir);
	rmdir(d);
	free(d);
	rmdir(tmpdir);
	free(defs);
	free(dom);
	free(real);
	return done_testing();
}
