/*
 * remote - one remote job (all recipients of one message at one domain)
 * handed to another mail server over SMTP.
 *
 * Route: the job's relay hosts when routing.conf sent it to a gateway or
 * a forwarding target (the queue fills them in), else the domain's MX
 * hosts by preference, else (no MX) the domain itself.  Each host's
 * addresses are tried in order until one holds a transaction to its end;
 * a host that cannot be reached, greets with other than 220, or fails
 * TLS that is required is passed over.  Null MX fails at once (5.1.10);
 * a domain that does not resolve is deferred as 4.4.3, which the queue
 * counts towards spool_dns_bounce_attempts.
 *
 * Per recipient: the peer's RCPT reply, then its reply to the end of
 * the data; 2xx ok, 4xx defer, 5xx fail; a 4xx/5xx to MAIL or DATA
 * covers every recipient.  The diagnostic names the host and quotes its
 * reply: "5.1.1 mx.example[192.0.2.1] said: 550 5.1.1 no such user".
 *
 * TLS: smtp_out_tls (or the route's tls) none, optional (STARTTLS when
 * offered, no certificate check; a failed handshake is retried once in
 * clear on the same address) or require (no TLS, no delivery).
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/evp.h>

#include "conf.h"
#include "delivery.h"
#include "dns.h"
#include "log.h"
#include "queue_rec.h"
#include "remote.h"
#include "routing.h"
#include "tls.h"
#include "xalloc.h"

#define HOSTS_MAX 32

enum tx_end { TX_DONE, TX_NEXT };

struct rjob {
	struct djob *dj;
	const char *domain;
	int fd;                         /* the spool file */
	off_t size;                     /* message bytes */
	bool eightbit;
	enum route_tls tls;
	const char *user, *password;
	long long connect_ms, cmd_ms, data_ms;
	char last[1024];                /* why the last host did not do */
};

struct ehlo {
	bool starttls, pipelining, eightbit, smtputf8, dsn, auth_plain;
	bool chunking, binarymime;
	unsigned long long size;
};

static SSL_CTX *client_ctx;
/* For tls = verify: peer certificates checked against smtp_out_ca_file
 * (or the system's CAs) and the host name. */
static SSL_CTX *verify_ctx;
/* smtp_out_address, IPv4 and IPv6 (port 0); family 0 when unset. */
static struct sockaddr_storage out4, out6;

static const struct sockaddr_storage *
outbound_for(const struct sockaddr_storage *dst)
{
	const struct sockaddr_storage *o = dst->ss_family == AF_INET6 ?
	    &out6 : &out4;

	return o->ss_family != 0 ? o : NULL;
}

/* Each item of smtp_out_address is an IPv4 or IPv6 address. */
static int
outbound_config(void)
{
	size_t n;
	const char *const *items = conf_list("smtp_out_address", &n);

	memset(&out4, 0, sizeof(out4));
	memset(&out6, 0, sizeof(out6));
	for (size_t i = 0; i < n; i++) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&out4;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out6;

		if (inet_pton(AF_INET, items[i], &s4->sin_addr) == 1)
			s4->sin_family = AF_INET;
		else if (inet_pton(AF_INET6, items[i], &s6->sin6_addr) == 1)
			s6->sin6_family = AF_INET6;
		else {
			log_exc(LOG_DELIVERY, "delivery: smtp_out_address: "
			    "'%s' is not an IP address", items[i]);
			return -1;
		}
	}
	return 0;
}

/* The connection of the last job, kept open for the next job to the same
 * address (RFC 5321 allows a transaction after another; RSET checks the
 * server still listens).  One per agent process. */
#define REUSE_MAX_IDLE 30
static struct {
	bool open;
	struct sconn c;
	struct ehlo e;
	struct sockaddr_storage ss;
	char user[256];
	time_t since;
} cached;

static void
cache_drop(void)
{
	if (!cached.open)
		return;
	sconn_cmd(&cached.c, "QUIT");
	sconn_close(&cached.c);
	cached.open = false;
}

static bool
same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET6)
		return memcmp(a, b, sizeof(struct sockaddr_in6)) == 0;
	return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
	    &((const struct sockaddr_in *)b)->sin_addr, 4) == 0 &&
	    ((const struct sockaddr_in *)a)->sin_port ==
	    ((const struct sockaddr_in *)b)->sin_port;
}

