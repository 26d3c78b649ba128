/*
 * tap.h - the smallest TAP producer, for unit tests run by prove.
 *
 *	plan(3);
 *	ok(x == 1, "x is one");
 *	is_int(n, 5, "five items");
 *	is_str(s, "abc", "name kept");
 *	return done_testing();
 */
#ifndef TERN_TAP_H
#define TERN_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed, tap_planned = -1;

static inline void
plan(int n)
{
	tap_planned = n;
	printf("1..%d\n", n);
	fflush(stdout);
}

static inline int
tap_ok(int cond, const char *file, int line, const char *name)
{
	tap_n++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, name);
	if (!cond) {
		tap_failed++;
		printf("#   Failed test '%s'\n#   at %s line %d.\n", name, file,
		    line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, name) tap_ok(!!(cond), __FILE__, __LINE__, (name))

#define is_int(got, want, name) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	if (!tap_ok(g_ == w_, __FILE__, __LINE__, (name))) \
		printf("#          got: %lld\n#     expected: %lld\n", g_, w_); \
} while (0)

#define is_str(got, want, name) do { \
	const char *g_ = (got), *w_ = (want); \
	int eq_ = (g_ == NULL && w_ == NULL) || \
	    (g_ != NULL && w_ != NULL && strcmp(g_, w_) == 0); \
	if (!tap_ok(eq_, __FILE__, __LINE__, (name))) \
		printf("#          got: '%s'\n#     expected: '%s'\n", \
		    g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
} while (0)

#define diag(...) do { printf("# "); printf(__VA_ARGS__); printf("\n"); } while (0)

static inline int
done_testing(void)
{
	if (tap_planned < 0)
		printf("1..%d\n", tap_n);
	else if (tap_planned != tap_n)
		printf("# planned %d tests but ran %d\n", tap_planned, tap_n);
	return tap_failed != 0 || (tap_planned >= 0 && tap_planned != tap_n);
}

#endif
