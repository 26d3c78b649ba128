/*
 * smtpd - receives mail over SMTP (25), submission (587) and SMTPS (465)
 * and puts it, durably, into the spool.  See smtpd(8).
 *
 * Listens: the fds master passes for the service ([smtp], [submission],
 * [smtps] in services.conf); "-s" in the service's args makes it a
 * submission service (login required before MAIL, whatever the domain
 * says; submission_bare_line_endings instead of smtp_bare_line_endings).
 * Talks to: auth (state_dir/auth.sock) for logins, queue
 * (state_dir/queue.sock) to say a message arrived, DNS for the client's
 * name.  Writes: spool_dir/<n>/{tmp,new}; a 250 after the data means the
 * message and its directory are on disk; state_dir/smtp.conns, where
 * every smtpd process counts its sessions for smtp_max_connections.
 * Reads: state_dir/maps (policy, EXPN), routing.conf (forwarded domains
 * are accepted like our own; for [smarthost] backup MX, the domain's MX
 * is looked up through dns_servers in a helper thread, mxaddrs.c).  Keys:
 * smtp_*, submission_bare_line_endings, hostname, hostnames,
 * auth_timeout, tls_*, spool_*, log_level_smtp.
 *
 * Event-driven: one process serves many sessions (session.c); nothing in
 * it blocks: logins go to the auth daemon, spool commits to the spool's
 * committer thread, reverse DNS to evdns, MX checks to mxaddrs' thread.
 */
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "connslots.h"
#include "log.h"
#include "mxaddrs.h"
#include "policy.h"
#include "queue_notify.h"
#include "rdns.h"
#include "server.h"
#include "session.h"
#include "smtpd.h"
#include "spool.h"
#include "xalloc.h"

struct policy *smtpd_policy;
struct spool *smtpd_spool;
struct evdns_base *smtpd_dns;
struct connslots *smtpd_conns;
static bool submission;

static int
smtpd_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-s") != 0)
			return -1;
		submission = true;
	}
	return 0;
}

static int
smtpd_init(struct event_base *base)
{
	const char *err;
	char *error = NULL;

	settings_load(submission);
	smtpd_spool = spool_open(conf_str("spool_dir"),
	    (unsigned)conf_int("spool_subspools"), &error);
	if (smtpd_spool == NULL) {
		log_exc(LOG_SMTP, "%s: spool: %s", server_service(), error);
		free(error);
		return -1;
	}
	smtpd_policy = policy_new(&err);
	if (smtpd_policy == NULL) {
		log_exc(LOG_SMTP, "%s: policy: %s", server_service(), err);
		return -1;
	}
	if (smtpd.reverse_dns)
		smtpd_dns = rdns_base_new(base);
	smtpd_conns = connslots_open_state("smtp", &error);
	if (smtpd_conns == NULL) {
		log_exc(LOG_SMTP, "%s: %s; smtp_max_connections is shared out "
		    "among this service's workers instead", server_service(),
		    error);
		free(error);
	}
	mxaddrs_config();
	queue_notify_init(base, smtpd.queue_sock, "smtpd", LOG_SMTP);
	log_msg(LOG_SMTP, "%s: ready%s", server_service(),
	    submission ? " (submission)" : "");
	return 0;
}

static void
smtpd_client(evutil_socket_t fd, const struct sockaddr *sa, socklen_t salen,
    const struct server_listener *l)
{
	session_accept(fd, sa, salen, l->tls);
}

static void
smtpd_reload(void)
{
	settings_load(submission);
	policy_reload(smtpd_policy);
	mxaddrs_config();
	smtpd_accounts_reopen();
	if (smtpd.reverse_dns && smtpd_dns == NULL)
		smtpd_dns = rdns_base_new(server_base());
}

/*
 * The loop is over.  Sessions with a commit in flight are freed by its
 * callback: closing the spool finishes every commit, and one more turn
 * of the loop delivers the callbacks.
 */
static void
smtpd_exit(void)
{
	session_free_all();
	mxaddrs_stop();
	spool_close(&smtpd_spool);
	event_base_loop(server_base(), EVLOOP_NONBLOCK);
	if (session_any_left())
		log_exc(LOG_SMTP, "%s: sessions left at exit",
		    server_service());
	queue_notify_free();
	rdns_base_free(&smtpd_dns);
	connslots_close(&smtpd_conns);
	policy_free(&smtpd_policy);
	smtpd_accounts_close();
	settings_free();
}

int
main(int argc, char **argv)
{
	static const struct server_hooks hooks = {
		.name = "smtpd",
		.log = LOG_SMTP,
		.args = smtpd_args,
		.after_drop = smtpd_init,
		.on_client = smtpd_client,
		.on_reload = smtpd_reload,
		.on_drain = session_drain_all,
		.on_exit = smtpd_exit,
	};

	tzset();        /* Received dates, even after a chroot */
	return server_main(argc, argv, &hooks);
}
