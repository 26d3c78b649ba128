/* Unit tests for lib/ipc: messages, framing, blocking sockets, conns. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ipc.h"
#include "tap.h"
#include "xalloc.h"

#define MAX 65536
#define NFIELDS 1000
#define NEXCHANGE 1000

static char tmpdir[] = "/tmp/tern-ipc-XXXXXX";

static bool
has(const char *s, const char *sub)
{
	return s != NULL && strstr(s, sub) != NULL;
}

static void
pair(int sv[2])
{
	ASSERT(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
}

static void
write_all(int fd, const void *p, size_t n)
{
	ASSERT(write(fd, p, n) == (ssize_t)n);
}

/* Frame body[0..len) with a correct length prefix into out. */
static void
frame_raw(struct buf *out, const void *body, size_t len)
{
	unsigned char hdr[4] = { (unsigned char)(len >> 24),
		(unsigned char)(len >> 16), (unsigned char)(len >> 8),
		(unsigned char)len };

	buf_append(out, hdr, 4);
	buf_append(out, body, len);
}

static pid_t
fork_child(void)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	ASSERT(pid >= 0);
	return pid;
}

static int
child_status(pid_t pid)
{
	int status;

	ASSERT(waitpid(pid, &status, 0) == pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Value of field i in the big message: binary, NULs, some empty. */
static size_t
field_val(int i, char *v)
{
	size_t n = (size_t)(i % 37), j;

	for (j = 0; j < n; j++)
		v[j] = (char)(j % 3 == 0 ? 0 : i * 31 + (int)j);
	return n;
}

static struct ipc_msg *
big_msg(void)
{
	struct ipc_msg *m = ipc_msg_new("big_one");
	char name[16], v[64];
	int i;

	for (i = 0; i < NFIELDS; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		ipc_msg_add(m, name, v, field_val(i, v));
	}
	return m;
}

static int
big_msg_bad_fields(const struct ipc_msg *m)
{
	const char *name;
	const void *val;
	char want[16], v[64];
	size_t len, n;
	int i, bad = 0;

	if (ipc_msg_count(m) != NFIELDS)
		return -1;
	for (i = 0; i < NFIELDS; i++) {
		ipc_msg_field(m, (size_t)i, &name, &val, &len);
		snprintf(want, sizeof(want), "f%d", i);
		n = field_val(i, v);
		if (strcmp(name, want) != 0 || len != n ||
		    memcmp(val, v, n) != 0 || ((const char *)val)[n] != '\0')
			bad++;
	}
	return bad;
}

static void
test_msg_fields(void)
{
	struct ipc_msg *m = ipc_msg_new("status");
	const void *val;
	size_t len;
	long long v;

	ipc_msg_add_str(m, "user", "joe@example.com");
	ipc_msg_add_int(m, "n", -42);
	ipc_msg_add_int(m, "big", LLONG_MAX);
	ipc_msg_add_int(m, "small", LLONG_MIN);
	ipc_msg_add(m, "bin", "a\0b", 3);
	ipc_msg_add(m, "empty", "", 0);
	ipc_msg_add_str(m, "rcpt", "a@x");
	ipc_msg_add_str(m, "rcpt", "b@x");
	is_str(ipc_msg_type(m), "status", "type kept");
	is_str(ipc_msg_get_str(m, "user"), "joe@example.com", "get_str");
	ok(ipc_msg_get_int(m, "n", &v) == 0 && v == -42, "get_int negative");
	ok(ipc_msg_get_int(m, "big", &v) == 0 && v == LLONG_MAX, "LLONG_MAX");
	ok(ipc_msg_get_int(m, "small", &v) == 0 && v == LLONG_MIN, "LLONG_MIN");
	ok(ipc_msg_get(m, "bin", &val, &len) == 0 && len == 3 &&
	    memcmp(val, "a\0b", 4) == 0, "binary value, NUL appended");
	ok(ipc_msg_get_str(m, "bin") == NULL, "get_str refuses inner NUL");
	is_str(ipc_msg_get_str(m, "empty"), "", "empty value");
	ok(ipc_msg_get(m, "nope", &val, &len) == -1, "missing field: -1");
	ok(ipc_msg_get_str(m, "nope") == NULL, "missing field: NULL");
	ok(ipc_msg_get_int(m, "user", &v) == -1, "text is not an int");
	ok(ipc_msg_get_int(m, "empty", &v) == -1, "empty is not an int");
	is_str(ipc_msg_get_str(m, "rcpt"), "a@x", "repeated name: first");
	is_int(ipc_msg_count(m), 8, "count includes repeats");
	ipc_msg_free(&m);
	ok(m == NULL, "free clears the pointer");
	ipc_msg_free(&m);
}

static void
test_int_strict(void)
{
	static const char *bad[] = { "+1", " 1", "1 ", "1x", "-", "--1",
		"0x10", "9223372036854775808", "-9223372036854775809", "1.0" };
	struct ipc_msg *m = ipc_msg_new("t");
	long long v;
	size_t i;
	int accepted = 0;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ipc_msg_add_str(m, "v", bad[i]);
		if (ipc_msg_get_int(m, "v", &v) == 0)
			accepted++;
		ipc_msg_free(&m);
		m = ipc_msg_new("t");
	}
	is_int(accepted, 0, "get_int refuses signs, spaces, junk, overflow");
	ipc_msg_add_str(m, "v", "007");
	ok(ipc_msg_get_int(m, "v", &v) == 0 && v == 7, "leading zeros ok");
	ipc_msg_free(&m);
}

static void
test_round_trip(void)
{
	struct ipc_msg *m = big_msg(), *d = NULL, *d2 = NULL;
	struct buf *b = buf_new(0);
	const char *err = NULL;
	size_t used = 0, one;

	ipc_msg_encode(m, b);
	one = buf_len(b);
	ipc_msg_encode(m, b);
	is_int(ipc_decode(buf_data(b), buf_len(b), MAX, &d, &used, &err),
	    IPC_OK, "decode 1000-field frame");
	is_int(used, one, "used is one frame, not both");
	is_str(ipc_msg_type(d), "big_one", "type round trip");
	is_int(big_msg_bad_fields(d), 0, "every field round trips");
	is_int(ipc_decode(buf_data(b) + used, buf_len(b) - used, MAX, &d2,
	    &used, &err), IPC_OK, "second frame decodes");
	ok(d2 != NULL && big_msg_bad_fields(d2) == 0, "... identically");
	ipc_msg_free(&d);
	ipc_msg_free(&d2);
	ipc_msg_free(&m);
	buf_free(&b);
}

static void
test_byte_at_a_time(void)
{
	struct ipc_msg *m = ipc_msg_new("auth"), *d = NULL;
	struct buf *b = buf_new(0);
	const char *err = NULL;
	size_t k, used = 0;
	int early = 0;

	ipc_msg_add_str(m, "user", "joe");
	ipc_msg_add(m, "pass", "s\0cret", 6);
	ipc_msg_encode(m, b);
	for (k = 0; k < buf_len(b); k++)
		if (ipc_decode(buf_data(b), k, MAX, &d, &used, &err) != IPC_MORE)
			early++;
	is_int(early, 0, "IPC_MORE for every prefix of the frame");
	is_int(ipc_decode(buf_data(b), k, MAX, &d, &used, &err), IPC_OK,
	    "IPC_OK at the last byte");
	is_int(used, buf_len(b), "whole frame used");
	ipc_msg_free(&d);
	ipc_msg_free(&m);
	buf_free(&b);
}

struct bad_body {
	const char *data;
	size_t len;
	const char *why;
	const char *name;
};

#define BB(s, why, name) { s, sizeof(s) - 1, why, name }

static const struct bad_body bad_bodies[] = {
	BB("", "empty type", "empty body"),
	BB("\0", "empty type", "empty type"),
	BB("hello", "bad message type", "type without NUL"),
	BB("Hello\0", "bad message type", "uppercase type"),
	BB("he-lo\0", "bad message type", "type with a dash"),
	BB("abcdefghijklmnopqrstuvwxyz0123456\0", "bad message type",
	    "33-byte type"),
	BB("t\0name", "bad field name", "name without NUL"),
	BB("t\0\0\0\0\0\0", "bad field name", "empty name"),
	BB("t\0Name\0\0\0\0\0", "bad field name", "uppercase name"),
	BB("t\0a b\0\0\0\0\0", "bad field name", "name with a space"),
	BB("t\0\xc3\xa9\0\0\0\0\0", "bad field name", "8-bit name"),
	BB("t\0abcdefghijklmnopqrstuvwxyz0123456\0\0\0\0\0", "bad field name",
	    "33-byte name"),
	BB("t\0a\0\0\0", "truncated value length", "3-byte length"),
	BB("t\0a\0", "truncated value length", "no length"),
	BB("t\0a\0\0\0\0\5abcd", "value beyond end", "value 1 byte short"),
	BB("t\0a\0\xff\xff\xff\xff", "value beyond end", "length 4 GiB-1"),
	BB("t\0a\0\0\0\0\0b", "bad field name", "trailing garbage"),
};

static void
test_malformed(void)
{
	struct ipc_msg *d = NULL;
	struct buf *b = buf_new(0);
	const char *err;
	size_t i, used;
	char name[80];
	enum ipc_status st;

	for (i = 0; i < sizeof(bad_bodies) / sizeof(bad_bodies[0]); i++) {
		buf_reset(b);
		frame_raw(b, bad_bodies[i].data, bad_bodies[i].len);
		err = NULL;
		st = ipc_decode(buf_data(b), buf_len(b), MAX, &d, &used, &err);
		snprintf(name, sizeof(name), "malformed: %s", bad_bodies[i].name);
		ok(st == IPC_ERROR && has(err, "malformed frame: ") &&
		    has(err, bad_bodies[i].why), name);
		if (st == IPC_OK)
			ipc_msg_free(&d);
	}
	buf_free(&b);
}

static void
test_oversized(void)
{
	struct ipc_msg *m = ipc_msg_new("x"), *d = NULL;
	struct buf *b = buf_new(0);
	const char *err = NULL;
	size_t used, body;

	is_int(ipc_decode("\0\1\0\1", 4, MAX, &d, &used, &err), IPC_ERROR,
	    "prefix max+1 refused from its 4 bytes alone");
	ok(has(err, "frame too large"), "... as frame too large");
	is_int(ipc_decode("\xff\xff\xff\xff", 4, MAX, &d, &used, &err),
	    IPC_ERROR, "prefix 4 GiB-1 refused");
	is_int(ipc_decode("\0\1", 2, MAX, &d, &used, &err), IPC_MORE,
	    "2 bytes of prefix: more");
	ipc_msg_add(m, "v", "0123456789", 10);
	ipc_msg_encode(m, b);
	body = buf_len(b) - 4;
	is_int(ipc_decode(buf_data(b), buf_len(b), body, &d, &used, &err),
	    IPC_OK, "frame of exactly max accepted");
	ipc_msg_free(&d);
	is_int(ipc_decode(buf_data(b), buf_len(b), body - 1, &d, &used, &err),
	    IPC_ERROR, "one byte over max refused");
	ipc_msg_free(&m);
	buf_free(&b);
}

/* Programming errors are BUG()s: the child must die by abort. */
static bool
aborts(void (*fn)(void))
{
	int status;
	pid_t pid = fork_child();

	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		dup2(fd, STDERR_FILENO);
		fn();
		_exit(0);
	}
	ASSERT(waitpid(pid, &status, 0) == pid);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
}

