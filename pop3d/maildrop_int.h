/*
 * maildrop_int - what maildrop.c (lock, access, UPDATE) and
 * maildrop_scan.c (the login scan, sizes, order) share.  Not for the
 * rest of pop3d: it uses maildrop.h.
 */
#ifndef TERN_POP3D_MAILDROP_INT_H
#define TERN_POP3D_MAILDROP_INT_H

#include <stdbool.h>

#include "buf.h"
#include "maildrop.h"

/* One message: 32 bytes, the name itself in the pool. */
struct md_msg {
	unsigned long long size;     /* RFC 5322 octets with CRLF */
	unsigned long long key;      /* delivery time in microseconds */
	unsigned name;               /* offset of the cur/ file name */
	unsigned short len;          /* its length */
	unsigned short base;         /* length of the base name */
	bool deleted;                /* DELE, waiting for UPDATE */
	bool sized;                  /* size known (scan only) */
};

struct maildrop {
	char *path;
	char *domain_dir;            /* for the usage files (lib/mailbox) */
	char *sid;
	int dirfd, curfd, newfd;
	int lockfd;
	struct md_msg *msgs;
	unsigned n, alloc;
	struct buf pool;             /* names, each NUL-terminated */
	unsigned live;
	unsigned long long live_size;
	unsigned upd_next;           /* UPDATE: next index to look at */
	unsigned upd_removed, upd_failed;
	long long upd_bytes, upd_count;  /* removed by us: usage to note */
};

static inline const char *
md_name(const struct maildrop *md, unsigned i)
{
	return md->pool.data + md->msgs[i].name;
}

/* The number after ",<field>=" (S or W) in a base name of base bytes. */
bool md_name_size(const char *name, size_t base, char field,
    unsigned long long *size_r);
/* Removal noted in maildirsize and the domain's usage (lib/mailbox.h):
 * the file's S= size, else its size on disk; call before unlinking. */
long long md_disk_size(struct maildrop *md, const char *name, size_t base);
/* Read new/ and cur/ into md->msgs in delivery order (maildrop_scan.c).
 * 0, or -1 with *error_r malloc'd. */
int md_scan(struct maildrop *md, unsigned expire_days, char **error_r);
/* Put name into the pool as message i's file name; -1 if the pool is
 * full (more than 4 GB of names). */
int md_set_name(struct maildrop *md, unsigned i, const char *name,
    size_t len);
/* Message i's file was renamed by someone else: look for its base name
 * in cur/ again.  0 (name updated) or -1 (gone). */
int md_refind(struct maildrop *md, unsigned i);

#endif
