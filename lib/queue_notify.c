/* queue_notify - "a message arrived" to the queue manager; see the .h */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "queue_notify.h"
#include "xalloc.h"

/* Frames from the queue are tiny (its hello); anything else is ignored. */
#define QN_MAX 4096

static struct event_base *qn_base;
static struct ipc_conn *qn_conn;
static char *qn_sock, *qn_ident;
static enum log_subsys qn_log;

void
queue_notify_init(struct event_base *base, const char *sock,
    const char *ident, enum log_subsys sub)
{
	qn_base = base;
	free(qn_sock);
	free(qn_ident);
	qn_sock = xstrdup(sock);
	qn_ident = xstrdup(ident);
	qn_log = sub;
}

static void
qn_msg(struct ipc_conn *c, const struct ipc_msg *m, void *arg)
{
	(void)c; (void)m; (void)arg;
}

static void
qn_close(struct ipc_conn *c, const char *reason, void *arg)
{
	(void)c; (void)arg;
	log_detail(qn_log, "queue notification connection closed: %s",
	    reason);
	ipc_conn_free(&qn_conn);
}

/* Connect without blocking; a Unix socket connects at once or fails. */
static struct ipc_conn *
qn_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(qn_sock) >= sizeof(sun.sun_path))
		return NULL;
	strcpy(sun.sun_path, qn_sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		log_detail(qn_log, "cannot tell the queue (%s): %s",
		    qn_sock, strerror(errno));
		close(fd);
		return NULL;
	}
	return ipc_conn_new(qn_base, fd, qn_ident, QN_MAX, qn_msg, qn_close,
	    NULL);
}

void
queue_notify(const char *qid, unsigned subspool)
{
	struct ipc_msg *m;

	if (qn_base == NULL)
		return;
	if (qn_conn == NULL && (qn_conn = qn_connect()) == NULL)
		return;
	m = ipc_msg_new("new");
	ipc_msg_add_str(m, "id", qid);
	ipc_msg_add_int(m, "subspool", subspool);
	ipc_conn_send(qn_conn, m);
	ipc_msg_free(&m);
	log_detail(qn_log, "%s: queue told", qid);
}

void
queue_notify_free(void)
{
	ipc_conn_free(&qn_conn);
	xfree(&qn_sock);
	xfree(&qn_ident);
	qn_base = NULL;
}
