/*
 * domain_keys - every domain.conf key: name, type, default, bounds,
 * choices and a one-line doc (see domain_keys.h).  Grouped as the
 * reference groups its domain pages; defaults are the reference's.
 *
 * Adding a key: add one entry here and one to man/domain.conf.5 with the
 * same default; t/unit/confset.c fails until both agree.  A bad default
 * or bound is a BUG() the first time a set is made over the table.
 */
#include <stddef.h>

#include "domain_keys.h"

/* Limits: 0 means unlimited; the upper bounds only catch typos. */
#define COUNT_MAX	"1000000"
#define SPAM_LEVELS	"none|low|medium|high"

#define BOOL_KEY(name, def, doc) \
	{ name, CONF_BOOL, def, NULL, NULL, NULL, doc }
#define PORT_KEY(name, def, doc) \
	{ name, CONF_INT, def, "1", "65535", NULL, doc }
#define LIMIT_KEY(name, def, doc) \
	{ name, CONF_INT, def, "0", COUNT_MAX, NULL, doc }
#define PRIORITY_KEY(name, doc) \
	{ name, CONF_INT, "0", "0", "10", NULL, doc }
#define EVENT_KEY(name, what) \
	BOOL_KEY(name, "yes", "Offer the \"" what "\" event type.")