static void
bad_type(void)
{
	struct ipc_msg *m = ipc_msg_new("Hello");

	ipc_msg_free(&m);
}

static void
bad_name(void)
{
	struct ipc_msg *m = ipc_msg_new("hello");

	ipc_msg_add_str(m, "na\nme", "x");
	ipc_msg_free(&m);
}

static void
test_fatal(void)
{
	ok(aborts(bad_type), "ipc_msg_new with a bad type is a BUG");
	ok(aborts(bad_name), "ipc_msg_add with a bad name is a BUG");
	ok(ipc_name_valid("queue_id2") && !ipc_name_valid("") &&
	    !ipc_name_valid("abcdefghijklmnopqrstuvwxyz0123456"),
	    "ipc_name_valid");
}

/* --- blocking sockets --- */

static struct ipc_msg *
ping_msg(int seq)
{
	struct ipc_msg *m = ipc_msg_new("ping");
	char v[64];

	ipc_msg_add_int(m, "seq", seq);
	ipc_msg_add(m, "data", v, field_val(seq, v));
	return m;
}

/* A pong answers ping seq with the same data. */
static bool
pong_ok(const struct ipc_msg *m, int seq)
{
	const void *data;
	char v[64];
	size_t len, n = field_val(seq, v);
	long long got;

	return strcmp(ipc_msg_type(m), "pong") == 0 &&
	    ipc_msg_get_int(m, "seq", &got) == 0 && got == seq &&
	    ipc_msg_get(m, "data", &data, &len) == 0 && len == n &&
	    memcmp(data, v, n) == 0;
}

