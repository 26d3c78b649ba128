/*
 * Unit tests for lib/utf8fold: ASCII and non-ASCII letters fold (Latin,
 * Greek, Cyrillic), other text stays, invalid UTF-8 is copied byte for
 * byte, and utf8_contains_fold finds across case.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "utf8fold.h"

static void
fold(const char *in, size_t len, const char *want, size_t wlen,
    const char *name)
{
	size_t n;
	char *got = utf8_fold(in, len, &n);

	ok(n == wlen && memcmp(got, want, wlen) == 0, name);
	free(got);
}

#define F(in, want, name) fold(in, sizeof(in) - 1, want, sizeof(want) - 1, name)

int
main(void)
{
	F("Hello World", "hello world", "ASCII");
	F("\xc3\x89LOD\xc3\x89" "E", "\xc3\xa9lod\xc3\xa9" "e", "É to é (Latin-1)");
	F("\xc5\x81\xc3\x93" "D\xc5\xb9", "\xc5\x82\xc3\xb3" "d\xc5\xba",
	    "Łódź, Latin Extended-A");
	F("\xce\xa3\xce\x9f\xce\xa6", "\xcf\x83\xce\xbf\xcf\x86", "Greek");
	F("\xd0\x9c\xd0\x98\xd0\xa0", "\xd0\xbc\xd0\xb8\xd1\x80", "Cyrillic");
	F("\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac",
	    "CJK unchanged");
	F("a\xff" "B\xc3", "a\xff" "b\xc3", "invalid bytes copied, text folds");
	F("\xc0\xaf", "\xc0\xaf", "overlong form left as bytes");
	F("\xed\xa0\x80", "\xed\xa0\x80", "surrogate left as bytes");
	F("x\0Y", "x\0y", "NUL kept");

	ok(utf8_contains_fold("Caf\xc3\x89 cr\xc3\x88ME", 12, "caf\xc3\xa9", 5),
	    "contains: É found by é");
	ok(utf8_contains_fold("abc", 3, "B", 1), "contains: ASCII");
	ok(!utf8_contains_fold("abc", 3, "\xc3\xa9", 2), "contains: no match");
	ok(utf8_contains_fold("abc", 3, "", 0), "empty needle matches");
	ok(!utf8_contains_fold("ab", 2, "abc", 3), "needle longer than text");
	return done_testing();
}
