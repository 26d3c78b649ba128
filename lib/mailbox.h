/*
 * mailbox - where a user's mail lives, the one rule every daemon that
 * touches a mailbox (delivery, pop3d, imapd) uses:
 *
 *   domain folder   the domain's folder_path (domains.cdb, resolved by
 *                   adminctl rebuild), else mail_dir/<domain>
 *   user mailbox    <domain folder>/<local part>, a Maildir++: the
 *                   directory itself is INBOX (cur/ new/ tmp/), its
 *                   subfolders are ".Name" beside them
 *
 * The local part is the user's, folded to ASCII lower case (the users.cdb
 * key), with "/", "%" and a leading "." written as %2F, %25 and %2E, so
 * that every local part is one directory name, two local parts never
 * share one, and no mailbox can be mistaken for the domain's own files,
 * which start with a dot:
 *
 *   .tern-domainsize    the domain's usage, in the maildirsize format
 *                       (lib/maildir.h) with max_disk_space as its quota
 *   .tern-quota-warned  present while the domain admin has been warned
 *
 * The domain's usage is the sum over its mailboxes.  Every delivery adds
 * its message to the mailbox's maildirsize and to .tern-domainsize;
 * anything that removes mail should note it in both with
 * mailbox_usage_add().  The domain file is rebuilt (by reading every
 * mailbox's maildirsize, which may itself be rebuilt) on the Maildir++
 * rules: missing, over 5120 bytes, another quota, or over quota and 15
 * minutes old.  So the figure is an approximation: mail removed behind
 * Tern's back counts until the next rebuild, and a rebuild racing with a
 * delivery may miss that message until the one after.
 */
#ifndef TERN_MAILBOX_H
#define TERN_MAILBOX_H

#include "accounts.h"
#include "maildir.h"

#define MAILBOX_DOMAIN_SIZE_FILE ".tern-domainsize"
#define MAILBOX_DOMAIN_WARNED ".tern-quota-warned"

/* The domain's folder (d as accounts_domain() fills it); malloc'd. */
char *mailbox_domain_dir(const struct acct_domain *d);

/* The directory name of a local part, as above; malloc'd. */
char *mailbox_local_name(const char *local);

/* The user's Maildir++ (its INBOX directory); malloc'd. */
char *mailbox_path(const struct acct_domain *d, const char *local);

/*
 * The domain's usage with limit (max_disk_space, 0 = none), from
 * .tern-domainsize in ddir, rebuilt first when needed.  A domain folder
 * that does not exist yet uses nothing.  0, or -1 with *error_r.
 */
int mailbox_domain_usage(const char *ddir, unsigned long long limit,
    struct maildir_usage *u, char **error_r);

/* A change in the domain's usage (one delivery, or negative for a
 * removal); nothing when the file does not exist. */
void mailbox_domain_usage_add(const char *ddir, long long bytes,
    long long count);

/* A change in one mailbox: its maildirsize and the domain's file. */
void mailbox_usage_add(const char *ddir, const char *mailbox,
    long long bytes, long long count);

#endif
