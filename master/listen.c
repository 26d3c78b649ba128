/* listen - master binds every listening socket itself. */
#include <errno.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "master.h"
#include "xalloc.h"

#define LISTEN_BACKLOG 511

/* A stale unix socket from a crashed run may be removed; nothing else. */
static int
listen_unlink_stale(const char *path, char **error_r)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		*error_r = xasprintf("%s exists and is not a socket", path);
		return -1;
	}
	return unlink(path);
}

/* Internal sockets belong to the mail user, so daemons can connect. */
static void
listen_own_unix(const char *path, const char *user)
{
	struct passwd *pw;

	chmod(path, 0660);
	if (geteuid() != 0)
		return;
	pw = getpwnam(*user ? user : conf_str("mail_user"));
	if (pw != NULL && chown(path, pw->pw_uid, pw->pw_gid) < 0)
		log_exc(LOG_MASTER, "chown %s: %s", path, strerror(errno));
}

int
listen_bind(const struct listen_addr *a, char **error_r)
{
	int fd, one = 1, family = a->ss.ss_family;

	if (family == AF_UNIX) {
		const char *path = ((const struct sockaddr_un *)&a->ss)->sun_path;

		if (listen_unlink_stale(path, error_r) < 0) {
			if (*error_r == NULL)
				*error_r = xasprintf("%s: %s", a->text,
				    strerror(errno));
			return -1;
		}
	}
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	if (family != AF_UNIX)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* [::]:25 and 0.0.0.0:25 are two listeners; keep them apart. */
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)&a->ss, a->sslen) < 0 ||
	    listen(fd, LISTEN_BACKLOG) < 0)
		goto fail;
	return fd;
fail:
	*error_r = xasprintf("cannot listen on %s: %s", a->text, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -1;
}

void
listen_close_all(struct service *s)
{
	for (int i = 0; i < s->conf.nlisten; i++) {
		if (s->fds[i] < 0)
			continue;
		close(s->fds[i]);
		s->fds[i] = -1;
		if (s->conf.listen[i].ss.ss_family == AF_UNIX)
			unlink(((struct sockaddr_un *)&s->conf.listen[i].ss)->sun_path);
	}
}

/* Take an already-bound socket for the same address from a retiring
 * service: a reload keeps its sockets and drops no connection. */
static int
listen_steal(struct service *from, const char *text)
{
	for (struct service *o = from; o != NULL; o = o->next)
		for (int i = 0; i < o->conf.nlisten; i++)
			if (o->fds[i] >= 0 &&
			    strcmp(o->conf.listen[i].text, text) == 0) {
				int fd = o->fds[i];
				o->fds[i] = -1;
				return fd;
			}
	return -1;
}

int
service_bind(struct service *s, struct service *steal_from)
{
	char *err = NULL;

	for (int i = 0; i < s->conf.nlisten; i++) {
		if (s->fds[i] >= 0)
			continue;
		s->fds[i] = listen_steal(steal_from, s->conf.listen[i].text);
		if (s->fds[i] >= 0)
			continue;
		s->fds[i] = listen_bind(&s->conf.listen[i], &err);
		if (s->fds[i] < 0) {
			log_exc(LOG_MASTER, "service %s: %s", s->conf.name, err);
			free(s->error);
			s->error = err;
			listen_close_all(s);
			return -1;
		}
		if (s->conf.listen[i].ss.ss_family == AF_UNIX)
			listen_own_unix(((struct sockaddr_un *)
			    &s->conf.listen[i].ss)->sun_path, s->conf.user);
	}
	xfree(&s->error);
	return 0;
}