/* The kept connection, if it goes to ss with the same login and still
 * answers; anything else is closed. */
static bool
cache_take(const struct rjob *rj, const struct sockaddr_storage *ss,
    struct sconn *c, struct ehlo *e)
{
	struct sreply r;

	if (!cached.open)
		return false;
	if (!same_addr(&cached.ss, ss) || strcmp(cached.user, rj->user != NULL ?
	    rj->user : "") != 0 || time(NULL) - cached.since >
	    REUSE_MAX_IDLE || (rj->tls >= ROUTE_TLS_REQUIRE &&
	    cached.c.ssl == NULL)) {
		cache_drop();
		return false;
	}
	cached.open = false;
	if (sconn_cmd(&cached.c, "RSET") < 0 || sconn_reply(&cached.c, &r) < 0 ||
	    r.code != 250) {
		sconn_close(&cached.c);
		return false;
	}
	*c = cached.c;
	*e = cached.e;
	return true;
}

static void
cache_put(const struct rjob *rj, const struct sockaddr_storage *ss,
    struct sconn *c, const struct ehlo *e)
{
	cache_drop();
	cached.c = *c;
	cached.e = *e;
	cached.ss = *ss;
	snprintf(cached.user, sizeof(cached.user), "%s", rj->user != NULL ?
	    rj->user : "");
	cached.since = time(NULL);
	cached.open = true;
}

/* dns_* and smtp_out_address; -1 (logged) for a bad value. */
static int
remote_config(void)
{
	const char *why;
	size_t n;
	const char *const *servers = conf_list("dns_servers", &n);

	if (dns_config(servers, n, (int)(conf_time_ms("dns_timeout") / 1000),
	    (int)conf_int("dns_retries"), &why) < 0) {
		log_exc(LOG_DELIVERY, "delivery: dns_servers: %s", why);
		return -1;
	}
	return outbound_config();
}

void
remote_reload(void)
{
	cache_drop();
	if (remote_config() < 0)
		log_exc(LOG_DELIVERY, "delivery: fix tern.conf; remote "
		    "delivery goes on with what could be read");
}

int
remote_init(void)
{
	struct tls_settings ts;
	char *err = NULL;

	if (remote_config() < 0)
		return -1;
	tls_settings_defaults(&ts);
	ts.verify_peer = false;
	client_ctx = tls_client_ctx_new(&ts, &err);
	if (client_ctx == NULL) {
		log_exc(LOG_DELIVERY, "delivery: no TLS for remote delivery: "
		    "%s", err);
		free(err);
		err = NULL;
	}
	ts.verify_peer = true;
	if (*conf_str("smtp_out_ca_file") != '\0')
		ts.ca_file = conf_str("smtp_out_ca_file");
	verify_ctx = tls_client_ctx_new(&ts, &err);
	if (verify_ctx == NULL) {
		log_exc(LOG_DELIVERY, "delivery: no verified TLS for remote "
		    "delivery: %s", err);
		free(err);
	}
	return 0;
}

void
remote_exit(void)
{
	cache_drop();
	tls_ctx_free(&client_ctx);
	tls_ctx_free(&verify_ctx);
}

static void
set_all(struct rjob *rj, const bool *mask, enum djob_status st,
    const char *text)
{
	for (size_t i = 0; i < rj->dj->nrcpts; i++)
		if (mask == NULL || mask[i])
			djob_set(rj->dj, i, st, "%s", text);
}

/* "<enh> peer said: <reply>", the status taken from the reply. */
static void
said(char *out, size_t size, const struct sconn *c, const struct sreply *r)
{
	char def[8], enh[16];

	snprintf(def, sizeof(def), "%c.0.0", r->text[0]);
	qrec_status_code(r->text, def, enh, sizeof(enh));
	snprintf(out, size, "%.15s %s said: %.800s", enh, c->peer, r->text);
}

/* The reply to recipient i's RCPT: accepted (ok[i]) or its outcome set.
 * -1 when the connection is gone. */
