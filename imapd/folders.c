/*
 * folders - IMAP mailbox names and the Maildir++ directories behind them.
 *
 * "INBOX" (any case) is the maildir itself; any other name N is the
 * directory ".N" beside cur/ new/ tmp/, with '.' the hierarchy separator
 * ("Lists.tern" is ".Lists.tern"), so Courier, Dovecot and mutt agree.
 * Names are kept in modified UTF-7 (RFC 3501 section 5.1.3) on disk and
 * on the wire; a name sent in UTF-8 is converted.  A name may not be
 * empty, start or end with '.', hold "..", '/', control characters or
 * malformed modified UTF-7, or be longer than 255 octets: nothing can
 * reach outside the user's maildir.
 *
 * Subscriptions: "subscriptions" in the maildir, one name per line (the
 * Courier/Dovecot file).  Special folders (RFC 6154) are known by name:
 * Sent, Drafts, Trash, Junk and Archive, created at the first login.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imapd.h"
#include "log.h"
#include "xalloc.h"

#define NAME_MAX_LEN 255
#define SUBS_FILE "subscriptions"

static const struct {
	const char *name, *attr;
} specials[] = {
	{ "Sent", "\\Sent" }, { "Drafts", "\\Drafts" },
	{ "Trash", "\\Trash" }, { "Junk", "\\Junk" },
	{ "Archive", "\\Archive" },
};

bool
folder_is_inbox(const char *name)
{
	return strcasecmp(name, "INBOX") == 0;
}

const char *
folder_special_use(const char *name)
{
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
		if (strcmp(name, specials[i].name) == 0)
			return specials[i].attr;
	return NULL;
}

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* UTF-8 to modified UTF-7; -1 for invalid UTF-8. */
static int
utf8_to_mutf7(const char *in, struct buf *o)
{
	const unsigned char *s = (const unsigned char *)in;

	while (*s) {
		if (*s >= 0x20 && *s < 0x7f) {
			if (*s == '&')
				buf_append_str(o, "&-");
			else
				buf_putc(o, *s);
			s++;
			continue;
		}
		/* a run of non-ASCII characters, as UTF-16 in base64 */
		uint32_t bits = 0;
		int nbits = 0;

		buf_putc(o, '&');
		while (*s && (*s < 0x20 || *s >= 0x7f)) {
			uint32_t cp;
			int extra;

			if (*s < 0x80)
				return -1;      /* a control character */
			else if ((*s & 0xe0) == 0xc0) {
				cp = *s & 0x1f;
				extra = 1;
			} else if ((*s & 0xf0) == 0xe0) {
				cp = *s & 0x0f;
				extra = 2;
			} else if ((*s & 0xf8) == 0xf0) {
				cp = *s & 0x07;
				extra = 3;
			} else
				return -1;
			s++;
			for (int k = 0; k < extra; k++, s++) {
				if ((*s & 0xc0) != 0x80)
					return -1;
				cp = (cp << 6) | (*s & 0x3f);
			}
			if (cp < 0x80 || cp > 0x10ffff ||
			    (cp >= 0xd800 && cp <= 0xdfff))
				return -1;
			uint16_t u[2];
			int nu = 1;

			if (cp >= 0x10000) {
				cp -= 0x10000;
				u[0] = (uint16_t)(0xd800 | (cp >> 10));
				u[1] = (uint16_t)(0xdc00 | (cp & 0x3ff));
				nu = 2;
			} else
				u[0] = (uint16_t)cp;
			for (int k = 0; k < nu; k++) {
				bits = (bits << 16) | u[k];
				nbits += 16;
				while (nbits >= 6) {
					nbits -= 6;
					buf_putc(o, b64[(bits >> nbits) & 0x3f]);
				}
			}
		}
		if (nbits > 0)
			buf_putc(o, b64[(bits << (6 - nbits)) & 0x3f]);
		buf_putc(o, '-');
	}
	return 0;
}

/* Is s well-formed modified UTF-7 (printable ASCII, &...- runs)? */
static bool
mutf7_valid(const char *s)
{
	while (*s) {
		if (*s < 0x20 || *s >= 0x7f)
			return false;
		if (*s++ != '&')
			continue;
		if (*s == '-') {
			s++;
			continue;
		}
		size_t n = 0;
		while (*s && *s != '-') {
			if (strchr(b64, *s) == NULL)
				return false;
			s++;
			n++;
		}
		if (*s != '-' || n == 0)
			return false;
		s++;
	}
	return true;
}

/* The on-disk (modified UTF-7) form of a name the client sent, checked;
 * malloc'd, or NULL with *err_r. */
static char *
folder_name_norm(const char *name, const char **err_r)
{
	struct buf b;
	bool ascii = true;

	for (const char *p = name; *p; p++)
		if ((unsigned char)*p >= 0x80)
			ascii = false;
	buf_init(&b, strlen(name) + 16, 0);
	if (ascii)
		buf_append_str(&b, name);
	else if (utf8_to_mutf7(name, &b) < 0) {
		buf_release(&b);
		*err_r = "Invalid UTF-8 in mailbox name";
		return NULL;
	}
	const char *n = b.data;
	if (b.len == 0 || b.len > NAME_MAX_LEN || n[0] == '.' ||
	    n[b.len - 1] == '.' || strstr(n, "..") != NULL ||
	    strchr(n, '/') != NULL || n[0] == '~' || !mutf7_valid(n)) {
		buf_release(&b);
		*err_r = "Invalid mailbox name";
		return NULL;
	}
	char *ret = buf_steal(&b);

	buf_release(&b);
	return ret;
}

