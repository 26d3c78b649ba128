/*
 * Unit tests for lib/auth_client: the SASL-to-request builders (PLAIN,
 * LOGIN, CRAM-MD5 edge cases) and the asynchronous client against a fake
 * auth daemon on the same event loop (answers, refusals, silence, a
 * closed connection, cancel).
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth_client.h"
#include "ipc.h"
#include "tap.h"
#include "xalloc.h"

static char tmpdir[] = "/tmp/tern-authc-XXXXXX";

/* --- the builders -------------------------------------------------------- */

static int
plain(struct auth_creds *c, const char *msg, size_t len, const char **err)
{
	return auth_creds_plain(c, msg, len, err);
}

static void
test_plain(void)
{
	struct auth_creds c = { 0 };
	struct auth_request req = { 0 };
	const char *err = NULL;

	ok(plain(&c, "\0alice@example.com\0pw", 21, &err) == 0,
	    "PLAIN: empty authzid");
	is_str(c.mech, "PLAIN", "mech");
	is_str(c.user, "alice@example.com", "user is the authcid");
	is_str(c.password, "pw", "password");
	auth_creds_request(&c, &req);
	ok(req.user == c.user && req.password == c.password &&
	    req.challenge == NULL && req.digest == NULL &&
	    strcmp(req.mech, "PLAIN") == 0, "request points into the creds");

	ok(plain(&c, "a@b\0a@b\0pw", 10, &err) == 0,
	    "authzid equal to authcid (the old creds are freed first)");
	ok(plain(&c, "b@b\0a@b\0pw", 10, &err) < 0, "authzid differs");
	is_str(err, "proxy login not allowed", "and says so");
	ok(c.user == NULL && c.password == NULL && c.mech == NULL,
	    "a failure leaves the creds empty");
	ok(plain(&c, "a@bpw", 5, &err) < 0 && strstr(err, "NUL") != NULL,
	    "no NUL");
	ok(plain(&c, "\0a@bpw", 6, &err) < 0 && strstr(err, "NUL") != NULL,
	    "one NUL");
	ok(plain(&c, "\0a@b\0p\0w", 8, &err) < 0 &&
	    strstr(err, "more than two") != NULL, "three NULs");
	ok(plain(&c, "\0a@b\0", 5, &err) < 0 && strstr(err, "empty") != NULL,
	    "empty password");
	ok(plain(&c, "\0\0pw", 4, &err) < 0 && strstr(err, "empty") != NULL,
	    "empty authcid");
	ok(plain(&c, "", 0, &err) < 0, "empty message");
	ok(plain(&c, "\0\xff\xfe\0pw", 6, &err) < 0 &&
	    strstr(err, "UTF-8") != NULL, "authcid not UTF-8");
	auth_creds_clear(&c);
}

static void
test_login(void)
{
	struct auth_creds c = { 0 };
	const char *err = NULL;
	char big[300];

	memset(big, 'x', sizeof(big));
	ok(auth_creds_login(&c, "Bob@Example.com", 15, "p w", 3, &err) == 0,
	    "LOGIN: user and password");
	is_str(c.mech, "LOGIN", "mech");
	is_str(c.user, "Bob@Example.com", "user as given");
	is_str(c.password, "p w", "password");
	ok(auth_creds_login(&c, "", 0, "pw", 2, &err) < 0 &&
	    strstr(err, "user name is empty") != NULL, "empty user");
	ok(c.user == NULL, "and the creds were cleared");
	ok(auth_creds_login(&c, "u", 1, "", 0, &err) < 0 &&
	    strstr(err, "password is empty") != NULL, "empty password");
	ok(auth_creds_login(&c, "u\0v", 3, "pw", 2, &err) < 0 &&
	    strstr(err, "NUL") != NULL, "NUL in the user");
	ok(auth_creds_login(&c, "u", 1, "p\0w", 3, &err) < 0 &&
	    strstr(err, "NUL") != NULL, "NUL in the password");
	ok(auth_creds_login(&c, big, 256, "pw", 2, &err) < 0 &&
	    strstr(err, "255") != NULL, "user over 255 octets");
	ok(auth_creds_login(&c, "u", 1, big, 256, &err) < 0 &&
	    strstr(err, "255") != NULL, "password over 255 octets");
	ok(auth_creds_login(&c, big, 255, "pw", 2, &err) == 0,
	    "255 octets pass");
	ok(auth_creds_login(&c, "a\xc3(", 3, "pw", 2, &err) < 0 &&
	    strstr(err, "UTF-8") != NULL, "user not UTF-8");
	ok(auth_creds_login(&c, "a\r\nb", 4, "pw", 2, &err) < 0,
	    "control characters in the user");
	ok(auth_creds_login(&c, "j\xc3\xb6rg@example.com", 16, "\xff\xfe", 2,
	    &err) == 0, "UTF-8 user; any octets in the password");
	auth_creds_clear(&c);
	ok(c.user == NULL && c.password == NULL, "clear empties");
}

