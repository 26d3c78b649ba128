/* mailbox - where mail lives, and a domain's usage; see mailbox.h */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "conf.h"
#include "mailbox.h"
#include "xalloc.h"

char *
mailbox_domain_dir(const struct acct_domain *d)
{
	size_t len;
	const char *folder = acct_field(d->rec, d->reclen, "folder_path",
	    &len);

	if (folder != NULL && len > 0)
		return xstrndup(folder, len);
	return xasprintf("%s/%s", conf_str("mail_dir"), d->name);
}

char *
mailbox_local_name(const char *local)
{
	struct buf b;
	char *s;

	buf_init(&b, strlen(local) + 1, 0);
	for (const char *p = local; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		/* A local part never holds a control character (addr.h)
		 * nor starts with a dot, but a name we make must not
		 * either: "..", or a clash with the domain's dot files. */
		if (c == '/' || c == '%' || c < 0x20 || c == 0x7f ||
		    (c == '.' && p == local))
			buf_printf(&b, "%%%02X", c);
		else
			buf_putc(&b, c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	if (*local == '\0')            /* never a directory of its own */
		buf_append_str(&b, "%00");
	s = buf_steal(&b);
	buf_release(&b);
	return s;
}

char *
mailbox_path(const struct acct_domain *d, const char *local)
{
	char *ddir = mailbox_domain_dir(d), *name = mailbox_local_name(local);
	char *p = xasprintf("%s/%s", ddir, name);

	free(ddir);
	free(name);
	return p;
}

/* The sum over every mailbox in ddir (each directory with a cur/). */
static int
mailbox_domain_scan(const char *ddir, struct maildir_usage *u,
    char **error_r)
{
	DIR *d = opendir(ddir);
	struct dirent *de;
	int rc = 0;

	u->bytes = u->count = 0;
	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		*error_r = xasprintf("cannot read %s: %s", ddir,
		    strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		struct maildir_usage one;
		struct stat st;
		char *sub;

		if (de->d_name[0] == '.')
			continue;
		sub = xasprintf("%s/%s/cur", ddir, de->d_name);
		if (stat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
			sub[strlen(sub) - 4] = '\0';
			rc = maildir_usage_peek(sub, &one, error_r);
			u->bytes += one.bytes;
			u->count += one.count;
		}
		free(sub);
	}
	closedir(d);
	return rc;
}

int
mailbox_domain_usage(const char *ddir, unsigned long long limit,
    struct maildir_usage *u, char **error_r)
{
	char *path = xasprintf("%s/%s", ddir, MAILBOX_DOMAIN_SIZE_FILE);
	struct stat st;
	int rc = 0;

	switch (maildir_sizefile_read(path, (long long)limit, u)) {
	case 1:
		goto out;
	case 2:         /* compacted: written below, no scan */
		rc = 0;
		goto write;
	}
	rc = mailbox_domain_scan(ddir, u, error_r);
write:
	if (rc == 0 && stat(ddir, &st) == 0) {
		char *err = NULL;

		if (maildir_sizefile_write(path, limit, u, &err) < 0)
			free(err);
	}
out:
	free(path);
	return rc;
}

void
mailbox_domain_usage_add(const char *ddir, long long bytes,
    long long count)
{
	char *path = xasprintf("%s/%s", ddir, MAILBOX_DOMAIN_SIZE_FILE);

	maildir_sizefile_add(path, bytes, count);
	free(path);
}

void
mailbox_usage_add(const char *ddir, const char *mailbox, long long bytes,
    long long count)
{
	maildir_usage_add(mailbox, bytes, count);
	mailbox_domain_usage_add(ddir, bytes, count);
}
