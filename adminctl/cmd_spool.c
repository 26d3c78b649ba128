/*
 * adminctl spool ... - the reference's Manage Spool page and its Spool
 * service, for people and scripts.
 *
 * list, view and recipients read the spool files and their records
 * directly (lib/queue_info), so they work whether or not the queue runs
 * and cost the queue nothing however large the spool is; when the queue
 * runs, they add what only it knows (which messages are being delivered
 * right now, priorities, a forced next attempt) from its "spool_live"
 * answer.  force, reset-retries, priority, delete, stop and start are
 * requests to the queue on state_dir/queue.sock: they act on the live
 * spool, and say the queue is not running (exit 3) when it is not.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adminctl.h"
#include "conf.h"
#include "queue_rec.h"
#include "xalloc.h"

#define QUEUE_REPLY_MAX (256u * 1024 * 1024)

struct ipc_msg *
spool_queue_call(struct ipc_msg *req, int *rc_r, bool quiet)
{
	return daemon_call("queue.sock", "the queue is not running (%s: %s)", req,
	    QUEUE_REPLY_MAX, quiet, rc_r);
}

/* Ids the queue did not find: say so; EX_FAIL if any. */
static int
spool_missing(const struct ipc_msg *r)
{
	int rc = EX_OK;

	for (size_t i = 0; i < ipc_msg_count(r); i++) {
		const char *name;
		const void *val;
		size_t len;

		ipc_msg_field(r, i, &name, &val, &len);
		if (strcmp(name, "missing") == 0) {
			fprintf(stderr, "adminctl: no message %s in the spool\n",
			    (const char *)val);
			rc = EX_FAIL;
		}
	}
	return rc;
}

static int
spool_ids(struct ipc_msg *req, int argc, char **argv, int first)
{
	for (int i = first; i < argc; i++) {
		if (!qrec_id_valid(argv[i])) {
			fprintf(stderr, "adminctl: '%s' is not a queue id\n",
			    argv[i]);
			return -1;
		}
		ipc_msg_add_str(req, "id", argv[i]);
	}
	return 0;
}

/* Send req; print "<verb> N message(s)" or JSON. */
static int
spool_request(struct ipc_msg *req, const char *verb)
{
	struct ipc_msg *r;
	long long n = 0;
	int rc;

	r = spool_queue_call(req, &rc, false);
	ipc_msg_free(&req);
	if (r == NULL)
		return rc;
	ipc_msg_get_int(r, "count", &n);
	rc = spool_missing(r);
	if (A.json)
		printf("{\"%s\":%lld}\n", verb, n);
	else
		printf("%s %lld message%s\n", verb, n, n == 1 ? "" : "s");
	ipc_msg_free(&r);
	return rc;
}

/* Strip --json (and reject other options) from a control command. */
static int
spool_plain_args(int argc, char **argv, bool *all_r)
{
	int out = 1;

	if (all_r != NULL)
		*all_r = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			A.json = true;
		else if (all_r != NULL && strcmp(argv[i], "--all") == 0)
			*all_r = true;
		else if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "adminctl: %s: unknown option\n",
			    argv[i]);
			return -1;
		} else
			argv[out++] = argv[i];
	}
	return out;
}

static int
spool_force(int argc, char **argv)
{
	struct ipc_msg *req;
	bool all;

	argc = spool_plain_args(argc, argv, &all);
	if (argc < 0 || (all == (argc > 1))) {
		fprintf(stderr, "usage: adminctl spool force ID... | --all\n");
		return EX_USAGE;
	}
	req = ipc_msg_new("spool_force");
	if (all)
		ipc_msg_add_int(req, "all", 1);
	else if (spool_ids(req, argc, argv, 1) < 0) {
		ipc_msg_free(&req);
		return EX_USAGE;
	}
	return spool_request(req, "forced");
}

static int
spool_reset(int argc, char **argv)
{
	struct ipc_msg *req;

	argc = spool_plain_args(argc, argv, NULL);
	if (argc < 0) {
		fprintf(stderr, "usage: adminctl spool reset-retries [ID...]\n");
		return EX_USAGE;
	}
	req = ipc_msg_new("spool_reset");
	if (spool_ids(req, argc, argv, 1) < 0) {
		ipc_msg_free(&req);
		return EX_USAGE;
	}
	return spool_request(req, "reset");
}