char *
folder_dir(struct session *s, const char *name, const char **err_r)
{
	char *norm, *dir;

	if (folder_is_inbox(name))
		return xstrdup(s->home);
	if ((norm = folder_name_norm(name, err_r)) == NULL)
		return NULL;
	dir = xasprintf("%s/.%s", s->home, norm);
	free(norm);
	return dir;
}

/* A mailbox-name argument: an astring without NULs. */
const char *
folder_arg(const struct imap_arg *a)
{
	if (!imap_arg_astring(a) || strlen(a->s) != a->len)
		return NULL;
	return a->s;
}

/* The directory of a named folder; answers and returns NULL on error. */
char *
folder_dir_or_no(struct session *s, const char *tag, const char *name)
{
	const char *err;
	char *dir = folder_dir(s, name, &err);

	if (dir == NULL)
		tagged(s, tag, "NO %s", err);
	return dir;
}

bool
folder_exists(const char *dir)
{
	struct stat st;
	char *p = xasprintf("%s/cur", dir);
	bool ok = stat(p, &st) == 0 && S_ISDIR(st.st_mode);

	free(p);
	return ok;
}

void
out_mailbox(struct session *s, const char *name)
{
	out_string(s, name, strlen(name));
}

/* --- listing ------------------------------------------------------------ */

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
folder_names(struct session *s, size_t *n_r)
{
	DIR *d = opendir(s->home);
	struct dirent *de;
	char **v = xmalloc(16 * sizeof(*v));
	size_t n = 0, alloc = 16;

	v[n++] = xstrdup("INBOX");
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.' || de->d_name[1] == '\0' ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		char *dir = xasprintf("%s/%s", s->home, de->d_name);
		bool ok = folder_exists(dir);

		free(dir);
		if (!ok)
			continue;
		if (n == alloc) {
			alloc *= 2;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		v[n++] = xstrdup(de->d_name + 1);
	}
	if (d != NULL)
		closedir(d);
	qsort(v + 1, n - 1, sizeof(*v), name_cmp);
	*n_r = n;
	return v;
}

void
folder_names_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * LIST wildcards: '*' matches anything, '%' anything but the separator.
 * Dynamic programming over (pattern, name) positions, so no pattern can
 * make it slow.  "INBOX" matches case-insensitively.
 */
bool
folder_match(const char *pat, const char *name)
{
	size_t pl = strlen(pat), nl = strlen(name);
	bool *row, *prev, r;
	bool inbox = strncasecmp(name, "INBOX", 5) == 0 &&
	    (name[5] == '\0' || name[5] == '.');

	if (pl > 1024 || nl > 1024)
		return false;
	prev = xcalloc(nl + 1, sizeof(bool));
	row = xcalloc(nl + 1, sizeof(bool));
	prev[0] = true;
	for (size_t j = 1; j <= nl; j++)
		prev[j] = false;
	for (size_t i = 1; i <= pl; i++) {
		char pc = pat[i - 1];

		row[0] = prev[0] && (pc == '*' || pc == '%');
		for (size_t j = 1; j <= nl; j++) {
			char nc = name[j - 1];

			if (pc == '*')
				row[j] = prev[j] || row[j - 1];
			else if (pc == '%')
				row[j] = prev[j] || (row[j - 1] && nc != '.');
			else if (pc == nc || (inbox && j <= 5 &&
			    (pc & ~0x20) == (nc & ~0x20)))
				row[j] = prev[j - 1];
			else
				row[j] = false;
		}
		bool *t = prev;
		prev = row;
		row = t;
	}
	r = prev[nl];
	free(prev);
	free(row);
	return r;
}

/* --- subscriptions ------------------------------------------------------ */

char **
subs_read(struct session *s, size_t *n_r)
{
	char *path = xasprintf("%s/%s", s->home, SUBS_FILE);
	FILE *f = fopen(path, "r");
	char **v = NULL;
	size_t n = 0;
	char line[1024];

	free(path);
	while (f != NULL && fgets(line, sizeof(line), f) != NULL && n < 10000) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = xstrdup(line);
	}
	if (f != NULL)
		fclose(f);
	*n_r = n;
	return v;
}

int
subs_write(struct session *s, char **v, size_t n)
{
	char *path = xasprintf("%s/%s", s->home, SUBS_FILE);
	char *tmp = xasprintf("%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	int rc = -1;

	if (f != NULL) {
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%s\n", v[i]);
		if (fflush(f) == 0 && fsync(fileno(f)) == 0)
			rc = 0;
		if (fclose(f) != 0)
			rc = -1;
		if (rc == 0)
			rc = rename(tmp, path);
		if (rc < 0)
			unlink(tmp);
	}
	free(tmp);
	free(path);
	return rc;
}

/* First login: the special folders, subscribed. */
void
folders_init_user(struct session *s)
{
	char *path = xasprintf("%s/%s", s->home, SUBS_FILE);
	struct stat st;
	char *v[6];
	size_t n = 0;

	if (stat(path, &st) == 0) {
		free(path);
		return;
	}
	free(path);
	v[n++] = "INBOX";
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
		char *dir = xasprintf("%s/.%s", s->home, specials[i].name);

		if (imap_maildir_create(dir) < 0)
			log_exc(LOG_IMAP, "%s: cannot create %s: %s", s->id,
			    dir, strerror(errno));
		else {
			char *mf = xasprintf("%s/maildirfolder", dir);
			FILE *f = fopen(mf, "w");

			if (f != NULL)
				fclose(f);
			free(mf);
		}
		free(dir);
		v[n++] = (char *)specials[i].name;
	}
	if (subs_write(s, v, n) < 0)
		log_exc(LOG_IMAP, "%s: cannot write subscriptions: %s", s->id,
		    strerror(errno));
}