static void
test_recv_pieces(void)
{
	struct ipc_msg *a = big_msg(), *b = ping_msg(7), *m = NULL;
	struct buf *out = buf_new(0);
	const char *err = NULL;
	long long v;
	size_t i;
	int sv[2];
	pid_t pid;

	pair(sv);
	pid = fork_child();
	if (pid == 0) {
		/* frame a one byte per write(), then frame b at once */
		close(sv[0]);
		ipc_msg_encode(a, out);
		for (i = 0; i < buf_len(out); i++)
			write_all(sv[1], buf_data(out) + i, 1);
		_exit(ipc_send(sv[1], b, &err) == 0 ? 0 : 1);
	}
	close(sv[1]);
	is_int(ipc_recv(sv[0], MAX, 10000, &m, &err), 0,
	    "recv a frame written 1 byte at a time");
	ok(m != NULL && big_msg_bad_fields(m) == 0, "... intact");
	ipc_msg_free(&m);
	is_int(ipc_recv(sv[0], MAX, 10000, &m, &err), 0, "recv the next one");
	ok(m != NULL && ipc_msg_get_int(m, "seq", &v) == 0 && v == 7,
	    "... not eaten by the first recv");
	ipc_msg_free(&m);
	is_int(ipc_recv(sv[0], MAX, 10000, &m, &err), -1, "then EOF: -1");
	is_str(err, "peer closed", "... peer closed");
	is_int(child_status(pid), 0, "writer child ok");
	close(sv[0]);
	ipc_msg_free(&a);
	ipc_msg_free(&b);
	buf_free(&out);
}

