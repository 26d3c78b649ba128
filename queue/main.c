/*
 * queue - the scheduler: it owns the spool between smtpd and delivery.
 *
 * Takes each committed message from spool_dir/<n>/new/ (smtpd's "new"
 * notification on queue.sock, plus a scan at start and every
 * queue_scan_interval) by renaming it to <n>/cur/, keeps every
 * recipient's progress in the append-only record <n>/cur/<id>.rec, hands
 * jobs to the delivery agents (state_dir/delivery.sock for our domains,
 * state_dir/smtp-out.sock for the rest) in order of priority (1-10, 10
 * first) and next-attempt time, retries on the spool_retry_intervals
 * schedule, bounces what fails (RFC 3464, lib/bounce), and removes a
 * message only when every recipient is finished and any bounce is
 * itself in the spool.  At most queue_active_max messages are in memory;
 * the rest wait on disk and are taken as room frees up, so a restart
 * with a million messages starts delivering at once in bounded memory.
 *
 * Listens: unix:queue.sock (smtpd's notifications, adminctl's spool
 * commands).  Talks to: the delivery agents (lib/djob).  Reads:
 * state_dir/maps/domains.cdb (which domains are local; reopened on
 * SIGHUP), routing.conf (gateways, forwarded domains; routing(5)).
 * Writes: state_dir/throttle.db (the hour's counts of throttled
 * domains).  Keys: spool_*, queue_*, hostname.  Logs to the delivery log.
 * See queue(8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "conf.h"
#include "queue.h"
#include "server.h"
#include "xalloc.h"

struct queue Q;

long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
now_s(void)
{
	return (long long)time(NULL);
}

/* spool_retry_intervals as milliseconds; -1 (logged) if an item is bad. */
static int
queue_retry_list(void)
{
	size_t n;
	const char *const *items = conf_list("spool_retry_intervals", &n);
	long long *ms = xcalloc(n + 1, sizeof(*ms));
	const char *err;

	for (size_t i = 0; i < n; i++)
		if (conf_parse_time_ms(items[i], &ms[i], &err) < 0 ||
		    ms[i] <= 0) {
			log_exc(QLOG, "queue: spool_retry_intervals: '%s': %s",
			    items[i], ms[i] <= 0 ? "must be positive" : err);
			free(ms);
			return -1;
		}
	free(Q.retry_ms);
	Q.retry_ms = ms;
	Q.nretry = n;
	return 0;
}

static void
queue_cmd_free(void)
{
	if (Q.cmd_argv == NULL)
		return;
	for (size_t i = 0; Q.cmd_argv[i] != NULL; i++)
		free(Q.cmd_argv[i]);
	free(Q.cmd_argv);
	Q.cmd_argv = NULL;
}

static void
queue_cmd_argv(void)
{
	char **argv;
	size_t n = 0;
	char *copy = xstrdup(conf_str("spool_new_mail_command")), *save = NULL;

	queue_cmd_free();
	argv = xcalloc(strlen(copy) / 2 + 2, sizeof(*argv));
	for (char *w = strtok_r(copy, " \t", &save); w != NULL;
	    w = strtok_r(NULL, " \t", &save))
		argv[n++] = xstrdup(w);
	free(copy);
	if (n == 0) {
		free(argv);
		return;
	}
	Q.cmd_argv = argv;
}

void
queue_config(void)
{
	char host[256];
	const char *h = conf_str("hostname");

	Q.delay_ms = conf_time_ms("spool_delivery_delay");
	if (queue_retry_list() < 0 && Q.retry_ms == NULL) {
		/* Start-up with a broken list: the reference's schedule. */
		static const long long def[] = { 15, 30, 60, 90 };

		Q.retry_ms = xcalloc(4, sizeof(*Q.retry_ms));
		for (int i = 0; i < 4; i++)
			Q.retry_ms[i] = def[i] * 60 * 1000;
		Q.nretry = 4;
	}
	Q.scan_ms = conf_time_ms("queue_scan_interval");
	Q.active_max = (unsigned)conf_int("queue_active_max");
	Q.local_max = (unsigned)conf_int("queue_local_parallel");
	Q.remote_max = (unsigned)conf_int("queue_remote_parallel");
	Q.dom_max = Q.remote_max / 2 > 0 ? Q.remote_max / 2 : 1;
	Q.job_timeout_ms = conf_time_ms("queue_job_timeout");
	Q.dns_bounce = (unsigned)conf_int("spool_dns_bounce_attempts");
	Q.delay_warn_ms = conf_time_ms("spool_delay_warning");
	Q.cmd_timeout_ms = conf_time_ms("spool_new_mail_timeout");
	queue_cmd_argv();
	if (*h == '\0') {
		if (gethostname(host, sizeof(host)) < 0)
			snprintf(host, sizeof(host), "localhost");
		host[sizeof(host) - 1] = '\0';
		h = host;
	}
	free(Q.hostname);
	Q.hostname = xstrdup(h);
}