static int
rcpt_reply(struct sconn *c, struct djob *dj, size_t i, bool *ok,
    size_t *nok)
{
	struct sreply r;
	char text[1200];

	if (sconn_reply(c, &r) < 0)
		return -1;
	if (r.code / 100 == 2) {
		ok[i] = true;
		(*nok)++;
		return 0;
	}
	said(text, sizeof(text), c, &r);
	djob_set(dj, i, r.code / 100 == 4 ? DJOB_DEFER : DJOB_FAIL, "%s",
	    text);
	return 0;
}

static void
ehlo_parse(const struct sreply *r, struct ehlo *e)
{
	memset(e, 0, sizeof(*e));
	for (size_t i = 1; i < r->nlines; i++) {
		const char *l = r->lines[i];

		if (strcasecmp(l, "STARTTLS") == 0)
			e->starttls = true;
		else if (strcasecmp(l, "PIPELINING") == 0)
			e->pipelining = true;
		else if (strcasecmp(l, "8BITMIME") == 0)
			e->eightbit = true;
		else if (strcasecmp(l, "SMTPUTF8") == 0)
			e->smtputf8 = true;
		else if (strcasecmp(l, "DSN") == 0)
			e->dsn = true;
		else if (strcasecmp(l, "CHUNKING") == 0)
			e->chunking = true;
		else if (strcasecmp(l, "BINARYMIME") == 0)
			e->binarymime = true;
		else if (strncasecmp(l, "SIZE", 4) == 0 && (l[4] == ' ' ||
		    l[4] == '\0'))
			e->size = strtoull(l + 4, NULL, 10);
		else if (strncasecmp(l, "AUTH", 4) == 0 && (l[4] == ' ' ||
		    l[4] == '=') && strcasestr(l + 5, "PLAIN") != NULL)
			e->auth_plain = true;
	}
}

/* Our name on the local address of c: the hostnames item for it, else
 * hostname (the reference's Hostnames page). */
static const char *
ehlo_name(const struct sconn *c)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);

	if (getsockname(c->fd, (struct sockaddr *)&local, &len) < 0)
		return D.names.host;
	return hostnames_for(&D.names, (struct sockaddr *)&local);
}

/* EHLO, falling back to HELO; -1 when neither is taken. */
static int
say_ehlo(struct sconn *c, struct ehlo *e, struct sreply *r)
{
	if (sconn_cmd(c, "EHLO %s", ehlo_name(c)) < 0 ||
	    sconn_reply(c, r) < 0)
		return -1;
	if (r->code == 250) {
		ehlo_parse(r, e);
		return 0;
	}
	memset(e, 0, sizeof(*e));
	if (sconn_cmd(c, "HELO %s", ehlo_name(c)) < 0 ||
	    sconn_reply(c, r) < 0)
		return -1;
	return r->code == 250 ? 0 : -1;
}

static int
auth_plain(struct rjob *rj, struct sconn *c, struct sreply *r)
{
	size_t ul = strlen(rj->user), pl = strlen(rj->password);
	unsigned char *raw = xmalloc(ul + pl + 2);
	char *b64 = xmalloc(4 * ((ul + pl + 2 + 2) / 3) + 1);
	int rc;

	raw[0] = '\0';
	memcpy(raw + 1, rj->user, ul);
	raw[ul + 1] = '\0';
	memcpy(raw + ul + 2, rj->password, pl);
	EVP_EncodeBlock((unsigned char *)b64, raw, (int)(ul + pl + 2));
	rc = sconn_cmd(c, "AUTH PLAIN %s", b64);
	OPENSSL_cleanse(raw, ul + pl + 2);
	OPENSSL_cleanse(b64, strlen(b64));
	free(raw);
	free(b64);
	if (rc < 0 || sconn_reply(c, r) < 0)
		return -1;
	return 0;
}

