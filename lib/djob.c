/* djob - see djob.h */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "djob.h"
#include "xalloc.h"

#define DJOB_MAX_RCPTS 100000

static void
djob_add_opt(struct ipc_msg *m, const char *name, const char *v)
{
	if (v != NULL)
		ipc_msg_add_str(m, name, v);
}

static const char *
djob_field(const struct ipc_msg *m, const char *fmt, size_t i)
{
	char key[40];

	snprintf(key, sizeof(key), fmt, i);
	return ipc_msg_get_str(m, key);
}

struct ipc_msg *
djob_encode(const struct djob *j)
{
	struct ipc_msg *m = ipc_msg_new("deliver");
	char key[40];

	ipc_msg_add_str(m, "id", j->id);
	ipc_msg_add_str(m, "path", j->path);
	ipc_msg_add_int(m, "offset", j->offset);
	ipc_msg_add_str(m, "sender", j->sender);
	ipc_msg_add_int(m, "attempt", j->attempt);
	djob_add_opt(m, "envid", j->envid);
	djob_add_opt(m, "ret", j->ret);
	djob_add_opt(m, "body", j->body);
	djob_add_opt(m, "smtputf8", j->smtputf8);
	if (j->nrelays > 0)
		ipc_msg_add_int(m, "nrelay", (long long)j->nrelays);
	for (size_t k = 0; k < j->nrelays; k++) {
		const struct djob_relay *r = &j->relays[k];

		snprintf(key, sizeof(key), "relay_%zu", k);
		ipc_msg_add_str(m, key, r->hosts);
		snprintf(key, sizeof(key), "relay_user_%zu", k);
		djob_add_opt(m, key, r->user);
		snprintf(key, sizeof(key), "relay_password_%zu", k);
		djob_add_opt(m, key, r->password);
		snprintf(key, sizeof(key), "relay_tls_%zu", k);
		djob_add_opt(m, key, r->tls);
	}
	ipc_msg_add_int(m, "nrcpt", (long long)j->nrcpts);
	for (size_t i = 0; i < j->nrcpts; i++) {
		snprintf(key, sizeof(key), "rcpt_%zu", i);
		ipc_msg_add_str(m, key, j->rcpts[i].addr);
		snprintf(key, sizeof(key), "notify_%zu", i);
		djob_add_opt(m, key, j->rcpts[i].notify);
		snprintf(key, sizeof(key), "orcpt_%zu", i);
		djob_add_opt(m, key, j->rcpts[i].orcpt);
	}
	return m;
}

int
djob_decode(const struct ipc_msg *m, struct djob *j, const char **error_r)
{
	long long n;

	memset(j, 0, sizeof(*j));
	if (strcmp(ipc_msg_type(m), "deliver") != 0) {
		*error_r = "not a deliver frame";
		return -1;
	}
	j->id = ipc_msg_get_str(m, "id");
	j->path = ipc_msg_get_str(m, "path");
	j->sender = ipc_msg_get_str(m, "sender");
	if (j->id == NULL || j->path == NULL || j->sender == NULL ||
	    ipc_msg_get_int(m, "offset", &j->offset) < 0 || j->offset < 0 ||
	    ipc_msg_get_int(m, "attempt", &j->attempt) < 0 ||
	    ipc_msg_get_int(m, "nrcpt", &n) < 0 || n < 1 ||
	    n > DJOB_MAX_RCPTS) {
		*error_r = "deliver frame lacks id, path, sender, offset, "
		    "attempt or recipients";
		return -1;
	}
	j->envid = ipc_msg_get_str(m, "envid");
	j->ret = ipc_msg_get_str(m, "ret");
	j->body = ipc_msg_get_str(m, "body");
	j->smtputf8 = ipc_msg_get_str(m, "smtputf8");
	long long nr = 0;
	if (ipc_msg_get_str(m, "nrelay") != NULL &&
	    (ipc_msg_get_int(m, "nrelay", &nr) < 0 || nr < 0 ||
	    nr > DJOB_RELAY_MAX)) {
		*error_r = "deliver frame has a bad nrelay";
		return -1;
	}
	j->nrelays = (size_t)nr;
	for (size_t k = 0; k < j->nrelays; k++) {
		struct djob_relay *r = &j->relays[k];

		r->hosts = djob_field(m, "relay_%zu", k);
		r->user = djob_field(m, "relay_user_%zu", k);
		r->password = djob_field(m, "relay_password_%zu", k);
		r->tls = djob_field(m, "relay_tls_%zu", k);
		if (r->hosts == NULL) {
			*error_r = "deliver frame misses a relay";
			return -1;
		}
	}
	j->rcpts = xcalloc((size_t)n, sizeof(*j->rcpts));
	j->nrcpts = (size_t)n;
	for (size_t i = 0; i < j->nrcpts; i++) {
		j->rcpts[i].addr = djob_field(m, "rcpt_%zu", i);
		j->rcpts[i].notify = djob_field(m, "notify_%zu", i);
		j->rcpts[i].orcpt = djob_field(m, "orcpt_%zu", i);
		j->rcpts[i].status = DJOB_DEFER;
		if (j->rcpts[i].addr == NULL) {
			djob_release(j);
			*error_r = "deliver frame misses a recipient";
			return -1;
		}
	}
	return 0;
}

