/*
 * Unit tests for lib/mime_text: quoted-printable (soft breaks, bad
 * escapes kept), base64 (junk skipped), charsets to UTF-8 (unknown ones
 * kept as bytes), parts that are not text left out, text inside an
 * attached message included, a message without MIME taken as it is.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "mime.h"
#include "mime_text.h"
#include "tap.h"

static void
check(const char *msg, const char *want, const char *name)
{
	struct mime_msg *m = mime_parse(msg, strlen(msg));
	struct buf b;

	buf_init(&b, 64, 0);
	mime_text_utf8(m, &b);
	is_str(buf_data(&b), want, name);
	buf_release(&b);
	mime_free(&m);
}

int
main(void)
{
	check("Subject: x\r\n\r\nplain body\r\n", "plain body\r\n\n",
	    "no MIME: the body as it is");
	check("Content-Transfer-Encoding: quoted-printable\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n\r\n"
	    "caf=C3=A9 lo=\r\nng =ZZ end=\n", "caf\xc3\xa9 long =ZZ end\n",
	    "QP: escapes, soft breaks, a bad escape kept");
	check("Content-Transfer-Encoding: base64\r\n"
	    "Content-Type: text/plain; charset=iso-8859-1\r\n\r\n"
	    "R3L8/mU=\r\n", "Gr\xc3\xbc\xc3\xbe" "e\n",
	    "base64 then Latin-1 to UTF-8");
	check("Content-Transfer-Encoding: base64\r\n\r\nYW!Jj\r\n", "abc\n",
	    "base64: junk skipped");
	check("Content-Type: text/plain; charset=x-unknown\r\n\r\n\xe9t\xe9",
	    "\xe9t\xe9\n", "unknown charset: bytes kept");
	check("Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
	    "Content-Type: text/plain\r\n\r\none\r\n--b\r\n"
	    "Content-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n"
	    "\r\naGlkZGVu\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n"
	    "Subject: inner\r\n\r\ninner text\r\n--b--\r\n",
	    "one\ninner text\n", "text parts only, inner message included");
	return done_testing();
}
