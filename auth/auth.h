/*
 * auth - the pieces of the auth daemon (see main.c and auth(8)).
 *
 *   conn.c     a connection from smtpd, pop3d, ...: ipc frames in,
 *              one reply per request out, idle timeout
 *   request.c  an "auth" frame checked into a struct auth_check; the
 *              log lines, with every string from the peer made safe
 *   verify.c   the decision: maps, login names, disabled users and
 *              domains, the hash or CRAM-MD5 check
 *   cache.c    recently verified passwords (keyed HMACs), so repeated
 *              logins skip the memory-hard hash
 */
#ifndef TERN_AUTH_AUTH_H
#define TERN_AUTH_AUTH_H

#include <event2/util.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct ipc_msg;
struct server_listener;

enum auth_mech { MECH_PLAIN, MECH_LOGIN, MECH_CRAM_MD5 };

/* One request, checked; the strings are borrowed from the frame. */
struct auth_check {
	enum auth_mech mech;
	const char *mech_name;     /* canonical spelling */
	const char *user;          /* as the client gave it */
	const char *password;      /* PLAIN, LOGIN */
	const char *challenge;     /* CRAM-MD5 */
	size_t challenge_len;
	const char *digest;        /* CRAM-MD5: 32 hex digits */
	const char *service;       /* smtp pop imap ldap admin */
	bool admin;                /* service "admin" */
	const char *ip;
	const char *session;
};

struct auth_verdict {
	bool ok;
	bool temp;                 /* failure is ours, not the client's */
	const char *reason;        /* static text when !ok */
	char *user;                /* ok: canonical name, malloc'd */
};

/* --- conn.c --- */
void conn_start(evutil_socket_t fd, const struct sockaddr *sa,
    socklen_t salen, const struct server_listener *l);
/* Close every connection (the loop is over). */
void conn_exit(void);

/* --- request.c --- */
/*
 * Fill c from an "auth" frame m (borrowing its strings).  0, or -1 with
 * *error_r (static or per-call text) saying what is wrong; the fields
 * that could be read (ip, session, service, user) are set anyway, for
 * the log line, or NULL.
 */
int request_parse(const struct ipc_msg *m, struct auth_check *c,
    const char **error_r);
/* Log the outcome: failures at normal level, success detailed. */
void request_log(const struct auth_check *c, const struct auth_verdict *v);
/* Log a request that could not be parsed (normal level). */
void request_log_malformed(const struct auth_check *c, const char *peer,
    const char *why);

/* --- verify.c --- */
/* After the privilege drop: open the maps, make the dummy hash.  Maps
 * that cannot be opened are retried per request (temporary failures). */
void verify_init(void);
/* SIGHUP: reopen replaced maps, remake the dummy hash (config may have
 * changed password_hash). */
void verify_reload(void);
void verify_exit(void);
/* Decide c.  v must be zeroed; free v->user with verify_verdict_clear. */
void verify_check(const struct auth_check *c, struct auth_verdict *v);
void verify_verdict_clear(struct auth_verdict *v);

/* --- cache.c --- */
/* (Re)create the cache from auth_cache_size / auth_cache_ttl; emptied. */
void cache_init(void);
void cache_exit(void);
/* Was password verified for user against this stored hash within the
 * TTL? */
bool cache_hit(const char *user, const char *hash, const char *password);
void cache_store(const char *user, const char *hash, const char *password);

#endif
