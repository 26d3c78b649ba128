/* spool internals shared by spool.c and spool_commit.c; not for daemons. */
#ifndef TERN_SPOOL_INT_H
#define TERN_SPOOL_INT_H

#include <pthread.h>
#include <stdbool.h>

#include "buf.h"
#include "spool.h"

struct spool_job;

struct spool {
	char *dir;
	unsigned subspools;
	char **new_dirs;                /* dir/<n>/new for each n */
	/* committer thread (spool_commit.c) */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool thread_running;
	bool stopping;
	struct spool_job *queue;        /* waiting for the thread */
};

struct spool_file {
	struct spool *spool;
	char id[SPOOL_ID_LEN + 1];
	unsigned sub;
	char *tmp;
	int fd;
	struct buf wbuf;
	off_t size;
};

int spool_file_sync_data(struct spool_file *f, const char **error_r);
int spool_file_sync_data_nosync(struct spool_file *f, const char **error_r);
int spool_file_publish(struct spool_file *f, const char **error_r);
void spool_committer_init(struct spool *s);
void spool_committer_stop(struct spool *s);

#endif
