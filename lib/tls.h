/*
 * tls - OpenSSL contexts for every Tern daemon, and the libevent glue.
 *
 * The caller fills a struct tls_settings from tern.conf (tls_* keys) and
 * asks for a server context (smtpd, pop3d, imapd: STARTTLS and implicit
 * TLS) or a client context (the outbound SMTP client).  A context is made
 * once, before the privilege drop (key files may be readable by root
 * only), and shared by every session of the process.
 *
 * How a daemon turns a connection into a TLS bufferevent:
 *
 *   Implicit TLS (465, 993, 995): the client speaks TLS from the first
 *   byte, so the socket goes straight into an OpenSSL bufferevent in the
 *   accepting state:
 *
 *	bev = tls_bev_accept(base, ctx, fd);
 *
 *   which is bufferevent_openssl_socket_new(base, fd, SSL_new(ctx),
 *   BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE|BEV_OPT_DEFER_CALLBACKS)
 *   plus bufferevent_openssl_set_allow_dirty_shutdown(bev, 1).
 *
 *   STARTTLS (25, 587, 110, 143): the session already has a plain
 *   bufferevent.  Queue the "go ahead" reply on it ("220 2.0.0 Ready to
 *   start TLS", "+OK", "OK Begin TLS"), throw away whatever is left in the
 *   session's own line buffer, then stack a filter on top:
 *
 *	bufferevent_write(plain, reply, len);
 *	tls_bev = tls_bev_starttls(base, ctx, plain);
 *
 *   which is bufferevent_openssl_filter_new(base, plain, SSL_new(ctx),
 *   BUFFEREVENT_SSL_ACCEPTING, the same options).  The reply already queued
 *   on plain still goes out in clear, ahead of the handshake.  From then
 *   on the session reads and writes tls_bev only, sets its callbacks on it
 *   and frees only it (which frees plain and closes the socket).
 *
 *   The handshake runs inside libevent; success shows up as
 *   BEV_EVENT_CONNECTED on the new bufferevent, failure as BEV_EVENT_ERROR
 *   (bufferevent_get_openssl_error() then holds OpenSSL's codes).  A peer
 *   that closes without close_notify gets BEV_EVENT_EOF, not an error:
 *   mail clients do that all the time and the protocol already knows
 *   whether the session ended cleanly.  bufferevent_openssl_get_ssl()
 *   gives the SSL for tls_describe().
 */
#ifndef TERN_TLS_H
#define TERN_TLS_H

#include <stdbool.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>

struct tls_settings {
	/* Server certificate (PEM, may carry its chain) and key. */
	const char *cert_file;
	const char *key_file;
	const char *chain_file;     /* extra chain PEM; NULL/"" if none */
	const char *min_protocol;   /* "TLSv1.2" (default) or "TLSv1.3" */
	const char *ciphers;        /* TLS 1.2; NULL/"" = TLS_DEFAULT_CIPHERS */
	const char *ciphersuites;   /* TLS 1.3; NULL/"" = OpenSSL's default */
	long session_cache_size;    /* server: cache entries, 0 = off */
	long session_timeout_s;     /* server: and tickets; 0 = OpenSSL's */
	const char *ca_file;        /* client: both NULL = system CAs */
	const char *ca_path;
	bool verify_peer;           /* client: verify server cert + hostname */
};

/*
 * Our TLS 1.2 default: forward secrecy only (ECDHE, or DHE with OpenSSL's
 * built-in groups), AEAD only (AES-GCM, ChaCha20-Poly1305).  No RSA key
 * exchange, no CBC, no SHA-1 MACs.  Mozilla's "intermediate" list.
 */
#define TLS_DEFAULT_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:" \
	"DHE-RSA-CHACHA20-POLY1305"

/*
 * Fill *s with the defaults: no files, min_protocol "TLSv1.2", our cipher
 * list, OpenSSL's TLS 1.3 suites, a 20480-entry session cache with a
 * 300 s timeout, system CAs, verify_peer true (a caller that does
 * opportunistic TLS, like MTA-to-MTA SMTP, turns it off explicitly).
 */
void tls_settings_defaults(struct tls_settings *s);

/*
 * The defaults, then the tls_* keys of the loaded tern.conf (tls_conf.c).
 * The strings point into the config and are valid until the next load.
 */
void tls_settings_from_conf(struct tls_settings *s);