void
djob_release(struct djob *j)
{
	for (size_t i = 0; i < j->nrcpts; i++) {
		free(j->rcpts[i].text);
		free(j->rcpts[i].queued);
	}
	free(j->rcpts);
	j->rcpts = NULL;
	j->nrcpts = 0;
}

void
djob_set(struct djob *j, size_t i, enum djob_status st, const char *fmt,
    ...)
{
	va_list ap;
	char *text;

	ASSERT(i < j->nrcpts);
	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	free(j->rcpts[i].text);
	j->rcpts[i].text = text;
	j->rcpts[i].status = st;
}

static const char *const status_names[] = { "ok", "defer", "fail" };

const char *
djob_status_name(enum djob_status s)
{
	ASSERT(s <= DJOB_FAIL);
	return status_names[s];
}

struct ipc_msg *
djob_result_encode(const struct djob *j)
{
	struct ipc_msg *m = ipc_msg_new("result");
	char key[40];

	ipc_msg_add_int(m, "nrcpt", (long long)j->nrcpts);
	for (size_t i = 0; i < j->nrcpts; i++) {
		const struct djob_rcpt *r = &j->rcpts[i];

		snprintf(key, sizeof(key), "status_%zu", i);
		ipc_msg_add_str(m, key, djob_status_name(r->status));
		snprintf(key, sizeof(key), "text_%zu", i);
		ipc_msg_add_str(m, key, r->text != NULL ? r->text :
		    "4.0.0 no result");
		if (r->queued != NULL) {
			snprintf(key, sizeof(key), "queued_%zu", i);
			ipc_msg_add_str(m, key, r->queued);
		}
	}
	return m;
}

int
djob_result_decode(const struct ipc_msg *m, struct djob *j,
    const char **error_r)
{
	long long n;

	if (strcmp(ipc_msg_type(m), "result") != 0 ||
	    ipc_msg_get_int(m, "nrcpt", &n) < 0 || n != (long long)j->nrcpts) {
		*error_r = "result frame does not match the job";
		return -1;
	}
	for (size_t i = 0; i < j->nrcpts; i++) {
		const char *st = djob_field(m, "status_%zu", i);
		const char *text = djob_field(m, "text_%zu", i);
		const char *q = djob_field(m, "queued_%zu", i);
		enum djob_status s;

		if (st == NULL || text == NULL)
			goto bad;
		if (strcmp(st, "ok") == 0)
			s = DJOB_OK;
		else if (strcmp(st, "defer") == 0)
			s = DJOB_DEFER;
		else if (strcmp(st, "fail") == 0)
			s = DJOB_FAIL;
		else
			goto bad;
		djob_set(j, i, s, "%s", text);
		free(j->rcpts[i].queued);
		j->rcpts[i].queued = q != NULL ? xstrdup(q) : NULL;
	}
	return 0;
bad:
	*error_r = "result frame has a bad recipient status";
	return -1;
}
