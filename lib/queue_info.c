/* queue_info - the spool from outside the queue manager; see queue_info.h */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "queue_info.h"
#include "xalloc.h"

static int
qinfo_cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

static bool
qinfo_numeric(const char *s, unsigned *v_r)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)*s) || strlen(s) > 6)
		return false;
	v = strtoul(s, &end, 10);
	if (*end != '\0')
		return false;
	*v_r = (unsigned)v;
	return true;
}

unsigned *
qinfo_subspools(const char *spool_dir, unsigned n, size_t *count_r)
{
	size_t cap = n + 8, count = 0;
	unsigned *subs = xmalloc(cap * sizeof(*subs)), v;
	DIR *d = opendir(spool_dir);
	struct dirent *de;

	for (unsigned i = 0; i < n; i++)
		subs[count++] = i;
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (!qinfo_numeric(de->d_name, &v) || v < n)
			continue;
		if (count == cap) {
			cap *= 2;
			subs = xrealloc(subs, cap * sizeof(*subs));
		}
		subs[count++] = v;
	}
	if (d != NULL)
		closedir(d);
	qsort(subs, count, sizeof(*subs), qinfo_cmp_unsigned);
	*count_r = count;
	return subs;
}

static bool
qinfo_exists(const char *spool_dir, unsigned sub, const char *where,
    const char *id)
{
	char *p = xasprintf("%s/%u/%s/%s", spool_dir, sub, where, id);
	struct stat st;
	bool yes = stat(p, &st) == 0;

	free(p);
	return yes;
}

int
qinfo_find(const char *spool_dir, unsigned n, const char *id,
    unsigned *sub_r, bool *in_new_r)
{
	size_t count;
	unsigned *subs;
	int rc = -1;

	if (!qrec_id_valid(id))
		return -1;
	subs = qinfo_subspools(spool_dir, n, &count);
	for (size_t i = 0; i < count && rc < 0; i++)
		for (int w = 0; w < 2 && rc < 0; w++)
			if (qinfo_exists(spool_dir, subs[i], w ? "new" : "cur",
			    id)) {
				*sub_r = subs[i];
				*in_new_r = w == 1;
				rc = 0;
			}
	free(subs);
	return rc;
}

static int
qinfo_walk_dir(const char *spool_dir, unsigned sub, bool in_new,
    qinfo_walk_cb *cb, void *arg)
{
	char *p = xasprintf("%s/%u/%s", spool_dir, sub, in_new ? "new" : "cur");
	DIR *d = opendir(p);
	struct dirent *de;
	int rc = 0;

	free(p);
	if (d == NULL)
		return 0;
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (qrec_id_valid(de->d_name))
			rc = cb(sub, de->d_name, in_new, arg);
	closedir(d);
	return rc;
}

int
qinfo_walk(const char *spool_dir, unsigned n, qinfo_walk_cb *cb, void *arg)
{
	size_t count;
	unsigned *subs = qinfo_subspools(spool_dir, n, &count);
	int rc = 0;

	for (size_t i = 0; i < count && rc == 0; i++) {
		rc = qinfo_walk_dir(spool_dir, subs[i], false, cb, arg);
		if (rc == 0)
			rc = qinfo_walk_dir(spool_dir, subs[i], true, cb, arg);
	}
	free(subs);
	return rc;
}

/* What the record adds up to. */
static void
qinfo_sum(struct qinfo *qi, long long delay)
{
	bool tried = false;

	qi->next = 0;
	for (size_t i = 0; i < qi->rec.n; i++) {
		const struct qrec_rcpt *r = &qi->rec.r[i];
		long long next;

		if (r->attempts > qi->attempts)
			qi->attempts = r->attempts;
		if (r->state != QREC_PENDING) {
			qi->finished++;
			if (r->state == QREC_OK)
				qi->delivered++;
			continue;
		}
		if (r->attempts > 0)
			tried = true;
		next = r->next != 0 ? r->next : qi->env.time + delay;
		if (qi->next == 0 || next < qi->next)
			qi->next = next;
	}
	if (qi->in_new)
		qi->status = "new";
	else if (qi->finished == qi->rec.n)
		qi->status = "finishing";
	else if (qi->rec.held)
		qi->status = "held";
	else
		qi->status = tried ? "deferred" : "pending";
}

int
qinfo_load(const char *spool_dir, unsigned sub, const char *id, bool in_new,
    long long delay, struct qinfo *qi, char **error_r)
{
	struct stat st;
	char *rec;

	memset(qi, 0, sizeof(*qi));
	snprintf(qi->id, sizeof(qi->id), "%s", id);
	qi->sub = sub;
	qi->in_new = in_new;
	qi->path = xasprintf("%s/%u/%s/%s", spool_dir, sub,
	    in_new ? "new" : "cur", id);
	if (spool_read_envelope(qi->path, &qi->env, &qi->body_off,
	    error_r) < 0) {
		free(qi->path);
		qi->path = NULL;
		return -1;
	}
	if (stat(qi->path, &st) == 0)
		qi->size = (long long)st.st_size;
	qrec_init(&qi->rec, qi->env.nrcpts);
	rec = xasprintf("%s/%u/cur/%s%s", spool_dir, sub, id, QREC_SUFFIX);
	if (qrec_read(rec, &qi->rec, error_r) < 0) {
		free(rec);
		qinfo_release(qi);
		return -1;
	}
	free(rec);
	qinfo_sum(qi, delay);
	return 0;
}

void
qinfo_release(struct qinfo *qi)
{
	free(qi->path);
	if (qi->rec.r != NULL)
		qrec_release(&qi->rec);
	spool_env_release(&qi->env);
	memset(qi, 0, sizeof(*qi));
}

void
qinfo_time(long long t, char out[20])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

void
qinfo_age(long long secs, char *out, size_t size)
{
	if (secs < 0)
		secs = 0;
	if (secs >= 86400)
		snprintf(out, size, "%lldd%lldh", secs / 86400,
		    secs % 86400 / 3600);
	else if (secs >= 3600)
		snprintf(out, size, "%lldh%lldm", secs / 3600, secs % 3600 / 60);
	else if (secs >= 60)
		snprintf(out, size, "%lldm%llds", secs / 60, secs % 60);
	else
		snprintf(out, size, "%llds", secs);
}
