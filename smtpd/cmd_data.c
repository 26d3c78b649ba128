/*
 * cmd_data - DATA (RFC 5321 4.1.1.4) and BDAT (RFC 3030), and feeding
 * the message bytes that follow them to the data reader (rx.c).
 *
 * BDAT announces its size, and the client sends the chunk without
 * waiting for an answer, so a BDAT we refuse still has its chunk read
 * and thrown away (RFC 3030 section 2); the refusal is sent after it.
 * A BDAT whose size cannot be read leaves no way to find where the
 * chunk ends: the session is closed rather than run the chunk's bytes
 * as commands.
 */
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "session.h"
#include "smtpd.h"

#define DATA_IOV 8

void
cmd_data(struct session *s, const char *args, size_t len)
{
	(void)args; (void)len;
	if (s->state == ST_MAIL) {
		/* Normal after pipelined RCPTs that all failed (RFC 2920). */
		reply(s, 554, "5.5.1", "No valid recipients");
		return;
	}
	if (s->txn.body == BODY_BINARYMIME) {
		reply_bad(s, 503, "5.5.1", "BODY=BINARYMIME needs BDAT");
		return;
	}
	if (message_open(s, true, false) < 0) {
		reply(s, 452, "4.3.1", "Insufficient system storage");
		return;
	}
	session_set_state(s, ST_DATA);
	reply(s, 354, NULL, "End data with <CR><LF>.<CR><LF>");
}

/* "size [LAST]"; false if malformed. */
static bool
bdat_parse(const char *args, size_t len, unsigned long long *size_r,
    bool *last_r)
{
	size_t i = 0;
	unsigned long long n = 0;

	while (i < len && args[i] >= '0' && args[i] <= '9') {
		if (i == 19)
			return false;       /* beyond any size we could take */
		n = n * 10 + (unsigned)(args[i++] - '0');
	}
	if (i == 0)
		return false;
	*size_r = n;
	*last_r = false;
	if (i == len)
		return true;
	if (len - i == 5 && strncasecmp(args + i, " LAST", 5) == 0) {
		*last_r = true;
		return true;
	}
	return false;
}

static void
bdat_refuse(struct session *s, int code, const char *enh, const char *text)
{
	s->bdat_refusal.code = code;
	snprintf(s->bdat_refusal.enh, sizeof(s->bdat_refusal.enh), "%s", enh);
	snprintf(s->bdat_refusal.text, sizeof(s->bdat_refusal.text), "%s",
	    text);
}

void
cmd_bdat(struct session *s, const char *args, size_t len)
{
	unsigned long long size;
	bool last;

	if (!bdat_parse(args, len, &size, &last)) {
		log_msg(LOG_SMTP, "%s: malformed BDAT from %s; closing", s->id,
		    s->ip);
		reply(s, 501, "5.5.4", "Syntax: BDAT size [LAST]");
		session_close(s);
		return;
	}
	s->bdat_left = s->bdat_size = size;
	s->bdat_last = last;
	s->bdat_return = s->state;
	s->bdat_refusal.code = 0;
	if (s->state == ST_GREET)
		bdat_refuse(s, 503, "5.5.1", "Send EHLO/HELO first");
	else if (s->state == ST_READY)
		bdat_refuse(s, 503, "5.5.1", "Need MAIL and RCPT before BDAT");
	else if (s->state == ST_MAIL)
		bdat_refuse(s, 554, "5.5.1", "No valid recipients");
	else if (s->state == ST_RCPT && message_open(s, false,
	    s->txn.body == BODY_BINARYMIME) < 0)
		bdat_refuse(s, 452, "4.3.1", "Insufficient system storage");
	session_set_state(s, ST_BDAT);
}

/* The chunk is in (or was thrown away): answer it. */
static void
bdat_done(struct session *s)
{
	struct smtp_reply *r = &s->bdat_refusal;

	if (r->code != 0) {
		session_set_state(s, s->bdat_return);
		if (r->code == 503)
			reply_bad(s, r->code, r->enh, "%s", r->text);
		else
			reply_policy(s, r);
		return;
	}
	s->txn.chunks++;
	if (s->bdat_last) {
		rx_finish(&s->txn.rx);
		message_end(s);
	} else if (rx_failed(&s->txn.rx)) {
		message_end(s);         /* no use reading more chunks */
	} else {
		session_set_state(s, ST_CHUNKING);
		reply(s, 250, "2.0.0", "%llu octets received",
		    s->bdat_size);
	}
}

/* Feed one batch of buffered bytes; how many were used, *end_r. */
static size_t
data_batch(struct session *s, struct evbuffer *in, bool *end_r)
{
	struct evbuffer_iovec v[DATA_IOV];
	bool bdat = s->state == ST_BDAT, keep = !bdat || s->bdat_refusal.code == 0;
	ev_ssize_t want = -1;
	size_t used = 0, len, n;
	int nv;

	if (bdat)
		want = s->bdat_left > (unsigned long long)EV_SSIZE_MAX ?
		    EV_SSIZE_MAX : (ev_ssize_t)s->bdat_left;
	nv = evbuffer_peek(in, want, NULL, v, DATA_IOV);
	if (nv > DATA_IOV)
		nv = DATA_IOV;
	*end_r = false;
	for (int i = 0; i < nv && !*end_r; i++) {
		len = v[i].iov_len;
		if (bdat && len > s->bdat_left - used)
			len = (size_t)(s->bdat_left - used);
		n = keep ? rx_feed(&s->txn.rx, v[i].iov_base, len, end_r) : len;
		used += n;
		if (bdat && used == s->bdat_left)
			break;
	}
	evbuffer_drain(in, used);
	if (bdat)
		s->bdat_left -= used;
	return used;
}

bool
data_input(struct session *s, struct evbuffer *in)
{
	bool end;

	for (;;) {
		if (s->state == ST_BDAT && s->bdat_left == 0) {
			bdat_done(s);
			return false;
		}
		if (evbuffer_get_length(in) == 0)
			return true;
		data_batch(s, in, &end);
		if (end) {
			message_end(s);
			return false;
		}
	}
}
