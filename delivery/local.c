/*
 * local - one copy of the message into one user's mailbox.
 *
 * The mailbox (lib/mailbox.h) is made on the first delivery.  Before
 * writing, the user's quota (users.cdb quota, Maildir++ maildirsize) and
 * the domain's max_disk_space (the domain's usage file) are checked
 * against the message's size; a full one is deferred (4.2.2) or bounced
 * (5.2.2) as delivery_over_quota says, and warned about once.  The copy
 * gets "Return-Path: <sender>" and "Delivered-To: <user>" on top and is
 * written by lib/maildir: on disk, file and directory, before we say ok.
 * Crossing quota_warning_percent warns the user and the domain admin
 * once (warn.c).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "delivery.h"
#include "log.h"
#include "mailbox.h"
#include "maildir.h"
#include "xalloc.h"

#define USER_WARNED_FILE "tern-quota-warned"

char *
local_mailbox(const struct ldomain *d, const char *local)
{
	struct acct_domain ad;

	ldomain_acct(d, &ad);
	return mailbox_path(&ad, local);
}

static enum djob_status
local_full(char **text_r, const char *what)
{
	*text_r = xasprintf("%s %s", D.over_quota_bounce ? "5.2.2" : "4.2.2",
	    what);
	return D.over_quota_bounce ? DJOB_FAIL : DJOB_DEFER;
}

static long long
local_threshold(long long limit)
{
	return limit / 100 * D.warn_percent + limit % 100 * D.warn_percent /
	    100;
}

/*
 * Is there room for size more bytes?  Warns when there is not.  *uu and
 * *du get the usage found (du->bytes -1: the domain's was not read).
 */
static enum djob_status
local_room(struct job *jb, const struct ldomain *d, const char *key,
    const char *udir, const char *ddir, long long quota, long long dlimit,
    struct maildir_usage *uu, struct maildir_usage *du, long long size,
    char **text_r)
{
	struct maildir_usage pending;
	char *err = NULL;

	du->bytes = -1;
	/* Always read (and keep) the maildirsize: the domain's usage is
	 * summed from them, and IMAP QUOTA will report it. */
	if (maildir_usage(udir, quota > 0 ? (unsigned long long)quota : 0, uu,
	    &err) < 0) {
		log_exc(LOG_DELIVERY, "%s: <%s>: %s; quota not checked",
		    jb->dj->id, key, err);
		free(err);
		err = NULL;
		uu->bytes = uu->count = 0;
	}
	/* copies of this turn's earlier jobs, waiting in its tmp/: not in
	 * the maildirsize until the commit moves them into new/ */
	maildir_batch_pending(jb->batch, udir, &pending);
	uu->bytes += pending.bytes;
	uu->count += pending.count;
	if (quota > 0 && uu->bytes + size > quota) {
		warn_user(jb, d, key, udir, uu->bytes, quota, true);
		return local_full(text_r, "mailbox full");
	}
	if (dlimit <= 0)
		return DJOB_OK;
	if (mailbox_domain_usage(ddir, (unsigned long long)dlimit, du,
	    &err) < 0) {
		log_exc(LOG_DELIVERY, "%s: <%s>: %s; domain quota not checked",
		    jb->dj->id, key, err);
		free(err);
		du->bytes = -1;
		return DJOB_OK;
	}
	if (du->bytes + size > dlimit) {
		warn_domain(jb, d, ddir, du->bytes, dlimit, true);
		return local_full(text_r, "domain storage full");
	}
	return DJOB_OK;
}

/* After a copy: usage files, and warnings when a threshold was passed. */
static void
local_account(struct job *jb, const struct ldomain *d, const char *key,
    const char *udir, const char *ddir, long long quota, long long dlimit,
    const struct maildir_usage *uu, const struct maildir_usage *du,
    long long size)
{
	char *flag;

	/* a copy in the job's batch gets its line when the commit moves it
	 * into new/ (lib/maildir_batch) */
	if (jb->batch == NULL)
		maildir_usage_add(udir, size, 1);
	if (dlimit > 0)
		mailbox_domain_usage_add(ddir, size, 1);
	if (D.warn_percent <= 0)
		return;
	if (quota > 0) {
		if (uu->bytes + size >= local_threshold(quota))
			warn_user(jb, d, key, udir, uu->bytes + size, quota,
			    false);
		else {
			flag = xasprintf("%s/%s", udir, USER_WARNED_FILE);
			warn_rearm(flag);
			free(flag);
		}
	}
	if (dlimit > 0 && du->bytes >= 0) {
		if (du->bytes + size >= local_threshold(dlimit))
			warn_domain(jb, d, ddir, du->bytes + size, dlimit,
			    false);
		else {
			flag = xasprintf("%s/%s", ddir, MAILBOX_DOMAIN_WARNED);
			warn_rearm(flag);
			free(flag);
		}
	}
}

enum djob_status
local_deliver(struct job *jb, const struct ldomain *d, const char *local,
    const char *key, const char *urec, size_t ulen, char **text_r)
{
	struct acct_domain ad;
	struct maildir_usage uu, du;
	struct maildir_msg mm = { .fd = -1 };
	long long quota = acct_field_int(urec, ulen, "quota", 0);
	long long dlimit = acct_field_int(d->rec, d->reclen, "max_disk_space",
	    0);
	char *ddir, *name, *udir, *prefix, *err = NULL;
	enum djob_status st = DJOB_DEFER;

	ldomain_acct(d, &ad);
	ddir = mailbox_domain_dir(&ad);
	name = mailbox_local_name(local);
	udir = xasprintf("%s/%s", ddir, name);
	prefix = xasprintf("Return-Path: <%s>\nDelivered-To: %s\n",
	    jb->dj->sender, key);
	if (maildir_create(udir, &err) < 0) {
		log_exc(LOG_DELIVERY, "%s: <%s>: %s", jb->dj->id, key, err);
		*text_r = xstrdup("4.3.0 cannot create the mailbox");
		goto out;
	}
	st = local_room(jb, d, key, udir, ddir, quota, dlimit, &uu, &du,
	    (long long)jb->msg.size + (long long)strlen(prefix), text_r);
	if (st != DJOB_OK)
		goto out;
	st = DJOB_DEFER;
	mm.prefix = prefix;
	mm.prefix_len = strlen(prefix);
	mm.batch = jb->batch;
	if (jb->msg.fd >= 0) {
		/* the descriptor the load kept, read at the message's
		 * offset: no open, seek or close per copy */
		mm.fd = jb->msg.fd;
		mm.at = true;
		mm.off = jb->msg.offset;
	} else
		mm.fd = dmsg_open(&jb->msg, &err);
	if (mm.fd < 0 || maildir_deliver(udir, &mm, &err) < 0) {
		log_exc(LOG_DELIVERY, "%s: <%s>: %s", jb->dj->id, key, err);
		*text_r = xstrdup("4.3.0 cannot write to the mailbox");
		goto out;
	}
	if (jb->batch != NULL)
		jb->in_batch[jb->cur] = true;
	log_detail(LOG_DELIVERY, "%s: <%s>: delivered to %s/new/%s",
	    jb->dj->id, key, udir, mm.name);
	local_account(jb, d, key, udir, ddir, quota, dlimit, &uu, &du,
	    mm.size);
	*text_r = xstrdup("2.0.0 delivered");
	st = DJOB_OK;
out:
	if (mm.fd >= 0 && !mm.at)
		close(mm.fd);
	maildir_msg_release(&mm);
	free(err);
	free(prefix);
	free(udir);
	free(name);
	free(ddir);
	return st;
}
