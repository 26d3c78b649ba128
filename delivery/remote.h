/*
 * remote.h - the remote mode of the delivery agent (delivery -r): SMTP
 * to other mail servers.
 *
 *   remote.c     one job: the route (routing.conf's relay or MX), the
 *                hosts in order, the transaction, each recipient's result
 *   smtp_conn.c  one connection: connect, replies, commands, STARTTLS
 */
#ifndef TERN_DELIVERY_REMOTE_H
#define TERN_DELIVERY_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include "djob.h"

#define SREPLY_LINES 32

struct sreply {
	int code;                       /* 0: none (connection lost) */
	char text[1024];                /* the last line, code included */
	char lines[SREPLY_LINES][256];  /* each line's text after the code */
	size_t nlines;
};

struct sconn {
	int fd;
	SSL *ssl;
	char peer[300];                 /* "name[ip]" for logs and DSNs */
	char in[8192];
	size_t inlen;
};

void sconn_addr_text(const struct sockaddr_storage *ss, char *out,
    size_t size);
/* Connect within connect_ms, from the address from (same family; NULL:
 * the system's choice); cmd_ms bounds every later read and write. */
int sconn_open(struct sconn *c, const struct sockaddr_storage *ss,
    const struct sockaddr_storage *from, const char *host,
    long long connect_ms, long long cmd_ms, char *err, size_t errlen);
void sconn_close(struct sconn *c);
int sconn_write(struct sconn *c, const void *p, size_t n);
/* printf-style command; CRLF added. */
int sconn_cmd(struct sconn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* One whole reply; -1 (r->text says why) when none came. */
int sconn_reply(struct sconn *c, struct sreply *r);
int sconn_starttls(struct sconn *c, SSL_CTX *ctx, const char *host,
    char *err, size_t errlen);

/* remote.c */
int remote_init(void);
void remote_reload(void);
void remote_exit(void);
void remote_run(struct djob *dj);

#endif
