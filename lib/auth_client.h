/*
 * auth_client - ask the auth daemon whether a login is good, without
 * blocking an event loop; and turn a SASL exchange into such a request.
 *
 * The auth daemon (auth/, see auth(8)) is the only process that reads
 * password hashes.  smtpd, pop3d, imapd and ldapd run the SASL exchange
 * with their client, then ask it over its Unix socket (state_dir/auth.sock
 * by default) in the ipc framing of lib/ipc.h:
 *
 *   request "auth"
 *	mech       "PLAIN", "LOGIN" or "CRAM-MD5"
 *	user       the login name as the client gave it
 *	password   PLAIN and LOGIN
 *	challenge  CRAM-MD5: the challenge we sent, exactly
 *	digest     CRAM-MD5: the client's 32 hex digits
 *	service    "smtp", "pop", "imap", "ldap" or "admin"
 *	ip         the client's address, for the log and abuse detection
 *	session    the caller's session id, to follow a login across logs
 *
 *   reply "ok"    user = the canonical "local@primary-domain" (lower
 *                 case), or admin_user for service "admin"
 *   reply "fail"  reason = text for the caller's log ("bad password",
 *                 "unknown user", "user disabled", "domain disabled",
 *                 "no password", "no CRAM-MD5 secret", "malformed
 *                 request", ...); temp = 1 when the failure is the
 *                 server's (maps unreadable): answer 4xx / NO [UNAVAILABLE],
 *                 not "bad password"; temp = 0 otherwise.
 *
 * Every field value is at most AUTH_FIELD_MAX bytes and holds no NUL; a
 * request that breaks that, misses a field or names an unknown mech or
 * service is answered "fail" with reason "malformed request" and the
 * connection stays usable.  A frame over AUTH_FRAME_MAX, or one that is
 * not well-formed ipc, closes the connection.  Replies come in request
 * order; the client below uses one connection per request, so requests
 * spread over the auth workers.
 *
 * The process must ignore SIGPIPE (the server skeleton does).
 */
#ifndef TERN_AUTH_CLIENT_H
#define TERN_AUTH_CLIENT_H

#include <stddef.h>

/* Longest field value the auth daemon accepts, and its frame cap. */
#define AUTH_FIELD_MAX 1024
#define AUTH_FRAME_MAX (16 * 1024)
/* The socket's usual name inside state_dir (see auth(8)). */
#define AUTH_SOCKET_NAME "auth.sock"

struct event_base;
struct auth_query;

/* One login to check.  NULL fields are left out of the request. */
struct auth_request {
	const char *mech, *user, *password, *challenge, *digest;
	const char *service, *ip, *session;
};

enum auth_status { AUTH_OK, AUTH_FAIL, AUTH_TEMPFAIL };

/* What the daemon said.  The strings are valid during the callback only. */
struct auth_result {
	enum auth_status status;
	const char *user;       /* AUTH_OK: the canonical user; else NULL */
	const char *reason;     /* AUTH_FAIL, AUTH_TEMPFAIL: why; else NULL */
};

typedef void auth_done_cb(const struct auth_result *r, void *arg);

/*
 * Ask the auth daemon listening on socket_path about req, on base.  The
 * request is copied: req and its strings may go as soon as this returns.
 * cb is called exactly once, later from the event loop, never before this
 * returns: with the answer, or AUTH_TEMPFAIL and a reason when the daemon
 * cannot be reached (no socket, refused), closes the connection, answers
 * nonsense, or does not answer within timeout_ms (> 0; callers pass
 * auth_timeout).  The query is freed when cb returns; calling
 * auth_client_cancel() on it inside cb is harmless.
 */
struct auth_query *auth_client_ask(struct event_base *base,
    const char *socket_path, const struct auth_request *req, int timeout_ms,
    auth_done_cb *cb, void *arg);

/*
 * The session went away: cb will not be called.  Frees *qp (may be NULL)
 * and sets it to NULL.
 */
void auth_client_cancel(struct auth_query **qp);

/*
 * From a SASL exchange to a request.  The network daemon decodes the
 * client's base64 (sasl_b64_decode) and hands the decoded messages here;
 * the result holds copies, so the request can point into it.
 *
 *	struct auth_creds cr = { 0 };
 *	struct auth_request req = { .service = "smtp", .ip = ip, ... };
 *
 *	if (auth_creds_plain(&cr, msg, len, &err) < 0)
 *		... answer 501 with err; no need to ask the daemon ...
 *	auth_creds_request(&cr, &req);
 *	q = auth_client_ask(base, path, &req, timeout, done, s);
 *	auth_creds_clear(&cr);        (the request was copied)
 *
 * Each builder first clears c (so c must be zeroed or filled before) and
 * returns 0, or -1 with *error_r (static text for the caller's log) and c
 * left empty.
 */
struct auth_creds {
	const char *mech;       /* "PLAIN", "LOGIN", "CRAM-MD5" (static) */
	char *user;
	char *password;         /* PLAIN, LOGIN; wiped by auth_creds_clear */
	char *challenge;        /* CRAM-MD5 */
	char *digest;           /* CRAM-MD5, lower case */
};

/*
 * PLAIN (RFC 4616): "authzid NUL authcid NUL password".  The authzid must
 * be empty or the authcid itself: "proxy login not allowed" otherwise.
 */
int auth_creds_plain(struct auth_creds *c, const void *msg, size_t len,
    const char **error_r);
/*
 * LOGIN: the two answers, user name then password.  Neither may be empty,
 * longer than 255 octets or hold a NUL; the user name must be UTF-8
 * without control characters.
 */
int auth_creds_login(struct auth_creds *c, const void *user, size_t ulen,
    const void *password, size_t plen, const char **error_r);
/*
 * CRAM-MD5 (RFC 2195): challenge is the one we sent (sasl_cram_challenge),
 * resp the client's decoded "user SP digest".
 */
int auth_creds_cram(struct auth_creds *c, const char *challenge,
    const void *resp, size_t len, const char **error_r);

/* Point req's mech, user, password, challenge and digest into c. */
void auth_creds_request(const struct auth_creds *c, struct auth_request *req);
/* Free what c holds (wiping the password) and zero it. */
void auth_creds_clear(struct auth_creds *c);

#endif
