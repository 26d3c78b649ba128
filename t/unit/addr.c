/*
 * addr unit test: the golden table t/data/addr.in -> addr.ref, then
 * properties over every golden case (no over-read, canonical forms are
 * fixed points, hostile bytes spliced anywhere are refused or survive
 * cleanly) and the small helpers.
 *
 * "addr.t --regen" prints a fresh addr.ref to stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "buf.h"
#include "tap.h"
#include "xalloc.h"

#define MAX_CASES 1000

struct gcase {
	char *text;             /* "flags\tinput" as written in addr.in */
	unsigned flags;
	bool dom;               /* test addr_domain_normalise() */
	struct buf *input;      /* decoded bytes */
};

static struct gcase cases[MAX_CASES];
static size_t ncases;

static const struct {
	const char *name;
	unsigned flag;
} flag_names[] = {
	{ "path", ADDR_PATH }, { "null", ADDR_ALLOW_NULL },
	{ "route", ADDR_ALLOW_ROUTE }, { "nobr", ADDR_NO_BRACKETS_OK },
	{ "utf8", ADDR_SMTPUTF8 }, { "pm", ADDR_ALLOW_POSTMASTER },
	{ "nolit", ADDR_NO_LITERAL },
};

static unsigned violations;    /* broken promises found by the sweeps */
static unsigned long sweeps;   /* inputs the sweeps tried */

/* ---- reading the golden files */

static FILE *
data_open(const char *name)
{
	const char *src = getenv("TERN_SRC");
	char *path;
	FILE *f = NULL;

	/* TERN_SRC may name the source root or the data directory. */
	if (src != NULL) {
		path = xasprintf("%s/t/data/%s", src, name);
		if ((f = fopen(path, "r")) == NULL) {
			xfree(&path);
			path = xasprintf("%s/%s", src, name);
			f = fopen(path, "r");
		}
		xfree(&path);
	}
	if (f == NULL) {
		path = xasprintf("t/data/%s", name);
		f = fopen(path, "r");
		xfree(&path);
	}
	if (f == NULL)
		die("cannot open %s: run from the source root or set TERN_SRC",
		    name);
	return f;
}

/* Next line without its newline, or NULL at EOF; *line_r is reused. */
static char *
line_read(FILE *f, char **line_r, size_t *size_r)
{
	ssize_t n = getline(line_r, size_r, f);

	if (n < 0)
		return NULL;
	if (n > 0 && (*line_r)[n - 1] == '\n')
		(*line_r)[n - 1] = '\0';
	return *line_r;
}

static bool
line_is_case(const char *line)
{
	return line[0] != '#' && line[0] != '\0';
}

