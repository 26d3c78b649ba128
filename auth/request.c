/*
 * request - the "auth" frame: fields checked into a struct auth_check,
 * and the log lines about the outcome.
 *
 * The caller is a local daemon, but every value came from a client on
 * the network: lengths are capped, and whatever goes into a log line is
 * cleaned of control characters and cut short first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "auth.h"
#include "auth_client.h"
#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "xalloc.h"

/* Most bytes of a peer's string that go into one log line. */
#define REQUEST_LOG_MAX 128
#define REQUEST_DIGEST_LEN 32

static const struct {
	const char *name;
	enum auth_mech mech;
} request_mechs[] = {
	{ "PLAIN", MECH_PLAIN },
	{ "LOGIN", MECH_LOGIN },
	{ "CRAM-MD5", MECH_CRAM_MD5 },
};

static const char *const request_services[] = {
	"smtp", "pop", "imap", "ldap", "admin",
};

static _Thread_local char request_errbuf[128];

/*
 * The field called name as a C string.  0 with *s_r; -1 with *s_r NULL
 * and *error_r when it is missing, holds a NUL or is too long.
 */
static int
request_field(const struct ipc_msg *m, const char *name, const char **s_r,
    const char **error_r)
{
	const void *v;
	size_t len;
	const char *what;

	*s_r = NULL;
	if (ipc_msg_get(m, name, &v, &len) < 0)
		what = "missing field";
	else if (len > AUTH_FIELD_MAX)
		what = "oversized field";
	else if (memchr(v, '\0', len) != NULL)
		what = "NUL in field";
	else {
		*s_r = v;      /* ipc keeps a NUL after every value */
		return 0;
	}
	snprintf(request_errbuf, sizeof(request_errbuf), "%s '%s'", what, name);
	*error_r = request_errbuf;
	return -1;
}

static int
request_mech(struct auth_check *c, const char *mech, const char **error_r)
{
	for (size_t i = 0; i < sizeof(request_mechs) / sizeof(*request_mechs);
	    i++)
		if (strcasecmp(mech, request_mechs[i].name) == 0) {
			c->mech = request_mechs[i].mech;
			c->mech_name = request_mechs[i].name;
			return 0;
		}
	*error_r = "unknown mech";
	return -1;
}

static int
request_service(const char *service, const char **error_r)
{
	for (size_t i = 0;
	    i < sizeof(request_services) / sizeof(*request_services); i++)
		if (strcmp(service, request_services[i]) == 0)
			return 0;
	*error_r = "unknown service";
	return -1;
}

static bool
request_is_hex(const char *s, size_t n)
{
	if (strlen(s) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strchr("0123456789abcdefABCDEF", s[i]) == NULL)
			return false;
	return true;
}

/* The fields every mech needs, the ones for the log line first: they
 * stay set when a later one is wrong, so the line names the ip. */
static int
request_common(const struct ipc_msg *m, struct auth_check *c,
    const char **error_r)
{
	const char *mech;

	if (request_field(m, "session", &c->session, error_r) < 0 ||
	    request_field(m, "ip", &c->ip, error_r) < 0 ||
	    request_field(m, "service", &c->service, error_r) < 0 ||
	    request_field(m, "user", &c->user, error_r) < 0 ||
	    request_field(m, "mech", &mech, error_r) < 0 ||
	    request_mech(c, mech, error_r) < 0 ||
	    request_service(c->service, error_r) < 0)
		return -1;
	if (c->session[0] == '\0' || c->ip[0] == '\0' || c->user[0] == '\0') {
		*error_r = "empty session, ip or user";
		return -1;
	}
	return 0;
}

int
request_parse(const struct ipc_msg *m, struct auth_check *c,
    const char **error_r)
{
	memset(c, 0, sizeof(*c));
	if (request_common(m, c, error_r) < 0)
		return -1;
	c->admin = strcmp(c->service, "admin") == 0;
	if (c->mech != MECH_CRAM_MD5)
		return request_field(m, "password", &c->password, error_r);
	if (request_field(m, "challenge", &c->challenge, error_r) < 0 ||
	    request_field(m, "digest", &c->digest, error_r) < 0)
		return -1;
	c->challenge_len = strlen(c->challenge);
	if (c->challenge_len == 0) {
		*error_r = "empty challenge";
		return -1;
	}
	if (!request_is_hex(c->digest, REQUEST_DIGEST_LEN)) {
		*error_r = "digest is not 32 hex digits";
		return -1;
	}
	return 0;
}

/*
 * s made fit for a log line: valid UTF-8 stays, control characters
 * (C0, DEL, C1) and invalid bytes become '?', and more than
 * REQUEST_LOG_MAX bytes are cut (at a character) and marked "...".
 * NULL (field missing) is "-".  malloc'd.
 */
static char *
request_clean(const char *s)
{
	struct buf b;
	size_t len, i = 0, n;
	char *out;

	if (s == NULL)
		return xstrdup("-");
	buf_init(&b, 64, 0);
	len = strlen(s);
	while (i < len) {
		const unsigned char *p = (const unsigned char *)s + i;

		n = addr_utf8_len(s + i, len - i);
		if (i + (n == 0 ? 1 : n) > REQUEST_LOG_MAX) {
			buf_append_str(&b, "...");
			break;
		}
		if (n == 0 || (n == 1 && (p[0] < 0x20 || p[0] == 0x7f)) ||
		    (n == 2 && p[0] == 0xc2 && p[1] < 0xa0)) {
			buf_putc(&b, '?');
			i += n == 0 ? 1 : n;
			continue;
		}
		buf_append(&b, s + i, n);
		i += n;
	}
	out = buf_steal(&b);
	buf_release(&b);          /* steal leaves a fresh empty buffer */
	return out;
}

/* The cleaned strings every line carries. */
struct request_logv {
	char *session, *service, *ip, *user;
};

static void
request_logv_init(struct request_logv *lv, const struct auth_check *c)
{
	lv->session = request_clean(c->session);
	lv->service = request_clean(c->service);
	lv->ip = request_clean(c->ip);
	lv->user = request_clean(c->user);
}

static void
request_logv_free(struct request_logv *lv)
{
	free(lv->session);
	free(lv->service);
	free(lv->ip);
	free(lv->user);
}

void
request_log(const struct auth_check *c, const struct auth_verdict *v)
{
	struct request_logv lv;

	request_logv_init(&lv, c);
	if (v->ok)
		log_detail(LOG_AUTHD, "%s: login ok: service=%s mech=%s "
		    "ip=%s user=<%s> as=<%s>", lv.session, lv.service,
		    c->mech_name, lv.ip, lv.user, v->user);
	else
		log_msg(LOG_AUTHD, "%s: login failed: service=%s mech=%s "
		    "ip=%s user=<%s>: %s%s", lv.session, lv.service,
		    c->mech_name, lv.ip, lv.user, v->reason,
		    v->temp ? " (temporary)" : "");
	request_logv_free(&lv);
}

void
request_log_malformed(const struct auth_check *c, const char *peer,
    const char *why)
{
	struct request_logv lv;

	request_logv_init(&lv, c);
	log_msg(LOG_AUTHD, "%s: login failed: service=%s mech=%s ip=%s "
	    "user=<%s>: malformed request from %s: %s", lv.session,
	    lv.service, c->mech_name != NULL ? c->mech_name : "-", lv.ip,
	    lv.user, peer != NULL ? peer : "?", why);
	request_logv_free(&lv);
}