static int
queue_after_drop(struct event_base *base)
{
	char *err = NULL, *maps;
	const char *aerr;

	Q.base = base;
	Q.spool_dir = xstrdup(conf_str("spool_dir"));
	Q.nsub = (unsigned)conf_int("spool_subspools");
	Q.spool = spool_open(Q.spool_dir, Q.nsub, &err);
	if (Q.spool == NULL)
		die("queue: spool: %s", err);
	Q.state_dir = xstrdup(conf_str("state_dir"));
	maps = xasprintf("%s/maps", Q.state_dir);
	Q.acct = accounts_open(maps, ACCT_PUBLIC, &aerr);
	if (Q.acct == NULL)
		die("queue: account maps in %s: %s", maps, aerr);
	free(maps);
	queue_config();
	route_config();
	msg_init();
	sched_init();
	agent_init();
	store_init();
	outcome_init();
	cmd_init();
	qthrottle_init();
	ctl_init();
	log_msg(QLOG, "queue: started; spool %s with %u subspools, at most %u "
	    "messages in memory%s", Q.spool_dir, Q.nsub, Q.active_max,
	    Q.stopped ? "; delivery stopped" : "");
	scan_init();
	return 0;
}

static void
queue_client(evutil_socket_t fd, const struct sockaddr *sa, socklen_t salen,
    const struct server_listener *l)
{
	(void)sa; (void)salen; (void)l;
	ctl_client(fd);
}

static void
queue_reload(void)
{
	queue_config();
	route_config();
	agent_config();
	msg_reload();
	sched_kick();
}

void
queue_drained_check(void)
{
	if (!Q.draining || agent_busy() > 0)
		return;
	ctl_close_all();
	if (Q.exiting)
		event_base_loopexit(Q.base, NULL);
}

static void
queue_exit_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd; (void)what; (void)arg;
	log_exc(QLOG, "queue: %u jobs still out at the drain timeout; their "
	    "recipients are tried again at the next start", agent_busy());
	event_base_loopexit(Q.base, NULL);
}

/*
 * The skeleton ends the loop when the last connection closes, which may
 * be before the agents answered: wait for them (master_drain_timeout at
 * most) so their answers are recorded and nothing is delivered twice.
 */
static void
queue_wait_jobs(void)
{
	long long ms = conf_time_ms("master_drain_timeout");
	struct timeval tv = { ms / 1000, ms % 1000 * 1000 };
	struct event *t;

	Q.draining = true;
	if (agent_busy() == 0)
		return;
	log_msg(QLOG, "queue: waiting for %u jobs out", agent_busy());
	Q.exiting = true;
	t = evtimer_new(Q.base, queue_exit_timeout_cb, NULL);
	evtimer_add(t, &tv);
	event_base_dispatch(Q.base);
	event_free(t);
}

/* Stop: no new jobs; the ones out finish (their answers are recorded)
 * before the last connection closes and the skeleton lets us go. */
static void
queue_drain(void)
{
	Q.draining = true;
	log_msg(QLOG, "queue: stopping; %u jobs out, %u messages in memory",
	    agent_busy(), Q.nmsgs);
	queue_drained_check();
}

static void
queue_exit(void)
{
	queue_wait_jobs();
	agent_exit();
	cmd_exit();
	store_exit();
	scan_exit();
	ctl_exit();
	msg_exit();
	sched_exit();
	outcome_exit();
	qthrottle_exit();
	route_exit();
	spool_close(&Q.spool);
	accounts_free(&Q.acct);
	free(Q.retry_ms);
	Q.retry_ms = NULL;
	queue_cmd_free();
	free(Q.hostname);
	free(Q.state_dir);
	free((char *)Q.spool_dir);
}

int
main(int argc, char **argv)
{
	static const struct server_hooks hooks = {
		.name = "queue",
		.log = LOG_DELIVERY,
		.after_drop = queue_after_drop,
		.on_client = queue_client,
		.on_reload = queue_reload,
		.on_drain = queue_drain,
		.on_exit = queue_exit,
	};

	return server_main(argc, argv, &hooks);
}
