/* tls - see tls.h */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "buf.h"
#include "tls.h"
#include "xalloc.h"

#define TLS_BEV_OPTIONS (BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)

/* Ties resumed sessions to Tern; any constant will do within a process. */
static const unsigned char tls_sid_ctx[] = "tern";

void
tls_settings_defaults(struct tls_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->min_protocol = "TLSv1.2";
	s->session_cache_size = SSL_SESSION_CACHE_MAX_SIZE_DEFAULT;
	s->session_timeout_s = 300;
	s->verify_peer = true;
}

static bool
tls_isset(const char *s)
{
	return s != NULL && *s != '\0';
}

/* 0 when name is unset (use our default) or not one we allow. */
static int
tls_protocol_version(const char *name)
{
	if (!tls_isset(name) || strcasecmp(name, "TLSv1.2") == 0)
		return TLS1_2_VERSION;
	if (strcasecmp(name, "TLSv1.3") == 0)
		return TLS1_3_VERSION;
	return 0;
}

int
tls_settings_check(const struct tls_settings *s, char **error_r)
{
	if (tls_protocol_version(s->min_protocol) == 0) {
		/* TLS 1.0 and 1.1 are deprecated by RFC 8996. */
		*error_r = xasprintf("unsupported TLS min_protocol \"%s\" "
		    "(use TLSv1.2 or TLSv1.3)", s->min_protocol);
		return -1;
	}
	if (s->session_cache_size < 0 || s->session_timeout_s < 0) {
		*error_r = xstrdup("TLS session cache size and timeout "
		    "must not be negative");
		return -1;
	}
	return 0;
}

/* Set *error_r to the formatted text plus OpenSSL's reason. */
static void __attribute__((format(printf, 2, 3)))
tls_fail(char **error_r, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b, 128, 0);
	va_start(ap, fmt);
	(void)buf_vprintf(&b, fmt, ap);
	va_end(ap);
	(void)buf_printf(&b, ": %s", tls_error_string());
	*error_r = b.data;      /* the caller owns the text now */
}

const char *
tls_error_string(void)
{
	static _Thread_local char msg[256];
	const char *data, *reason;
	unsigned long e;
	char sysbuf[128];
	int flags;

	e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags);
	if (e == 0)
		return "unknown TLS error";
	/*
	 * The oldest error is the root cause ("no start line"); the ones
	 * after it only say which layer passed it up ("PEM lib").
	 */
	if (ERR_SYSTEM_ERROR(e)) {
		/* OpenSSL's text here is "calling fopen(...)": say errno. */
		reason = strerror_r(ERR_GET_REASON(e), sysbuf, sizeof(sysbuf));
		data = NULL;
	} else {
		reason = ERR_reason_error_string(e);
		if (!(flags & ERR_TXT_STRING) || !tls_isset(data))
			data = NULL;
	}
	if (reason == NULL)
		snprintf(msg, sizeof(msg), "error:%08lX", e);
	else if (data != NULL)
		snprintf(msg, sizeof(msg), "%s (%s)", reason, data);
	else
		snprintf(msg, sizeof(msg), "%s", reason);
	ERR_clear_error();
	return msg;
}

/* What both sides share: protocol floor, ciphers, options, modes. */
static int
tls_ctx_setup(SSL_CTX *ctx, const struct tls_settings *s, char **error_r)
{
	const char *ciphers = tls_isset(s->ciphers) ? s->ciphers :
	    TLS_DEFAULT_CIPHERS;

	if (SSL_CTX_set_min_proto_version(ctx,
	    tls_protocol_version(s->min_protocol)) != 1) {
		tls_fail(error_r, "cannot set TLS min_protocol %s",
		    s->min_protocol);
		return -1;
	}
	if (SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
		tls_fail(error_r, "bad TLS ciphers \"%s\"", ciphers);
		return -1;
	}
	if (tls_isset(s->ciphersuites) &&
	    SSL_CTX_set_ciphersuites(ctx, s->ciphersuites) != 1) {
		tls_fail(error_r, "bad TLS ciphersuites \"%s\"",
		    s->ciphersuites);
		return -1;
	}
	/*
	 * Compression: CRIME.  Renegotiation: a client-triggered CPU sink
	 * and the source of old plaintext-injection bugs; nothing we speak
	 * needs it.
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
	/*
	 * libevent may retry a blocked SSL_write() from a moved evbuffer
	 * chain; idle IMAP sessions should not each pin ~34 KB of buffers.
	 */
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
	    SSL_MODE_RELEASE_BUFFERS);
	return 0;
}

