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
/* The same for any daemon's socket in state_dir (client.c). */
struct ipc_msg *daemon_call(const char *sockname, const char *unreachable,
    struct ipc_msg *req, size_t max, bool quiet, int *rc_r);
/* Print a JSON string literal. */
void json_str(const char *s);

/* Options of the account commands (args.c). */
enum {
	OPT_YES = 1,
	OPT_PURGE = 2,
	OPT_DRY_RUN = 4,
	OPT_ALL = 8,
	OPT_NO_RELOAD = 16,
	OPT_PASSWORD_STDIN = 32,
	OPT_PASSWORD_FILE = 64,
};

struct cmdopts {
	unsigned set;                   /* OPT_* given */
	const char *password_file;
	char **args;                    /* the words that are not options */
	int nargs;
};

/* Parse argv[first..argc): options in allowed, --json anywhere; -1
 * after printing why.  Release with cmdopts_release(). */
int cmdopts_parse(int argc, char **argv, int first, unsigned allowed,
    struct cmdopts *o);
void cmdopts_release(struct cmdopts *o);

/* A new password as o says (terminal, stdin, file); what names the
 * account in the prompt.  NULL after printing why.  password_free()
 * wipes it. */
char *password_read(const struct cmdopts *o, const char *what);
void password_free(char **pwp);

/* A command made of sub-commands ("domain add ..."). */
struct subcmd {
	const char *name;
	int (*run)(int argc, char **argv);      /* argv[1] is the name */
	const char *usage;
};
int subcmd_run(const char *group, const struct subcmd *t, size_t n,
    int argc, char **argv);

struct edit;
/*
 * After an edit: save the files, validate the whole tree, compile the
 * maps and tell master (unless no_reload).  When validation or the
 * compile fails the edit is rolled back and EX_FAIL returned, errors
 * printed.  Ends the edit (*ep = NULL) in every case.
 */
int edit_finish(struct edit **ep, bool no_reload);
/* Start an edit of A.confdir; NULL after printing why. */
struct edit *edit_start(void);

int cmd_rebuild(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_domain(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_alias(int argc, char **argv);
int cmd_domain_alias(int argc, char **argv);
int cmd_catchall(int argc, char **argv);
int cmd_defaults(int argc, char **argv);
int cmd_propagate(int argc, char **argv);
int cmd_admin(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_service(int argc, char **argv);
int cmd_reload(int argc, char **argv);
int cmd_config(int argc, char **argv);
/* adminctl spool ... (cmd_spool.c, cmd_spool_list.c) */
int cmd_spool(int argc, char **argv);
int cmd_spool_list(int argc, char **argv);
int cmd_spool_view(int argc, char **argv);
int cmd_spool_rcpts(int argc, char **argv);
/* A request to the queue on state_dir/queue.sock; NULL (and *rc_r) when
 * it is not running (said on stderr unless quiet) or answers an error. */
struct ipc_msg *spool_queue_call(struct ipc_msg *req, int *rc_r, bool quiet);

#endif
