/*
 * hex - hexadecimal digits, as quoted-printable, RFC 2047/2231 and
 * xtext (RFC 3461) encode bytes.
 */
#ifndef TERN_HEX_H
#define TERN_HEX_H

/* The value of one hex digit (either case), or -1. */
static inline int
hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The byte two hex digits at p make, or -1 (p[0] may be the NUL). */
static inline int
hex_byte(const char *p)
{
	int h = hex_digit((unsigned char)p[0]), l;

	if (h < 0 || (l = hex_digit((unsigned char)p[1])) < 0)
		return -1;
	return h << 4 | l;
}

#endif
