/*
 * control - the socket adminctl talks to (state_dir/master.sock, mode
 * 0600: only the user master runs as may steer it).
 *
 * Requests (lib/ipc frames):  status | service action=stop|start name=N
 * | reload.  Replies: "ok" with fields, or "error" with message=...
 */
#include <errno.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "ipc.h"
#include "log.h"
#include "master.h"
#include "xalloc.h"

#define CONTROL_MAX_FRAME (64 * 1024)

static struct evconnlistener *control_lev;
static char *control_path;

static const char *
service_state(const struct service *s)
{
	unsigned n = service_running(s);

	if (s->stopped)
		return "stopped";
	if (s->error != NULL)
		return "failed";
	if (n == (unsigned)s->conf.workers)
		return "running";
	for (int i = 0; i < s->conf.workers; i++)
		if (s->restart_ev[i] != NULL && evtimer_pending(s->restart_ev[i],
		    NULL))
			return n == 0 ? "restarting" : "degraded";
	return "starting";
}

static void
control_status(struct ipc_msg *r)
{
	time_t now = time(NULL);
	int i = 0;
	char key[32];

	for (struct service *s = M.services; s != NULL; s = s->next, i++) {
		struct buf *pids = buf_new(64), *lis = buf_new(64);
		unsigned sessions = 0;
		unsigned long long accepted = 0;
		time_t oldest = 0;

		for (struct child *c = M.children; c != NULL; c = c->next) {
			if (c->svc != s)
				continue;
			sessions += c->sessions;
			accepted += c->accepted;
			if (c->draining)
				continue;
			buf_printf(pids, "%s%ld", buf_len(pids) ? "," : "",
			    (long)c->pid);
			if (oldest == 0 || c->started < oldest)
				oldest = c->started;
		}
		for (int l = 0; l < s->conf.nlisten; l++)
			buf_printf(lis, "%s%s", l ? " " : "", s->conf.listen[l].text);
#define ADD_STR(f, v) (snprintf(key, sizeof(key), "%s_%d", f, i), \
	ipc_msg_add_str(r, key, v))
#define ADD_INT(f, v) (snprintf(key, sizeof(key), "%s_%d", f, i), \
	ipc_msg_add_int(r, key, (long long)(v)))
		ADD_STR("name", s->conf.name);
		ADD_STR("state", service_state(s));
		ADD_STR("pids", buf_str(pids));
		ADD_STR("listen", buf_str(lis));
		ADD_STR("error", s->error != NULL ? s->error : "");
		ADD_INT("workers", s->conf.workers);
		ADD_INT("running", service_running(s));
		ADD_INT("uptime", oldest ? now - oldest : 0);
		ADD_INT("restarts", s->restarts);
		ADD_INT("sessions", sessions);
		ADD_INT("accepted", accepted);
#undef ADD_STR
#undef ADD_INT
		buf_free(&pids);
		buf_free(&lis);
	}
	ipc_msg_add_int(r, "count", i);
	ipc_msg_add_int(r, "pid", getpid());
}

static struct ipc_msg *
control_error(const char *fmt, const char *arg)
{
	struct ipc_msg *r = ipc_msg_new("error");
	char *msg = xasprintf(fmt, arg);

	ipc_msg_add_str(r, "message", msg);
	free(msg);
	return r;
}

static struct ipc_msg *
control_service(const struct ipc_msg *m)
{
	const char *name = ipc_msg_get_str(m, "name");
	const char *action = ipc_msg_get_str(m, "action");
	struct service *s;

	if (name == NULL || action == NULL)
		return control_error("service: missing name or action%s", "");
	s = service_find(name);
	if (s == NULL)
		return control_error("no service named '%s'", name);
	if (strcmp(action, "stop") == 0) {
		if (!s->stopped) {
			s->stopped = true;
			stopped_save();
			/* Close our copies first: new connections are refused
			 * while the children finish the sessions they have. */
			listen_close_all(s);
			service_stop_all(s);
			log_msg(LOG_MASTER, "service %s: stopped by admin", name);
		}
	} else if (strcmp(action, "start") == 0) {
		if (s->stopped) {
			s->stopped = false;
			stopped_save();
			memset(s->fails, 0, sizeof(s->fails));
			if (service_bind(s, NULL) < 0)
				return control_error("%s", s->error);
			service_start_all(s);
			log_msg(LOG_MASTER, "service %s: started by admin", name);
		}
	} else
		return control_error("unknown service action '%s'", action);
	return ipc_msg_new("ok");
}

static void
control_msg(struct ipc_conn *c, const struct ipc_msg *m, void *arg)
{
	const char *type = ipc_msg_type(m);
	struct ipc_msg *r;
	char *err = NULL;

	(void)arg;
	log_detail(LOG_MASTER, "control: %s", type);
	if (strcmp(type, "status") == 0) {
		r = ipc_msg_new("ok");
		control_status(r);
	} else if (strcmp(type, "service") == 0) {
		r = control_service(m);
	} else if (strcmp(type, "reload") == 0) {
		if (master_reload(&err) < 0) {
			r = control_error("%s", err);
			free(err);
		} else
			r = ipc_msg_new("ok");
	} else
		r = control_error("unknown request '%s'", type);
	ipc_conn_send(c, r);
	ipc_msg_free(&r);
}

static void
control_conn_close(struct ipc_conn *c, const char *reason, void *arg)
{
	(void)arg; (void)reason;
	ipc_conn_free(&c);
}

static void
control_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	(void)l; (void)sa; (void)salen; (void)arg;
	evutil_make_socket_nonblocking(fd);
	evutil_make_socket_closeonexec(fd);
	ipc_conn_new(M.base, fd, "master", CONTROL_MAX_FRAME, control_msg,
	    control_conn_close, NULL);
}

int
control_open(char **error_r)
{
	struct listen_addr a;
	struct sockaddr_un *un = (struct sockaddr_un *)&a.ss;
	int fd;

	memset(&a, 0, sizeof(a));
	control_path = xasprintf("%s/master.sock", conf_str("state_dir"));
	if (strlen(control_path) >= sizeof(un->sun_path)) {
		*error_r = xasprintf("control socket path too long: %s",
		    control_path);
		return -1;
	}
	un->sun_family = AF_UNIX;
	strcpy(un->sun_path, control_path);
	a.sslen = sizeof(*un);
	a.text = control_path;
	fd = listen_bind(&a, error_r);
	if (fd < 0)
		return -1;
	chmod(control_path, 0600);
	evutil_make_socket_nonblocking(fd);
	control_lev = evconnlistener_new(M.base, control_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE, 0, fd);
	return control_lev != NULL ? 0 : -1;
}

void
control_close(void)
{
	if (control_lev != NULL) {
		evconnlistener_free(control_lev);
		control_lev = NULL;
		unlink(control_path);
	}
	xfree(&control_path);
}
