/*
 * notify - tell the queue manager about a message we queued: an ipc
 * frame "new" with id and subspool on a connection to state_dir/
 * queue.sock, kept open between messages.  Fire and forget, as smtpd
 * does: the message is durable already and the queue finds what it was
 * not told about when it scans the spool, so a missing socket is logged
 * at detailed level and otherwise ignored.
 *
 * The frame goes out when the event loop next runs, which is after the
 * job's result: the queue learns of the new message at about the time
 * it learns the job is done.
 *
 * XXX the same as smtpd/queue_notify.c; both belong in lib/ once the
 * queue manager settles the protocol.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "delivery.h"
#include "ipc.h"
#include "log.h"

/* Frames from the queue are tiny (its hello); anything else is ignored. */
#define NOTIFY_MAX 4096

static struct event_base *nt_base;
static struct ipc_conn *nt_conn;

void
notify_init(struct event_base *base)
{
	nt_base = base;
}

static void
nt_msg(struct ipc_conn *c, const struct ipc_msg *m, void *arg)
{
	(void)c; (void)m; (void)arg;
}

static void
nt_close(struct ipc_conn *c, const char *reason, void *arg)
{
	(void)c; (void)arg;
	log_detail(LOG_DELIVERY, "delivery: queue notification connection "
	    "closed: %s", reason);
	ipc_conn_free(&nt_conn);
}

/* Connect without blocking; a Unix socket connects at once or fails. */
static struct ipc_conn *
nt_connect(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(D.queue_sock) >= sizeof(sun.sun_path))
		return NULL;
	strcpy(sun.sun_path, D.queue_sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		log_detail(LOG_DELIVERY, "delivery: cannot tell the queue "
		    "(%s): %s", D.queue_sock, strerror(errno));
		close(fd);
		return NULL;
	}
	return ipc_conn_new(nt_base, fd, "delivery", NOTIFY_MAX, nt_msg,
	    nt_close, NULL);
}

void
notify_queue(const char *qid, unsigned subspool)
{
	struct ipc_msg *m;

	if (nt_base == NULL)
		return;
	if (nt_conn == NULL && (nt_conn = nt_connect()) == NULL)
		return;
	m = ipc_msg_new("new");
	ipc_msg_add_str(m, "id", qid);
	ipc_msg_add_int(m, "subspool", subspool);
	ipc_conn_send(nt_conn, m);
	ipc_msg_free(&m);
	log_detail(LOG_DELIVERY, "%s: queue told", qid);
}

void
notify_free(void)
{
	ipc_conn_free(&nt_conn);
}
