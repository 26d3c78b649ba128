/*
 * delivery - the local delivery agent: puts mail into users' Maildir++
 * mailboxes.
 *
 * The queue manager connects to state_dir/delivery.sock and sends
 * "deliver" jobs (lib/djob.h); each is run to its end and answered with
 * one "result".  For each recipient: domain aliases, users, aliases
 * (nested, to local and remote targets), postmaster, catch-alls; a copy
 * into each mailbox (tmp/, fsync, new/, fsync), with Return-Path and
 * Delivered-To, the mailbox made on first delivery; user and domain
 * quotas, with one warning each; disabled users and domains; per-user
 * forwarding and auto-replies, which are new messages queued in the
 * spool for the queue manager.
 *
 * Listens: unix:delivery.sock (services.conf; a pool: several workers,
 * one job at a time each).  Talks to: the queue (state_dir/queue.sock,
 * "new" frames).  Reads: state_dir/maps/{domains,users,aliases}.cdb.
 * Writes: mailboxes under mail_dir or each domain's folder_path, the
 * spool.  Keys: mail_dir, spool_dir, spool_subspools, state_dir,
 * hostname, postmaster, delivery_over_quota, delivery_disabled,
 * quota_warning_percent, forwarding_blacklist, ipc_max_frame,
 * log_level_delivery.  See delivery(8).
 *
 * With -r it is the remote agent instead: it listens on
 * unix:smtp-out.sock and hands each job to the recipients' mail servers
 * over SMTP (remote.c): MX or routing.conf's relay hosts, STARTTLS,
 * per-recipient results; re-reads its keys on SIGHUP.  Keys: smtp_out_*,
 * dns_servers, dns_timeout, dns_retries, hostname, hostnames (the EHLO
 * name per outbound address).
 */
#include <string.h>

#include "delivery.h"
#include "remote.h"
#include "queue_notify.h"
#include "server.h"

static int
delivery_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-r") != 0)
			return -1;
		D.remote = true;
	}
	return 0;
}

static int
delivery_init(struct event_base *base)
{
	if (settings_init() < 0)
		return -1;
	if (D.remote && remote_init() < 0)
		return -1;
	queue_notify_init(base, D.queue_sock, "delivery", LOG_DELIVERY);
	return 0;
}

static void
delivery_reload(void)
{
	settings_reload();
	if (D.remote)
		remote_reload();
}

static void
delivery_exit(void)
{
	conn_exit();
	if (D.remote)
		remote_exit();
	queue_notify_free();
	settings_free();
}

int
main(int argc, char **argv)
{
	static const struct server_hooks hooks = {
		.name = "delivery",
		.log = LOG_DELIVERY,
		.args = delivery_args,
		.after_drop = delivery_init,  /* maps and spool, unprivileged */
		.on_client = conn_start,
		.on_reload = delivery_reload, /* adminctl rebuild's SIGHUP */
		.on_drain = conn_drain,
		.on_exit = delivery_exit,
	};

	return server_main(argc, argv, &hooks);
}
