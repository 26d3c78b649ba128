/* client - adminctl's side of the control socket. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adminctl.h"
#include "conf.h"
#include "xalloc.h"

struct ipc_msg *
master_call(struct ipc_msg *req, int *rc_r)
{
	char *sock = xasprintf("%s/master.sock", conf_str("state_dir"));
	struct ipc_msg *resp = NULL;
	const char *err = NULL;
	int timeout = (int)conf_time_ms("master_control_timeout");

	if (ipc_call(sock, "adminctl", req, 16 * 1024 * 1024, timeout, &resp,
	    &err) < 0) {
		fprintf(stderr, "adminctl: cannot reach master at %s: %s\n",
		    sock, err);
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
