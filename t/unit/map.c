/* Unit tests for lib/map: CDB maps, atomic rebuilds, reopen. */
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "map.h"
#include "tap.h"
#include "xalloc.h"

#define NKEYS 10000
#define NGEN 50         /* rebuilds done by the child in the race test */
#define RACE_KEYS 100

static char tmpdir[] = "/tmp/tern-map-XXXXXX";

static char *
tpath(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void
write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ASSERT(fd >= 0);
	ASSERT(write(fd, data, len) == (ssize_t)len);
	close(fd);
}

static char *
read_file(const char *path, size_t *len_r)
{
	struct stat st;
	char *data;
	int fd = open(path, O_RDONLY);

	ASSERT(fd >= 0 && fstat(fd, &st) == 0);
	data = xmalloc((size_t)st.st_size + 1);
	ASSERT(read(fd, data, (size_t)st.st_size) == st.st_size);
	close(fd);
	*len_r = (size_t)st.st_size;
	return data;
}

/* Record i of the big map: half e-mail-like text, half binary with NULs. */
static void
rec_make(int i, char *key, size_t *klen, char *val, size_t *vlen)
{
	int j;

	if (i < NKEYS / 2) {
		*klen = (size_t)sprintf(key, "user%d@example.com", i);
		*vlen = (size_t)sprintf(val, "/var/mail/example.com/u%d", i);
		return;
	}
	key[0] = '\0';
	key[1] = (char)(i >> 8);
	key[2] = '\0';
	key[3] = (char)i;
	key[4] = 'b';
	*klen = 5;
	*vlen = i % 3 == 0 ? 0 : (size_t)(i % 50);
	for (j = 0; j < (int)*vlen; j++)
		val[j] = (char)(j % 4 == 0 ? 0 : i + j);
}

static void
test_round_trip(void)
{
	char *path = tpath("big.cdb");
	char key[64], val[64];
	const void *got;
	size_t klen, vlen, glen;
	struct map_writer *w;
	struct map *m;
	const char *err = NULL;
	int i, bad = 0, r;

	w = map_writer_new(path, &err);
	ok(w != NULL, "writer created");
	for (i = 0; i < NKEYS; i++) {
		rec_make(i, key, &klen, val, &vlen);
		bad += map_writer_add(w, key, klen, val, vlen) != 0;
	}
	is_int(bad, 0, "10k records added, no duplicate reported");
	is_int(map_writer_add(w, "user7@example.com", 17, "x", 1), 1,
	    "duplicate key reported as 1");
	is_int(map_writer_add(w, "", 0, "empty-key", 9), 0, "empty key added");
	is_int(map_writer_commit(&w, &err), 0, "commit");
	ok(w == NULL, "commit freed the writer");

	m = map_open(path, &err);
	ok(m != NULL, "map opens");
	if (m == NULL)
		BUG("cannot continue: %s", err);
	is_str(map_path(m), path, "map_path");
	for (i = 0, bad = 0; i < NKEYS; i++) {
		rec_make(i, key, &klen, val, &vlen);
		r = map_lookup(m, key, klen, &got, &glen);
		if (r != 1 || glen != vlen || memcmp(got, val, vlen) != 0)
			bad++;
	}
	is_int(bad, 0, "every record reads back, binary and empty values too");
	r = map_lookup(m, "user7@example.com", 17, &got, &glen);
	ok(r == 1 && glen == 24 && memcmp(got, "/var/mail/", 10) == 0,
	    "duplicate did not replace the first value");
	r = map_lookup(m, "", 0, &got, &glen);
	ok(r == 1 && glen == 9 && memcmp(got, "empty-key", 9) == 0,
	    "empty key found");
	is_int(map_lookup(m, "nobody@example.com", 18, &got, &glen), 0,
	    "missing key: 0");
	is_int(map_lookup(m, "user7@example.com\0", 18, &got, &glen), 0,
	    "key with an extra NUL is another key");
	is_int(map_lookup(m, "user7@example.co", 16, &got, &glen), 0,
	    "prefix of a key is not found");
	is_int(map_lookup(m, "k", (size_t)UINT_MAX + 1, &got, &glen), 0,
	    "over-long key length: not found, not read");
	map_free(&m);
	ok(m == NULL, "map_free clears the pointer");
	map_free(&m);
	unlink(path);
	free(path);
}

static void
test_strings(void)
{
	char *path = tpath("str.cdb");
	struct map_writer *w;
	struct map *m;
	const char *err = NULL, *s = NULL;

	w = map_writer_new(path, &err);
	ASSERT(w != NULL);
	is_int(map_writer_add_str(w, "alias", "user@example.com"), 0,
	    "add_str");
	is_int(map_writer_add_str(w, "empty", ""), 0, "add_str empty value");
	map_writer_add(w, "raw", 3, "abc", 3);
	map_writer_add(w, "nul", 3, "a\0b\0", 4);
	map_writer_add(w, "zero", 4, "", 0);
	is_int(map_writer_commit(&w, &err), 0, "commit string map");
	m = map_open(path, &err);
	ASSERT(m != NULL);
	is_int(map_lookup_str(m, "alias", &s), 1, "lookup_str found");
	is_str(s, "user@example.com", "lookup_str value");
	is_int(map_lookup_str(m, "empty", &s), 1, "lookup_str empty found");
	is_str(s, "", "empty string value");
	is_int(map_lookup_str(m, "raw", &s), -1, "value without NUL refused");
	is_int(map_lookup_str(m, "nul", &s), -1, "value with inner NUL refused");
	is_int(map_lookup_str(m, "zero", &s), -1, "zero-length value refused");
	is_int(map_lookup_str(m, "none", &s), 0, "lookup_str missing");
	map_free(&m);
	unlink(path);
	free(path);
}