/* The message, dot-stuffed, every line end CRLF, then ".". */
static int
send_data(struct rjob *rj, struct sconn *c)
{
	char in[16384], out[2 * sizeof(in) + 8];
	bool bol = true;
	char prev = '\0';
	ssize_t n;

	if (lseek(rj->fd, rj->dj->offset, SEEK_SET) < 0)
		return -1;
	while ((n = read(rj->fd, in, sizeof(in))) > 0) {
		size_t o = 0;

		for (ssize_t i = 0; i < n; i++) {
			char ch = in[i];

			if (ch == '\n') {
				if (prev != '\r')
					out[o++] = '\r';
				out[o++] = '\n';
				bol = true;
			} else {
				if (prev == '\r') {
					/* A bare CR: never sent alone. */
					out[o++] = '\n';
					bol = true;
				}
				if (ch != '\r') {
					if (bol && ch == '.')
						out[o++] = '.';
					out[o++] = ch;
					bol = false;
				} else
					out[o++] = '\r';
			}
			prev = ch;
		}
		if (sconn_write(c, out, o) < 0)
			return -1;
	}
	if (n < 0)
		return -1;
	if (prev == '\r')
		return sconn_write(c, "\n.\r\n", 4);
	return sconn_write(c, bol ? ".\r\n" : "\r\n.\r\n", bol ? 3 : 5);
}

/*
 * A BINARYMIME message as one "BDAT <size> LAST" chunk (RFC 3030): the
 * bytes exactly as the spool holds them, no dot-stuffing, no line-end
 * changes (binary data has neither lines nor a terminator).
 */
static int
send_bdat(struct rjob *rj, struct sconn *c)
{
	char in[65536];
	off_t left = rj->size;
	ssize_t n;

	if (lseek(rj->fd, rj->dj->offset, SEEK_SET) < 0 ||
	    sconn_cmd(c, "BDAT %lld LAST", (long long)rj->size) < 0)
		return -1;
	while (left > 0 && (n = read(rj->fd, in, left < (off_t)sizeof(in) ?
	    (size_t)left : sizeof(in))) > 0) {
		if (sconn_write(c, in, (size_t)n) < 0)
			return -1;
		left -= n;
	}
	return left == 0 ? 0 : -1;
}

/* MAIL, RCPTs (pipelined when offered), DATA and the message (BDAT for
 * a BINARYMIME one). */
