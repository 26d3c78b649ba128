/* adminctl's commands and the helpers they share. */
#ifndef TERN_ADMINCTL_H
#define TERN_ADMINCTL_H

#include <stdbool.h>

#include "ipc.h"

/* Exit codes (documented in adminctl(8)). */
enum {
	EX_OK = 0,          /* done */
	EX_FAIL = 1,        /* refused: bad config, unknown service ... */
	EX_USAGE = 2,       /* bad command line */
	EX_NOMASTER = 3,    /* master is not running / not reachable */
};

struct adminctl {
	const char *confdir;
	bool json;
};

extern struct adminctl A;

/* Send one request to master; the reply, or NULL after printing why
 * (*rc_r gets the exit code to use). */
struct ipc_msg *master_call(struct ipc_msg *req, int *rc_r);
/* Print a JSON string literal. */
void json_str(const char *s);

int cmd_status(int argc, char **argv);
int cmd_service(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_config(int argc, char **argv);

#endif
