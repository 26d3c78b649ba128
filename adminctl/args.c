/*
 * args - the options the account commands share.  Options may come
 * anywhere after the command words; "--" ends them.  Each command says
 * which it takes; any other is a usage error.
 */
#include <stdio.h>
#include <string.h>

#include "adminctl.h"
#include "xalloc.h"

static const struct {
	const char *name;
	unsigned bit;
	bool arg;
} args_opts[] = {
	{ "--yes", OPT_YES, false },
	{ "--purge", OPT_PURGE, false },
	{ "--dry-run", OPT_DRY_RUN, false },
	{ "--all", OPT_ALL, false },
	{ "--no-reload", OPT_NO_RELOAD, false },
	{ "--password-stdin", OPT_PASSWORD_STDIN, false },
	{ "--password-file", OPT_PASSWORD_FILE, true },
};
#define NOPTS (sizeof(args_opts) / sizeof(*args_opts))

static int
args_option(const char *a, char **argv, int argc, int *i, unsigned allowed,
    struct cmdopts *o)
{
	size_t n = strcspn(a, "=");

	if (strcmp(a, "--json") == 0 || strcmp(a, "-j") == 0) {
		A.json = true;
		return 0;
	}
	for (size_t k = 0; k < NOPTS; k++) {
		if (strlen(args_opts[k].name) != n ||
		    strncmp(args_opts[k].name, a, n) != 0)
			continue;
		if (!(allowed & args_opts[k].bit))
			break;
		o->set |= args_opts[k].bit;
		if (!args_opts[k].arg) {
			if (a[n] == '=')
				break;
			return 0;
		}
		if (a[n] == '=')
			o->password_file = a + n + 1;
		else if (*i + 1 < argc)
			o->password_file = argv[++*i];
		else
			break;
		return 0;
	}
	fprintf(stderr, "adminctl: %s: unknown option or not valid here\n", a);
	return -1;
}

int
cmdopts_parse(int argc, char **argv, int first, unsigned allowed,
    struct cmdopts *o)
{
	bool opts = true;

	memset(o, 0, sizeof(*o));
	o->args = xcalloc((size_t)argc + 1, sizeof(*o->args));
	for (int i = first; i < argc; i++) {
		const char *a = argv[i];

		if (opts && strcmp(a, "--") == 0)
			opts = false;
		else if (opts && a[0] == '-' && a[1] != '\0') {
			if (args_option(a, argv, argc, &i, allowed, o) < 0)
				return -1;
		} else
			o->args[o->nargs++] = argv[i];
	}
	return 0;
}

void
cmdopts_release(struct cmdopts *o)
{
	xfree(&o->args);
	o->nargs = 0;
}
