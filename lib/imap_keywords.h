/*
 * imap_keywords - a folder's IMAP keywords ($Forwarded, $Junk, NonJunk,
 * $label1 ...).  In maildir file names the letters a-z after ":2," stand
 * for keywords; the folder's tern-keywords file names them, one per line,
 * line 1 for 'a'.  At most 26 per folder (Dovecot's maildir has the same
 * bound).  The file only grows, by whole-line appends made under the
 * folder's uidlist lock, so a reader needs no lock: it sees a prefix of
 * the table, and a letter it cannot name yet is simply not shown.
 */
#ifndef TERN_IMAP_KEYWORDS_H
#define TERN_IMAP_KEYWORDS_H

#include <stdbool.h>
#include <stdint.h>

#define IMAP_KEYWORDS "tern-keywords"
#define IMAP_KW_MAX 26
#define IMAP_KW_NAME_MAX 64

struct imap_keywords {
	char *name[IMAP_KW_MAX];
	unsigned n;
	long long size;             /* of the file when read */
};

/* (Re)read dir's table when the file grew. */
void imap_keywords_load(struct imap_keywords *k, const char *dir);
void imap_keywords_free(struct imap_keywords *k);
/* A valid keyword: an atom without list wildcards, ']' or '\' (RFC 3501
 * flag-keyword), 1 to IMAP_KW_NAME_MAX bytes. */
bool imap_keyword_ok(const char *name);
/* Index of name (case-insensitive, as IMAP atoms are), or -1. */
int imap_keywords_find(const struct imap_keywords *k, const char *name);
/* Index of name, appended to dir's file when new; -1 on an I/O error
 * (errno), -2 when the folder already has IMAP_KW_MAX keywords. */
int imap_keywords_add(struct imap_keywords *k, const char *dir,
    const char *name);

#endif
