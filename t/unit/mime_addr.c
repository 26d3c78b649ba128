/*
 * mime_addr unit test: RFC 5322 address lists as ENVELOPE sends them.
 *
 * The golden table t/data/mime/addr.in -> addr.ref, then properties over
 * every golden case: every prefix and every one-byte deletion of each
 * input parses into a well-formed list (each entry a mailbox, a group
 * start or a group end; groups balanced and not nested; no empty
 * mailbox or domain; no CR, LF or NUL in any string).
 *
 * "mime_addr.t --regen" prints a fresh addr.ref to stdout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime.h"
#include "rfc822.h"
#include "tap.h"
#include "xalloc.h"

static FILE *
data_open(const char *name)
{
	const char *src = getenv("TERN_SRC");
	char *path = src != NULL ? xasprintf("%s/t/data/mime/%s", src, name) :
	    xasprintf("t/data/mime/%s", name);
	FILE *f = fopen(path, "r");

	if (f == NULL)
		die("cannot open %s: run from the source root or set TERN_SRC",
		    path);
	xfree(&path);
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

static int
hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* \xHH escapes decoded into out. */
static void
unescape(const char *s, struct buf *out)
{
	for (; *s != '\0'; s++) {
		if (s[0] == '\\' && s[1] == 'x' && hex(s[2]) >= 0 &&
		    hex(s[3]) >= 0) {
			buf_putc(out, hex(s[2]) * 16 + hex(s[3]));
			s += 3;
		} else {
			buf_putc(out, *s);
		}
	}
}

/* The list as ENVELOPE writes it (lib/mime_imap.c does the same). */
static void
render(const char *s, size_t len, struct buf *out)
{
	struct rfc822_addr *list = rfc822_addr_parse(s, len), *a;

	if (list == NULL)
		buf_append_str(out, "NIL");
	else
		buf_putc(out, '(');
	for (a = list; a != NULL; a = a->next) {
		buf_putc(out, '(');
		mime_imap_nstring(out, a->name);
		buf_putc(out, ' ');
		mime_imap_nstring(out, a->route);
		buf_putc(out, ' ');
		mime_imap_nstring(out, a->mailbox);
		buf_putc(out, ' ');
		mime_imap_nstring(out, a->domain);
		buf_putc(out, ')');
	}
	if (list != NULL)
		buf_putc(out, ')');
	rfc822_addr_free(&list);
}

/* Literals carry CR LF: keep the .ref file one case a line. */
static void
visible(const struct buf *b, struct buf *out)
{
	size_t i;

	for (i = 0; i < b->len; i++) {
		unsigned char c = (unsigned char)b->data[i];

		if (c == '\r')
			buf_append_str(out, "\\r");
		else if (c == '\n')
			buf_append_str(out, "\\n");
		else if (c < 0x20 || c >= 0x7f)
			buf_printf(out, "\\x%02x", c);
		else
			buf_putc(out, c);
	}
}

static void
golden_regen(void)
{
	FILE *f = data_open("addr.in");
	struct buf *in = buf_new(256), *out = buf_new(256);
	struct buf *vis = buf_new(256);
	char *line = NULL;
	size_t size = 0;

	while (line_read(f, &line, &size) != NULL) {
		if (!line_is_case(line))
			continue;
		buf_reset(in);
		buf_reset(out);
		unescape(line, in);
		render(in->data, in->len, out);
		buf_reset(vis);
		visible(out, vis);
		printf("%s\t%s\n", line, vis->data);
	}
	free(line);
	fclose(f);
	buf_free(&in);
	buf_free(&out);
	buf_free(&vis);
}

static bool
str_clean(const char *s)
{
	return s == NULL || (*s != '\0' && strpbrk(s, "\r\n") == NULL) ||
	    (*s == '\0');
}

