/*
 * adminctl spool list | view ID | recipients ID - the spool as the
 * reference's Manage Spool page shows it, read from the files (see
 * cmd_spool.c), with what the running queue adds.
 *
 * list columns: file name (the queue id), sender, time in spool,
 * attempts, next attempt, delivered/total recipients, status, size,
 * subspool.  Status is one of
 *   new         in <n>/new: the queue has not taken it yet
 *   pending     waiting for its first attempt (delivery delay, command)
 *   command     the new-mail command is running on it
 *   delivering  a delivery agent has it right now
 *   deferred    tried, waiting for the next attempt
 *   held        the spool service is stopped (adminctl spool stop), or
 *               the message is held (adminctl spool hold)
 *   finishing   every recipient is done; a bounce is being queued
 */
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "adminctl.h"
#include "conf.h"
#include "queue_info.h"
#include "xalloc.h"

struct live_ent {
	char id[SPOOL_ID_LEN + 1];
	char state[16];
	long long next;
	int prio;
};

struct live {
	bool running;
	bool stopped;
	struct live_ent *e;
	size_t n;
};

static int
live_cmp(const void *a, const void *b)
{
	return strcmp(((const struct live_ent *)a)->id,
	    ((const struct live_ent *)b)->id);
}

/* What the queue knows (ids: only those; NULL: every message). */
static void
live_load(struct live *l, const char *id)
{
	struct ipc_msg *req = ipc_msg_new("spool_live"), *r;
	char *stopfile = xasprintf("%s/%s", conf_str("state_dir"),
	    QINFO_STOPPED_FILE);
	long long v = 0;
	int rc;

	memset(l, 0, sizeof(*l));
	if (id != NULL)
		ipc_msg_add_str(req, "id", id);
	r = spool_queue_call(req, &rc, true);
	ipc_msg_free(&req);
	l->stopped = access(stopfile, F_OK) == 0;
	free(stopfile);
	if (r == NULL)
		return;
	l->running = true;
	if (ipc_msg_get_int(r, "stopped", &v) == 0)
		l->stopped = v != 0;
	l->e = xcalloc(ipc_msg_count(r) + 1, sizeof(*l->e));
	for (size_t i = 0; i < ipc_msg_count(r); i++) {
		const char *name;
		const void *val;
		size_t len;
		struct live_ent *e = &l->e[l->n];

		ipc_msg_field(r, i, &name, &val, &len);
		if (strcmp(name, "m") == 0 && sscanf(val, "%22s %15s %lld %d",
		    e->id, e->state, &e->next, &e->prio) == 4)
			l->n++;
	}
	qsort(l->e, l->n, sizeof(*l->e), live_cmp);
	ipc_msg_free(&r);
}

static const struct live_ent *
live_find(const struct live *l, const char *id)
{
	struct live_ent key;

	snprintf(key.id, sizeof(key.id), "%s", id);
	return l->n == 0 ? NULL : bsearch(&key, l->e, l->n, sizeof(*l->e),
	    live_cmp);
}

/* --- one message's figures ------------------------------------------ */

struct row {
	char id[SPOOL_ID_LEN + 1];
	char *sender;
	long long time, next, size;
	unsigned attempts, sub;
	size_t delivered, total;
	const char *status;
	int prio;                   /* 0: unknown */
};

static void
row_fill(struct row *w, const struct qinfo *qi, const struct live *l)
{
	const struct live_ent *e = live_find(l, qi->id);
	const char *p = spool_env_param(&qi->env, "priority");

	snprintf(w->id, sizeof(w->id), "%s", qi->id);
	w->sender = xstrdup(qi->env.sender);
	w->time = qi->env.time;
	w->size = qi->size;
	w->attempts = qi->attempts;
	w->sub = qi->sub;
	w->delivered = qi->delivered;
	w->total = qi->rec.n;
	w->status = qi->status;
	w->next = strcmp(qi->status, "finishing") == 0 ? 0 : qi->next;
	w->prio = qi->rec.prio != 0 ? qi->rec.prio : p != NULL ? atoi(p) : 0;
	if (e != NULL) {
		if (strcmp(e->state, "delivering") == 0 ||
		    strcmp(e->state, "command") == 0)
			w->status = strcmp(e->state, "delivering") == 0 ?
			    "delivering" : "command";
		else if (strcmp(e->state, "held") == 0)
			w->status = "held";
		if (e->next > 0)
			w->next = e->next;
		w->prio = e->prio;
	}
	if (l->stopped && (strcmp(w->status, "new") == 0 ||
	    strcmp(w->status, "pending") == 0 ||
	    strcmp(w->status, "deferred") == 0))
		w->status = "held";
}

