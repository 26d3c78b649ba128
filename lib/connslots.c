/*
 * connslots - sessions counted across processes.  See connslots.h.
 *
 * The slots are plain words in a MAP_SHARED mapping, written with atomic
 * stores by their owner and read with atomic loads by everyone; the
 * flock on the file only orders the claiming of slots.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "connslots.h"
#include "xalloc.h"

struct slot {
	_Atomic long long pid;          /* 0: free */
	_Atomic long long start;        /* the process's start time */
	_Atomic long long count;
	long long pad;
};

struct connslots {
	struct slot *s;
	size_t mine;
};

/* Field 22 of /proc/<pid>/stat: start time in clock ticks; -1 if gone
 * or a zombie. */
static long long
proc_start(long long pid)
{
	char path[64], buf[1024], *p;
	long long v = -1;
	int fd, i;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The command name may hold blanks and ')': start after the last. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	/* A zombie (killed, not yet reaped by master) serves nobody. */
	if (p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
		return -1;
	for (i = 2; i < 22 && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p != NULL)
		v = strtoll(p + 1, NULL, 10);
	return v;
}

static bool
slot_live(const struct slot *s)
{
	long long pid = atomic_load(&s->pid);
	long long start = atomic_load(&s->start);

	if (pid <= 0)
		return false;
	/* Without /proc (a chroot) the pid alone has to do. */
	if (start < 0)
		return kill((pid_t)pid, 0) == 0 || errno == EPERM;
	return proc_start(pid) == start;
}

struct connslots *
connslots_open(const char *path, char **error_r)
{
	size_t len = CONNSLOTS_MAX * sizeof(struct slot);
	long long me = (long long)getpid(), start = proc_start(me);
	struct connslots *c;
	struct stat st;
	void *map;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0 ||
	    ((size_t)st.st_size < len && ftruncate(fd, (off_t)len) < 0)) {
		*error_r = xasprintf("%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (map == MAP_FAILED) {
		*error_r = xasprintf("%s: mmap: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->s = map;
	c->mine = CONNSLOTS_MAX;
	for (size_t i = 0; i < CONNSLOTS_MAX; i++)
		if (atomic_load(&c->s[i].pid) == 0 || !slot_live(&c->s[i])) {
			atomic_store(&c->s[i].count, 0);
			atomic_store(&c->s[i].start, start);
			atomic_store(&c->s[i].pid, me);
			c->mine = i;
			break;
		}
	/* Unlock by hand: the mapping keeps the open file, and with it
	 * the flock, alive after close. */
	flock(fd, LOCK_UN);
	close(fd);
	if (c->mine == CONNSLOTS_MAX) {
		*error_r = xasprintf("%s: all %d slots are in use", path,
		    CONNSLOTS_MAX);
		munmap(map, len);
		free(c);
		return NULL;
	}
	return c;
}

void
connslots_close(struct connslots **cp)
{
	struct connslots *c = *cp;

	if (c == NULL)
		return;
	atomic_store(&c->s[c->mine].count, 0);
	atomic_store(&c->s[c->mine].pid, 0);
	munmap(c->s, CONNSLOTS_MAX * sizeof(struct slot));
	free(c);
	*cp = NULL;
}

void
connslots_set(struct connslots *c, unsigned n)
{
	atomic_store(&c->s[c->mine].count, (long long)n);
}

unsigned
connslots_total(struct connslots *c)
{
	unsigned long long total = 0;

	for (size_t i = 0; i < CONNSLOTS_MAX; i++) {
		long long n = atomic_load(&c->s[i].count);

		/* Only slots with sessions cost a look at /proc. */
		if (n <= 0 || atomic_load(&c->s[i].pid) == 0)
			continue;
		if (i == c->mine || slot_live(&c->s[i]))
			total += (unsigned long long)n;
	}
	return total > 0xffffffffu ? 0xffffffffu : (unsigned)total;
}

struct connslots *
connslots_open_state(const char *name, char **error_r)
{
	char *path = xasprintf("%s/%s.conns", conf_str("state_dir"), name);
	struct connslots *c = connslots_open(path, error_r);

	free(path);
	return c;
}

bool
connslots_over(struct connslots *c, unsigned n, unsigned max,
    unsigned share, unsigned *total_r)
{
	if (c == NULL) {
		*total_r = n;
		return share != 0 && n > share;
	}
	connslots_set(c, n);
	*total_r = connslots_total(c);
	return max != 0 && *total_r > max;
}

void
connslots_note(struct connslots *c, unsigned n)
{
	if (c != NULL)
		connslots_set(c, n);
}
