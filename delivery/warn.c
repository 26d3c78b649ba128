/*
 * warn - quota warnings.
 *
 * When a delivery takes a mailbox to quota_warning_percent of its quota,
 * or finds it full, the user and the domain's domain_admin get one
 * warning; when a domain's usage does the same with max_disk_space, the
 * domain_admin gets one.  "Once" is a flag file made with O_EXCL
 * (tern-quota-warned in the mailbox, .tern-quota-warned in the domain
 * folder), so several delivery processes never warn twice; a delivery
 * that finds the usage back under the threshold removes it, and the next
 * crossing warns again.
 *
 * The warning is written straight into the mailboxes (null Return-Path,
 * Auto-Submitted: auto-generated), not queued: a full mailbox must still
 * take the notice that it is full, and the queue need not be running.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "delivery.h"
#include "log.h"
#include "mailbox.h"
#include "maildir.h"
#include "xalloc.h"

#define USER_WARNED_FILE "tern-quota-warned"

/* 1536 -> "1.5 KB" */
static void
warn_size(char *out, size_t n, long long v)
{
	static const char *const units[] = { "bytes", "KB", "MB", "GB", "TB" };
	double x = (double)v;
	int u = 0;

	while (x >= 1024 && u < 4) {
		x /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(out, n, "%lld bytes", v);
	else
		snprintf(out, n, "%.1f %s", x, units[u]);
}

/* Write text (a whole message, LF) into the mailbox of local in d. */
static int
warn_put(struct job *jb, const struct ldomain *d, const char *local,
    const char *key, const char *subject, const char *body)
{
	struct acct_domain ad;
	struct maildir_msg mm = { .fd = -1 };
	struct buf b;
	char date[64], *udir = local_mailbox(d, local), *ddir, *err = NULL;
	char *uniq = maildir_unique();
	struct tm tm;
	int rc;

	localtime_r(&jb->now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z", &tm);
	buf_init(&b, 1024, 0);
	buf_printf(&b, "Return-Path: <>\nDelivered-To: %s\nDate: %s\n"
	    "From: Mail Delivery System <%s>\nTo: <%s>\nSubject: %s\n"
	    "Message-ID: <%s@%s>\nAuto-Submitted: auto-generated\n"
	    "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n"
	    "Content-Transfer-Encoding: 7bit\n\n%s", key, date, D.postmaster,
	    key, subject, uniq, D.names.host, body);
	mm.prefix = b.data;
	mm.prefix_len = b.len;
	rc = maildir_create(udir, &err);
	if (rc == 0)
		rc = maildir_deliver(udir, &mm, &err);
	if (rc == 0) {
		ldomain_acct(d, &ad);
		ddir = mailbox_domain_dir(&ad);
		mailbox_usage_add(ddir, udir, mm.size, 1);
		free(ddir);
		log_msg(LOG_DELIVERY, "%s: <%s>: warning \"%s\" delivered",
		    jb->dj->id, key, subject);
	} else {
		log_exc(LOG_DELIVERY, "%s: <%s>: cannot deliver the warning "
		    "\"%s\": %s", jb->dj->id, key, subject, err);
		free(err);
	}
	maildir_msg_release(&mm);
	buf_release(&b);
	free(uniq);
	free(udir);
	return rc;
}

/* The domain admin's local part, or NULL (malloc'd). */
static char *
warn_admin(const struct ldomain *d)
{
	size_t len;
	const char *v = acct_field(d->rec, d->reclen, "domain_admin", &len);

	return v != NULL && len > 0 ? xstrndup(v, len) : NULL;
}

/* Take the flag; false when it was taken already (warned before). */
static bool
warn_flag_take(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

void
warn_rearm(const char *flag_path)
{
	if (unlink(flag_path) == 0)
		log_detail(LOG_DELIVERY, "%s: under the warning threshold "
		    "again", flag_path);
}

void
warn_user(struct job *jb, const struct ldomain *d, const char *key,
    const char *udir, long long used, long long quota, bool full)
{
	char *flag = xasprintf("%s/%s", udir, USER_WARNED_FILE);
	char u[32], q[32], *body, *admin, *akey = NULL;
	const char *at = strrchr(key, '@');
	char *local = xstrndup(key, (size_t)(at - key));
	const char *subject = full ? "Your mailbox is full" :
	    "Your mailbox is nearly full";
	int rc;

	if (!warn_flag_take(flag)) {
		free(flag);
		free(local);
		return;
	}
	warn_size(u, sizeof(u), used);
	warn_size(q, sizeof(q), quota);
	body = xasprintf("The mailbox %s uses %s of its %s quota (%lld%%).\n"
	    "%s\nDelete or move messages to make room; this warning is sent "
	    "once.\n", key, u, q, quota > 0 ? used * 100 / quota : 0,
	    full ? (D.over_quota_bounce ? "It is full: new mail is returned "
	    "to its senders." : "It is full: new mail is held back and will "
	    "be returned to its senders if no room is made.") :
	    "When it is full, new mail cannot be delivered.");
	rc = warn_put(jb, d, local, key, subject, body);
	admin = warn_admin(d);
	if (admin != NULL && (akey = acct_key(admin, d->name)) != NULL &&
	    strcmp(akey, key) != 0) {
		char *subj = xasprintf("Mailbox %s is %s", key, full ? "full" :
		    "nearly full");

		warn_put(jb, d, admin, akey, subj, body);
		free(subj);
	}
	/* Not delivered to the user: try again on the next delivery. */
	if (rc < 0)
		unlink(flag);
	free(akey);
	free(admin);
	free(body);
	free(local);
	free(flag);
}

void
warn_domain(struct job *jb, const struct ldomain *d, const char *ddir,
    long long used, long long limit, bool full)
{
	char *flag = xasprintf("%s/%s", ddir, MAILBOX_DOMAIN_WARNED);
	char u[32], q[32], *body, *subj, *admin = warn_admin(d), *akey;

	if (!warn_flag_take(flag)) {
		free(flag);
		free(admin);
		return;
	}
	if (admin == NULL) {
		log_msg(LOG_DELIVERY, "%s: domain %s is %s its storage limit; "
		    "no domain_admin to warn", jb->dj->id, d->name, full ?
		    "at" : "near");
		free(flag);
		return;
	}
	warn_size(u, sizeof(u), used);
	warn_size(q, sizeof(q), limit);
	body = xasprintf("The domain %s uses %s of its %s of disk space "
	    "(%lld%%).\n%s\nThis warning is sent once.\n", d->name, u, q,
	    limit > 0 ? used * 100 / limit : 0, full ? "It is full: mail "
	    "for its users cannot be delivered until room is made." :
	    "When it is full, mail for its users cannot be delivered.");
	subj = xasprintf("Domain %s storage is %s", d->name, full ? "full" :
	    "nearly full");
	akey = acct_key(admin, d->name);
	if (warn_put(jb, d, admin, akey, subj, body) < 0)
		unlink(flag);
	free(akey);
	free(subj);
	free(body);
	free(admin);
	free(flag);
}