/* --- filters -------------------------------------------------------- */

struct filter {
	const char *sender, *rcpt, *status;
	long long older;            /* seconds; 0 = any */
	long long now;
};

static bool
filter_match(const char *pat, const char *s)
{
	if (strcmp(pat, "<>") == 0)
		return *s == '\0';
	if (strpbrk(pat, "*?[") != NULL)
		return fnmatch(pat, s, FNM_CASEFOLD) == 0;
	return strcasestr(s, pat) != NULL;
}

static bool
filter_status(const char *want, const char *status)
{
	char *copy = xstrdup(want), *save = NULL;
	bool yes = false;

	for (char *w = strtok_r(copy, ",", &save); w != NULL && !yes;
	    w = strtok_r(NULL, ",", &save))
		yes = strcmp(w, status) == 0;
	free(copy);
	return yes;
}

static bool
filter_pass(const struct filter *f, const struct qinfo *qi,
    const struct row *w)
{
	bool any = false;

	if (f->sender != NULL && !filter_match(f->sender, qi->env.sender))
		return false;
	if (f->older > 0 && f->now - qi->env.time < f->older)
		return false;
	if (f->status != NULL && !filter_status(f->status, w->status))
		return false;
	if (f->rcpt == NULL)
		return true;
	for (size_t i = 0; i < qi->env.nrcpts && !any; i++)
		any = filter_match(f->rcpt, qi->env.rcpts[i].addr);
	return any;
}

/* --- list ----------------------------------------------------------- */

struct list {
	struct filter f;
	struct live live;
	struct row *rows;
	size_t n, cap;
	size_t shown;               /* --limit: the first this many rows */
	long long delay;
};

static int
list_one(unsigned sub, const char *id, bool in_new, void *arg)
{
	struct list *ls = arg;
	struct qinfo qi;
	struct row w;
	char *err = NULL;

	if (qinfo_load(conf_str("spool_dir"), sub, id, in_new, ls->delay, &qi,
	    &err) < 0) {
		free(err);          /* gone meanwhile, or damaged: the queue
		                     * reports those */
		return 0;
	}
	row_fill(&w, &qi, &ls->live);
	if (filter_pass(&ls->f, &qi, &w)) {
		if (ls->n == ls->cap) {
			ls->cap = ls->cap ? ls->cap * 2 : 256;
			ls->rows = xrealloc(ls->rows, ls->cap *
			    sizeof(*ls->rows));
		}
		ls->rows[ls->n++] = w;
	} else
		free(w.sender);
	qinfo_release(&qi);
	return 0;
}

static int
row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return strcmp(x->id, y->id);
}

static void
list_print_json(const struct list *ls)
{
	printf("{\"queue_running\":%s,\"stopped\":%s,\"count\":%zu,"
	    "\"shown\":%zu,\"messages\":[", ls->live.running ? "true" :
	    "false", ls->live.stopped ? "true" : "false", ls->n, ls->shown);
	for (size_t i = 0; i < ls->shown; i++) {
		const struct row *w = &ls->rows[i];

		printf("%s{\"id\":\"%s\",\"sender\":", i ? "," : "", w->id);
		json_str(w->sender);
		printf(",\"time\":%lld,\"age\":%lld,\"attempts\":%u,"
		    "\"next_attempt\":%lld,\"delivered\":%zu,"
		    "\"recipients\":%zu,\"status\":\"%s\",\"size\":%lld,"
		    "\"subspool\":%u,\"priority\":%d}", w->time,
		    ls->f.now - w->time, w->attempts, w->next, w->delivered,
		    w->total, w->status, w->size, w->sub, w->prio);
	}
	printf("]}\n");
}

static void
list_print(const struct list *ls)
{
	char age[32], next[32], rc[32];

	printf("%-22s  %-30s %-8s %4s  %-19s  %-7s  %-10s %8s  %s\n",
	    "FILE", "SENDER", "AGE", "ATT", "NEXT ATTEMPT (UTC)", "RCPTS",
	    "STATUS", "SIZE", "SUBSPOOL");
	for (size_t i = 0; i < ls->shown; i++) {
		const struct row *w = &ls->rows[i];

		qinfo_age(ls->f.now - w->time, age, sizeof(age));
		if (w->next > 0)
			qinfo_time(w->next, next);
		else
			snprintf(next, sizeof(next), "-");
		snprintf(rc, sizeof(rc), "%zu/%zu", w->delivered, w->total);
		printf("%-22s  %-30s %-8s %4u  %-19s  %-7s  %-10s %7lldK  %u\n",
		    w->id, w->sender[0] ? w->sender : "<>", age, w->attempts,
		    next, rc, w->status, (w->size + 1023) / 1024, w->sub);
	}
	if (ls->shown < ls->n)
		printf("(%zu more not shown: --limit)\n", ls->n - ls->shown);
	if (ls->n == 0)
		printf("(the spool is empty%s)\n", ls->f.sender || ls->f.rcpt ||
		    ls->f.status || ls->f.older ? " or nothing matches" : "");
	if (!ls->live.running)
		printf("(the queue is not running: status from the files "
		    "only)\n");
	else if (ls->live.stopped)
		printf("(the spool is stopped: adminctl spool start "
		    "releases it)\n");
}

