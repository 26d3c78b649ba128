/*
 * master's shared state: the services it runs and the children it has.
 */
#ifndef TERN_MASTER_H
#define TERN_MASTER_H

#include <event2/event.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "services.h"

struct service;

struct child {
	struct service *svc;        /* NULL once its service is gone */
	char *svc_name;             /* for logs after the service is gone */
	int slot;
	pid_t pid;
	time_t started;
	struct ipc_conn *status;
	unsigned sessions;
	unsigned long long accepted;
	bool ready;                 /* first status report arrived */
	bool draining;
	struct event *kill_ev;      /* SIGKILL when draining takes too long */
	struct child *next;
};

struct service {
	struct service_conf conf;
	int fds[SERVICE_MAX_LISTEN];           /* -1: not bound */
	bool stopped;                          /* by the admin */
	char *error;                           /* why it cannot run, or NULL */
	struct child *slot[SERVICE_MAX_WORKERS];
	unsigned fails[SERVICE_MAX_WORKERS];   /* quick crashes in a row */
	struct event *restart_ev[SERVICE_MAX_WORKERS];
	unsigned restarts;
	struct service *next;
};

struct master {
	struct event_base *base;
	char *confdir;
	char *conf_path;
	char *services_path;
	char *stopped_path;                    /* state_dir/stopped-services */
	struct service *services;
	struct child *children;                /* every live child */
	bool stopping;
	struct event *stop_timer;
};

extern struct master M;

/* listen.c */
int listen_bind(const struct listen_addr *a, char **error_r);
void listen_close_all(struct service *s);
int service_bind(struct service *s, struct service *steal_from);

/* child.c */
void child_spawn(struct service *s, int slot);
void child_drain(struct child *c);
void child_reap(void);
void service_start_all(struct service *s);
void service_stop_all(struct service *s);
void service_free(struct service **sp);
/* Workers that have started and reported (past their privilege drop). */
unsigned service_running(const struct service *s);

/* reload.c */
int master_load(char **error_r);
int master_reload(char **error_r);
void stopped_load(void);
void stopped_save(void);
struct service *service_find(const char *name);

/* control.c */
int control_open(char **error_r);
void control_close(void);

#endif
