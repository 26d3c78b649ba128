/* client - adminctl's side of the control socket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adminctl.h"
#include "conf.h"
#include "xalloc.h"

/*
 * One request to a daemon's socket in state_dir and its answer: NULL
 * with *rc_r EX_NOMASTER when nobody answers (said on stderr unless
 * quiet, in the words of unreachable: a format taking the socket and the
 * reason), EX_FAIL for an "error" answer (its message printed), else the
 * answer and EX_OK.
 */
struct ipc_msg *
daemon_call(const char *sockname, const char *unreachable,
    struct ipc_msg *req, size_t max, bool quiet, int *rc_r)
{
	char *sock = xasprintf("%s/%s", conf_str("state_dir"), sockname);
	struct ipc_msg *resp = NULL;
	const char *err = NULL;
	int timeout = (int)conf_time_ms("master_control_timeout");

	if (ipc_call(sock, "adminctl", req, max, timeout, &resp, &err) < 0) {
		if (!quiet) {
			fputs("adminctl: ", stderr);
			fprintf(stderr, unreachable, sock, err);
			fputc('\n', stderr);
		}
		*rc_r = EX_NOMASTER;
		resp = NULL;
	} else if (strcmp(ipc_msg_type(resp), "error") == 0) {
		const char *m = ipc_msg_get_str(resp, "message");

		fprintf(stderr, "adminctl: %s\n", m != NULL ? m : "failed");
		*rc_r = EX_FAIL;
		ipc_msg_free(&resp);
	} else
		*rc_r = EX_OK;
	free(sock);
	return resp;
}

struct ipc_msg *
master_call(struct ipc_msg *req, int *rc_r)
{
	return daemon_call("master.sock", "cannot reach master at %s: %s", req,
	    16 * 1024 * 1024, false, rc_r);
}

void
json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}