/* NULL if the list is well-formed, else why. */
static const char *
list_check(const struct rfc822_addr *list)
{
	const struct rfc822_addr *a;
	bool in_group = false;

	for (a = list; a != NULL; a = a->next) {
		if (!str_clean(a->name) || !str_clean(a->route) ||
		    !str_clean(a->mailbox) || !str_clean(a->domain))
			return "CR or LF in a string";
		if (a->domain != NULL) {
			if (a->mailbox == NULL || *a->mailbox == '\0' ||
			    *a->domain == '\0')
				return "mailbox or domain empty";
		} else if (a->mailbox != NULL) {
			if (in_group || a->name != NULL || a->route != NULL)
				return "bad group start";
			in_group = true;
		} else {
			if (!in_group || a->name != NULL || a->route != NULL)
				return "bad group end";
			in_group = false;
		}
	}
	return in_group ? "group not closed" : NULL;
}

static unsigned long sweeps;

static const char *
check(const char *s, size_t len)
{
	struct rfc822_addr *list = rfc822_addr_parse(s, len);
	const char *why = list_check(list);

	rfc822_addr_free(&list);
	sweeps++;
	return why;
}

static void
test_golden(void)
{
	FILE *in = data_open("addr.in"), *ref = data_open("addr.ref");
	struct buf *b = buf_new(256), *out = buf_new(256);
	struct buf *vis = buf_new(256), *cut = buf_new(256);
	char *line = NULL, *rline = NULL, *tab;
	size_t size = 0, rsize = 0, cases = 0, i;
	unsigned long bad = 0, wrong = 0;
	const char *why;

	while (line_read(in, &line, &size) != NULL) {
		if (!line_is_case(line))
			continue;
		cases++;
		buf_reset(b);
		buf_reset(out);
		unescape(line, b);
		render(b->data, b->len, out);
		if (line_read(ref, &rline, &rsize) == NULL ||
		    (tab = strrchr(rline, '\t')) == NULL ||
		    strncmp(rline, line, (size_t)(tab - rline)) != 0) {
			diag("addr.ref out of step at '%s': regenerate", line);
			wrong++;
			continue;
		}
		buf_reset(vis);
		visible(out, vis);
		if (strcmp(vis->data, tab + 1) != 0) {
			diag("'%s':\n#   got  %s\n#   want %s", line,
			    vis->data, tab + 1);
			wrong++;
		}
		for (i = 0; i <= b->len; i++)
			if ((why = check(b->data, i)) != NULL && bad++ == 0)
				diag("prefix %zu of '%s': %s", i, line, why);
		for (i = 0; i < b->len; i++) {
			buf_reset(cut);
			buf_append(cut, b->data, i);
			buf_append(cut, b->data + i + 1, b->len - i - 1);
			if ((why = check(cut->data, cut->len)) != NULL &&
			    bad++ == 0)
				diag("'%s' without byte %zu: %s", line, i, why);
		}
	}
	ok(cases > 50, "golden address cases read");
	ok(wrong == 0, "every case gives the address list in addr.ref");
	ok(bad == 0, "every prefix and one-byte deletion is well-formed");
	diag("%zu cases, %lu sweeps", cases, sweeps);
	free(line);
	free(rline);
	fclose(in);
	fclose(ref);
	buf_free(&b);
	buf_free(&out);
	buf_free(&vis);
	buf_free(&cut);
}

static void
test_big(void)
{
	struct buf *b = buf_new(1 << 20);
	struct rfc822_addr *list, *a;
	size_t n = 0;

	while (b->len < 1 << 20)
		buf_append_str(b, "\"Name, Some\" <some.one@example.com>, ");
	list = rfc822_addr_parse(b->data, b->len);
	for (a = list; a != NULL; a = a->next)
		n++;
	ok(n == (1 << 20) / 37 + 1, "1 MB To: field: every address read");
	rfc822_addr_free(&list);
	buf_reset(b);
	while (b->len < 1 << 20)
		buf_append_str(b, "a ((((( \"(\" <<< ,;:@ ");
	ok(check(b->data, b->len) == NULL, "1 MB of junk: well-formed, "
	    "and it ends");
	buf_free(&b);
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--regen") == 0) {
		golden_regen();
		return 0;
	}
	test_golden();
	test_big();
	return done_testing();
}