static int
spool_priority(int argc, char **argv)
{
	struct ipc_msg *req;
	char *end;
	long p;

	argc = spool_plain_args(argc, argv, NULL);
	if (argc != 3 || (p = strtol(argv[2], &end, 10)) < 1 || p > 10 ||
	    *end != '\0') {
		fprintf(stderr, "usage: adminctl spool priority ID N  (N is 1 "
		    "to 10, 10 goes first)\n");
		return EX_USAGE;
	}
	req = ipc_msg_new("spool_priority");
	ipc_msg_add_int(req, "priority", p);
	if (spool_ids(req, 2, argv, 1) < 0) {
		ipc_msg_free(&req);
		return EX_USAGE;
	}
	return spool_request(req, "changed");
}

static int
spool_delete(int argc, char **argv)
{
	struct ipc_msg *req;

	argc = spool_plain_args(argc, argv, NULL);
	if (argc < 2) {
		fprintf(stderr, "usage: adminctl spool delete ID...\n");
		return EX_USAGE;
	}
	req = ipc_msg_new("spool_delete");
	if (spool_ids(req, argc, argv, 1) < 0) {
		ipc_msg_free(&req);
		return EX_USAGE;
	}
	return spool_request(req, "deleted");
}

/* hold ID... | release ID... */
static int
spool_hold(int argc, char **argv)
{
	bool hold = strcmp(argv[0], "hold") == 0;
	struct ipc_msg *req;

	argc = spool_plain_args(argc, argv, NULL);
	if (argc < 2) {
		fprintf(stderr, "usage: adminctl spool %s ID...\n",
		    hold ? "hold" : "release");
		return EX_USAGE;
	}
	req = ipc_msg_new("spool_hold");
	ipc_msg_add_int(req, "held", hold ? 1 : 0);
	if (spool_ids(req, argc, argv, 1) < 0) {
		ipc_msg_free(&req);
		return EX_USAGE;
	}
	return spool_request(req, hold ? "held" : "released");
}

static int
spool_stop_start(int argc, char **argv)
{
	bool stop = strcmp(argv[0], "stop") == 0;
	struct ipc_msg *req, *r;
	int rc;

	argc = spool_plain_args(argc, argv, NULL);
	if (argc != 1) {
		fprintf(stderr, "usage: adminctl spool %s\n", argv[0]);
		return EX_USAGE;
	}
	req = ipc_msg_new(stop ? "spool_stop" : "spool_start");
	r = spool_queue_call(req, &rc, false);
	ipc_msg_free(&req);
	if (r == NULL)
		return rc;
	if (A.json)
		printf("{\"stopped\":%s}\n", stop ? "true" : "false");
	else
		printf("spool %s\n", stop ? "stopped: delivery is held, mail is "
		    "still accepted" : "started: delivery goes on");
	ipc_msg_free(&r);
	return EX_OK;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
} spool_cmds[] = {
	{ "list", cmd_spool_list, "[--sender PAT] [--rcpt PAT] [--older AGE] "
	    "[--status STATUS] [--limit N]" },
	{ "view", cmd_spool_view, "ID" },
	{ "recipients", cmd_spool_rcpts, "ID" },
	{ "force", spool_force, "ID... | --all" },
	{ "reset-retries", spool_reset, "[ID...]" },
	{ "priority", spool_priority, "ID N" },
	{ "delete", spool_delete, "ID..." },
	{ "hold", spool_hold, "ID..." },
	{ "release", spool_hold, "ID..." },
	{ "stop", spool_stop_start, "" },
	{ "start", spool_stop_start, "" },
};

int
cmd_spool(int argc, char **argv)
{
	size_t n = sizeof(spool_cmds) / sizeof(*spool_cmds);

	if (argc >= 2)
		for (size_t i = 0; i < n; i++)
			if (strcmp(argv[1], spool_cmds[i].name) == 0)
				return spool_cmds[i].run(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "help") != 0 &&
	    strcmp(argv[1], "--help") != 0)
		fprintf(stderr, "adminctl: spool: unknown command '%s'\n",
		    argv[1]);
	fprintf(stderr, "usage:\n");
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "  adminctl spool %s %s\n", spool_cmds[i].name,
		    spool_cmds[i].usage);
	return EX_USAGE;
}