static void
test_cram(void)
{
	struct auth_creds c = { 0 };
	const char *err = NULL;
	const char *resp = "tim b913a602c7eda7a495b4e6e7334d3890";
	const char *upper = "tim B913A602C7EDA7A495B4E6E7334D3890";

	ok(auth_creds_cram(&c, "<1896.697170952@postoffice.example.net>", resp,
	    strlen(resp), &err) == 0, "CRAM-MD5: RFC 2195's example");
	is_str(c.mech, "CRAM-MD5", "mech");
	is_str(c.user, "tim", "user");
	is_str(c.digest, "b913a602c7eda7a495b4e6e7334d3890", "digest");
	is_str(c.challenge, "<1896.697170952@postoffice.example.net>",
	    "challenge copied");
	ok(c.password == NULL, "no password");
	ok(auth_creds_cram(&c, "<x@y>", upper, strlen(upper), &err) == 0,
	    "upper-case digest");
	is_str(c.digest, "b913a602c7eda7a495b4e6e7334d3890", "lower-cased");
	ok(auth_creds_cram(&c, "<x@y>", "tim", 3, &err) < 0 &&
	    strstr(err, "space") != NULL, "no digest");
	ok(auth_creds_cram(&c, "<x@y>", "tim abc", 7, &err) < 0 &&
	    strstr(err, "32 hex") != NULL, "short digest");
	ok(auth_creds_cram(&c, "<x@y>", " b913a602c7eda7a495b4e6e7334d3890",
	    33, &err) < 0 && strstr(err, "empty") != NULL, "empty user");
	ok(c.user == NULL && c.challenge == NULL, "failure leaves it empty");
	ok(auth_creds_cram(&c, "<x@y>",
	    "two words b913a602c7eda7a495b4e6e7334d3890", 42, &err) == 0,
	    "user with a space");
	is_str(c.user, "two words", "everything before the last space");
	auth_creds_clear(&c);
}

/* --- a fake auth daemon --------------------------------------------------- */

enum fake_mode {
	FAKE_OK, FAKE_FAIL, FAKE_TEMP, FAKE_WEIRD, FAKE_SILENT, FAKE_CLOSE
};

static struct {
	struct event_base *base;
	enum fake_mode mode;
	struct ipc_conn *conn;
	char got[512];          /* the request's fields, "name=value;..." */
} fake;

static struct {
	int calls;
	enum auth_status status;
	char user[64], reason[128];
	struct auth_query *q;   /* cancelled inside the callback */
} res;

static void
fake_msg(struct ipc_conn *c, const struct ipc_msg *m, void *arg)
{
	struct ipc_msg *r = NULL;
	size_t n = 0;

	(void)arg;
	fake.got[0] = '\0';
	for (size_t i = 0; i < ipc_msg_count(m); i++) {
		const char *name;
		const void *v;
		size_t len;

		ipc_msg_field(m, i, &name, &v, &len);
		n += (size_t)snprintf(fake.got + n, sizeof(fake.got) - n,
		    "%s=%.*s;", name, (int)len, (const char *)v);
		ASSERT(n < sizeof(fake.got));
	}
	switch (fake.mode) {
	case FAKE_OK:
		r = ipc_msg_new("ok");
		ipc_msg_add_str(r, "user", "alice@example.com");
		break;
	case FAKE_FAIL:
	case FAKE_TEMP:
		r = ipc_msg_new("fail");
		ipc_msg_add_str(r, "reason", fake.mode == FAKE_FAIL ?
		    "bad password" : "maps unavailable");
		ipc_msg_add_int(r, "temp", fake.mode == FAKE_TEMP);
		break;
	case FAKE_WEIRD:
		r = ipc_msg_new("maybe");
		break;
	case FAKE_SILENT:
		return;
	case FAKE_CLOSE:
		ipc_conn_free(&fake.conn);
		return;
	}
	ipc_conn_send(c, r);
	ipc_msg_free(&r);
}

static void
fake_close(struct ipc_conn *c, const char *reason, void *arg)
{
	(void)c; (void)reason; (void)arg;
	ipc_conn_free(&fake.conn);
}

static void
fake_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	(void)l; (void)sa; (void)salen; (void)arg;
	ipc_conn_free(&fake.conn);
	fake.conn = ipc_conn_new(fake.base, fd, "fakeauth", AUTH_FRAME_MAX,
	    fake_msg, fake_close, NULL);
}

static void
done_cb(const struct auth_result *r, void *arg)
{
	(void)arg;
	res.calls++;
	res.status = r->status;
	snprintf(res.user, sizeof(res.user), "%s", r->user ? r->user : "");
	snprintf(res.reason, sizeof(res.reason), "%s",
	    r->reason ? r->reason : "");
	auth_client_cancel(&res.q);        /* harmless inside cb */
	event_base_loopbreak(fake.base);
}

