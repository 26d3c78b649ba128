/* adminctl status - what master runs, as the reference's Services page. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adminctl.h"
#include "xalloc.h"

static const char *
field(const struct ipc_msg *m, const char *name, int i)
{
	char key[40];
	const char *v;

	snprintf(key, sizeof(key), "%s_%d", name, i);
	v = ipc_msg_get_str(m, key);
	return v != NULL ? v : "";
}

static long long
ifield(const struct ipc_msg *m, const char *name, int i)
{
	char key[40];
	long long v = 0;

	snprintf(key, sizeof(key), "%s_%d", name, i);
	ipc_msg_get_int(m, key, &v);
	return v;
}

static void
fmt_uptime(long long s, char *out, size_t n)
{
	if (s >= 86400)
		snprintf(out, n, "%lldd%lldh", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(out, n, "%lldh%lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(out, n, "%lldm%llds", s / 60, s % 60);
	else
		snprintf(out, n, "%llds", s);
}

static void
status_json(const struct ipc_msg *m, long long count)
{
	static const char *const strs[] = { "name", "state", "pids", "listen",
	    "error" };
	static const char *const ints[] = { "workers", "running", "uptime",
	    "restarts", "sessions", "accepted" };
	long long pid = 0;

	ipc_msg_get_int(m, "pid", &pid);
	printf("{\"master_pid\":%lld,\"services\":[", pid);
	for (int i = 0; i < count; i++) {
		printf("%s{", i ? "," : "");
		for (size_t k = 0; k < sizeof(strs) / sizeof(*strs); k++) {
			printf("\"%s\":", strs[k]);
			json_str(field(m, strs[k], i));
			putchar(',');
		}
		for (size_t k = 0; k < sizeof(ints) / sizeof(*ints); k++)
			printf("\"%s\":%lld%s", ints[k], ifield(m, ints[k], i),
			    k + 1 < sizeof(ints) / sizeof(*ints) ? "," : "");
		putchar('}');
	}
	printf("]}\n");
}

int
cmd_status(int argc, char **argv)
{
	struct ipc_msg *req, *m;
	long long count = 0;
	int rc;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: adminctl status\n");
		return EX_USAGE;
	}
	req = ipc_msg_new("status");
	m = master_call(req, &rc);
	ipc_msg_free(&req);
	if (m == NULL)
		return rc;
	ipc_msg_get_int(m, "count", &count);
	if (A.json) {
		status_json(m, count);
		ipc_msg_free(&m);
		return EX_OK;
	}
	printf("%-12s %-10s %-7s %-7s %-8s %-8s %-16s %s\n", "SERVICE", "STATE",
	    "WORKERS", "UPTIME", "RESTARTS", "SESSIONS", "PIDS", "LISTEN");
	for (int i = 0; i < count; i++) {
		char up[32], w[32];

		fmt_uptime(ifield(m, "uptime", i), up, sizeof(up));
		snprintf(w, sizeof(w), "%lld/%lld", ifield(m, "running", i),
		    ifield(m, "workers", i));
		printf("%-12s %-10s %-7s %-7s %-8lld %-8lld %-16s %s\n",
		    field(m, "name", i), field(m, "state", i), w, up,
		    ifield(m, "restarts", i), ifield(m, "sessions", i),
		    *field(m, "pids", i) ? field(m, "pids", i) : "-",
		    field(m, "listen", i));
		if (*field(m, "error", i))
			printf("  error: %s\n", field(m, "error", i));
	}
	ipc_msg_free(&m);
	return EX_OK;
}
