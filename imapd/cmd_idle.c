/*
 * cmd_idle - IDLE (RFC 2177): the session waits for DONE and is told of
 * new mail, expunges and flag changes as they happen.  inotify watches
 * the folder's new/ and cur/ (deliveries, pop3d, other imapd processes
 * all show up there), so nothing polls; imap_idle_timeout ends an IDLE
 * that goes on too long.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "imapd.h"
#include "log.h"
#include "xalloc.h"

void
idle_stop(struct session *s)
{
	if (s->ino_ev != NULL) {
		event_free(s->ino_ev);
		s->ino_ev = NULL;
	}
	if (s->ino_fd >= 0) {
		close(s->ino_fd);
		s->ino_fd = -1;
	}
}

static void
idle_notify(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	char b[4096];

	(void)what;
	while (read(fd, b, sizeof(b)) > 0)
		;
	if (s->mb != NULL)
		s->mb->synced_at = 0;       /* trust nothing: sync fully */
	session_update(s, true);
}

void
cmd_idle(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	(void)a; (void)uid;
	if (n != 0) {
		session_bad(s, tag, "IDLE takes no arguments");
		return;
	}
	if (!imapd.idle) {
		session_bad(s, tag, "IDLE is disabled");
		return;
	}
	free(s->tag);
	s->tag = xstrdup(tag);
	if (s->mb != NULL) {
		s->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (s->ino_fd >= 0) {
			char *p = xasprintf("%s/new", s->mb->dir);
			char *q = xasprintf("%s/cur", s->mb->dir);
			uint32_t mask = IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM |
			    IN_DELETE;

			(void)inotify_add_watch(s->ino_fd, p, mask);
			(void)inotify_add_watch(s->ino_fd, q, mask);
			free(p);
			free(q);
			s->ino_ev = event_new(bufferevent_get_base(s->bev),
			    s->ino_fd, EV_READ | EV_PERSIST, idle_notify, s);
			event_add(s->ino_ev, NULL);
		} else
			log_exc(LOG_IMAP, "%s: inotify: unavailable", s->id);
	}
	session_update(s, true);
	mcache_drop(s);         /* an idling session keeps its memory small */
	out(s, "+ idling\r\n");
	s->wait = W_IDLE;
	session_timer(s, imapd.idle_timeout_ms);
}

void
idle_line(struct session *s, const char *line, size_t len)
{
	idle_stop(s);
	s->wait = W_NONE;
	if (len == 4 && strncasecmp(line, "DONE", 4) == 0)
		tagged(s, s->tag, "OK IDLE terminated");
	else
		session_bad(s, s->tag, "Expected DONE");
	free(s->tag);
	s->tag = NULL;
}