static enum tx_end
transaction(struct rjob *rj, struct sconn *c, const struct ehlo *e,
    bool *healthy)
{
	struct djob *dj = rj->dj;
	bool *ok = xcalloc(dj->nrcpts, sizeof(*ok));
	char text[1200], mailparams[512] = "";
	struct sreply r;
	size_t nok = 0;
	size_t mp = 0;

	*healthy = true;

	if (e->size > 0 && (unsigned long long)rj->size > e->size) {
		snprintf(text, sizeof(text), "5.3.4 message of %lld bytes is "
		    "over %s's limit of %llu", (long long)rj->size, c->peer,
		    e->size);
		set_all(rj, NULL, DJOB_FAIL, text);
		free(ok);
		return TX_DONE;
	}
	if (dj->smtputf8 != NULL && strcmp(dj->smtputf8, "yes") == 0 &&
	    !e->smtputf8) {
		snprintf(text, sizeof(text), "5.6.7 %s does not support "
		    "SMTPUTF8, which this message needs", c->peer);
		set_all(rj, NULL, DJOB_FAIL, text);
		free(ok);
		return TX_DONE;
	}
	bool binary = dj->body != NULL && strcasecmp(dj->body,
	    "BINARYMIME") == 0;
	if (binary && !(e->chunking && e->binarymime)) {
		/* RFC 3030 3: binary data goes only by BDAT, only to a server
		 * that offers BINARYMIME; DATA would mangle it. */
		snprintf(text, sizeof(text), "5.6.3 %s does not offer "
		    "BINARYMIME and CHUNKING, which this message needs",
		    c->peer);
		set_all(rj, NULL, DJOB_FAIL, text);
		free(ok);
		return TX_DONE;
	}
	if (rj->eightbit && !binary && !e->eightbit) {
		/* RFC 6152 3: no 8-bit data to a server that did not offer
		 * 8BITMIME; we do not convert, so the sender hears of it. */
		snprintf(text, sizeof(text), "5.6.3 %s does not accept 8-bit "
		    "messages (no 8BITMIME), and this one is", c->peer);
		set_all(rj, NULL, DJOB_FAIL, text);
		free(ok);
		return TX_DONE;
	}
	if (e->size > 0)
		mp += (size_t)snprintf(mailparams + mp, sizeof(mailparams) - mp,
		    " SIZE=%lld", (long long)rj->size);
	if (binary)
		mp += (size_t)snprintf(mailparams + mp, sizeof(mailparams) - mp,
		    " BODY=BINARYMIME");
	else if (rj->eightbit && e->eightbit)
		mp += (size_t)snprintf(mailparams + mp, sizeof(mailparams) - mp,
		    " BODY=8BITMIME");
	if (dj->smtputf8 != NULL && strcmp(dj->smtputf8, "yes") == 0)
		mp += (size_t)snprintf(mailparams + mp, sizeof(mailparams) - mp,
		    " SMTPUTF8");
	if (e->dsn && dj->ret != NULL)
		mp += (size_t)snprintf(mailparams + mp, sizeof(mailparams) - mp,
		    " RET=%s", dj->ret);
	if (e->dsn && dj->envid != NULL && mp < sizeof(mailparams) - 120)
		mp += (size_t)snprintf(mailparams + mp, sizeof(mailparams) - mp,
		    " ENVID=%.100s", dj->envid);
	if (sconn_cmd(c, "MAIL FROM:<%s>%s", dj->sender, mailparams) < 0)
		goto lost;
	if (!e->pipelining) {
		if (sconn_reply(c, &r) < 0)
			goto lost;
		if (r.code / 100 != 2)
			goto mail_refused;
	}
	for (size_t i = 0; i < dj->nrcpts; i++) {
		const struct djob_rcpt *rc = &dj->rcpts[i];
		char rp[400] = "";

		if (e->dsn && rc->notify != NULL)
			snprintf(rp, sizeof(rp), " NOTIFY=%s", rc->notify);
		if (e->dsn && rc->orcpt != NULL && strlen(rc->orcpt) < 300)
			snprintf(rp + strlen(rp), sizeof(rp) - strlen(rp),
			    " ORCPT=%s", rc->orcpt);
		if (sconn_cmd(c, "RCPT TO:<%s>%s", rc->addr, rp) < 0 ||
		    (!e->pipelining && rcpt_reply(c, dj, i, ok, &nok) < 0))
			goto lost;
	}
	if (e->pipelining) {
		if (sconn_reply(c, &r) < 0)
			goto lost;
		if (r.code / 100 != 2) {
			/* Read the RCPT replies that follow, then give up. */
			struct sreply rr;

			for (size_t i = 0; i < dj->nrcpts; i++)
				if (sconn_reply(c, &rr) < 0)
					break;
			goto mail_refused;
		}
		for (size_t i = 0; i < dj->nrcpts; i++)
			if (rcpt_reply(c, dj, i, ok, &nok) < 0)
				goto lost;
	}
	if (nok == 0) {
		free(ok);
		return TX_DONE;
	}
	if (binary) {
		if (send_bdat(rj, c) < 0 || sconn_reply(c, &r) < 0)
			goto lost;
		said(text, sizeof(text), c, &r);
		set_all(rj, ok, r.code / 100 == 2 ? DJOB_OK : r.code / 100 ==
		    4 ? DJOB_DEFER : DJOB_FAIL, text);
		free(ok);
		return TX_DONE;
	}
	if (sconn_cmd(c, "DATA") < 0 || sconn_reply(c, &r) < 0)
		goto lost;
	if (r.code != 354) {
		said(text, sizeof(text), c, &r);
		set_all(rj, ok, r.code / 100 == 5 ? DJOB_FAIL : DJOB_DEFER,
		    text);
		free(ok);
		return TX_DONE;
	}
	if (send_data(rj, c) < 0 || sconn_reply(c, &r) < 0)
		goto lost;
	said(text, sizeof(text), c, &r);
	set_all(rj, ok, r.code / 100 == 2 ? DJOB_OK : r.code / 100 == 4 ?
	    DJOB_DEFER : DJOB_FAIL, text);
	free(ok);
	return TX_DONE;

mail_refused:
	said(text, sizeof(text), c, &r);
	set_all(rj, NULL, r.code / 100 == 5 ? DJOB_FAIL : DJOB_DEFER, text);
	free(ok);
	return TX_DONE;
lost:
	*healthy = false;
	/* Mid-transaction: nothing was accepted for good; the job is
	 * deferred rather than tried at the next host at once, which
	 * could deliver twice if the end of data was taken. */
	snprintf(text, sizeof(text), "4.4.2 %s: connection lost or timed "
	    "out during the transaction", c->peer);
	for (size_t i = 0; i < dj->nrcpts; i++)
		if (ok[i] || dj->rcpts[i].text == NULL)
			djob_set(dj, i, DJOB_DEFER, "%s", text);
	free(ok);
	return TX_DONE;
}

