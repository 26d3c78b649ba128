/*
 * services - master's service table, read from services.conf.
 *
 *   [smtp]                       one section per service
 *   program = smtpd              relative: found in libexec_dir
 *   args    = -v                 extra arguments (admin's argv, no shell)
 *   listen  = 0.0.0.0:25, [::]:25, unix:auth.sock
 *   workers = 2                  processes sharing the listeners
 *   tls     = none               none | starttls | implicit
 *   user    = tern               default: mail_user
 *   chroot  =                    empty: no chroot
 *
 * Relative unix: paths live in state_dir.  Every error names file:line.
 */
#ifndef TERN_MASTER_SERVICES_H
#define TERN_MASTER_SERVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define SERVICE_MAX_WORKERS 64
#define SERVICE_MAX_LISTEN 16

struct listen_addr {
	char *text;                    /* canonical: "127.0.0.1:25", "unix:/p" */
	struct sockaddr_storage ss;
	socklen_t sslen;
};

struct service_conf {
	char *name;
	char *program;                 /* absolute */
	char **args;                   /* NULL-terminated */
	struct listen_addr listen[SERVICE_MAX_LISTEN];
	int nlisten;
	int workers;
	char *tls;
	char *user;
	char *chroot;
	int line;                      /* of the [name] header */
};

struct service_table {
	struct service_conf *svc;
	size_t n;
};

/* Parse path; 0, or -1 with *error_r "file:line: ..." (malloc'd). */
int services_load(const char *path, struct service_table *t, char **error_r);
void services_free(struct service_table *t);
/* Same program, args, listeners, tls, user and chroot (workers may differ). */
bool service_conf_same_spawn(const struct service_conf *a,
    const struct service_conf *b);

#endif