static const struct auth_request full_req = {
	.mech = "PLAIN", .user = "Alice@example.com", .password = "pw",
	.service = "smtp", .ip = "192.0.2.1", .session = "S1",
};

/* Ask path about full_req and run the loop until the answer. */
static struct auth_query *
ask(const char *path, int timeout_ms, bool keep)
{
	struct auth_query *q;

	memset(&res, 0, sizeof(res));
	q = auth_client_ask(fake.base, path, &full_req, timeout_ms, done_cb,
	    NULL);
	ok(res.calls == 0, "the callback does not run before ask returns");
	if (keep)
		res.q = q;
	event_base_dispatch(fake.base);
	return q;
}

static void
test_client(void)
{
	char *path = xasprintf("%s/auth.sock", tmpdir);
	char *nolisten = xasprintf("%s/dead.sock", tmpdir);
	char *missing = xasprintf("%s/nothing.sock", tmpdir);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct evconnlistener *l;
	struct auth_query *q;
	const char *err;
	int fd;

	fake.base = event_base_new();
	fd = ipc_listen_unix(path, &err);
	ASSERT(fd >= 0);
	evutil_make_socket_nonblocking(fd);
	l = evconnlistener_new(fake.base, fake_accept, NULL,
	    LEV_OPT_CLOSE_ON_FREE, 0, fd);
	ASSERT(l != NULL);

	fake.mode = FAKE_OK;
	ask(path, 5000, true);
	ok(res.calls == 1 && res.status == AUTH_OK, "ok -> AUTH_OK");
	is_str(res.user, "alice@example.com", "with the canonical user");
	is_str(fake.got, "mech=PLAIN;user=Alice@example.com;password=pw;"
	    "service=smtp;ip=192.0.2.1;session=S1;",
	    "the request carries the fields given, in order, NULLs left out");

	fake.mode = FAKE_FAIL;
	ask(path, 5000, false);
	ok(res.calls == 1 && res.status == AUTH_FAIL, "fail -> AUTH_FAIL");
	is_str(res.reason, "bad password", "with the reason");
	fake.mode = FAKE_TEMP;
	ask(path, 5000, false);
	ok(res.status == AUTH_TEMPFAIL, "fail temp=1 -> AUTH_TEMPFAIL");
	is_str(res.reason, "maps unavailable", "with the reason");
	fake.mode = FAKE_WEIRD;
	ask(path, 5000, false);
	ok(res.status == AUTH_TEMPFAIL && strstr(res.reason, "maybe") != NULL,
	    "an unknown reply type is a temporary failure");
	fake.mode = FAKE_SILENT;
	ask(path, 100, false);
	ok(res.status == AUTH_TEMPFAIL && strstr(res.reason, "in time") != NULL,
	    "no answer within the timeout: AUTH_TEMPFAIL");
	fake.mode = FAKE_CLOSE;
	ask(path, 5000, false);
	ok(res.status == AUTH_TEMPFAIL && strstr(res.reason, "closed") != NULL,
	    "connection closed before the answer: AUTH_TEMPFAIL");

	ask(missing, 5000, false);
	ok(res.calls == 1 && res.status == AUTH_TEMPFAIL &&
	    strstr(res.reason, "No such file") != NULL,
	    "no socket: AUTH_TEMPFAIL at once");
	/* A socket file nobody listens on: connection refused. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", nolisten);
	ASSERT(bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0);
	close(fd);
	ask(nolisten, 5000, false);
	ok(res.status == AUTH_TEMPFAIL && strstr(res.reason, "refused") != NULL,
	    "refused: AUTH_TEMPFAIL");

	/* Cancelled before the loop ran: no callback, nothing leaks. */
	memset(&res, 0, sizeof(res));
	fake.mode = FAKE_OK;
	q = auth_client_ask(fake.base, path, &full_req, 5000, done_cb, NULL);
	auth_client_cancel(&q);
	ok(q == NULL, "cancel clears the pointer");
	q = auth_client_ask(fake.base, missing, &full_req, 5000, done_cb, NULL);
	auth_client_cancel(&q);
	event_base_loop(fake.base, EVLOOP_NONBLOCK);
	event_base_loop(fake.base, EVLOOP_NONBLOCK);
	ok(res.calls == 0, "a cancelled query never calls back");
	auth_client_cancel(&q);
	ok(q == NULL, "cancel of NULL is a no-op");

	ipc_conn_free(&fake.conn);
	evconnlistener_free(l);
	event_base_free(fake.base);
	unlink(path);
	unlink(nolisten);
	free(path);
	free(nolisten);
	free(missing);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	ASSERT(mkdtemp(tmpdir) != NULL);
	test_plain();
	test_login();
	test_cram();
	test_client();
	rmdir(tmpdir);
	return done_testing();
}