int
cmd_spool_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sender", required_argument, NULL, 's' },
		{ "rcpt", required_argument, NULL, 'r' },
		{ "older", required_argument, NULL, 'o' },
		{ "status", required_argument, NULL, 't' },
		{ "limit", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct list ls;
	const char *err;
	long long ms, limit = -1;
	int c;

	memset(&ls, 0, sizeof(ls));
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': ls.f.sender = optarg; break;
		case 'r': ls.f.rcpt = optarg; break;
		case 't': ls.f.status = optarg; break;
		case 'j': A.json = true; break;
		case 'l':
			if (conf_parse_int(optarg, &limit, &err) < 0 ||
			    limit < 0) {
				fprintf(stderr, "adminctl: --limit %s: want a "
				    "count (0 or more)\n", optarg);
				return EX_USAGE;
			}
			break;
		case 'o':
			if (conf_parse_time_ms(optarg, &ms, &err) < 0) {
				fprintf(stderr, "adminctl: --older %s: %s\n",
				    optarg, err);
				return EX_USAGE;
			}
			ls.f.older = ms / 1000;
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	ls.f.now = (long long)time(NULL);
	ls.delay = conf_time_ms("spool_delivery_delay") / 1000;
	live_load(&ls.live, NULL);
	qinfo_walk(conf_str("spool_dir"), (unsigned)conf_int("spool_subspools"),
	    list_one, &ls);
	qsort(ls.rows, ls.n, sizeof(*ls.rows), row_cmp);
	ls.shown = limit >= 0 && (size_t)limit < ls.n ? (size_t)limit : ls.n;
	if (A.json)
		list_print_json(&ls);
	else
		list_print(&ls);
	for (size_t i = 0; i < ls.n; i++)
		free(ls.rows[i].sender);
	free(ls.rows);
	free(ls.live.e);
	return EX_OK;
usage:
	fprintf(stderr, "usage: adminctl spool list [--sender PAT] [--rcpt PAT] "
	    "[--older AGE] [--status STATUS[,STATUS]] [--limit N] [--json]\n");
	return EX_USAGE;
}

/* --- one message ---------------------------------------------------- */

/* Load message argv[1] (and the live view of it); EX_* on failure. */
static int
one_load(int argc, char **argv, const char *what, struct qinfo *qi,
    struct row *w, struct live *l)
{
	const char *id;
	unsigned sub;
	bool in_new;
	char *err = NULL;

	if (argc == 3 && strcmp(argv[2], "--json") == 0) {
		A.json = true;
		argc--;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: adminctl spool %s ID\n", what);
		return EX_USAGE;
	}
	id = argv[1];
	if (!qrec_id_valid(id) || qinfo_find(conf_str("spool_dir"),
	    (unsigned)conf_int("spool_subspools"), id, &sub, &in_new) < 0) {
		fprintf(stderr, "adminctl: no message %s in the spool\n", id);
		return EX_FAIL;
	}
	if (qinfo_load(conf_str("spool_dir"), sub, id, in_new,
	    conf_time_ms("spool_delivery_delay") / 1000, qi, &err) < 0) {
		fprintf(stderr, "adminctl: %s\n", err);
		free(err);
		return EX_FAIL;
	}
	live_load(l, id);
	row_fill(w, qi, l);
	return EX_OK;
}

static void
view_text(const struct qinfo *qi, bool json)
{
	FILE *f = fopen(qi->path, "re");
	char buf[8192];
	size_t n;

	if (f == NULL || fseeko(f, qi->body_off, SEEK_SET) < 0) {
		if (json)
			printf("null");
		if (f != NULL)
			fclose(f);
		return;
	}
	if (!json) {
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			fwrite(buf, 1, n, stdout);
	} else {
		struct buf b;

		buf_init(&b, 8192, 0);
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			buf_append(&b, buf, n);
		json_str(buf_str(&b));
		buf_release(&b);
	}
	fclose(f);
}

