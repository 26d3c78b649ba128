/*
 * utf8fold - case folding of UTF-8 text for searches that ignore case
 * beyond ASCII ("É" finds "é", "Σ" finds "σ"): each code point goes
 * through the C.UTF-8 locale's towlower (Unicode simple case mapping).
 * Bytes that are not valid UTF-8 are copied as they are, so folding never
 * fails and never loses text.  Without a C.UTF-8 locale only ASCII folds.
 */
#ifndef TERN_UTF8FOLD_H
#define TERN_UTF8FOLD_H

#include <stdbool.h>
#include <stddef.h>

/* s[0..len) folded, NUL-terminated, malloc'd; its length in *out_len. */
char *utf8_fold(const char *s, size_t len, size_t *out_len);
/* Does hay contain needle, ignoring case (UTF-8 aware)? */
bool utf8_contains_fold(const char *hay, size_t hlen, const char *needle,
    size_t nlen);

#endif
