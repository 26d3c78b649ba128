/*
 * smtp_conn - one SMTP client connection of the remote agent: connect
 * with a timeout, read replies (multi-line, bounded), send commands, and
 * switch to TLS after STARTTLS.  Blocking, with the socket's send and
 * receive timeouts as the command timeout: the agent runs one job at a
 * time per process.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>

#include "delivery.h"
#include "remote.h"
#include "tls.h"
#include "xalloc.h"

/* Longest reply line we keep, and most lines in one reply. */
#define REPLY_LINE_MAX 1024
#define REPLY_LINES_MAX 100

void
sconn_addr_text(const struct sockaddr_storage *ss, char *out, size_t size)
{
	if (ss->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->
		    sin6_addr, out, (socklen_t)size);
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    out, (socklen_t)size);
}

int
sconn_open(struct sconn *c, const struct sockaddr_storage *ss,
    const struct sockaddr_storage *from, const char *host,
    long long connect_ms, long long cmd_ms, char *err, size_t errlen)
{
	socklen_t len = ss->ss_family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	struct timeval tv = { cmd_ms / 1000, cmd_ms % 1000 * 1000 };
	struct pollfd pfd;
	int fd, rc, soerr = 0;
	socklen_t sl = sizeof(soerr);
	char ip[64];

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	sconn_addr_text(ss, ip, sizeof(ip));
	snprintf(c->peer, sizeof(c->peer), "%s[%s]", host, ip);
	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (from != NULL && bind(fd, (const struct sockaddr *)from, len) < 0) {
		snprintf(err, errlen, "cannot send from the outbound address: "
		    "%s", strerror(errno));
		close(fd);
		return -1;
	}
	rc = connect(fd, (const struct sockaddr *)ss, len);
	if (rc < 0 && errno == EINPROGRESS) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		rc = poll(&pfd, 1, (int)connect_ms);
		if (rc == 0) {
			snprintf(err, errlen, "connect to %s: timed out",
			    c->peer);
			close(fd);
			return -1;
		}
		if (rc > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr,
		    &sl) == 0 && soerr != 0) {
			errno = soerr;
			rc = -1;
		} else if (rc > 0)
			rc = 0;
	}
	if (rc < 0) {
		snprintf(err, errlen, "connect to %s: %s", c->peer,
		    strerror(errno));
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	/* Commands are small writes answered one reply at a time; with
	 * Nagle each would wait for the peer's delayed ACK (40 ms). */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	c->fd = fd;
	return 0;
}

void
sconn_close(struct sconn *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static ssize_t
sconn_read(struct sconn *c, void *p, size_t n)
{
	int r;

	if (c->ssl == NULL)
		return read(c->fd, p, n);
	r = SSL_read(c->ssl, p, (int)n);
	return r > 0 ? r : -1;
}

int
sconn_write(struct sconn *c, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = c->ssl != NULL ? SSL_write(c->ssl, s, (int)n) :
		    write(c->fd, s, n);

		if (w <= 0) {
			if (c->ssl == NULL && w < 0 && errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One line without its CRLF into line (cut at size); -1 on EOF/error. */
static int
sconn_line(struct sconn *c, char *line, size_t size)
{
	size_t n = 0;

	for (;;) {
		char *nl = memchr(c->in, '\n', c->inlen);

		if (nl != NULL) {
			size_t len = (size_t)(nl - c->in);
			size_t keep = len > 0 && c->in[len - 1] == '\r' ?
			    len - 1 : len;

			n = keep < size - 1 ? keep : size - 1;
			memcpy(line, c->in, n);
			line[n] = '\0';
			memmove(c->in, nl + 1, c->inlen - len - 1);
			c->inlen -= len + 1;
			return 0;
		}
		if (c->inlen == sizeof(c->in)) {
			/* An endless line: keep its start, drop the rest. */
			c->inlen = REPLY_LINE_MAX;
		}
		{
			ssize_t r = sconn_read(c, c->in + c->inlen,
			    sizeof(c->in) - c->inlen);

			if (r <= 0)
				return -1;
			c->inlen += (size_t)r;
		}
	}
}

int
sconn_reply(struct sconn *c, struct sreply *r)
{
	char line[REPLY_LINE_MAX];
	size_t lines = 0;

	r->code = 0;
	r->text[0] = '\0';
	r->nlines = 0;
	for (;;) {
		if (sconn_line(c, line, sizeof(line)) < 0) {
			snprintf(r->text, sizeof(r->text), "%s: connection "
			    "lost or timed out", c->peer);
			return -1;
		}
		if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' ||
		    line[1] < '0' || line[1] > '9' || line[2] < '0' ||
		    line[2] > '9' || (line[3] != ' ' && line[3] != '-' &&
		    line[3] != '\0')) {
			snprintf(r->text, sizeof(r->text), "%s: malformed "
			    "reply", c->peer);
			return -1;
		}
		r->code = atoi(line);
		if (lines < REPLY_LINES_MAX && lines < SREPLY_LINES) {
			snprintf(r->lines[lines], sizeof(r->lines[lines]), "%.255s",
			    line[3] != '\0' ? line + 4 : "");
			r->nlines = ++lines;
		}
		if (r->nlines == 1 || line[3] == ' ' || line[3] == '\0')
			snprintf(r->text, sizeof(r->text), "%s", line);
		if (line[3] != '-')
			return 0;
	}
}

int
sconn_cmd(struct sconn *c, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 2, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 2)
		return -1;
	memcpy(buf + n, "\r\n", 2);
	return sconn_write(c, buf, (size_t)n + 2);
}

int
sconn_starttls(struct sconn *c, SSL_CTX *ctx, const char *host, char *err,
    size_t errlen)
{
	c->ssl = SSL_new(ctx);
	if (c->ssl == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    tls_client_set_host(c->ssl, host) < 0 ||
	    SSL_connect(c->ssl) != 1) {
		unsigned long e = ERR_get_error();

		snprintf(err, errlen, "TLS with %s failed: %s", c->peer,
		    e != 0 ? ERR_reason_error_string(e) : "handshake");
		ERR_clear_error();
		if (c->ssl != NULL)
			SSL_free(c->ssl);
		c->ssl = NULL;
		return -1;
	}
	c->inlen = 0;           /* nothing read before TLS counts after */
	return 0;
}