/* One address: TX_NEXT when it did not take the transaction. */
static enum tx_end
try_addr(struct rjob *rj, const char *host,
    const struct sockaddr_storage *ss, bool clear_only)
{
	struct sconn c;
	struct sreply r;
	struct ehlo e;
	char err[600];
	enum tx_end end;
	bool healthy;

	if (cache_take(rj, ss, &c, &e)) {
		log_detail(LOG_DELIVERY, "%s: reusing the connection to %s",
		    rj->dj->id, c.peer);
		goto send;
	}
	if (sconn_open(&c, ss, outbound_for(ss), host, rj->connect_ms,
	    rj->cmd_ms, err, sizeof(err)) < 0) {
		/* The reference's "fall back to primary IP on failure": the
		 * system's own choice of address, once. */
		if (outbound_for(ss) == NULL || sconn_open(&c, ss, NULL, host,
		    rj->connect_ms, rj->cmd_ms, err, sizeof(err)) < 0) {
			snprintf(rj->last, sizeof(rj->last), "%s", err);
			return TX_NEXT;
		}
		log_msg(LOG_DELIVERY, "%s: %s from smtp_out_address failed; "
		    "sent from the system's address", rj->dj->id, c.peer);
	}
	if (sconn_reply(&c, &r) < 0 || r.code != 220) {
		snprintf(rj->last, sizeof(rj->last), "%s greeted with: %.600s",
		    c.peer, r.text);
		goto next;
	}
	if (say_ehlo(&c, &e, &r) < 0) {
		snprintf(rj->last, sizeof(rj->last), "%s refused EHLO and "
		    "HELO: %.600s", c.peer, r.text);
		goto next;
	}
	if (rj->tls != ROUTE_TLS_NONE && !clear_only && e.starttls &&
	    (rj->tls == ROUTE_TLS_VERIFY ? verify_ctx : client_ctx) != NULL) {
		if (sconn_cmd(&c, "STARTTLS") < 0 || sconn_reply(&c, &r) < 0 ||
		    r.code != 220 || sconn_starttls(&c, rj->tls ==
		    ROUTE_TLS_VERIFY ? verify_ctx : client_ctx, host, err,
		    sizeof(err)) < 0 || say_ehlo(&c, &e, &r) < 0) {
			snprintf(rj->last, sizeof(rj->last), "%s",
			    r.code != 220 && r.code != 0 ? r.text : err);
			sconn_close(&c);
			if (rj->tls >= ROUTE_TLS_REQUIRE)
				return TX_NEXT;
			log_msg(LOG_DELIVERY, "%s: %s; trying again without "
			    "TLS", rj->dj->id, rj->last);
			return try_addr(rj, host, ss, true);
		}
	} else if (rj->tls >= ROUTE_TLS_REQUIRE) {
		snprintf(rj->last, sizeof(rj->last), "%s does not offer "
		    "STARTTLS, which is required", c.peer);
		goto next;
	}
	if (rj->user != NULL) {
		if (c.ssl == NULL && rj->tls != ROUTE_TLS_NONE) {
			snprintf(rj->last, sizeof(rj->last), "%s: no TLS, so "
			    "the password is not sent", c.peer);
			goto next;
		}
		if (!e.auth_plain) {
			snprintf(rj->last, sizeof(rj->last), "%s does not "
			    "offer AUTH PLAIN", c.peer);
			goto next;
		}
		if (auth_plain(rj, &c, &r) < 0 || r.code != 235) {
			char text[1200];

			said(text, sizeof(text), &c, &r);
			set_all(rj, NULL, r.code / 100 == 5 ? DJOB_FAIL :
			    DJOB_DEFER, text);
			sconn_close(&c);
			return TX_DONE;
		}
	}
	log_detail(LOG_DELIVERY, "%s: connected to %s%s", rj->dj->id, c.peer,
	    c.ssl != NULL ? " with TLS" : "");
send:
	end = transaction(rj, &c, &e, &healthy);
	if (healthy)
		cache_put(rj, ss, &c, &e);
	else
		sconn_close(&c);
	return end;
next:
	sconn_close(&c);
	return TX_NEXT;
}

