/*
 * mime_text - the readable text of a message for searching (IMAP SEARCH
 * BODY and TEXT): every part of type text, its Content-Transfer-Encoding
 * undone (quoted-printable, base64) and its charset turned into UTF-8,
 * parts one after the other, each ended by a newline.  Parts that are not
 * text (images, attachments) are left out; a charset iconv does not know
 * is kept as its bytes.  Works on whatever lib/mime made of broken input.
 */
#ifndef TERN_MIME_TEXT_H
#define TERN_MIME_TEXT_H

#include "mime.h"

struct buf;

/* Append m's text parts, decoded, to out. */
void mime_text_utf8(const struct mime_msg *m, struct buf *out);

#endif