static unsigned
flags_decode(const char *s, size_t len, bool *dom_r)
{
	unsigned flags = 0;
	size_t i, n;

	*dom_r = false;
	while (len > 0) {
		n = strcspn(s, ",");
		if (n > len)
			n = len;
		if (n == 3 && strncmp(s, "dom", 3) == 0)
			*dom_r = true;
		for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
			if (strlen(flag_names[i].name) == n &&
			    strncmp(s, flag_names[i].name, n) == 0)
				break;
		if (i < sizeof(flag_names) / sizeof(flag_names[0]))
			flags |= flag_names[i].flag;
		else if (!*dom_r && !(n == 1 && s[0] == '-'))
			die("addr.in: unknown flag %.*s", (int)n, s);
		s += n;
		len -= n;
		if (len > 0) {
			s++;
			len--;
		}
	}
	return flags;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* \xHH is a byte, \*Nc is N copies of the character c (UTF-8 allowed);
 * anything else is literal. */
static struct buf *
input_decode(const char *s)
{
	struct buf *b = buf_new(64);
	char *end;
	size_t k;
	long n;

	while (*s != '\0') {
		if (s[0] == '\\' && s[1] == 'x' && hexval(s[2]) >= 0 &&
		    hexval(s[3]) >= 0) {
			buf_putc(b, hexval(s[2]) * 16 + hexval(s[3]));
			s += 4;
		} else if (s[0] == '\\' && s[1] == '*') {
			n = strtol(s + 2, &end, 10);
			k = addr_utf8_len(end, strlen(end));
			if (n <= 0 || n > 1000 || k == 0)
				die("addr.in: bad repeat: %s", s);
			while (n-- > 0)
				buf_append(b, end, k);
			s = end + k;
		} else
			buf_putc(b, *s++);
	}
	return b;
}

static void
cases_load(void)
{
	FILE *f = data_open("addr.in");
	char *line = NULL, *tab;
	size_t size = 0;
	struct gcase *c;

	while (line_read(f, &line, &size) != NULL) {
		if (!line_is_case(line))
			continue;
		if ((tab = strchr(line, '\t')) == NULL || ncases == MAX_CASES)
			die("addr.in: bad line: %s", line);
		c = &cases[ncases++];
		c->text = xstrdup(line);
		c->flags = flags_decode(line, tab - line, &c->dom);
		c->input = input_decode(tab + 1);
	}
	free(line);
	fclose(f);
}

static void
cases_free(void)
{
	size_t i;

	for (i = 0; i < ncases; i++) {
		xfree(&cases[i].text);
		buf_free(&cases[i].input);
	}
}

/* ---- running one case */

static bool
is_zero(const struct addr *a)
{
	return a->local == NULL && a->domain == NULL && !a->null_path &&
	    !a->utf8;
}

/* What addr_parse() made of s[0..len), as one printable line. */
static char *
result_parse(const char *s, size_t len, unsigned flags)
{
	const char *error = NULL;
	struct addr a;
	char *fmt, *res;

	if (addr_parse(s, len, flags, &a, &error) < 0) {
		if (error == NULL || !is_zero(&a))
			violations++;
		return xasprintf("error: %s", error ? error : "(none)");
	}
	fmt = addr_format(&a);
	res = xasprintf("<%s>%s%s", fmt,
	    addr_has_relay_chars(&a) ? " [relay]" : "",
	    a.utf8 ? " [utf8]" : "");
	xfree(&fmt);
	addr_release(&a);
	return res;
}

static char *
result_domain(const char *s, size_t len)
{
	const char *error = NULL;
	char *out, *res;

	if (addr_domain_normalise(s, len, &out, &error) < 0) {
		if (error == NULL || out != NULL)
			violations++;
		return xasprintf("error: %s", error ? error : "(none)");
	}
	res = xstrdup(out);
	xfree(&out);
	return res;
}

/* Run a case from an exact-size heap copy, so ASan sees any over-read. */
static char *
case_run(const struct gcase *c, const char *data, size_t len)
{
	char *copy = xmalloc(len), *res;

	memcpy(copy, data, len);
	res = c->dom ? result_domain(copy, len) :
	    result_parse(copy, len, c->flags);
	xfree(&copy);
	return res;
}

static char *
case_result(const struct gcase *c)
{
	return case_run(c, buf_data(c->input), buf_len(c->input));
}

/* ---- the golden table */

static void
golden_regen(void)
{
	FILE *f = data_open("addr.in");
	char *line = NULL, *res;
	size_t size = 0, k = 0;

	while (line_read(f, &line, &size) != NULL) {
		if (!line_is_case(line)) {
			printf("%s\n", line);
			continue;
		}
		res = case_result(&cases[k++]);
		printf("%s\t%s\n", line, res);
		xfree(&res);
	}
	free(line);
	fclose(f);
}

static void
golden_check_one(const struct gcase *c, const char *want)
{
	char *res = case_result(c), *got;

	got = xasprintf("%s\t%s", c->text, res);
	if (!ok(want != NULL && strcmp(got, want) == 0, c->text)) {
		diag("     got: %s", got);
		diag("expected: %s", want ? want : "(missing from addr.ref)");
	}
	xfree(&got);
	xfree(&res);
}

static void
golden_check(void)
{
	FILE *f = data_open("addr.ref");
	char *line = NULL;
	size_t size = 0, k = 0;

	while (line_read(f, &line, &size) != NULL) {
		if (!line_is_case(line))
			continue;
		if (k < ncases)
			golden_check_one(&cases[k], line);
		k++;
	}
	while (k < ncases)
		golden_check_one(&cases[k++], NULL);
	is_int(k, ncases, "addr.ref has one line per case of addr.in");
	is_int(violations, 0, "every refusal sets error_r and leaves no result");
	free(line);
	fclose(f);
}

/* ---- properties over every case */

static bool
has_bad_bytes(const char *s, bool allow_8bit)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || (*p >= 0x80 && !allow_8bit))
			return true;
	return false;
}

