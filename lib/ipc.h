/*
 * ipc - the one request/response framing every Tern daemon speaks over
 * Unix stream sockets (master <-> children, smtpd -> auth, smtpd -> queue).
 *
 * Wire format.  A frame is a 4-byte big-endian length N followed by N
 * bytes of body; every receiver has a mandatory cap on N and refuses a
 * larger frame as soon as it sees the length.  The body is one message:
 *
 *	type "\0" { name "\0" len[4, big-endian] value[len] }*
 *
 * The type and the field names are [a-z0-9_]{1,32}; values are arbitrary
 * bytes.  Each value travels with its name (Postfix attr style), so a
 * sender and a receiver that disagree about a message fail loudly instead
 * of reading the wrong field.  A name may repeat (lists); ipc_msg_get()
 * returns the first, ipc_msg_field() walks them all.  Anything malformed
 * is an error: we never guess.
 *
 * Handshake.  Each side's first frame is "hello" with fields "version"
 * (decimal, IPC_VERSION) and "name" (the program name).  A version
 * mismatch is an error; the peer's hello is never handed to the caller.
 *
 * Three parts: messages and framing (ipc.c), blocking sockets for pool
 * daemons and adminctl (ipc_sock.c), and libevent connections for the
 * event-driven daemons (ipc_conn.c).
 *
 * Error texts (error_r, close reasons) are static strings or point to a
 * per-thread buffer valid until the next ipc call in that thread fails.
 */
#ifndef TERN_IPC_H
#define TERN_IPC_H

#include <stdbool.h>
#include <stddef.h>

#define IPC_VERSION 1
#define IPC_NAME_MAX 32
/* Cap on the peer's hello frame in the blocking handshake. */
#define IPC_HELLO_MAX 1024
/* Bounds on a receiver's cap (the conn needs room for a hello). */
#define IPC_MAX_MIN 256
#define IPC_MAX_MAX (1024u * 1024 * 1024)

struct buf;
struct event_base;
struct ipc_msg;
struct ipc_conn;

/* --- messages --- */

/* True if s is a valid type or field name: [a-z0-9_]{1,32}. */
bool ipc_name_valid(const char *s);

/* New empty message; type must be a valid name (BUG otherwise). */
struct ipc_msg *ipc_msg_new(const char *type);
/* Free *mp (may be NULL) and set it to NULL. */
void ipc_msg_free(struct ipc_msg **mp);
const char *ipc_msg_type(const struct ipc_msg *m);

/*
 * Append a field; the value is copied.  name must be valid and len below
 * 4 GiB (BUG otherwise: both are the caller's code, not peer data).
 */
void ipc_msg_add(struct ipc_msg *m, const char *name, const void *val,
    size_t len);
void ipc_msg_add_str(struct ipc_msg *m, const char *name, const char *val);
void ipc_msg_add_int(struct ipc_msg *m, const char *name, long long v);

/*
 * Find the first field called name.  Returns 0 and sets *val_r, *len_r,
 * or -1 if there is none.  The value is followed by a NUL (not counted in
 * len) so text can be used directly; it lives as long as the message.
 */
int ipc_msg_get(const struct ipc_msg *m, const char *name,
    const void **val_r, size_t *len_r);
/* The first field called name as a string; NULL if missing or if the
 * value contains a NUL. */
const char *ipc_msg_get_str(const struct ipc_msg *m, const char *name);
/* Parse the first field called name as a decimal ("-"? digits, nothing
 * else, in range).  Returns 0, or -1 if missing or not such a number. */
int ipc_msg_get_int(const struct ipc_msg *m, const char *name,
    long long *v_r);

/* Number of fields, and field i (0 <= i < count) in wire order. */
size_t ipc_msg_count(const struct ipc_msg *m);
void ipc_msg_field(const struct ipc_msg *m, size_t i, const char **name_r,
    const void **val_r, size_t *len_r);

/* A message of its own with m's type and fields (caller frees). */
struct ipc_msg *ipc_msg_copy(const struct ipc_msg *m);

/* --- framing --- */

/* Append one whole frame (length prefix and body) to out.  BUG if out's
 * cap is too small or the body reaches 4 GiB. */
void ipc_msg_encode(const struct ipc_msg *m, struct buf *out);

enum ipc_status { IPC_OK, IPC_MORE, IPC_ERROR };

/*
 * Decode the frame at the start of data[0..len).  IPC_OK: *m_r is a new
 * message (caller frees) and *used_r the bytes the frame took.  IPC_MORE:
 * the frame is not complete yet; call again with more data.  IPC_ERROR:
 * *error_r says why; "frame too large ..." as soon as the length prefix
 * exceeds max (without waiting for the body), "malformed frame: ..." for
 * a bad body.  On ERROR the stream is unusable: close it.
 */
