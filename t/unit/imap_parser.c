/* Tests for lib/imap_parser: the IMAP grammar, fed whole and byte by byte. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "imap_parser.h"
#include "tap.h"

/* Feed in pieces of `step` bytes; describe what came out as text. */
static void
run(const char *in, size_t len, size_t step, struct buf *o)
{
	struct imap_parser *p = imap_parser_new(100, 1000);
	size_t i = 0;
	int guard = 0;

	while (i < len && guard++ < 100000) {
		enum imap_parse_status st;
		size_t n = len - i < step ? len - i : step;
		size_t used = imap_parser_feed(p, in + i, n, &st);

		i += used;
		if (st == IMAP_PARSE_LITERAL)
			buf_append_str(o, "+;");
		else if (st == IMAP_PARSE_ERROR) {
			bool fatal, toobig;
			const char *e = imap_parser_error(p, &fatal, &toobig);
			const char *t = imap_parser_tag(p);

			buf_printf(o, "E(%s,%s%s%s);", t ? t : "-", e,
			    fatal ? ",fatal" : "", toobig ? ",toobig" : "");
			if (fatal)
				break;
			imap_parser_reset(p);
		} else if (st == IMAP_PARSE_DONE) {
			struct imap_arg *a;
			size_t na;
			const char *err;

			if (imap_parser_args(p, &a, &na, &err) < 0)
				buf_printf(o, "BAD(%s);", err);
			else {
				for (size_t k = 0; k < na; k++) {
					if (a[k].type == IMAP_ARG_LIST)
						buf_printf(o, "L%zu", a[k].n);
					else
						buf_printf(o, "%c[%.*s]",
						    "ASLNX"[a[k].type],
						    (int)a[k].len, a[k].s);
					buf_putc(o, k + 1 < na ? ' ' : ';');
				}
			}
			imap_parser_reset(p);
		}
	}
	imap_parser_free(&p);
}

#define check(in, want, name) check_n(in, sizeof(in) - 1, want, name)

static void
check_n(const char *in, size_t len, const char *want, const char *name)
{
	struct buf *a = buf_new(64), *b = buf_new(64);

	run(in, len, len, a);
	run(in, len, 1, b);
	if (!ok(strcmp(a->data, want) == 0, name))
		printf("#   got  %s\n#   want %s\n", a->data, want);
	if (!ok(strcmp(b->data, want) == 0, "  ... byte by byte"))
		printf("#   got  %s\n", b->data);
	buf_free(&a);
	buf_free(&b);
}

int
main(void)
{
	plan(62);
	check("a NOOP\r\n", "A[a] A[NOOP];", "simple command");
	check("a noop\n", "A[a] A[noop];", "bare LF");
	check("a LOGIN \"us\\\"er\" {3}\r\npwd\r\n",
	    "+;A[a] A[LOGIN] S[us\"er] L[pwd];", "quoted with escape, literal");
	check("a LOGIN u {3+}\r\npwd\r\n", "A[a] A[LOGIN] A[u] L[pwd];",
	    "LITERAL+: no continuation");
	check("a X {0}\r\n\r\n", "+;A[a] A[X] L[];", "empty literal");
	check("a FETCH 1 (FLAGS BODY[HEADER.FIELDS (From To)]<0.10>)\r\n",
	    "A[a] A[FETCH] A[1] L2;", "section atom with spaces inside []");
	check("a X (a (b (c)) NIL)\r\n", "A[a] A[X] L3;", "nested lists");
	check("a X ((((((((((((((((((x))))))))))))))))))\r\n",
	    "BAD(too deeply nested);", "nesting cap");
	check("a X \"abc\r\n", "BAD(CR, LF or NUL in quoted string);",
	    "unterminated quoted string");
	check("a X \"a\\b\"\r\n", "BAD(bad escape in quoted string);",
	    "bad escape");
	check("a X  y\r\n", "BAD(extra space);", "double space");
	check("a X (y\r\n", "BAD(missing ));", "missing paren");
	check("a X y)\r\n", "BAD(unexpected ));", "stray paren");
	check("a X \"{5}\"\r\na Y\r\n", "A[a] A[X] S[{5}];A[a] A[Y];",
	    "{5} inside a quoted string is text");
	check("a X {5000}\r\nb NOOP\r\n",
	    "E(a,literal too big,toobig);A[b] A[NOOP];",
	    "literal over the cap refused before it is read");
	check("a X {5000+}\r\n", "E(a,literal too big,fatal,toobig);",
	    "LITERAL+ over the cap: fatal");
	check("a X yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
	    "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n",
	    "E(a,line too long,fatal);", "over-long line: fatal");
	check("a X {3}\r\na\0b\r\n", "+;A[a] A[X] L[a];",
	    "NUL inside a literal (then next line)");
	check("a X y\0z\r\n", "BAD(NUL in command);", "NUL in a line");
	check("a APPEND x {4}\r\nab\r\n y\r\n",
	    "+;A[a] A[APPEND] A[x] L[ab\r\n] A[y];", "CRLF inside a literal");
	check("a X {3}\r\nabcd\r\n", "+;BAD(missing space between arguments);",
	    "literal followed by junk");
	check("a X {99999999999}\r\n", "BAD(malformed literal);",
	    "literal size overflow");
	check("a X NIL nil \"NIL\"\r\n", "A[a] A[X] N[NIL] N[nil] S[NIL];",
	    "NIL, and a quoted NIL is a string");
	check("a X \xc3\xa9\r\n", "BAD(unexpected character);",
	    "8-bit atom refused");
	check("a X \"\xc3\xa9\"\r\n", "A[a] A[X] S[\xc3\xa9];",
	    "8-bit quoted string kept (UTF-8)");
	check("a X [b\r\n", "BAD(unbalanced [ in atom);", "unbalanced [");
	check("a X {2}\r\nab {2}\r\ncd\r\n", "+;+;A[a] A[X] L[ab] L[cd];",
	    "two literals");
	check("a X ()\r\n", "A[a] A[X] L0;", "empty list");
	check("+ X\r\n", "A[+] A[X];", "a bad tag is the session's to refuse");

	/* sequence sets */
	struct imap_seqset s;
	ok(imap_seqset_parse("1,3:5,7:*", &s) == 0 && s.n == 3 &&
	    imap_seqset_has(&s, 4, 10) && !imap_seqset_has(&s, 6, 10) &&
	    imap_seqset_has(&s, 9, 10), "sequence set with ranges and *");
	imap_seqset_free(&s);
	ok(imap_seqset_parse("5:2", &s) == 0 && imap_seqset_has(&s, 3, 10),
	    "range backwards");
	imap_seqset_free(&s);
	ok(imap_seqset_parse("*:4", &s) == 0 && imap_seqset_has(&s, 3, 3) &&
	    !imap_seqset_has(&s, 2, 3), "*:4 with * = 3 is 3:4");
	imap_seqset_free(&s);
	static const char *const badsets[] = { "0", "1:", ":1", "1,,2", "a",
	    "1:0", "4294967296", "1 2", "", "1,", "-1" };
	bool all = true;
	for (size_t i = 0; i < sizeof(badsets) / sizeof(badsets[0]); i++) {
		if (imap_seqset_parse(badsets[i], &s) == 0) {
			printf("# accepted %s\n", badsets[i]);
			all = false;
			imap_seqset_free(&s);
		}
	}
	ok(all, "malformed sequence sets refused");
	return done_testing();
}