/* Each corrupt variant of a good file must fail map_open, not crash. */
static void
test_corrupt(void)
{
	char *good = tpath("good.cdb"), *bad = tpath("bad.cdb");
	char junk[4096];
	struct map_writer *w;
	struct map *m;
	const char *err = NULL;
	char *data;
	size_t len;
	int i;

	m = map_open(good, &err);
	ok(m == NULL && err != NULL && strstr(err, "cannot open") != NULL,
	    "missing file: error");
	w = map_writer_new(good, &err);
	ASSERT(w != NULL);
	for (i = 0; i < 100; i++)
		map_writer_add(w, &i, sizeof(i), "value", 5);
	ASSERT(map_writer_commit(&w, &err) == 0);
	data = read_file(good, &len);

	write_file(bad, "", 0);
	ok(map_open(bad, &err) == NULL, "empty file refused");
	write_file(bad, data, 100);
	ok(map_open(bad, &err) == NULL, "file shorter than the toc refused");
	write_file(bad, data, 2048);
	ok(map_open(bad, &err) == NULL, "toc only (truncated) refused");
	write_file(bad, data, len / 2);
	ok(map_open(bad, &err) == NULL && strstr(err, "corrupt") != NULL,
	    "file truncated in half refused as corrupt");
	write_file(bad, data, len - 1);
	ok(map_open(bad, &err) == NULL, "file missing its last byte refused");
	data = xrealloc(data, len + 1);
	data[len] = 'x';
	write_file(bad, data, len + 1);
	ok(map_open(bad, &err) == NULL, "trailing junk refused");
	memset(junk, 0xff, sizeof(junk));
	write_file(bad, junk, sizeof(junk));
	ok(map_open(bad, &err) == NULL, "all-0xff file refused");
	for (i = 0; i < (int)sizeof(junk); i++)
		junk[i] = (char)(i * 7919 >> 3);
	write_file(bad, junk, sizeof(junk));
	ok(map_open(bad, &err) == NULL, "noise refused");
	ok(map_open(tmpdir, &err) == NULL &&
	    strstr(err, "not a regular file") != NULL, "directory refused");
	free(data);
	unlink(good);
	unlink(bad);
	free(good);
	free(bad);
}

/* Write generation gen of the race map: "gen" -> gen, k<i> -> gen:i. */
static int
build_gen(const char *path, int gen, int nkeys)
{
	char k[32], v[32];
	const char *err;
	struct map_writer *w = map_writer_new(path, &err);
	int i;

	if (w == NULL)
		return -1;
	snprintf(v, sizeof(v), "%d", gen);
	map_writer_add_str(w, "gen", v);
	for (i = 0; i < nkeys; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		snprintf(v, sizeof(v), "%d:%d", gen, i);
		map_writer_add_str(w, k, v);
	}
	return map_writer_commit(&w, &err);
}

static void
test_empty_map(void)
{
	char *path = tpath("empty.cdb");
	struct map_writer *w;
	struct map *m;
	const char *err, *s;

	w = map_writer_new(path, &err);
	ASSERT(w != NULL);
	is_int(map_writer_commit(&w, &err), 0, "empty map committed");
	m = map_open(path, &err);
	ok(m != NULL, "empty map opens");
	if (m != NULL)
		is_int(map_lookup_str(m, "x", &s), 0, "nothing in an empty map");
	else
		ok(0, "nothing in an empty map");
	map_free(&m);
	unlink(path);
	free(path);
}

static void
test_reopen(void)
{
	char *path = tpath("re.cdb");
	struct map *m;
	const char *err = NULL, *old = NULL, *s = NULL;

	ASSERT(build_gen(path, 1, 10) == 0);
	m = map_open(path, &err);
	ASSERT(m != NULL);
	is_int(map_reopen_if_changed(m, &err), 0, "unchanged: 0");
	is_int(map_lookup_str(m, "k3", &old), 1, "old value found");
	ASSERT(build_gen(path, 2, 10) == 0);
	is_str(old, "1:3", "old value still valid after the rename");
	is_int(map_lookup_str(m, "k3", &s), 1, "lookup before reopen works");
	is_str(s, "1:3", "... and still sees the old map");
	is_int(map_reopen_if_changed(m, &err), 1, "replaced: 1");
	is_int(map_lookup_str(m, "k3", &s), 1, "lookup after reopen");
	is_str(s, "2:3", "new data seen");
	is_int(map_reopen_if_changed(m, &err), 0, "unchanged again: 0");

	unlink(path);
	err = NULL;
	is_int(map_reopen_if_changed(m, &err), -1, "path gone: -1");
	ok(err != NULL && strstr(err, "cannot stat") != NULL, "... with error");
	is_int(map_lookup_str(m, "k9", &s), 1, "old map still usable");
	is_str(s, "2:9", "... with its data");
	write_file(path, "garbage", 7);
	is_int(map_reopen_if_changed(m, &err), -1, "corrupt replacement: -1");
	is_int(map_lookup_str(m, "gen", &s), 1, "old map kept");
	is_str(s, "2", "... generation 2");
	map_free(&m);
	unlink(path);
	free(path);
}

