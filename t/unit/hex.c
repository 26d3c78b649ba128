/*
 * Unit tests for lib/hex.h: every byte's digit value, and pairs.
 */
#include "hex.h"
#include "tap.h"

int
main(void)
{
	int wrong = 0;

	for (int c = -128; c < 256; c++) {
		int want = c >= '0' && c <= '9' ? c - '0' :
		    c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		wrong += hex_digit(c) != want;
	}
	ok(wrong == 0, "hex_digit: 0-9, a-f, A-F; -1 for every other value "
	    "from -128 to 255");
	ok(hex_byte("00") == 0 && hex_byte("7f") == 127 &&
	    hex_byte("Ff") == 255 && hex_byte("e9x") == 0xe9,
	    "hex_byte: 00, 7f, Ff, e9");
	ok(hex_byte("g0") == -1 && hex_byte("0g") == -1 && hex_byte("") == -1 &&
	    hex_byte("1") == -1 && hex_byte("\xe9" "0") == -1,
	    "hex_byte: a non-digit, or the string ending, is -1");
	return done_testing();
}
