/*
 * cmd_list - STAT, LIST, UIDL and DELE (RFC 1939).
 *
 * STAT and the one-message forms answer from the maildrop's list alone.
 * LIST and UIDL without an argument are streams: a batch of lines at a
 * time, the next batch when the client has read the last, so a mailbox
 * of 100,000 messages costs no more memory than one of ten.  Deleted
 * messages are left out (RFC 1939 section 5).
 */
#include <stdlib.h>

#include <event2/buffer.h>

#include "maildrop.h"
#include "pop3d.h"
#include "session.h"
#include "xalloc.h"

struct list_stream {
	struct stream st;
	bool uidl;
	unsigned next;           /* next message number */
};

unsigned
msg_arg(struct session *s, const char *arg, size_t len, bool allow_deleted)
{
	unsigned long long n = 0;

	/* Decimal digits only: no sign, no blanks, at most 10 of them. */
	if (len == 0 || len > 10) {
		reply_bad(s, "Invalid message number");
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		if (arg[i] < '0' || arg[i] > '9') {
			reply_bad(s, "Invalid message number");
			return 0;
		}
		n = n * 10 + (unsigned)(arg[i] - '0');
	}
	if (n == 0 || n > maildrop_count(s->md)) {
		reply_err(s, "No such message");
		return 0;
	}
	if (!allow_deleted && maildrop_deleted(s->md, (unsigned)n)) {
		reply_err(s, "Message %llu is deleted", n);
		return 0;
	}
	return (unsigned)n;
}

void
cmd_stat(struct session *s, const char *args, size_t len)
{
	(void)args; (void)len;
	reply_ok(s, "%u %llu", maildrop_live(s->md),
	    maildrop_live_size(s->md));
}

static bool
list_fill(struct session *s, struct stream *st, struct evbuffer *out)
{
	struct list_stream *ls = (struct list_stream *)st;
	unsigned count = maildrop_count(s->md);
	char uidl[MAILDROP_UIDL_MAX + 1];

	for (; ls->next <= count; ls->next++) {
		if (evbuffer_get_length(out) >= POP3_OUT_HIGH)
			return false;
		if (maildrop_deleted(s->md, ls->next))
			continue;
		if (ls->uidl) {
			maildrop_uidl(s->md, ls->next, uidl);
			evbuffer_add_printf(out, "%u %s\r\n", ls->next, uidl);
		} else
			evbuffer_add_printf(out, "%u %llu\r\n", ls->next,
			    maildrop_size(s->md, ls->next));
	}
	evbuffer_add(out, ".\r\n", 3);
	return true;
}

static void
list_done(struct session *s, struct stream *st, bool complete)
{
	(void)s; (void)complete;
	free(st);
}

static void
list_common(struct session *s, const char *args, size_t len, bool uidl)
{
	struct list_stream *ls;
	char id[MAILDROP_UIDL_MAX + 1];
	unsigned n;

	if (len > 0) {
		if ((n = msg_arg(s, args, len, false)) == 0)
			return;
		if (uidl) {
			maildrop_uidl(s->md, n, id);
			reply_ok(s, "%u %s", n, id);
		} else
			reply_ok(s, "%u %llu", n, maildrop_size(s->md, n));
		return;
	}
	if (uidl)
		reply_ok(s, "Unique-ID listing follows");
	else
		reply_ok(s, "%u messages (%llu octets)", maildrop_live(s->md),
		    maildrop_live_size(s->md));
	ls = xcalloc(1, sizeof(*ls));
	ls->st.fill = list_fill;
	ls->st.done = list_done;
	ls->uidl = uidl;
	ls->next = 1;
	session_stream(s, &ls->st);
}

void
cmd_list(struct session *s, const char *args, size_t len)
{
	list_common(s, args, len, false);
}

void
cmd_uidl(struct session *s, const char *args, size_t len)
{
	list_common(s, args, len, true);
}

void
cmd_dele(struct session *s, const char *args, size_t len)
{
	unsigned n = msg_arg(s, args, len, true);

	if (n == 0)
		return;
	if (!maildrop_delete(s->md, n)) {
		reply_err(s, "Message %u already deleted", n);
		return;
	}
	s->deleted++;
	reply_ok(s, "Message %u deleted", n);
}