enum ipc_status ipc_decode(const void *data, size_t len, size_t max,
    struct ipc_msg **m_r, size_t *used_r, const char **error_r);

/* --- handshake pieces (used by both sides below) --- */

/* A new hello message announcing myname and IPC_VERSION. */
struct ipc_msg *ipc_hello_new(const char *myname);
/* 0 if m is an acceptable hello (type, our version, a printable name of
 * 1..64 characters), else -1 and *error_r ("version mismatch: ...",
 * "expected hello, got ...", "malformed hello: ..."). */
int ipc_hello_check(const struct ipc_msg *m, const char **error_r);

/* --- blocking sockets (ipc_sock.c) --- */

/*
 * Listen on the Unix socket path.  A socket already there is taken to be
 * stale (one listener per path; master restarts it) and removed; any
 * other kind of file is an error and left alone.  The socket gets mode
 * 0660 before it accepts connections.  Returns the listening fd
 * (blocking, close-on-exec), or -1.
 */
int ipc_listen_unix(const char *path, const char **error_r);
/* Connect to the Unix socket path; returns a blocking fd or -1. */
int ipc_connect_unix(const char *path, const char **error_r);

/*
 * Send one frame, all of it (retries short writes and EINTR; no SIGPIPE:
 * a closed peer is an error).  fd must be a socket.  Returns 0 or -1.
 */
int ipc_send(int fd, const struct ipc_msg *m, const char **error_r);

/*
 * Receive one frame of at most max body bytes, reading nothing beyond it.
 * timeout_ms bounds the whole frame (-1: wait forever).  Returns 0 with a
 * new *m_r, or -1 with *error_r: "timeout", "peer closed" (clean EOF
 * between frames), "peer closed mid-frame", "frame too large ...",
 * "malformed frame: ...", or a read error.
 */
int ipc_recv(int fd, size_t max, int timeout_ms, struct ipc_msg **m_r,
    const char **error_r);

/*
 * The handshake: send our hello, then receive and check the peer's
 * (within timeout_ms).  Both sides send first, so each can report the
 * peer's actual version on a mismatch.  Returns 0 or -1.
 */
int ipc_client_hello(int fd, const char *myname, int timeout_ms,
    const char **error_r);
int ipc_server_hello(int fd, const char *myname, int timeout_ms,
    const char **error_r);

/*
 * One request/response: connect to path, hello, send req, receive the
 * reply (max bytes; timeout_ms for each wait), close.  Returns 0 with a
 * new *resp_r, or -1 and *error_r.
 */
int ipc_call(const char *path, const char *myname, const struct ipc_msg *req,
    size_t max, int timeout_ms, struct ipc_msg **resp_r,
    const char **error_r);

/* --- libevent connections (ipc_conn.c) --- */

/* A frame from the peer; m is borrowed for the duration of the call. */
typedef void ipc_msg_cb(struct ipc_conn *c, const struct ipc_msg *m,
    void *arg);
/* The connection is dead (reason says why, for the caller's log line). */
typedef void ipc_close_cb(struct ipc_conn *c, const char *reason, void *arg);

/*
 * Wrap fd (a connected Unix stream socket, now owned by the conn and made
 * non-blocking) in a bufferevent on base, and send our hello.  The peer's
 * hello is checked, not passed on; each later frame goes to on_msg.  At
 * most max body bytes per frame (IPC_MAX_MIN..IPC_MAX_MAX); the read
 * high-water mark keeps at most max + 4 bytes buffered unread.
 *
 * on_close is called exactly once, on EOF, read/write error, an oversized
 * or malformed frame or a bad hello; afterwards no callback runs and sends
 * are dropped.  The caller logs the reason (exceptions level for anything
 * but a clean "peer closed") and frees the conn, from inside on_close if
 * it likes.  ipc_conn_free() by the caller does not call on_close.
 *
 * The process must ignore SIGPIPE (the server skeleton does): libevent
 * writes with writev().
 */
struct ipc_conn *ipc_conn_new(struct event_base *base, int fd,
    const char *myname, size_t max, ipc_msg_cb *on_msg,
    ipc_close_cb *on_close, void *arg);

/* Queue one frame for the peer; dropped if the conn is closed. */
void ipc_conn_send(struct ipc_conn *c, const struct ipc_msg *m);

/* The peer's name from its hello, or NULL before it arrived. */
const char *ipc_conn_peer(const struct ipc_conn *c);

/*
 * Free *cp (may be NULL), closing the fd, and set *cp to NULL.  Output
 * not yet written is dropped.  Safe inside on_msg/on_close: the memory is
 * released when the callback returns, and no further callback runs.
 */
void ipc_conn_free(struct ipc_conn **cp);

#endif
