/*
 * Unit tests for lib/rfc2047: Q and B words, charsets through iconv,
 * blanks between words dropped and elsewhere kept, broken and unknown
 * words left as written, RFC 2231 language tags.
 */
#include <stdlib.h>
#include <string.h>

#include "rfc2047.h"
#include "tap.h"

static void
check(const char *in, const char *want, const char *name)
{
	char *got = rfc2047_decode(in, strlen(in));

	is_str(got, want, name);
	free(got);
}

int
main(void)
{
	check("plain text", "plain text", "no words: unchanged");
	check("=?UTF-8?Q?caf=C3=A9_au_lait?=", "caf\xc3\xa9 au lait",
	    "Q, UTF-8, '_' is a space");
	check("=?ISO-8859-1?Q?Andr=E9?= Pirard", "Andr\xc3\xa9 Pirard",
	    "Latin-1 to UTF-8, the text after kept");
	check("=?utf-8?b?w6l0w6k=?=", "\xc3\xa9t\xc3\xa9", "B, lower case");
	check("=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab",
	    "blank between two words dropped");
	check("=?UTF-8?Q?a?=\r\n =?UTF-8?Q?b?=", "ab",
	    "folded between two words dropped");
	check("x =?UTF-8?Q?a?= y", "x a y", "blanks next to text kept");
	check("=?X-NOSUCH?Q?abc?=", "=?X-NOSUCH?Q?abc?=",
	    "unknown charset: left as written");
	check("=?UTF-8?Z?abc?=", "=?UTF-8?Z?abc?=",
	    "unknown encoding: left as written");
	check("=?UTF-8?Q?bad=G1?=", "=?UTF-8?Q?bad=G1?=", "bad Q escape");
	check("=?UTF-8?Q?a b?=", "=?UTF-8?Q?a b?=", "blank inside: not a word");
	check("=?UTF-8*en?Q?hi?=", "hi", "RFC 2231 language tag");
	check("a =?UTF-8?Q?x?= =?bogus?Q?y?= b", "a x =?bogus?Q?y?= b",
	    "a failed word after a good one keeps its blank");
	check("", "", "empty");
	return done_testing();
}