/*
 * Check the parts of *s that need no files: min_protocol is one we allow
 * (TLSv1.2 or TLSv1.3; NULL or "" means TLSv1.2; anything older is
 * refused), the sizes are not negative.  Returns 0, or -1 with *error_r
 * set to a malloc'd message for the caller to log and free.  The ctx_new
 * functions call this themselves; config checking may call it early.
 */
int tls_settings_check(const struct tls_settings *s, char **error_r);

/*
 * A server context from *s: certificate (with any chain in the same file)
 * and key from cert_file/key_file (both required), extra chain from
 * chain_file, key checked against the certificate, min_protocol, ciphers,
 * ciphersuites, server cipher preference, session id context, session
 * cache, tickets on, compression and renegotiation off.  The settings'
 * strings need not outlive the call.
 *
 * Returns the context (free with tls_ctx_free()), or NULL with *error_r
 * set to a malloc'd message naming the file and OpenSSL's reason, e.g.
 * "cannot load key /x/y.pem: no start line".
 */
SSL_CTX *tls_server_ctx_new(const struct tls_settings *s, char **error_r);

/*
 * A client context from *s: min_protocol, ciphers, ciphersuites, trust
 * anchors from ca_file/ca_path (or the system's default paths when both
 * are unset), SSL_VERIFY_PEER when verify_peer (the name is checked only
 * once tls_client_set_host() has set it).  A client certificate is
 * loaded when cert_file is set (key_file then required).  Trust anchors
 * are loaded even without verify_peer so that SSL_get_verify_result() can
 * still say whether an opportunistic session was verified.  Errors as for
 * tls_server_ctx_new().
 */
SSL_CTX *tls_client_ctx_new(const struct tls_settings *s, char **error_r);

/* Free *ctxp (may be NULL) and set it to NULL. */
void tls_ctx_free(SSL_CTX **ctxp);

/*
 * Prepare a client SSL for talking to host (a DNS name or an IP literal;
 * one trailing dot is ignored): send host as SNI (DNS names only, RFC 6066
 * section 3) and make host the name the certificate must carry (no
 * partial wildcards).  With verify_peer a mismatch fails the handshake;
 * without, the handshake goes on and SSL_get_verify_result() records it
 * (X509_V_ERR_HOSTNAME_MISMATCH), so the caller can log whether the
 * session was verified.  Call before the handshake.  Returns 0, or -1
 * for an empty host or one OpenSSL refuses.
 */
int tls_client_set_host(SSL *ssl, const char *host);

/*
 * The negotiated protocol and cipher for Received headers and logs, e.g.
 * "TLSv1.3 TLS_AES_256_GCM_SHA384 (256 bits)"; "none" before a handshake.
 * Returns a malloc'd string the caller frees.
 */
char *tls_describe(const SSL *ssl);

/*
 * Empty this thread's OpenSSL error queue and return its root cause (the
 * oldest error, with OpenSSL's extra text when there is some), e.g.
 * "no start line (Expecting: TRUSTED CERTIFICATE)" or "No such file or
 * directory".  "unknown TLS error" when the queue was empty.  The string
 * is thread-local and valid until the next call in the same thread.
 */
const char *tls_error_string(void);

/*
 * Implicit TLS on an accepted socket: a new OpenSSL bufferevent in the
 * accepting state on fd (made non-blocking here).  The bufferevent owns
 * fd and its SSL: bufferevent_free() closes and frees both.  Returns NULL
 * when fd cannot be made non-blocking or SSL_new() fails; fd is then
 * untouched and still the caller's.  If libevent itself cannot allocate
 * the bufferevent, we die() (see tls.c for why).
 */
struct bufferevent *tls_bev_accept(struct event_base *base, SSL_CTX *ctx,
    evutil_socket_t fd);

/*
 * STARTTLS: a new OpenSSL filter bufferevent in the accepting state on top
 * of underlying, which it takes over (its callbacks are replaced; freeing
 * the result frees underlying and closes its socket).  Input already
 * waiting on underlying is discarded first: a client must send nothing
 * between STARTTLS and our reply (RFC 3207 section 4.2; the plaintext
 * injection of CVE-2011-0411).  Output already queued on underlying is
 * sent in clear before the handshake.  Returns NULL only when SSL_new()
 * fails; underlying is then untouched and still the caller's.  die()s
 * like tls_bev_accept() when libevent cannot allocate.
 */
struct bufferevent *tls_bev_starttls(struct event_base *base, SSL_CTX *ctx,
    struct bufferevent *underlying);

#endif