const struct conf_key domain_table[] = {
	/* Options. */
	{ "folder_path", CONF_PATH, "", NULL, NULL, NULL,
	  "Directory holding the domain's mail; empty = "
	  "<mail_dir>/<domain>." },
	{ "listen_ip", CONF_STR, "", NULL, NULL, NULL,
	  "Address the domain's SMTP, POP3 and IMAP service listens on; "
	  "empty = every address." },
	{ "list_address", CONF_STR, "", NULL, NULL, NULL,
	  "Address that takes mailing list commands by mail; empty = "
	  "none." },
	BOOL_KEY("disabled", "no",
	    "Refuse all mail and logins for the domain, keeping its data."),
	{ "domain_admin", CONF_STR, "", NULL, NULL, NULL,
	  "Local part of the user who administers the domain; empty = "
	  "none." },

	/* Technical. */
	PORT_KEY("smtp_port", "25", "SMTP port for the domain."),
	{ "smtp_alt_port", CONF_INT, "0", "0", "65535", NULL,
	  "Second SMTP port, for clients whose network blocks port 25; 0 = "
	  "none." },
	PORT_KEY("pop_port", "110", "POP3 port for the domain."),
	PORT_KEY("imap_port", "143", "IMAP port for the domain."),
	PORT_KEY("ldap_port", "389", "LDAP port for the domain."),
	{ "logout_url", CONF_STR, "", NULL, NULL, NULL,
	  "Web page users are sent to after logging out; empty = none." },
	{ "autoresponder_exclusions", CONF_ENUM, "medium", NULL, NULL,
	  SPAM_LEVELS,
	  "No automatic reply to messages at or above this spam level; "
	  "none = reply to all." },
	{ "forwarding_exclusions", CONF_ENUM, "medium", NULL, NULL,
	  SPAM_LEVELS,
	  "No forwarding of messages at or above this spam level; none = "
	  "forward all." },
	BOOL_KEY("require_smtp_auth", "no",
	    "Users must log in to send mail through SMTP."),
	BOOL_KEY("autoresponder_once_per_day", "yes",
	    "Send each sender at most one automatic reply a day."),
	BOOL_KEY("disable_greylisting", "no",
	    "Skip greylisting for mail to the domain."),
	BOOL_KEY("auth_cram_md5", "no",
	    "Keep CRAM-MD5 secrets for the domain's users so they can log "
	    "in with CRAM-MD5."),

	/* Features. */
	BOOL_KEY("enable_active_directory", "no",
	    "Users may be bound to and log in against an Active Directory "
	    "server."),
	BOOL_KEY("enable_calendar", "yes", "Users may keep calendars."),
	BOOL_KEY("enable_contacts", "yes", "Users may keep contacts."),
	BOOL_KEY("enable_domain_aliases", "yes",
	    "The domain administrator may manage domain aliases."),
	BOOL_KEY("enable_content_filtering", "yes",
	    "The domain administrator may set content filters for the "
	    "domain."),
	BOOL_KEY("enable_dkim_signing", "no",
	    "Outgoing mail may be DKIM-signed for the domain."),
	BOOL_KEY("enable_domain_reports", "yes",
	    "The domain administrator gets the domain's reports."),
	BOOL_KEY("enable_email_reports", "yes",
	    "Reports may be sent by mail."),
	BOOL_KEY("enable_mailing_lists", "yes",
	    "The domain administrator may manage mailing lists."),
	BOOL_KEY("enable_notes", "yes", "Users may keep notes."),
	BOOL_KEY("enable_pop_retrieval", "yes",
	    "Users may fetch mail from accounts on other servers."),
	BOOL_KEY("enable_tasks", "yes", "Users may keep tasks."),
	BOOL_KEY("enable_catchalls", "no",
	    "The domain may have a catch-all address."),

	/* Limits; 0 = unlimited. */
	{ "max_disk_space", CONF_SIZE, "500m", "0", "65536g", NULL,
	  "Most disk space the domain's mail may take; 0 = unlimited." },
	LIMIT_KEY("max_domain_aliases", "2",
	    "Most domain aliases; 0 = unlimited."),
	LIMIT_KEY("max_users", "100", "Most users; 0 = unlimited."),
	LIMIT_KEY("max_user_aliases", "1000",
	    "Most user aliases; 0 = unlimited."),
	LIMIT_KEY("max_lists", "0", "Most mailing lists; 0 = unlimited."),
	LIMIT_KEY("max_pop_retrieval_accounts", "10",
	    "Most remote accounts each user may fetch mail from; 0 = "
	    "unlimited."),
	{ "max_message_size", CONF_SIZE, "10000k", "0", "2g", NULL,
	  "Largest message a user may send; 0 = unlimited." },
	LIMIT_KEY("max_recipients", "200",
	    "Most recipients of one message; 0 = unlimited."),

	/* Sharing. */
	BOOL_KEY("share_global_address_list", "yes",
	    "Users see each other in the address list and LDAP."),
	BOOL_KEY("share_calendars", "no",
	    "Users may share calendars with each other."),
	BOOL_KEY("share_contacts", "no",
	    "Users may share contacts with each other."),
	BOOL_KEY("share_folders", "no",
	    "Users may share mail folders with each other."),
	BOOL_KEY("share_notes", "no",
	    "Users may share notes with each other."),
	BOOL_KEY("share_tasks", "no",
	    "Users may share tasks with each other."),

	/* Priority of outbound delivery: 1..10, 10 goes first; 0 = not
	 * set, the message takes priority_standard. */
	{ "priority_standard", CONF_INT, "5", "1", "10", NULL,
	  "Delivery priority of messages nothing else sets one for." },
	PRIORITY_KEY("priority_lists",
	    "Priority of mailing list messages; 0 = standard."),
	PRIORITY_KEY("priority_oversize",
	    "Priority of messages over oversize_threshold; 0 = standard."),
	{ "oversize_threshold", CONF_SIZE, "2m", "1k", "2g", NULL,
	  "Size above which priority_oversize applies." },
	PRIORITY_KEY("priority_autoresponders",
	    "Priority of automatic replies; 0 = standard."),
	PRIORITY_KEY("priority_reports",
	    "Priority of reports sent by mail; 0 = standard."),
	PRIORITY_KEY("priority_events",
	    "Priority of event and reminder mail; 0 = standard."),
	PRIORITY_KEY("priority_second_attempt",
	    "Priority of a message's second delivery attempt; 0 = "
	    "unchanged."),
	PRIORITY_KEY("priority_third_attempt",
	    "Priority of a message's third delivery attempt; 0 = "
	    "unchanged."),

	/* Throttling of what the domain sends, per hour. */
	BOOL_KEY("throttle_messages", "no",
	    "Limit the messages the domain sends per hour."),
	{ "throttle_messages_per_hour", CONF_INT, "5000", "1", "10000000",
	  NULL, "Messages the domain may send per hour when throttled." },
	BOOL_KEY("throttle_bandwidth", "no",
	    "Limit the bytes the domain sends per hour."),
	{ "throttle_bandwidth_per_hour", CONF_SIZE, "100m", "1k", "65536g",
	  NULL, "Bytes the domain may send per hour when throttled." },
	BOOL_KEY("throttle_bounces", "no",
	    "Limit the bounces the domain may receive per hour."),
	{ "throttle_bounces_per_hour", CONF_INT, "1000", "1", "10000000",
	  NULL, "Bounces the domain may receive per hour when throttled." },

	/* Events: which event types the domain offers. */
	EVENT_KEY("event_alias_added", "alias added"),
	EVENT_KEY("event_alias_deleted", "alias deleted"),
	EVENT_KEY("event_calendar_reminder", "calendar reminder"),
	EVENT_KEY("event_task_reminder", "task reminder"),
	EVENT_KEY("event_message_received", "message received"),
	EVENT_KEY("event_message_sent", "message sent"),
	EVENT_KEY("event_list_added", "mailing list added"),
	EVENT_KEY("event_list_deleted", "mailing list deleted"),
	EVENT_KEY("event_list_message_sent", "message sent to a list"),
	EVENT_KEY("event_user_throttled", "user throttled"),
	EVENT_KEY("event_domain_throttled", "domain throttled"),
	EVENT_KEY("event_user_added", "user added"),
	EVENT_KEY("event_user_deleted", "user deleted"),
	EVENT_KEY("event_user_disk_space_used", "user disk space used"),

	/* Domain aliases and the catch-all. */
	{ "domain_aliases", CONF_LIST, "", NULL, NULL, NULL,
	  "Other domain names whose mail goes to this domain's users." },
	{ "catchall", CONF_STR, "", NULL, NULL, NULL,
	  "Address or local part that gets mail for unknown local parts; "
	  "needs enable_catchalls." },
};

const size_t domain_table_len = sizeof(domain_table) /
    sizeof(domain_table[0]);