/* Put data in the pipe (then maybe close it) and expect recv to fail. */
static void
recv_fails(const void *data, size_t len, bool eof, int timeout_ms,
    const char *want, const char *name)
{
	struct ipc_msg *m = NULL;
	const char *err = NULL;
	int sv[2], r;

	pair(sv);
	if (len > 0)
		write_all(sv[1], data, len);
	if (eof)
		close(sv[1]);
	r = ipc_recv(sv[0], MAX, timeout_ms, &m, &err);
	ok(r == -1 && m == NULL && has(err, want), name);
	if (r == -1 && !has(err, want))
		diag("error was: %s", err != NULL ? err : "(null)");
	ipc_msg_free(&m);
	close(sv[0]);
	if (!eof)
		close(sv[1]);
}

static void
test_recv_errors(void)
{
	struct ipc_msg *m = ping_msg(3);
	struct buf *b = buf_new(0);
	size_t half;

	ipc_msg_encode(m, b);
	half = buf_len(b) / 2;
	recv_fails("", 0, true, 5000, "peer closed", "EOF before a frame");
	recv_fails("\0\0", 2, true, 5000, "peer closed mid-frame",
	    "EOF inside the length prefix");
	recv_fails(buf_data(b), half, true, 5000, "peer closed mid-frame",
	    "EOF inside the body");
	recv_fails("", 0, false, 50, "timeout", "50 ms timeout, no data");
	recv_fails(buf_data(b), half, false, 50, "timeout",
	    "50 ms timeout for the whole frame, half sent");
	/* A 10 s deadline: answering "frame too large" proves no wait. */
	recv_fails("\0\1\0\1", 4, false, 10000, "frame too large",
	    "oversized prefix refused without waiting for the body");
	recv_fails("\0\0\0\3t\0x", 7, false, 5000, "malformed frame",
	    "malformed body");
	recv_fails("\0\0\0\0", 4, false, 5000, "malformed frame: empty type",
	    "zero-length frame");
	ipc_msg_free(&m);
	buf_free(&b);
}

