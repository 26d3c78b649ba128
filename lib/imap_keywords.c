/* imap_keywords - a folder's keyword names; see imap_keywords.h */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "imap_index.h"
#include "imap_keywords.h"
#include "xalloc.h"

void
imap_keywords_free(struct imap_keywords *k)
{
	for (unsigned i = 0; i < k->n; i++)
		free(k->name[i]);
	memset(k, 0, sizeof(*k));
}

void
imap_keywords_load(struct imap_keywords *k, const char *dir)
{
	char *path = xasprintf("%s/%s", dir, IMAP_KEYWORDS);
	struct stat st;
	FILE *f;
	char line[IMAP_KW_NAME_MAX + 2];

	if (stat(path, &st) < 0 || st.st_size == k->size) {
		free(path);
		return;
	}
	f = fopen(path, "r");
	free(path);
	if (f == NULL)
		return;
	imap_keywords_free(k);
	k->size = st.st_size;
	while (k->n < IMAP_KW_MAX && fgets(line, sizeof(line), f) != NULL) {
		size_t l = strlen(line);

		/* a torn last line (no newline yet) waits for the next read */
		if (l == 0 || line[l - 1] != '\n') {
			k->size = -1;
			break;
		}
		line[l - 1] = '\0';
		/* a bad line keeps its letter, unnamed */
		k->name[k->n++] = xstrdup(imap_keyword_ok(line) ? line : "");
	}
	fclose(f);
}

bool
imap_keyword_ok(const char *name)
{
	size_t l = strlen(name);

	if (l == 0 || l > IMAP_KW_NAME_MAX || name[0] == '\\')
		return false;
	for (const char *p = name; *p != '\0'; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("(){%*\"\\]", *p) != NULL)
			return false;
	return true;
}

int
imap_keywords_find(const struct imap_keywords *k, const char *name)
{
	for (unsigned i = 0; i < k->n; i++)
		if (k->name[i][0] != '\0' && strcasecmp(k->name[i], name) == 0)
			return (int)i;
	return -1;
}

int
imap_keywords_add(struct imap_keywords *k, const char *dir, const char *name)
{
	int i, fd, lock;
	char *path, *line;
	ssize_t w;

	imap_keywords_load(k, dir);
	if ((i = imap_keywords_find(k, name)) >= 0)
		return i;
	if ((lock = imap_index_lock(dir)) < 0)
		return -1;
	/* another process may have added it, or filled the table */
	imap_keywords_load(k, dir);
	if ((i = imap_keywords_find(k, name)) >= 0 || k->n >= IMAP_KW_MAX) {
		imap_index_unlock(lock);
		return i >= 0 ? i : -2;
	}
	path = xasprintf("%s/%s", dir, IMAP_KEYWORDS);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	if (fd < 0) {
		imap_index_unlock(lock);
		return -1;
	}
	/* after a torn line (a crash mid-append), start a line of our own */
	line = xasprintf("%s%s\n", k->size < 0 ? "\n" : "", name);
	w = write(fd, line, strlen(line));
	/* the letters in file names mean nothing without this line */
	if (w == (ssize_t)strlen(line) && fsync(fd) == 0) {
		k->size = -2;           /* read it back: the torn line counts */
		imap_keywords_load(k, dir);
		i = imap_keywords_find(k, name);
	} else {
		i = -1;
		if (w > 0 && ftruncate(fd, lseek(fd, 0, SEEK_END) - w) < 0)
			errno = EIO;
	}
	free(line);
	close(fd);
	imap_index_unlock(lock);
	return i;
}
