/*
 * adminctl - the admin's and the scripts' way to steer Tern.
 *
 * Reads tern.conf from the config directory (-c DIR, $TERN_CONFDIR, or
 * /etc/tern) to find state_dir/master.sock, and talks to master over it.
 * Output is plain text for people and scripts; --json where it helps.
 * Exit codes: 0 done, 1 refused, 2 usage, 3 master not reachable.
 * See adminctl(8).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adminctl.h"
#include "conf.h"
#include "xalloc.h"

struct adminctl A;

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *doc;
} commands[] = {
	{ "status", cmd_status, "", "each service: state, pids, uptime, "
	    "restarts, sessions" },
	{ "service", cmd_service, "stop|start NAME...", "stop or start a "
	    "service; sessions in flight finish" },
	{ "reload", cmd_reload, "", "re-read the configuration (refused with "
	    "file:line if broken)" },
	{ "config", cmd_config, "[KEY...]", "print every tern.conf key, or "
	    "the value of KEY" },
	{ "check", cmd_check, "", "validate domains, users and aliases" },
	{ "rebuild", cmd_rebuild, "[--no-reload]", "validate, compile the "
	    "account maps, tell master" },
	{ "domain", cmd_domain, "add|del|list|show|set ...", "hosted domains" },
	{ "user", cmd_user, "add|del|list|show|passwd|set|disable|enable ...",
	    "users (mailboxes)" },
	{ "alias", cmd_alias, "add|del|list ...", "user aliases" },
	{ "domain-alias", cmd_domain_alias, "add ALIAS PRIMARY | del ALIAS",
	    "other names of a domain" },
	{ "catchall", cmd_catchall, "set DOMAIN TARGET | clear DOMAIN",
	    "where mail to unknown users goes" },
	{ "defaults", cmd_defaults, "show | set key=value...", "what a new "
	    "domain starts with" },
	{ "propagate", cmd_propagate, "KEY... | --all [--dry-run]", "apply "
	    "the defaults to every domain" },
	{ "admin", cmd_admin, "passwd", "the system administrator's password" },
	{ "spool", cmd_spool, "list|view|recipients|force|reset-retries|"
	    "priority|delete|stop|start ...", "the mail queue" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(*commands))

static void __attribute__((noreturn))
usage(int rc)
{
	FILE *f = rc == 0 ? stdout : stderr;

	fprintf(f, "usage: adminctl [-c CONFDIR] [--json] COMMAND [ARGS]\n\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s %s\n      %s\n", commands[i].name,
		    commands[i].args, commands[i].doc);
	exit(rc);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "config", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	char *path, *err = NULL;
	int c;

	A.confdir = getenv("TERN_CONFDIR");
	if (A.confdir == NULL)
		A.confdir = TERN_SYSCONF_DIR;
	/* '+': options end at the command; the command parses its own. */
	while ((c = getopt_long(argc, argv, "+c:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': A.confdir = optarg; break;
		case 'j': A.json = true; break;
		case 'h': usage(EX_OK);
		default: usage(EX_USAGE);
		}
	}
	if (optind >= argc)
		usage(EX_USAGE);
	path = xasprintf("%s/tern.conf", A.confdir);
	if (conf_load(path, &err) < 0) {
		fprintf(stderr, "adminctl: %s\n", err);
		free(err);
		free(path);
		return EX_FAIL;
	}
	free(path);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[optind], commands[i].name) == 0) {
			/* The command sees argv[0] = its own name. */
			optind++;
			return commands[i].run(argc - optind + 1,
			    argv + optind - 1);
		}
	fprintf(stderr, "adminctl: unknown command '%s'\n", argv[optind]);
	usage(EX_USAGE);
}