int
cmd_spool_view(int argc, char **argv)
{
	struct qinfo qi;
	struct row w;
	struct live l;
	char t[20], age[32];
	int rc = one_load(argc, argv, "view", &qi, &w, &l);

	if (rc != EX_OK)
		return rc;
	qinfo_time(w.time, t);
	qinfo_age((long long)time(NULL) - w.time, age, sizeof(age));
	if (A.json) {
		printf("{\"id\":\"%s\",\"subspool\":%u,\"file\":", w.id, w.sub);
		json_str(qi.path);
		printf(",\"sender\":");
		json_str(w.sender);
		printf(",\"time\":%lld,\"size\":%lld,\"status\":\"%s\","
		    "\"attempts\":%u,\"next_attempt\":%lld,\"priority\":%d,"
		    "\"delivered\":%zu,\"recipients\":%zu,\"params\":{",
		    w.time, w.size, w.status, w.attempts, w.next, w.prio,
		    w.delivered, w.total);
		for (size_t i = 0; i < qi.env.nparams; i++) {
			printf("%s", i ? "," : "");
			json_str(qi.env.params[i].name);
			putchar(':');
			json_str(qi.env.params[i].value);
		}
		printf("},\"message\":");
		view_text(&qi, true);
		printf("}\n");
	} else {
		printf("File:        %s\nSubspool:    %u (%s)\nSender:      <%s>\n"
		    "Arrived:     %s UTC (%s ago)\nSize:        %lld bytes\n"
		    "Status:      %s\nAttempts:    %u\n", w.id, w.sub,
		    qi.in_new ? "new" : "cur", w.sender, t, age, w.size,
		    w.status, w.attempts);
		if (w.next > 0) {
			qinfo_time(w.next, t);
			printf("Next:        %s UTC\n", t);
		}
		if (w.prio > 0)
			printf("Priority:    %d\n", w.prio);
		printf("Recipients:  %zu delivered of %zu\n", w.delivered,
		    w.total);
		for (size_t i = 0; i < qi.env.nparams; i++)
			printf("Param:       %s=%s\n", qi.env.params[i].name,
			    qi.env.params[i].value);
		printf("\n");
		view_text(&qi, false);
	}
	free(w.sender);
	free(l.e);
	qinfo_release(&qi);
	return EX_OK;
}

static const char *
rcpt_status(const struct qrec_rcpt *r, bool held)
{
	if (r->state != QREC_PENDING)
		return qrec_state_name(r->state);
	if (held)
		return "held";
	return r->attempts > 0 ? "deferred" : "pending";
}

int
cmd_spool_rcpts(int argc, char **argv)
{
	struct qinfo qi;
	struct row w;
	struct live l;
	char t[20];
	int rc = one_load(argc, argv, "recipients", &qi, &w, &l);
	bool held = strcmp(w.status, "held") == 0;

	if (rc != EX_OK)
		return rc;
	if (A.json)
		printf("{\"id\":\"%s\",\"status\":\"%s\",\"recipients\":[",
		    w.id, w.status);
	else
		printf("%-34s %-10s %4s  %-19s  %s\n", "RECIPIENT", "STATUS",
		    "ATT", "NEXT ATTEMPT (UTC)", "LAST RESULT");
	for (size_t i = 0; i < qi.env.nrcpts; i++) {
		const struct qrec_rcpt *r = &qi.rec.r[i];
		const struct spool_rcpt *e = &qi.env.rcpts[i];
		long long next = 0;

		if (r->state == QREC_PENDING)
			next = r->next != 0 ? r->next : qi.env.time +
			    conf_time_ms("spool_delivery_delay") / 1000;
		if (A.json) {
			printf("%s{\"address\":", i ? "," : "");
			json_str(e->addr);
			printf(",\"status\":\"%s\",\"attempts\":%u,"
			    "\"next_attempt\":%lld,\"bounced\":%s,\"notify\":",
			    rcpt_status(r, held), r->attempts, next,
			    r->bounced ? "true" : "false");
			if (e->notify != NULL)
				json_str(e->notify);
			else
				printf("null");
			printf(",\"last_result\":");
			if (r->text != NULL)
				json_str(r->text);
			else
				printf("null");
			putchar('}');
			continue;
		}
		if (next > 0)
			qinfo_time(next, t);
		else
			snprintf(t, sizeof(t), "-");
		printf("%-34s %-10s %4u  %-19s  %s\n", e->addr,
		    rcpt_status(r, held), r->attempts, t,
		    r->text != NULL ? r->text : "-");
	}
	if (A.json)
		printf("]}\n");
	free(w.sender);
	free(l.e);
	qinfo_release(&qi);
	return EX_OK;
}