/* Hand peer's frame to ipc_client_hello and expect want (NULL: success). */
static void
hello_expect(struct ipc_msg *peer, const char *want, const char *name)
{
	const char *err = NULL;
	int sv[2], r;

	pair(sv);
	ASSERT(ipc_send(sv[1], peer, &err) == 0);
	r = ipc_client_hello(sv[0], "client", 1000, &err);
	if (want == NULL) {
		ok(r == 0, name);
		is_int(ipc_server_hello(sv[1], "server", 1000, &err), 0,
		    "server side of the same exchange");
	} else
		ok(r == -1 && has(err, want), name);
	close(sv[0]);
	close(sv[1]);
	ipc_msg_free(&peer);
}

static struct ipc_msg *
hello_with(const char *version, const char *name)
{
	struct ipc_msg *m = ipc_msg_new("hello");

	if (version != NULL)
		ipc_msg_add_str(m, "version", version);
	if (name != NULL)
		ipc_msg_add_str(m, "name", name);
	return m;
}

static void
test_hello(void)
{
	struct ipc_msg *huge = ipc_hello_new("big");
	char pad[IPC_HELLO_MAX];
	const char *err = NULL;
	int sv[2];

	memset(pad, 'x', sizeof(pad));
	ipc_msg_add(huge, "pad", pad, sizeof(pad));
	hello_expect(ipc_hello_new("server"), NULL, "hello exchange");
	hello_expect(hello_with("2", "old"), "version mismatch: peer old "
	    "speaks 2, we speak 1", "version mismatch reported");
	hello_expect(ipc_msg_new("ping"), "expected hello, got ping",
	    "first frame not a hello");
	hello_expect(hello_with("1", NULL), "malformed hello", "no name");
	hello_expect(hello_with(NULL, "x"), "malformed hello", "no version");
	hello_expect(hello_with("1x", "x"), "malformed hello", "bad version");
	hello_expect(hello_with("1", "a\nb"), "malformed hello",
	    "name with a newline (log injection)");
	hello_expect(huge, "frame too large", "hello over IPC_HELLO_MAX");
	pair(sv);
	ok(ipc_client_hello(sv[0], "client", 50, &err) == -1 &&
	    has(err, "timeout"), "silent peer: hello times out");
	close(sv[0]);
	close(sv[1]);
}

/* Child: answer one ipc_call on the listening socket. */
static void __attribute__((noreturn))
serve_one(int lfd)
{
	struct ipc_msg *req = NULL, *resp;
	const void *data;
	const char *err;
	long long seq;
	size_t len;
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0 || ipc_server_hello(fd, "server", 5000, &err) < 0 ||
	    ipc_recv(fd, MAX, 5000, &req, &err) < 0 ||
	    ipc_msg_get_int(req, "seq", &seq) < 0 ||
	    ipc_msg_get(req, "data", &data, &len) < 0)
		_exit(1);
	resp = ipc_msg_new("pong");
	ipc_msg_add_int(resp, "seq", seq);
	ipc_msg_add(resp, "data", data, len);
	_exit(ipc_send(fd, resp, &err) == 0 ? 0 : 2);
}