/* Reading in with flags must give canon back. */
static void
sweep_fixed(const char *canon, const char *in, unsigned flags)
{
	const char *error;
	struct addr a;
	char *again;

	if (addr_parse(in, strlen(in), flags, &a, &error) < 0) {
		if (violations++ < 5)
			diag("canonical %s refused: %s", in, error);
		return;
	}
	again = addr_format(&a);
	if (strcmp(again, canon) != 0 && violations++ < 5)
		diag("not a fixed point: %s -> %s", in, again);
	xfree(&again);
	addr_release(&a);
}

static bool
sweep_domain(const char *s, size_t len)
{
	const char *error = NULL;
	char *out, *again;

	if (addr_domain_normalise(s, len, &out, &error) < 0) {
		if (error == NULL || out != NULL)
			violations++;
		return false;
	}
	if (has_bad_bytes(out, false) ||
	    addr_domain_normalise(out, strlen(out), &again, &error) < 0) {
		violations++;
		xfree(&out);
		return true;
	}
	if (strcmp(again, out) != 0)
		violations++;
	xfree(&again);
	xfree(&out);
	return true;
}

/*
 * Parse s[0..len) (from an exact-size copy) as c says.  On success the
 * canonical form must be clean and a fixed point, as a bare mailbox and
 * as a path.  Returns whether it parsed.
 */
static bool
sweep_one(const struct gcase *c, const char *s, size_t len)
{
	unsigned keep = ADDR_SMTPUTF8 | ADDR_ALLOW_POSTMASTER | ADDR_NO_LITERAL;
	char *copy = xmalloc(len), *canon, *path;
	const char *error = NULL;
	struct addr a;
	int rc;

	sweeps++;
	memcpy(copy, s, len);
	if (c->dom) {
		rc = sweep_domain(copy, len);
		xfree(&copy);
		return rc;
	}
	rc = addr_parse(copy, len, c->flags, &a, &error);
	xfree(&copy);
	if (rc < 0) {
		if (error == NULL || !is_zero(&a))
			violations++;
		return false;
	}
	canon = addr_format(&a);
	if (has_bad_bytes(canon, c->flags & ADDR_SMTPUTF8))
		violations++;
	if (!a.null_path) {
		sweep_fixed(canon, canon, c->flags & keep);
		path = xasprintf("<%s>", canon);
		sweep_fixed(canon, path, (c->flags & keep) | ADDR_PATH);
		xfree(&path);
	}
	xfree(&canon);
	addr_release(&a);
	return true;
}

/* s with the bytes ins[0..n) put in at pos (replacing one byte or not). */
static struct buf *
splice(const struct buf *in, size_t pos, const char *ins, size_t n,
    bool replace)
{
	struct buf *b = buf_new(buf_len(in) + n);
	size_t skip = replace && pos < buf_len(in) ? 1 : 0;

	buf_append(b, buf_data(in), pos);
	buf_append(b, ins, n);
	buf_append(b, buf_data(in) + pos + skip, buf_len(in) - pos - skip);
	return b;
}

