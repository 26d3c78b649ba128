/* adminctl service stop|start NAME..., adminctl reload */
#include <stdio.h>
#include <string.h>

#include "adminctl.h"

int
cmd_service(int argc, char **argv)
{
	int rc = EX_OK;

	if (argc < 3 || (strcmp(argv[1], "stop") != 0 &&
	    strcmp(argv[1], "start") != 0)) {
		fprintf(stderr, "usage: adminctl service stop|start NAME...\n");
		return EX_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		struct ipc_msg *req = ipc_msg_new("service"), *resp;
		int r;

		ipc_msg_add_str(req, "action", argv[1]);
		ipc_msg_add_str(req, "name", argv[i]);
		resp = master_call(req, &r);
		ipc_msg_free(&req);
		if (resp != NULL)
			printf("%s: %s\n", argv[i], strcmp(argv[1], "stop") == 0 ?
			    "stopped" : "started");
		ipc_msg_free(&resp);
		if (r != EX_OK)
			rc = r;
	}
	return rc;
}

int
cmd_reload(int argc, char **argv)
{
	struct ipc_msg *req, *resp;
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: adminctl reload\n");
		return EX_USAGE;
	}
	req = ipc_msg_new("reload");
	resp = master_call(req, &rc);
	ipc_msg_free(&req);
	if (resp != NULL)
		printf("reloaded\n");
	ipc_msg_free(&resp);
	return rc;
}