static void
test_abort(void)
{
	char *path = tpath("ab.cdb");
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	struct map_writer *w, *w2;
	struct map *m;
	const char *err = NULL, *s = NULL;

	w = map_writer_new(path, &err);
	ASSERT(w != NULL);
	ok(access(tmp, F_OK) == 0, "temp file is <path>.tmp.<pid>");
	w2 = map_writer_new(path, &err);
	ok(w2 == NULL && strstr(err, "File exists") != NULL,
	    "second writer for the same path and pid refused");
	map_writer_add(w, "a", 1, "b", 1);
	map_writer_abort(&w);
	ok(w == NULL, "abort clears the pointer");
	ok(access(tmp, F_OK) < 0 && errno == ENOENT, "abort removed temp");
	ok(access(path, F_OK) < 0, "abort did not create the map");
	map_writer_abort(&w);

	ASSERT(build_gen(path, 7, 3) == 0);
	w = map_writer_new(path, &err);
	ASSERT(w != NULL);
	is_int(map_writer_add(w, "k", (size_t)UINT_MAX + 1, "v", 1), -1,
	    "key over 4 GiB: -1");
	is_int(map_writer_add(w, "k", 1, "v", 1), -1, "writer stays failed");
	err = NULL;
	is_int(map_writer_commit(&w, &err), -1, "commit of failed writer: -1");
	ok(err != NULL && strstr(err, "cannot add record") != NULL,
	    "... names the add failure");
	ok(w == NULL && access(tmp, F_OK) < 0, "... freed, temp removed");
	ok(map_writer_new("/nonexistent-dir/x.cdb", &err) == NULL,
	    "writer in a missing directory: NULL");

	m = map_open(path, &err);
	ok(m != NULL && map_lookup_str(m, "gen", &s) == 1 && strcmp(s, "7") == 0,
	    "old map untouched by the failed rebuild");
	map_free(&m);
	unlink(path);
	free(path);
	free(tmp);
}

/* One pass over the race map: 0 if consistent, -1 if not; *gen_r. */
static int
race_check(struct map *m, int *gen_r)
{
	char k[32], want[32];
	const char *s;
	int i, gen;

	if (map_lookup_str(m, "gen", &s) != 1)
		return -1;
	gen = atoi(s);
	for (i = 0; i < RACE_KEYS; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		snprintf(want, sizeof(want), "%d:%d", gen, i);
		if (map_lookup_str(m, k, &s) != 1 || strcmp(s, want) != 0)
			return -1;
	}
	*gen_r = gen;
	return 0;
}

static void
test_race(void)
{
	char *path = tpath("race.cdb");
	const char *err;
	struct map *m;
	int gen = 0, last = 0, seen = 0, torn = 0, errs = 0, iters, status;
	bool child_done = false;
	pid_t pid;

	ASSERT(build_gen(path, 0, RACE_KEYS) == 0);
	m = map_open(path, &err);
	ASSERT(m != NULL);
	fflush(stdout);
	pid = fork();
	ASSERT(pid >= 0);
	if (pid == 0) {
		for (int g = 1; g <= NGEN; g++)
			if (build_gen(path, g, RACE_KEYS) < 0)
				_exit(1);
		_exit(0);
	}
	/* Bounded: stop once the last generation is seen or the child is
	 * gone and one more pass has been made. */
	for (iters = 0; iters < 1000000; iters++) {
		if (map_reopen_if_changed(m, &err) < 0)
			errs++;
		if (race_check(m, &gen) < 0)
			torn++;
		else if (gen != last) {
			seen++;
			last = gen;
		}
		if (gen == NGEN || child_done)
			break;
		child_done = waitpid(pid, &status, WNOHANG) == pid;
	}
	if (!child_done)
		ASSERT(waitpid(pid, &status, 0) == pid);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "child rebuilt the map 50 times");
	is_int(torn, 0, "never saw a half-written or mixed map");
	is_int(errs, 0, "reopen never failed");
	map_reopen_if_changed(m, &err);
	ok(race_check(m, &gen) == 0 && gen == NGEN, "final generation seen");
	diag("%d passes, %d generation changes observed", iters + 1, seen);
	map_free(&m);
	unlink(path);
	free(path);
}

int
main(void)
{
	ASSERT(mkdtemp(tmpdir) != NULL);
	test_round_trip();
	test_strings();
	test_corrupt();
	test_empty_map();
	test_reopen();
	test_abort();
	test_race();
	rmdir(tmpdir);
	return done_testing();
}