static bool
tls_pem_at_end(void)
{
	unsigned long e = ERR_peek_last_error();

	return ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
}

/* Extra chain certificates, for when they are not in cert_file. */
static int
tls_load_chain(SSL_CTX *ctx, const char *file, char **error_r)
{
	BIO *bio = BIO_new_file(file, "r");
	X509 *x;
	int n = 0;

	if (bio == NULL) {
		tls_fail(error_r, "cannot open chain %s", file);
		return -1;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1) {
			X509_free(x);
			break;
		}
		n++;
	}
	BIO_free(bio);
	/* A clean end is "no start line" after at least one certificate. */
	if (n == 0 || !tls_pem_at_end()) {
		tls_fail(error_r, "cannot load chain %s", file);
		return -1;
	}
	ERR_clear_error();
	return 0;
}

static bool
tls_key_mismatch(void)
{
	unsigned long e = ERR_peek_error();

	return ERR_GET_LIB(e) == ERR_LIB_X509 &&
	    ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH;
}

/* Certificate (with chain), extra chain, key; the key must match. */
static int
tls_load_cert_key(SSL_CTX *ctx, const struct tls_settings *s,
    char **error_r)
{
	if (!tls_isset(s->cert_file) || !tls_isset(s->key_file)) {
		*error_r = xstrdup("TLS needs a certificate and a key file");
		return -1;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, s->cert_file) != 1) {
		tls_fail(error_r, "cannot load certificate %s", s->cert_file);
		return -1;
	}
	if (tls_isset(s->chain_file) &&
	    tls_load_chain(ctx, s->chain_file, error_r) < 0)
		return -1;
	if (SSL_CTX_use_PrivateKey_file(ctx, s->key_file,
	    SSL_FILETYPE_PEM) != 1) {
		/* OpenSSL checks the pair here already; say so plainly. */
		if (tls_key_mismatch())
			tls_fail(error_r, "key %s does not match "
			    "certificate %s", s->key_file, s->cert_file);
		else
			tls_fail(error_r, "cannot load key %s", s->key_file);
		return -1;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		tls_fail(error_r, "key %s does not match certificate %s",
		    s->key_file, s->cert_file);
		return -1;
	}
	return 0;
}

static void
tls_server_sessions(SSL_CTX *ctx, const struct tls_settings *s)
{
	SSL_CTX_set_session_id_context(ctx, tls_sid_ctx,
	    sizeof(tls_sid_ctx) - 1);
	if (s->session_cache_size == 0) {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	} else {
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
		SSL_CTX_sess_set_cache_size(ctx, s->session_cache_size);
	}
	/* Also the lifetime hint of the session tickets, which stay on. */
	if (s->session_timeout_s > 0)
		SSL_CTX_set_timeout(ctx, s->session_timeout_s);
}

SSL_CTX *
tls_server_ctx_new(const struct tls_settings *s, char **error_r)
{
	SSL_CTX *ctx;

	if (tls_settings_check(s, error_r) < 0)
		return NULL;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_fail(error_r, "cannot create TLS server context");
		return NULL;
	}
	if (tls_ctx_setup(ctx, s, error_r) < 0 ||
	    tls_load_cert_key(ctx, s, error_r) < 0) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	/* Our list is ordered strongest first; clients' often are not. */
	SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* DHE suites need parameters: OpenSSL's RFC 7919 groups. */
	SSL_CTX_set_dh_auto(ctx, 1);
	tls_server_sessions(ctx, s);
	return ctx;
}

static int
tls_load_cas(SSL_CTX *ctx, const struct tls_settings *s, char **error_r)
{
	const char *file = tls_isset(s->ca_file) ? s->ca_file : NULL;
	const char *path = tls_isset(s->ca_path) ? s->ca_path : NULL;

	if (file == NULL && path == NULL) {
		/* Missing system CA files are not an error here. */
		if (SSL_CTX_set_default_verify_paths(ctx) != 1)
			ERR_clear_error();
		return 0;
	}
	if (SSL_CTX_load_verify_locations(ctx, file, path) != 1) {
		tls_fail(error_r, "cannot load CA %s", file ? file : path);
		return -1;
	}
	return 0;
}

