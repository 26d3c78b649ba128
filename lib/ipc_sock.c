/* ipc_sock - blocking Unix sockets for the ipc framing; see ipc.h */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ipc.h"
#include "xalloc.h"

static _Thread_local char ipc_sock_errbuf[256];

static const char *ipc_sock_err(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static const char *
ipc_sock_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ipc_sock_errbuf, sizeof(ipc_sock_errbuf), fmt, ap);
	va_end(ap);
	return ipc_sock_errbuf;
}

static int64_t
ipc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is ready for events or the deadline (-1: none) passes. */
static int
ipc_wait(int fd, short events, int64_t deadline, const char **error_r)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int64_t left;
	int r;

	for (;;) {
		left = -1;
		if (deadline >= 0) {
			left = deadline - ipc_now_ms();
			if (left < 0)
				left = 0;       /* past it: one last look */
		}
		r = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r > 0)
			return 0;
		if (r == 0 && left == 0)
			break;
		if (r < 0 && errno != EINTR) {
			*error_r = ipc_sock_err("poll: %s", strerror(errno));
			return -1;
		}
	}
	*error_r = "timeout";
	return -1;
}

/*
 * Read exactly n bytes.  Returns 0, 1 on EOF (*got_r says how far we
 * came), or -1 with *error_r.
 */
static int
ipc_read_full(int fd, void *p, size_t n, int64_t deadline, size_t *got_r,
    const char **error_r)
{
	ssize_t r;

	*got_r = 0;
	while (*got_r < n) {
		if (ipc_wait(fd, POLLIN, deadline, error_r) < 0)
			return -1;
		r = read(fd, (char *)p + *got_r, n - *got_r);
		if (r == 0)
			return 1;
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			*error_r = ipc_sock_err("read: %s", strerror(errno));
			return -1;
		}
		*got_r += (size_t)r;
	}
	return 0;
}

int
ipc_recv(int fd, size_t max, int timeout_ms, struct ipc_msg **m_r,
    const char **error_r)
{
	int64_t deadline = timeout_ms < 0 ? -1 : ipc_now_ms() + timeout_ms;
	unsigned char hdr[4];
	struct ipc_msg *m = NULL;
	size_t got, used, n;
	char *frame;
	int r;

	r = ipc_read_full(fd, hdr, 4, deadline, &got, error_r);
	if (r > 0)
		*error_r = got == 0 ? "peer closed" : "peer closed mid-frame";
	if (r != 0)
		return -1;
	/* The prefix alone: ipc_decode refuses an oversized length here. */
	if (ipc_decode(hdr, 4, max, &m, &used, error_r) == IPC_ERROR)
		return -1;
	n = (size_t)hdr[0] << 24 | (size_t)hdr[1] << 16 |
	    (size_t)hdr[2] << 8 | hdr[3];
	frame = xmalloc(4 + n);
	memcpy(frame, hdr, 4);
	r = ipc_read_full(fd, frame + 4, n, deadline, &got, error_r);
	if (r > 0)
		*error_r = "peer closed mid-frame";
	if (r == 0 && ipc_decode(frame, 4 + n, max, &m, &used, error_r) ==
	    IPC_OK) {
		free(frame);
		*m_r = m;
		return 0;
	}
	free(frame);
	return -1;
}

int
ipc_send(int fd, const struct ipc_msg *m, const char **error_r)
{
	struct buf *b = buf_new(256);
	size_t off = 0;
	ssize_t r;
	int ret = 0;

	ipc_msg_encode(m, b);
	while (off < buf_len(b)) {
		/* MSG_NOSIGNAL: a dead peer is an error, not SIGPIPE. */
		r = send(fd, buf_data(b) + off, buf_len(b) - off, MSG_NOSIGNAL);
		if (r >= 0) {
			off += (size_t)r;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			*error_r = ipc_sock_err("send: %s", strerror(errno));
		else if (ipc_wait(fd, POLLOUT, -1, error_r) == 0)
			continue;       /* a non-blocking fd that filled up */
		ret = -1;
		break;
	}
	buf_free(&b);
	return ret;
}

static int
ipc_sock_addr(const char *path, struct sockaddr_un *sun,
    const char **error_r)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path)) {
		*error_r = ipc_sock_err("socket path too long: %.100s", path);
		return -1;
	}
	strcpy(sun->sun_path, path);
	return 0;
}

/* Remove a socket left by an earlier run; refuse to touch anything else. */
static int
ipc_unlink_stale(const char *path, const char **error_r)
{
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = ipc_sock_err("%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		*error_r = ipc_sock_err("%s: exists and is not a socket", path);
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		*error_r = ipc_sock_err("unlink %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
ipc_listen_unix(const char *path, const char **error_r)
{
	struct sockaddr_un sun;
	const char *what;
	int fd;

	if (ipc_sock_addr(path, &sun, error_r) < 0 ||
	    ipc_unlink_stale(path, error_r) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = ipc_sock_err("socket: %s", strerror(errno));
		return -1;
	}
	/*
	 * chmod between bind and listen: until listen() nobody can connect,
	 * so there is no window with the umask's mode.
	 */
	what = "bind";
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		goto fail;
	what = "chmod";
	if (chmod(path, 0660) < 0)
		goto fail;
	what = "listen";
	if (listen(fd, SOMAXCONN) < 0)
		goto fail;
	return fd;
fail:
	*error_r = ipc_sock_err("%s %s: %s", what, path, strerror(errno));
	close(fd);
	return -1;
}

int
ipc_connect_unix(const char *path, const char **error_r)
{
	struct sockaddr_un sun;
	int fd, err = 0;
	socklen_t len = sizeof(err);

	if (ipc_sock_addr(path, &sun, error_r) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = ipc_sock_err("socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		err = errno;
		/* Interrupted, the connect goes on; wait for its outcome. */
		if (err == EINTR && ipc_wait(fd, POLLOUT, -1, error_r) == 0 &&
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
	}
	if (err != 0) {
		*error_r = ipc_sock_err("connect %s: %s", path, strerror(err));
		close(fd);
		return -1;
	}
	return fd;
}

static int
ipc_hello(int fd, const char *myname, int timeout_ms, const char **error_r)
{
	struct ipc_msg *m = ipc_hello_new(myname);
	int r;

	r = ipc_send(fd, m, error_r);
	ipc_msg_free(&m);
	if (r < 0)
		return -1;
	if (ipc_recv(fd, IPC_HELLO_MAX, timeout_ms, &m, error_r) < 0)
		return -1;
	r = ipc_hello_check(m, error_r);
	ipc_msg_free(&m);
	return r;
}

int
ipc_client_hello(int fd, const char *myname, int timeout_ms,
    const char **error_r)
{
	return ipc_hello(fd, myname, timeout_ms, error_r);
}

int
ipc_server_hello(int fd, const char *myname, int timeout_ms,
    const char **error_r)
{
	/* The exchange is symmetric: both send first, then check. */
	return ipc_hello(fd, myname, timeout_ms, error_r);
}

int
ipc_call(const char *path, const char *myname, const struct ipc_msg *req,
    size_t max, int timeout_ms, struct ipc_msg **resp_r,
    const char **error_r)
{
	int fd, r = -1;

	fd = ipc_connect_unix(path, error_r);
	if (fd < 0)
		return -1;
	if (ipc_client_hello(fd, myname, timeout_ms, error_r) == 0 &&
	    ipc_send(fd, req, error_r) == 0 &&
	    ipc_recv(fd, max, timeout_ms, resp_r, error_r) == 0)
		r = 0;
	close(fd);
	return r;
}