/* Each address of host; TX_DONE once one took the transaction. */
static enum tx_end
try_host(struct rjob *rj, const char *host, unsigned port)
{
	struct sockaddr_storage ss[DNS_ADDR_MAX];
	char err[300];
	size_t n;
	enum dns_status st = dns_addrs(host, port, ss, DNS_ADDR_MAX, &n, err,
	    sizeof(err));

	if (st != DNS_OK || n == 0) {
		snprintf(rj->last, sizeof(rj->last), "%s", err);
		return TX_NEXT;
	}
	for (size_t i = 0; i < n; i++)
		if (try_addr(rj, host, &ss[i], false) == TX_DONE)
			return TX_DONE;
	return TX_NEXT;
}

static enum route_tls
tls_policy(const char *name)
{
	if (name == NULL)
		name = conf_str("smtp_out_tls");
	return strcmp(name, "none") == 0 ? ROUTE_TLS_NONE :
	    strcmp(name, "require") == 0 ? ROUTE_TLS_REQUIRE :
	    strcmp(name, "verify") == 0 ? ROUTE_TLS_VERIFY :
	    ROUTE_TLS_OPTIONAL;
}

/* One relay group's hosts, with its login and TLS policy. */
static bool
by_relay_group(struct rjob *rj, const struct djob_relay *g)
{
	size_t n;
	char **items = conf_split_list(g->hosts, &n);
	bool done = false;

	rj->tls = tls_policy(g->tls);
	rj->user = g->user;
	rj->password = g->password != NULL ? g->password : "";
	for (size_t i = 0; i < n && !done; i++) {
		struct route_addr a;
		const char *why;

		if (routing_parse_addr(items[i], &a, &why) < 0) {
			snprintf(rj->last, sizeof(rj->last), "relay %s: %s",
			    items[i], why);
			continue;
		}
		done = try_host(rj, a.host, a.port) == TX_DONE;
		free(a.host);
	}
	conf_list_free(&items);
	return done;
}

static void
by_relay(struct rjob *rj)
{
	char text[1100];

	for (size_t k = 0; k < rj->dj->nrelays; k++)
		if (by_relay_group(rj, &rj->dj->relays[k]))
			return;
	snprintf(text, sizeof(text), "4.4.1 no relay host took the "
	    "message: %s", rj->last);
	set_all(rj, NULL, DJOB_DEFER, text);
}

static void
by_mx(struct rjob *rj)
{
	struct dns_mx mx[DNS_MX_MAX];
	unsigned port = (unsigned)conf_int("smtp_out_port");
	char err[300], text[1100];
	size_t n;
	enum dns_status st = dns_mx(rj->domain, mx, DNS_MX_MAX, &n, err,
	    sizeof(err));

	switch (st) {
	case DNS_NULLMX:
		snprintf(text, sizeof(text), "5.1.10 %s", err);
		set_all(rj, NULL, DJOB_FAIL, text);
		return;
	case DNS_NOTFOUND:
	case DNS_TEMPFAIL:
		snprintf(text, sizeof(text), "4.4.3 %s", err);
		set_all(rj, NULL, DJOB_DEFER, text);
		return;
	case DNS_OK:
		break;
	}
	if (n == 0) {
		/* RFC 5321 5.1: no MX, the domain's own address. */
		if (try_host(rj, rj->domain, port) == TX_DONE)
			return;
	}
	/* RFC 5321 5.1: when we are one of the MX hosts (a backup MX), only
	 * better ones are tried: never ourselves or our equals. */
	unsigned own = UINT_MAX;
	for (size_t i = 0; i < n; i++)
		if (hostnames_ours(&D.names, mx[i].name) && mx[i].pref < own)
			own = mx[i].pref;
	for (size_t i = 0; i < n && mx[i].pref < own; i++)
		if (try_host(rj, mx[i].name, port) == TX_DONE)
			return;
	snprintf(text, sizeof(text), "4.4.1 no mail server for %s took the "
	    "message: %s", rj->domain, rj->last[0] != '\0' ? rj->last :
	    own != UINT_MAX ? "we are its best MX host" : "none left to try");
	set_all(rj, NULL, DJOB_DEFER, text);
}

