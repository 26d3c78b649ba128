/*
 * Unit test for lib/tls: contexts from good and bad files, real
 * handshakes between our server and client contexts over a socketpair,
 * and the libevent helpers against a blocking client in a thread.
 * The certificate is made at start-up in a temp dir, removed at the end.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tap.h"
#include "tls.h"
#include "xalloc.h"

static char tmpdir[256];
static char cert_path[300], key_path[300], key2_path[300], junk_path[300];
static char nofile_path[300];

/* ---- throw-away credentials ------------------------------------------ */

static void
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	ASSERT(ext != NULL);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
}

/* Self-signed, CN and SAN localhost, valid from a minute ago for 2 days. */
static X509 *
make_cert(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 2 * 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(x, name);
	add_ext(x, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(x, NID_subject_alt_name, "DNS:localhost");
	ASSERT(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

static void
write_key(const char *path, EVP_PKEY *key)
{
	FILE *f = fopen(path, "w");

	ASSERT(f != NULL);
	ASSERT(PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1);
	fclose(f);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ASSERT(f != NULL);
	fputs(text, f);
	fclose(f);
}

static void
creds_make(void)
{
	const char *t = getenv("TMPDIR");
	EVP_PKEY *key = EVP_EC_gen("P-256"), *key2 = EVP_EC_gen("P-256");
	X509 *cert;
	FILE *f;

	ASSERT(key != NULL && key2 != NULL);
	snprintf(tmpdir, sizeof(tmpdir), "%s/tern-tls-XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	ASSERT(mkdtemp(tmpdir) != NULL);
	snprintf(cert_path, sizeof(cert_path), "%s/cert.pem", tmpdir);
	snprintf(key_path, sizeof(key_path), "%s/key.pem", tmpdir);
	snprintf(key2_path, sizeof(key2_path), "%s/key2.pem", tmpdir);
	snprintf(junk_path, sizeof(junk_path), "%s/junk.pem", tmpdir);
	snprintf(nofile_path, sizeof(nofile_path), "%s/missing.pem", tmpdir);
	cert = make_cert(key);
	ASSERT((f = fopen(cert_path, "w")) != NULL);
	ASSERT(PEM_write_X509(f, cert) == 1);
	fclose(f);
	write_key(key_path, key);
	write_key(key2_path, key2);
	write_file(junk_path, "this is not PEM\n");
	X509_free(cert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(key2);
}

static void
creds_remove(void)
{
	unlink(cert_path);
	unlink(key_path);
	unlink(key2_path);
	unlink(junk_path);
	rmdir(tmpdir);
}

/* ---- context construction -------------------------------------------- */

static void
server_settings(struct tls_settings *s)
{
	tls_settings_defaults(s);
	s->cert_file = cert_path;
	s->key_file = key_path;
}

/* Expect failure; the error must mention each of want1 and want2. */
static void
server_fails(const struct tls_settings *s, const char *want1,
    const char *want2, const char *name)
{
	char *error = NULL;
	SSL_CTX *ctx = tls_server_ctx_new(s, &error);

	ok(ctx == NULL && error != NULL && strstr(error, want1) != NULL &&
	    strstr(error, want2) != NULL, name);
	if (error != NULL)
		diag("%s", error);
	tls_ctx_free(&ctx);
	xfree(&error);
}

static void
test_defaults(void)
{
	struct tls_settings s;
	char *error = NULL;

	tls_settings_defaults(&s);
	ok(strcmp(s.min_protocol, "TLSv1.2") == 0 && s.ciphers == NULL &&
	    s.verify_peer && s.session_cache_size > 0,
	    "defaults: TLSv1.2, our ciphers, verify, session cache");
	is_int(tls_settings_check(&s, &error), 0, "defaults pass the check");
	s.min_protocol = "tlsv1.3";
	is_int(tls_settings_check(&s, &error), 0, "TLSv1.3 allowed");
	s.min_protocol = "TLSv1.1";
	ok(tls_settings_check(&s, &error) == -1 && error != NULL &&
	    strstr(error, "TLSv1.1") != NULL, "TLSv1.1 refused by the check");
	xfree(&error);
	is_str(tls_error_string(), "unknown TLS error", "empty error queue");
}

static void
test_server_files(void)
{
	struct tls_settings s;
	char *error = NULL;
	SSL_CTX *ctx;

	server_settings(&s);
	ctx = tls_server_ctx_new(&s, &error);
	ok(ctx != NULL && error == NULL, "server ctx from good files");
	ok(ctx != NULL &&
	    SSL_CTX_get_min_proto_version(ctx) == TLS1_2_VERSION &&
	    (SSL_CTX_get_options(ctx) & SSL_OP_NO_RENEGOTIATION) &&
	    (SSL_CTX_get_options(ctx) & SSL_OP_NO_COMPRESSION),
	    "TLS 1.2 floor, no renegotiation, no compression");
	tls_ctx_free(&ctx);
	ok(ctx == NULL, "tls_ctx_free clears the pointer");
	xfree(&error);

	s.chain_file = cert_path;
	ctx = tls_server_ctx_new(&s, &error);
	ok(ctx != NULL, "extra chain file loads");
	tls_ctx_free(&ctx);
	s.chain_file = junk_path;
	server_fails(&s, junk_path, "chain", "junk chain file refused");
}

static void
test_server_errors(void)
{
	struct tls_settings s;

	server_settings(&s);
	s.cert_file = nofile_path;
	server_fails(&s, nofile_path, "No such file",
	    "missing certificate: error names the file");
	server_settings(&s);
	s.key_file = nofile_path;
	server_fails(&s, nofile_path, "cannot load key",
	    "missing key: error names the file");
	server_settings(&s);
	s.key_file = key2_path;
	server_fails(&s, key2_path, "does not match",
	    "key not matching the certificate");
	server_settings(&s);
	s.cert_file = junk_path;
	server_fails(&s, junk_path, "no start line", "junk certificate PEM");
	server_settings(&s);
	s.key_file = junk_path;
	server_fails(&s, junk_path, "cannot load key", "junk key PEM");
	server_settings(&s);
	s.key_file = NULL;
	server_fails(&s, "key", "certificate", "no key file");
	server_settings(&s);
	s.min_protocol = "TLSv1.1";
	server_fails(&s, "TLSv1.1", "min_protocol", "server refuses TLSv1.1");
	server_settings(&s);
	s.ciphers = "NO-SUCH-CIPHER";
	server_fails(&s, "NO-SUCH-CIPHER", "no cipher match",
	    "bad cipher list");
	server_settings(&s);
	s.ciphersuites = "TLS_NOPE";
	server_fails(&s, "TLS_NOPE", "ciphersuites", "bad TLS 1.3 suites");
}

static void
test_client_ctx(void)
{
	struct tls_settings s;
	char *error = NULL;
	SSL_CTX *ctx;

	tls_settings_defaults(&s);
	ctx = tls_client_ctx_new(&s, &error);
	ok(ctx != NULL && SSL_CTX_get_verify_mode(ctx) == SSL_VERIFY_PEER,
	    "client ctx with system CAs verifies peers");
	tls_ctx_free(&ctx);
	s.ca_file = nofile_path;
	ctx = tls_client_ctx_new(&s, &error);
	ok(ctx == NULL && error != NULL && strstr(error, nofile_path) != NULL,
	    "missing CA file: error names the file");
	xfree(&error);
}

/* ---- handshakes over a socketpair, one thread ------------------------ */

struct pair {
	int fd[2];
	SSL *client, *server;
};

static void
pair_open(struct pair *p, SSL_CTX *cctx, SSL_CTX *sctx, const char *host)
{
	ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fd) == 0);
	ASSERT(evutil_make_socket_nonblocking(p->fd[0]) == 0);
	ASSERT(evutil_make_socket_nonblocking(p->fd[1]) == 0);
	p->client = SSL_new(cctx);
	p->server = SSL_new(sctx);
	ASSERT(p->client != NULL && p->server != NULL);
	SSL_set_fd(p->client, p->fd[0]);
	SSL_set_fd(p->server, p->fd[1]);
	SSL_set_connect_state(p->client);
	SSL_set_accept_state(p->server);
	if (host != NULL)
		ASSERT(tls_client_set_host(p->client, host) == 0);
}

static void
pair_close(struct pair *p)
{
	/* Without close_notify OpenSSL will not resume the session. */
	if (SSL_is_init_finished(p->client))
		SSL_shutdown(p->client);
	if (SSL_is_init_finished(p->server))
		SSL_shutdown(p->server);
	SSL_free(p->client);
	SSL_free(p->server);
	close(p->fd[0]);
	close(p->fd[1]);
}

/* 1 done, 0 wants I/O, -1 failed. */
static int
hs_step(SSL *ssl)
{
	int r = SSL_do_handshake(ssl);

	if (r == 1)
		return 1;
	r = SSL_get_error(ssl, r);
	return r == SSL_ERROR_WANT_READ || r == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

/*
 * Pump both sides until both are done or one fails: 0 for success, else
 * 'c' or 's' for the side that failed first, whose reason goes to diag.
 * The kernel buffer holds a whole flight, so a few rounds suffice.
 */
static int
pair_handshake(struct pair *p, char *why, size_t whylen)
{
	int c = 0, s = 0;

	snprintf(why, whylen, "no progress");
	for (int i = 0; i < 100 && (c == 0 || s == 0); i++) {
		if (c == 0 && (c = hs_step(p->client)) < 0) {
			snprintf(why, whylen, "client: %s", tls_error_string());
			return 'c';
		}
		if (s == 0 && (s = hs_step(p->server)) < 0) {
			snprintf(why, whylen, "server: %s", tls_error_string());
			return 's';
		}
	}
	return c == 1 && s == 1 ? 0 : '?';
}

struct ctxs {
	SSL_CTX *server, *client, *client_noverify;
};

static void
ctxs_make(struct ctxs *k)
{
	struct tls_settings s;
	char *error = NULL;

	server_settings(&s);
	k->server = tls_server_ctx_new(&s, &error);
	tls_settings_defaults(&s);
	s.ca_file = cert_path;
	k->client = tls_client_ctx_new(&s, &error);
	s.verify_peer = false;
	k->client_noverify = tls_client_ctx_new(&s, &error);
	ASSERT(k->server && k->client && k->client_noverify);
}

static void
ctxs_free(struct ctxs *k)
{
	tls_ctx_free(&k->server);
	tls_ctx_free(&k->client);
	tls_ctx_free(&k->client_noverify);
}

static void
test_handshake_ok(struct ctxs *k)
{
	struct pair p;
	char why[300], *d;

	pair_open(&p, k->client, k->server, "localhost");
	d = tls_describe(p.client);
	is_str(d, "none", "describe before the handshake");
	xfree(&d);
	is_int(pair_handshake(&p, why, sizeof(why)), 0,
	    "handshake with hostname localhost");
	is_int(SSL_get_verify_result(p.client), X509_V_OK, "peer verified");
	d = tls_describe(p.server);
	ok(strncmp(d, "TLSv1.3 TLS_", 12) == 0 && strstr(d, " bits)"),
	    "tls_describe says TLSv1.3");
	diag("%s", d);
	xfree(&d);
	pair_close(&p);

	pair_open(&p, k->client, k->server, "localhost.");
	is_int(pair_handshake(&p, why, sizeof(why)), 0,
	    "trailing dot in hostname ignored");
	pair_close(&p);
}

static void
test_handshake_verify(struct ctxs *k)
{
	struct pair p;
	char why[300];

	pair_open(&p, k->client, k->server, "wrong.example");
	is_int(pair_handshake(&p, why, sizeof(why)), 'c',
	    "wrong.example: client refuses the certificate");
	diag("%s", why);
	is_int(SSL_get_verify_result(p.client), X509_V_ERR_HOSTNAME_MISMATCH,
	    "verify result: hostname mismatch");
	pair_close(&p);

	pair_open(&p, k->client_noverify, k->server, "wrong.example");
	is_int(pair_handshake(&p, why, sizeof(why)), 0,
	    "without verify_peer the handshake completes anyway");
	is_int(SSL_get_verify_result(p.client), X509_V_ERR_HOSTNAME_MISMATCH,
	    "... but the mismatch is on record");
	pair_close(&p);

	pair_open(&p, k->client, k->server, NULL);
	ok(tls_client_set_host(p.client, "") == -1 &&
	    tls_client_set_host(p.client, ".") == -1, "empty host refused");
	ok(tls_client_set_host(p.client, "127.0.0.1") == 0, "IP host taken");
	is_int(pair_handshake(&p, why, sizeof(why)), 'c',
	    "IP not in the certificate: refused");
	pair_close(&p);
}

static void
test_handshake_versions(struct ctxs *k)
{
	struct pair p;
	char why[300], *d;

	/* An old client, let down to security level 0 so it really tries. */
	pair_open(&p, k->client_noverify, k->server, "localhost");
	SSL_set_security_level(p.client, 0);
	SSL_set_cipher_list(p.client, "DEFAULT:@SECLEVEL=0");
	SSL_set_min_proto_version(p.client, TLS1_VERSION);
	SSL_set_max_proto_version(p.client, TLS1_1_VERSION);
	is_int(pair_handshake(&p, why, sizeof(why)), 's',
	    "TLS 1.1 client refused by our server");
	diag("%s", why);
	ok(strstr(why, "unsupported protocol") != NULL,
	    "... for its protocol version");
	pair_close(&p);

	pair_open(&p, k->client, k->server, "localhost");
	SSL_set_max_proto_version(p.client, TLS1_2_VERSION);
	is_int(pair_handshake(&p, why, sizeof(why)), 0, "TLS 1.2 client ok");
	d = tls_describe(p.client);
	ok(strncmp(d, "TLSv1.2 ECDHE-ECDSA-", 20) == 0 &&
	    (strstr(d, "GCM") || strstr(d, "CHACHA20")),
	    "TLS 1.2 picks forward-secret AEAD from our list");
	diag("%s", d);
	xfree(&d);
	pair_close(&p);
}

static void
test_tls13_only(struct ctxs *k)
{
	struct tls_settings s;
	struct pair p;
	char why[300], *error = NULL;
	SSL_CTX *sctx;

	server_settings(&s);
	s.min_protocol = "TLSv1.3";
	sctx = tls_server_ctx_new(&s, &error);
	ok(sctx != NULL, "server ctx with TLSv1.3 floor");
	pair_open(&p, k->client, sctx, "localhost");
	SSL_set_max_proto_version(p.client, TLS1_2_VERSION);
	is_int(pair_handshake(&p, why, sizeof(why)), 's',
	    "TLSv1.3 floor refuses a TLS 1.2 client");
	pair_close(&p);
	tls_ctx_free(&sctx);
}

static void
test_resumption(struct ctxs *k)
{
	SSL_SESSION *sess;
	struct pair p;
	char why[300];

	pair_open(&p, k->client, k->server, "localhost");
	SSL_set_max_proto_version(p.client, TLS1_2_VERSION);
	is_int(pair_handshake(&p, why, sizeof(why)), 0, "first full handshake");
	sess = SSL_get1_session(p.client);
	pair_close(&p);

	pair_open(&p, k->client, k->server, "localhost");
	SSL_set_max_proto_version(p.client, TLS1_2_VERSION);
	SSL_set_session(p.client, sess);
	is_int(pair_handshake(&p, why, sizeof(why)), 0, "second handshake");
	ok(SSL_session_reused(p.client) == 1, "session resumed");
	pair_close(&p);
	SSL_SESSION_free(sess);
}

/* ---- libevent helpers ------------------------------------------------- */

/* The daemon side: answers each line with "echo LINE". */
struct echo {
	struct event_base *base;
	SSL_CTX *ctx;
	struct bufferevent *bev;
	bool want_starttls, connected, eof;
	char got[64];           /* first line read over TLS */
};

static void echo_read(struct bufferevent *bev, void *arg);

static void
echo_event(struct bufferevent *bev, short what, void *arg)
{
	struct echo *e = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		e->connected = true;
		return;
	}
	e->eof = (what & BEV_EVENT_EOF) != 0;
	event_base_loopexit(e->base, NULL);
}

/* What a daemon does on STARTTLS: reply in clear, then stack TLS on. */
static void
echo_starttls(struct echo *e)
{
	bufferevent_write(e->bev, "220 go\r\n", 8);
	e->bev = tls_bev_starttls(e->base, e->ctx, e->bev);
	ASSERT(e->bev != NULL);
	bufferevent_setcb(e->bev, echo_read, NULL, echo_event, e);
	bufferevent_enable(e->bev, EV_READ | EV_WRITE);
	e->want_starttls = false;
}

static void
echo_read(struct bufferevent *bev, void *arg)
{
	struct echo *e = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;
	bool go;

	while ((line = evbuffer_readln(in, NULL, EVBUFFER_EOL_CRLF)) != NULL) {
		if (e->want_starttls) {
			go = strcmp(line, "STARTTLS") == 0;
			free(line);
			if (go) {
				/* The rest of the input is the injection. */
				echo_starttls(e);
				return;
			}
			continue;
		}
		if (e->got[0] == '\0')
			snprintf(e->got, sizeof(e->got), "%s", line);
		evbuffer_add_printf(bufferevent_get_output(bev), "echo %s\r\n",
		    line);
		free(line);
	}
}

/* The peer: a plain blocking OpenSSL client in its own thread. */
struct client {
	SSL_CTX *ctx;
	int fd;
	bool starttls;
	char plain[64];         /* reply to STARTTLS, in clear */
	char got[64];           /* reply over TLS */
};

/* One byte at a time, so no TLS byte is taken for plaintext. */
static void
client_line_fd(int fd, char *out, size_t outlen)
{
	size_t n = 0;
	char ch;

	while (n + 1 < outlen && read(fd, &ch, 1) == 1 && ch != '\n')
		if (ch != '\r')
			out[n++] = ch;
	out[n] = '\0';
}

static void
client_line_ssl(SSL *ssl, char *out, size_t outlen)
{
	size_t n = 0;
	char ch;

	while (n + 1 < outlen && SSL_read(ssl, &ch, 1) == 1 && ch != '\n')
		if (ch != '\r')
			out[n++] = ch;
	out[n] = '\0';
}

static void *
client_main(void *arg)
{
	static const char cmd[] = "STARTTLS\r\nINJECTED\r\n";
	struct client *c = arg;
	struct timeval tv = { 10, 0 };  /* a guard: never wait forever */
	SSL *ssl;

	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* One write, so the injected line arrives with STARTTLS. */
	if (c->starttls && write(c->fd, cmd, sizeof(cmd) - 1) > 0)
		client_line_fd(c->fd, c->plain, sizeof(c->plain));
	ssl = SSL_new(c->ctx);
	SSL_set_fd(ssl, c->fd);
	if (tls_client_set_host(ssl, "localhost") == 0 &&
	    SSL_connect(ssl) == 1 && SSL_write(ssl, "hello\r\n", 7) == 7) {
		client_line_ssl(ssl, c->got, sizeof(c->got));
		SSL_shutdown(ssl);
	}
	SSL_free(ssl);
	close(c->fd);
	return NULL;
}

static struct bufferevent *
bev_server(struct echo *e, int fd, bool starttls)
{
	if (!starttls)
		return tls_bev_accept(e->base, e->ctx, fd);
	ASSERT(evutil_make_socket_nonblocking(fd) == 0);
	return bufferevent_socket_new(e->base, fd, BEV_OPT_CLOSE_ON_FREE);
}

static void
test_bev(struct ctxs *k, bool starttls)
{
	struct timeval limit = { 10, 0 };
	struct echo e = { .ctx = k->server, .want_starttls = starttls };
	struct client c = { .ctx = k->client, .starttls = starttls };
	pthread_t th;
	int fd[2];

	diag("libevent, %s", starttls ? "STARTTLS" : "implicit TLS");
	ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0);
	e.base = event_base_new();
	e.bev = bev_server(&e, fd[0], starttls);
	ASSERT(e.base != NULL && e.bev != NULL);
	bufferevent_setcb(e.bev, echo_read, NULL, echo_event, &e);
	bufferevent_enable(e.bev, EV_READ | EV_WRITE);
	c.fd = fd[1];
	ASSERT(pthread_create(&th, NULL, client_main, &c) == 0);
	event_base_loopexit(e.base, &limit);    /* a deadline, not a sleep */
	event_base_dispatch(e.base);
	pthread_join(th, NULL);

	if (starttls)
		is_str(c.plain, "220 go", "STARTTLS reply sent in clear");
	ok(e.connected, "server side saw the handshake complete");
	is_str(e.got, "hello", "server read the client's line over TLS");
	is_str(c.got, "echo hello", "client read the reply over TLS");
	ok(e.eof, "close_notify seen as EOF");
	bufferevent_free(e.bev);
	event_base_free(e.base);
}

int
main(void)
{
	struct ctxs k;

	signal(SIGPIPE, SIG_IGN);
	plan(51);
	creds_make();
	test_defaults();
	test_server_files();
	test_server_errors();
	test_client_ctx();
	ctxs_make(&k);
	test_handshake_ok(&k);
	test_handshake_verify(&k);
	test_handshake_versions(&k);
	test_tls13_only(&k);
	test_resumption(&k);
	test_bev(&k, false);
	test_bev(&k, true);
	ctxs_free(&k);
	creds_remove();
	return done_testing();
}