/* Must ins spliced anywhere make every input fail? */
static bool
splice_must_fail(const struct gcase *c, const char *ins)
{
	unsigned char b = ins[0];

	if (b < 0x20 || b == 0x7f)
		return true;
	return b >= 0x80 && !c->dom && !(c->flags & ADDR_SMTPUTF8);
}

static void
sweep_splices(const struct gcase *c, const char *ins, size_t n)
{
	size_t pos, len = buf_len(c->input);
	struct buf *b;
	int r;

	for (pos = 0; pos <= len; pos++) {
		for (r = 0; r < 2; r++) {
			b = splice(c->input, pos, ins, n, r == 1);
			if (sweep_one(c, buf_data(b), buf_len(b)) &&
			    splice_must_fail(c, ins) && violations++ < 5)
				diag("accepted splice at %zu: %s", pos, c->text);
			buf_free(&b);
		}
	}
}

static void
test_sweeps(void)
{
	static const char *const ins[] = {
		"\x00", "\r", "\n", "\r\n", "\x7f", "\x01", "\t", "\x80",
		"\xff", "\xc3\xa9", "\xc2\x85", "\xed\xa0\x80", "\"", "\\",
		"<", ">", "@", ".", " ", "[", "]", ":", ",", "%", "-", "A",
	};
	size_t i, j, k, good = 0;

	violations = 0;
	for (i = 0; i < ncases; i++) {
		const struct buf *in = cases[i].input;

		if (sweep_one(&cases[i], buf_data(in), buf_len(in)))
			good++;
		for (k = 0; k < buf_len(in); k++)
			sweep_one(&cases[i], buf_data(in), k);
	}
	ok(good > 50 && violations == 0,
	    "canonical forms are clean fixed points; prefixes do not crash");
	violations = 0;
	for (i = 0; i < ncases; i++)
		for (j = 0; j < sizeof(ins) / sizeof(ins[0]); j++)
			sweep_splices(&cases[i], ins[j],
			    ins[j][0] == '\0' ? 1 : strlen(ins[j]));
	is_int(violations, 0, "hostile bytes spliced anywhere are refused");
	diag("%lu inputs swept, %zu of %zu cases parse", sweeps, good, ncases);
}

/* ---- the helpers */

static void
test_null_and_postmaster(void)
{
	const char *error;
	struct addr a;
	char *s;

	ok(addr_parse("<>", 2, ADDR_PATH | ADDR_ALLOW_NULL, &a, &error) == 0 &&
	    a.null_path && a.local == NULL && a.domain == NULL,
	    "<> is the null path with no local part or domain");
	s = addr_format(&a);
	is_str(s, "", "the null path formats as \"\"");
	xfree(&s);
	ok(!addr_has_relay_chars(&a), "the null path has no relay chars");
	s = addr_local_lower(&a);
	is_str(s, "", "the null path has an empty key");
	xfree(&s);
	addr_release(&a);
	addr_release(&a);
	ok(is_zero(&a), "addr_release() twice is harmless and zeroes");

	ok(addr_parse("<PostMaster>", 12, ADDR_PATH | ADDR_ALLOW_POSTMASTER,
	    &a, &error) == 0 && a.domain == NULL && !a.null_path,
	    "bare postmaster has no domain");
	is_str(a.local, "PostMaster", "bare postmaster keeps its case");
	addr_release(&a);
}