/* Received: header fields in the message's header section (at most the
 * first 256 KB), for the hop count on the way out. */
static unsigned
count_hops(int fd, off_t offset)
{
	char *buf = xmalloc(DELIVERY_MAX_HEADER);
	ssize_t n = pread(fd, buf, DELIVERY_MAX_HEADER, offset);
	unsigned hops = 0;
	bool bol = true;

	for (ssize_t i = 0; i < n; i++) {
		if (bol) {
			if (buf[i] == '\r' || buf[i] == '\n')
				break;          /* the empty line: end of header */
			if (n - i >= 9 && strncasecmp(buf + i, "Received:", 9) == 0)
				hops++;
		}
		bol = buf[i] == '\n';
	}
	free(buf);
	return hops;
}

void
remote_run(struct djob *dj)
{
	struct rjob rj = { .dj = dj };
	const char *at = dj->nrcpts > 0 ? strrchr(dj->rcpts[0].addr, '@') :
	    NULL;
	struct stat st;

	log_detail(LOG_DELIVERY, "%s: remote job: from=<%s> nrcpt=%zu "
	    "attempt=%lld%s%s%s", dj->id, dj->sender, dj->nrcpts, dj->attempt,
	    dj->nrelays > 0 ? " relay=" : "", dj->nrelays > 0 ?
	    dj->relays[0].hosts : "", dj->nrelays > 1 ? " ..." : "");
	if (at == NULL) {
		set_all(&rj, NULL, DJOB_FAIL, "5.1.2 no domain in the address");
		return;
	}
	rj.domain = at + 1;
	rj.tls = tls_policy(NULL);      /* by MX; relay groups set their own */
	rj.password = "";
	rj.connect_ms = conf_time_ms("smtp_out_connect_timeout");
	rj.cmd_ms = conf_time_ms("smtp_out_timeout");
	rj.fd = open(dj->path, O_RDONLY | O_CLOEXEC);
	if (rj.fd < 0 || fstat(rj.fd, &st) < 0) {
		log_exc(LOG_DELIVERY, "%s: %s: %s", dj->id, dj->path,
		    strerror(errno));
		set_all(&rj, NULL, DJOB_DEFER, "4.3.0 cannot read the message");
		if (rj.fd >= 0)
			close(rj.fd);
		return;
	}
	rj.size = st.st_size - dj->offset;
	{
		unsigned hops = count_hops(rj.fd, dj->offset);
		unsigned max = (unsigned)conf_int("smtp_max_hops");

		if (max > 0 && hops > max) {
			char text[200];

			/* RFC 5321 6.3: a message seen this often loops. */
			snprintf(text, sizeof(text), "5.4.6 mail loop: %u "
			    "Received headers (smtp_max_hops is %u)", hops, max);
			set_all(&rj, NULL, DJOB_FAIL, text);
			close(rj.fd);
			log_msg(LOG_DELIVERY, "%s: not sent: %s", dj->id, text);
			return;
		}
	}
	/* What the client declared (BODY=8BITMIME, BINARYMIME, or our own
	 * messages' body param); undeclared 8-bit bytes go on as they came,
	 * as other MTAs do. */
	rj.eightbit = dj->body != NULL && strcasecmp(dj->body, "7BIT") != 0;
	if (dj->nrelays > 0)
		by_relay(&rj);
	else
		by_mx(&rj);
	close(rj.fd);
	for (size_t i = 0; i < dj->nrcpts; i++)
		log_msg(LOG_DELIVERY, "%s: to=<%s> status=%s (%s)", dj->id,
		    dj->rcpts[i].addr, djob_status_name(dj->rcpts[i].status),
		    dj->rcpts[i].text != NULL ? dj->rcpts[i].text : "");
}