SSL_CTX *
tls_client_ctx_new(const struct tls_settings *s, char **error_r)
{
	SSL_CTX *ctx;

	if (tls_settings_check(s, error_r) < 0)
		return NULL;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		tls_fail(error_r, "cannot create TLS client context");
		return NULL;
	}
	if (tls_ctx_setup(ctx, s, error_r) < 0 ||
	    tls_load_cas(ctx, s, error_r) < 0 ||
	    (tls_isset(s->cert_file) &&
	    tls_load_cert_key(ctx, s, error_r) < 0)) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, s->verify_peer ? SSL_VERIFY_PEER :
	    SSL_VERIFY_NONE, NULL);
	return ctx;
}

void
tls_ctx_free(SSL_CTX **ctxp)
{
	SSL_CTX_free(*ctxp);
	*ctxp = NULL;
}

static bool
tls_is_ip(const char *host)
{
	unsigned char addr[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1;
}

static int
tls_set_verify_host(SSL *ssl, const char *host, bool ip)
{
	if (ip)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    host) == 1 ? 0 : -1;
	/* "*.example.com" yes, "w*.example.com" no (RFC 6125 6.4.3). */
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return SSL_set1_host(ssl, host) == 1 ? 0 : -1;
}

int
tls_client_set_host(SSL *ssl, const char *host)
{
	size_t len = host != NULL ? strlen(host) : 0;
	char *name;
	bool ip;
	int ret = 0;

	/* MX and CNAME targets often come fully qualified: "mx.example." */
	if (len > 0 && host[len - 1] == '.')
		len--;
	if (len == 0)
		return -1;
	name = xstrndup(host, len);
	ip = tls_is_ip(name);
	/* RFC 6066 section 3: literal addresses are not sent as SNI. */
	if (!ip && SSL_set_tlsext_host_name(ssl, name) != 1)
		ret = -1;
	/*
	 * Even without SSL_VERIFY_PEER: the handshake then goes on, but
	 * SSL_get_verify_result() says whether the name matched, so an
	 * opportunistic client can log "verified" truthfully.
	 */
	if (ret == 0)
		ret = tls_set_verify_host(ssl, name, ip);
	xfree(&name);
	return ret;
}

char *
tls_describe(const SSL *ssl)
{
	const SSL_CIPHER *c = SSL_get_current_cipher(ssl);

	if (c == NULL)
		return xstrdup("none");
	return xasprintf("%s %s (%d bits)", SSL_get_version(ssl),
	    SSL_CIPHER_get_name(c), SSL_CIPHER_get_bits(c, NULL));
}

/* The common tail of both helpers; bev is libevent's answer. */
static struct bufferevent *
tls_bev_finish(struct bufferevent *bev)
{
	/*
	 * XXX libevent fails here only when it cannot allocate, and what
	 * it has freed by then (the SSL? the fd? underlying?) differs
	 * between versions, so there is no safe way to hand ownership
	 * back.  Out of memory is fatal anyway.
	 */
	if (bev == NULL)
		die("cannot create a TLS bufferevent");
	/*
	 * Mail clients often just close after QUIT/LOGOUT without a
	 * close_notify; report that as EOF, not as an error.  Truncation
	 * cannot hurt us: each protocol has its own end marker.
	 */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

struct bufferevent *
tls_bev_accept(struct event_base *base, SSL_CTX *ctx, evutil_socket_t fd)
{
	SSL *ssl;

	if (evutil_make_socket_nonblocking(fd) < 0)
		return NULL;
	if ((ssl = SSL_new(ctx)) == NULL)
		return NULL;
	return tls_bev_finish(bufferevent_openssl_socket_new(base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, TLS_BEV_OPTIONS));
}

struct bufferevent *
tls_bev_starttls(struct event_base *base, SSL_CTX *ctx,
    struct bufferevent *underlying)
{
	struct evbuffer *in = bufferevent_get_input(underlying);
	SSL *ssl;

	if ((ssl = SSL_new(ctx)) == NULL)
		return NULL;
	/*
	 * Anything here was sent before the client saw our go-ahead, so
	 * it is plaintext that must not be taken as coming over TLS
	 * (CVE-2011-0411).  Dropping it also lets the handshake start
	 * clean instead of failing on the junk.
	 */
	evbuffer_drain(in, evbuffer_get_length(in));
	return tls_bev_finish(bufferevent_openssl_filter_new(base, underlying,
	    ssl, BUFFEREVENT_SSL_ACCEPTING, TLS_BEV_OPTIONS));
}