static void
test_listen_call(void)
{
	char *path = xasprintf("%s/t.sock", tmpdir), longp[200];
	struct ipc_msg *req = ping_msg(41), *resp = NULL;
	const char *err = NULL;
	struct stat st;
	int lfd, fd;
	pid_t pid;

	lfd = ipc_listen_unix(path, &err);
	ok(lfd >= 0, "listen on a Unix socket");
	ok(stat(path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    (st.st_mode & 0777) == 0660, "socket has mode 0660");
	pid = fork_child();
	if (pid == 0)
		serve_one(lfd);
	ok(ipc_call(path, "client", req, MAX, 5000, &resp, &err) == 0 &&
	    pong_ok(resp, 41), "ipc_call: connect, hello, request, reply");
	is_int(child_status(pid), 0, "server child ok");
	ipc_msg_free(&resp);
	close(lfd);

	fd = ipc_connect_unix(path, &err);
	ok(fd < 0 && has(err, "connect"), "connect to a stale socket fails");
	ok(ipc_call(path, "client", req, MAX, 50, &resp, &err) == -1 &&
	    resp == NULL, "ipc_call without a server: -1");
	lfd = ipc_listen_unix(path, &err);
	ok(lfd >= 0, "stale socket replaced by a new listener");
	close(lfd);
	unlink(path);

	fd = open(path, O_WRONLY | O_CREAT, 0600);
	close(fd);
	ok(ipc_listen_unix(path, &err) < 0 && has(err, "not a socket") &&
	    access(path, F_OK) == 0, "a regular file is not removed");
	unlink(path);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	ok(ipc_listen_unix(longp, &err) < 0 && has(err, "too long"),
	    "over-long socket path refused");
	ok(ipc_connect_unix("/nonexistent/x.sock", &err) < 0,
	    "connect to a missing path fails");
	ipc_msg_free(&req);
	free(path);
}

static void
test_sock(void)
{
	test_recv_pieces();
	test_recv_errors();
	test_hello();
	test_listen_call();
}

/* --- libevent connections --- */

#define CONN_MAX 4096
#define NBURST 100

struct conn_state {
	struct event_base *base;
	struct ipc_conn *conn;
	int msgs, closes, bad;
	bool echo;              /* answer each ping with a pong */
	bool free_in_msg;       /* free the conn inside on_msg */
	bool free_in_close;     /* free the conn inside on_close */
	char reason[200];
	char peer[64];
};

static bool timed_out;

static void
on_msg(struct ipc_conn *c, const struct ipc_msg *m, void *arg)
{
	struct conn_state *s = arg;
	struct ipc_msg *r;
	const void *data;
	long long seq;
	size_t len;

	if (s->msgs++ == 0)
		snprintf(s->peer, sizeof(s->peer), "%s",
		    ipc_conn_peer(c) != NULL ? ipc_conn_peer(c) : "(null)");
	if (c != s->conn || s->closes > 0)
		s->bad++;
	if (s->free_in_msg) {
		ipc_conn_free(&s->conn);
		event_base_loopbreak(s->base);
		return;
	}
	if (!s->echo)
		return;
	if (strcmp(ipc_msg_type(m), "ping") != 0 ||
	    ipc_msg_get_int(m, "seq", &seq) < 0 ||
	    ipc_msg_get(m, "data", &data, &len) < 0) {
		s->bad++;
		return;
	}
	r = ipc_msg_new("pong");
	ipc_msg_add_int(r, "seq", seq);
	ipc_msg_add(r, "data", data, len);
	ipc_conn_send(c, r);
	ipc_msg_free(&r);
}

static void
on_close(struct ipc_conn *c, const char *reason, void *arg)
{
	struct conn_state *s = arg;

	s->closes++;
	snprintf(s->reason, sizeof(s->reason), "%s", reason);
	if (c != s->conn)
		s->bad++;
	if (s->free_in_close)
		ipc_conn_free(&s->conn);
	event_base_loopbreak(s->base);
}

static void
on_guard(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	timed_out = true;
	event_base_loopbreak(arg);
}

/* Run until a callback breaks the loop; the 10 s guard is a safety net. */
static void
run_loop(struct event_base *base)
{
	struct timeval tv = { 10, 0 };
	struct event *guard = evtimer_new(base, on_guard, base);

	evtimer_add(guard, &tv);
	event_base_dispatch(base);
	event_free(guard);
	/* anything still pending must not produce a second on_close */
	event_base_loop(base, EVLOOP_NONBLOCK);
}

/* Child: send pings first..last-1 and check the pongs; returns #bad. */
static int
ping_range(int fd, int first, int last, bool lockstep)
{
	struct ipc_msg *m, *r = NULL;
	const char *err;
	int i, j = first, bad = 0;

	for (i = first; i < last; i++) {
		m = ping_msg(i);
		if (ipc_send(fd, m, &err) < 0)
			return -1;
		ipc_msg_free(&m);
		/* pipelined: all pongs are read after the last ping */
		if (!lockstep && i < last - 1)
			continue;
		for (; j <= i; j++) {
			if (ipc_recv(fd, MAX, 5000, &r, &err) < 0)
				return -1;
			bad += !pong_ok(r, j);
			ipc_msg_free(&r);
		}
	}
	return bad;
}

/* Child: lock-step pings, a pipelined burst, then an oversized frame. */
static int
exchange_child(int fd)
{
	static const unsigned char big[4] = { 0, 0, 0x10, 0x01 };
	struct ipc_msg *r = NULL;
	const char *err;

	if (ipc_client_hello(fd, "child", 5000, &err) < 0)
		return 1;
	if (ping_range(fd, 0, NEXCHANGE, true) != 0)
		return 2;
	if (ping_range(fd, NEXCHANGE, NEXCHANGE + NBURST, false) != 0)
		return 3;
	write_all(fd, big, sizeof(big));        /* 4097 > CONN_MAX */
	if (ipc_recv(fd, MAX, 5000, &r, &err) == 0 ||
	    strcmp(err, "peer closed") != 0)
		return 4;
	return 0;
}

/* Child: hello, one ping and its pong, then a clean close. */
static int
close_child(int fd)
{
	struct ipc_msg *m = ping_msg(5), *r = NULL;
	const char *err;

	if (ipc_client_hello(fd, "closer", 5000, &err) < 0 ||
	    ipc_send(fd, m, &err) < 0 || ipc_recv(fd, MAX, 5000, &r, &err) < 0 ||
	    !pong_ok(r, 5))
		return 1;
	return 0;
}

/* Run child_fn in a child on one end; the parent's conn on the other. */
static int
conn_with_child(struct conn_state *s, int (*child_fn)(int))
{
	int sv[2];
	pid_t pid;

	pair(sv);
	pid = fork_child();
	if (pid == 0) {
		close(sv[0]);
		_exit(child_fn(sv[1]));
	}
	close(sv[1]);
	s->base = event_base_new();
	ASSERT(s->base != NULL);
	s->conn = ipc_conn_new(s->base, sv[0], "parent", CONN_MAX, on_msg,
	    on_close, s);
	run_loop(s->base);
	ipc_conn_free(&s->conn);
	event_base_free(s->base);
	return child_status(pid);
}

static void
test_conn_exchange(void)
{
	struct conn_state s = { .echo = true, .free_in_close = true };
	struct conn_state s2 = { .echo = true };

	is_int(conn_with_child(&s, exchange_child), 0,
	    "child: 1000 lock-step + 100 pipelined pongs right, then EOF");
	is_int(s.msgs, NEXCHANGE + NBURST, "parent got every request");
	is_str(s.peer, "child", "peer name from its hello");
	is_int(s.closes, 1, "oversized frame: on_close exactly once");
	ok(has(s.reason, "frame too large (4097 > 4096"), "... with reason");
	is_int(s.bad, 0, "no callback after close, right conn passed");

	is_int(conn_with_child(&s2, close_child), 0, "close child ok");
	is_int(s2.msgs, 1, "one request before the close");
	is_int(s2.closes, 1, "peer close: on_close exactly once");
	is_str(s2.reason, "peer closed", "... reason peer closed");
}

/* Peer side written up front (then maybe shut down), no child needed. */
static void
conn_feed(struct conn_state *s, struct buf *in, bool shut)
{
	int sv[2];

	pair(sv);
	write_all(sv[1], buf_data(in), buf_len(in));
	/* SHUT_WR, not close: our hello must still be writable, so EOF is
	 * the only event and the reason is deterministic. */
	if (shut)
		shutdown(sv[1], SHUT_WR);
	s->base = event_base_new();
	s->conn = ipc_conn_new(s->base, sv[0], "parent", CONN_MAX, on_msg,
	    on_close, s);
	run_loop(s->base);
	ipc_conn_free(&s->conn);
	event_base_free(s->base);
	close(sv[1]);
}

static void
feed_expect(struct buf *in, bool shut, int msgs, const char *reason,
    const char *name)
{
	struct conn_state s = { 0 };

	conn_feed(&s, in, shut);
	ok(s.msgs == msgs && s.closes == 1 && has(s.reason, reason) &&
	    s.bad == 0, name);
	if (!has(s.reason, reason))
		diag("reason was: %s", s.reason);
	buf_reset(in);
}

static void
add_msg(struct buf *b, struct ipc_msg *m)
{
	ipc_msg_encode(m, b);
	ipc_msg_free(&m);
}

static void
test_conn_hostile(void)
{
	struct buf *in = buf_new(0);
	struct ipc_msg *m;
	struct conn_state s = { .free_in_msg = true };
	char pad[CONN_MAX];
	size_t over;

	add_msg(in, ipc_hello_new("peer"));
	frame_raw(in, "t\0Bad\0", 6);
	feed_expect(in, false, 0, "malformed frame: bad field name",
	    "malformed frame closes the conn");
	add_msg(in, hello_with("2", "old"));
	feed_expect(in, false, 0, "version mismatch", "bad hello version");
	add_msg(in, ping_msg(1));
	feed_expect(in, false, 0, "expected hello", "frame before hello");
	add_msg(in, ipc_hello_new("peer"));
	buf_append(in, "\xff\xff\xff\xff", 4);
	feed_expect(in, false, 0, "frame too large", "4 GiB prefix refused");
	add_msg(in, ipc_hello_new("peer"));
	add_msg(in, ping_msg(1));
	buf_append(in, "\0\0\0\x10t\0", 6);
	feed_expect(in, true, 1, "peer closed mid-frame", "EOF mid-frame");

	/* A frame of exactly max passes the high-water mark. */
	add_msg(in, ipc_hello_new("peer"));
	m = ipc_msg_new("p");
	memset(pad, 'x', sizeof(pad));
	over = 4 + 2 + 2 + 4;   /* prefix, "p\0", "v\0", value length */
	ipc_msg_add(m, "v", pad, CONN_MAX + 4 - over);
	add_msg(in, m);
	feed_expect(in, true, 1, "peer closed", "frame of exactly max read");

	add_msg(in, ipc_hello_new("peer"));
	add_msg(in, ping_msg(1));
	add_msg(in, ping_msg(2));
	add_msg(in, ping_msg(3));
	conn_feed(&s, in, false);
	ok(s.msgs == 1 && s.closes == 0 && s.conn == NULL && s.bad == 0,
	    "free inside on_msg: no more callbacks, no on_close");
	buf_free(&in);
}

static void
test_conn(void)
{
	test_conn_exchange();
	test_conn_hostile();
	ok(!timed_out, "no event loop hit its 10 s guard timer");
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	ASSERT(mkdtemp(tmpdir) != NULL);
	test_msg_fields();
	test_int_strict();
	test_round_trip();
	test_byte_at_a_time();
	test_malformed();
	test_oversized();
	test_fatal();
	test_sock();
	test_conn();
	rmdir(tmpdir);
	return done_testing();
}
