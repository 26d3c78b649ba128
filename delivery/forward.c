/*
 * forward - new messages into the spool: the copy of a message for its
 * forwarding targets (and the addresses requeued on the way, resolve.c),
 * and auto-replies.
 *
 * A forwarded copy keeps the envelope sender: a failure goes back to
 * whoever sent the original.  (No SRS: a receiver that checks SPF for
 * the sender's domain may refuse it; forwarding_blacklist is the
 * admin's lever for those.)  Its recipients keep the original
 * recipient's NOTIFY, and ORCPT names the original recipient so a DSN
 * says which address it was sent to.  On top of the original text go
 * Delivered-To lines for the users and aliases it passed through here,
 * so a copy that comes back (a forward to a server that forwards to us)
 * is seen as a loop.  Param kind=forward; parent=<the original's id>.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "delivery.h"
#include "queue_notify.h"
#include "log.h"
#include "spool.h"
#include "xalloc.h"

#define FWD_CHUNK (64 * 1024)

int
forward_spool(struct spool_envelope *e, const char *prefix, size_t plen,
    int src_fd, char **qid_r, const char **error_r)
{
	struct spool_file *f = spool_file_new(D.spool, e, error_r);
	char *chunk = NULL;

	if (f == NULL)
		return -1;
	if (prefix != NULL && plen > 0 && spool_file_write(f, prefix, plen) < 0)
		goto write_error;
	if (src_fd >= 0) {
		chunk = xmalloc(FWD_CHUNK);
		for (;;) {
			ssize_t n = read(src_fd, chunk, FWD_CHUNK);

			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				*error_r = "cannot read the message";
				goto fail;
			}
			if (n == 0)
				break;
			if (spool_file_write(f, chunk, (size_t)n) < 0)
				goto write_error;
		}
	}
	free(chunk);
	if (spool_file_commit(&f, error_r) < 0)
		return -1;
	*qid_r = xstrdup(e->id);
	queue_notify(e->id, spool_subspool_of(D.spool, e->id));
	return 0;
write_error:
	*error_r = "cannot write to the spool";
fail:
	free(chunk);
	spool_file_abort(&f);
	return -1;
}

/* ORCPT=rfc822;<addr as xtext> (RFC 3461 4.2, 4). */
static char *
forward_orcpt(const char *addr)
{
	struct buf b;
	char *s;

	buf_init(&b, strlen(addr) + 16, 0);
	buf_append_str(&b, "rfc822;");
	for (const unsigned char *p = (const unsigned char *)addr; *p; p++) {
		if (*p < '!' || *p > '~' || *p == '+' || *p == '=')
			buf_printf(&b, "+%02X", *p);
		else
			buf_putc(&b, *p);
	}
	s = buf_steal(&b);
	buf_release(&b);
	return s;
}

/* Delivered-To lines for the nodes above each output, deepest first. */
static void
forward_dto(const struct xrun *x, struct buf *b)
{
	const char **seen = xcalloc(x->nnodes + 1, sizeof(*seen));
	size_t nseen = 0;

	for (size_t i = 0; i < x->nout; i++)
		for (int n = x->out[i].parent; n >= 0; n = x->nodes[n].parent) {
			const char *a = x->nodes[n].addr;
			size_t k;

			for (k = 0; k < nseen && strcmp(seen[k], a) != 0; k++)
				;
			if (k < nseen || nseen == DELIVERY_MAX_DTO)
				continue;
			seen[nseen++] = a;
			buf_printf(b, "Delivered-To: %s\r\n", a);
		}
	free(seen);
}

int
forward_queue(struct xrun *x, char **qid_r, const char **error_r)
{
	const struct djob *dj = x->jb->dj;
	const struct djob_rcpt *r = &dj->rcpts[x->rcpt];
	struct spool_envelope e;
	struct buf dto;
	char *orcpt = r->orcpt != NULL ? xstrdup(r->orcpt) :
	    forward_orcpt(r->addr), *err = NULL;
	int fd, rc = -1;

	spool_env_init(&e);
	e.time = (long long)x->jb->now;
	spool_env_set_sender(&e, dj->sender);
	for (size_t i = 0; i < x->nout; i++)
		spool_env_add_rcpt(&e, x->out[i].addr, r->notify, orcpt);
	spool_env_set_param(&e, "kind", "forward");
	spool_env_set_param(&e, "parent", dj->id);
	if (dj->envid != NULL)
		spool_env_set_param(&e, "envid", dj->envid);
	if (dj->ret != NULL)
		spool_env_set_param(&e, "ret", dj->ret);
	if (dj->body != NULL)
		spool_env_set_param(&e, "body", dj->body);
	if (dj->smtputf8 != NULL)
		spool_env_set_param(&e, "smtputf8", dj->smtputf8);
	buf_init(&dto, 256, 0);
	forward_dto(x, &dto);
	fd = dmsg_open(&x->jb->msg, &err);
	if (fd < 0) {
		log_exc(LOG_DELIVERY, "%s: %s", dj->id, err);
		free(err);
		*error_r = "cannot read the message";
	} else {
		rc = forward_spool(&e, dto.data, dto.len, fd, qid_r, error_r);
		close(fd);
	}
	buf_release(&dto);
	spool_env_release(&e);
	free(orcpt);
	return rc;
}