static void
test_keys(void)
{
	const char *in1 = "\"John\"@EXAMPLE.com", *in2 = "john@example.COM";
	char *k1, *k2, *s;
	const char *error;
	struct addr a, b;

	ok(addr_parse(in1, strlen(in1), 0, &a, &error) == 0 &&
	    addr_parse(in2, strlen(in2), 0, &b, &error) == 0, "both parse");
	k1 = addr_local_lower(&a);
	k2 = addr_local_lower(&b);
	ok(strcmp(a.local, b.local) != 0, "local part case is kept");
	ok(strcmp(k1, k2) == 0 && strcmp(a.domain, b.domain) == 0,
	    "two spellings of one mailbox give one key");
	xfree(&k1);
	xfree(&k2);
	addr_release(&a);
	addr_release(&b);

	ok(addr_parse("\xc3\x84X@b", 5, ADDR_SMTPUTF8, &a, &error) == 0 &&
	    a.utf8, "UTF-8 local part sets utf8");
	s = addr_local_lower(&a);
	is_str(s, "\xc3\x84x", "addr_local_lower() folds ASCII only");
	xfree(&s);
	addr_release(&a);
}

static void
test_relay_chars(void)
{
	struct addr a = { 0 };

	a.local = "\"a b\"";
	ok(!addr_has_relay_chars(&a), "quoted space is no relay char");
	a.local = "\"a@b\"";
	ok(addr_has_relay_chars(&a), "quoted @ is a relay char");
	a.local = "a.b";
	ok(!addr_has_relay_chars(&a), "plain dot-string is clean");
	a.local = "a%b";
	ok(addr_has_relay_chars(&a), "% is a relay char");
}

static void
test_path_span(void)
{
	static const struct {
		const char *s;
		size_t want;
	} t[] = {
		{ "<a@b> SIZE=10", 5 },
		{ "<\"a>b\"@c> BODY=8BITMIME", 9 },
		{ "<\"a\\\">\"@c> X", 10 },
		{ "<> SIZE=1", 2 },
		{ "a@b SIZE=1", 3 },
		{ "\"a b\"@c X", 7 },
		{ "<a@b", 4 },
		{ "<\"a\\", 4 },
		{ "", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(addr_path_span(t[i].s, strlen(t[i].s)), t[i].want,
		    t[i].s);
}

static void
test_utf8_len(void)
{
	is_int(addr_utf8_len("a", 1), 1, "ASCII is one byte");
	is_int(addr_utf8_len("\xc3\xa9", 2), 2, "U+00E9 is two");
	is_int(addr_utf8_len("\xe2\x82\xac", 3), 3, "U+20AC is three");
	is_int(addr_utf8_len("\xf0\x9f\x98\x80", 4), 4, "U+1F600 is four");
	is_int(addr_utf8_len("\xf4\x8f\xbf\xbf", 4), 4, "U+10FFFF is four");
	is_int(addr_utf8_len("\xe2\x82\xac", 2), 0, "truncated is invalid");
	is_int(addr_utf8_len("\xc1\xbf", 2), 0, "overlong is invalid");
	is_int(addr_utf8_len("\xed\xbf\xbf", 3), 0, "surrogate is invalid");
	is_int(addr_utf8_len("", 0), 0, "nothing is invalid");
}

static void
test_pieces(void)
{
	const char *in = "\"a@b\"@c", *error;
	char *local, *dom;
	size_t used;

	ok(addr_local_parse(in, strlen(in), 0, &used, &local, &error) == 0 &&
	    used == 5, "quoted @ is not the separator");
	is_str(local, "\"a@b\"", "quoted local part kept quoted");
	xfree(&local);
	ok(addr_domain_parse("[10.0.0.1]", 10, ADDR_NO_LITERAL, &dom,
	    &error) < 0 && dom == NULL, "ADDR_NO_LITERAL refuses a literal");
	ok(addr_domain_parse("[10.0.0.1]", 10, 0, &dom, &error) == 0,
	    "a literal is accepted by default");
	xfree(&dom);
}

int
main(int argc, char **argv)
{
	cases_load();
	if (argc > 1 && strcmp(argv[1], "--regen") == 0) {
		golden_regen();
		cases_free();
		return 0;
	}
	golden_check();
	test_sweeps();
	test_null_and_postmaster();
	test_keys();
	test_relay_chars();
	test_path_span();
	test_utf8_len();
	test_pieces();
	cases_free();
	return done_testing();
}
