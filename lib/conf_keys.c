/*
 * conf_keys - every tern.conf key: name, type, default, bounds, choices
 * and a one-line doc (see conf.h).  Grouped by area.
 *
 * Adding a key: add one entry here and one entry to man/tern.conf.5 with
 * the same default; t/unit/conf.c fails until both agree.  Defaults are
 * written as an admin would write them in the file; they, and min/max,
 * are parsed at start-up, and a bad one is a BUG().
 */
#include <stddef.h>

#include "conf.h"

/* The Makefile passes the install location; plain compiles use this. */
#ifndef TERN_LIBEXEC_DIR
#define TERN_LIBEXEC_DIR "/usr/local/libexec/tern"
#endif

#define LOG_LEVELS "none|exceptions|normal|detailed"
#define LOG_LEVEL_KEY(name, def, what) \
	{ name, CONF_ENUM, def, NULL, NULL, LOG_LEVELS, \
	  "How much " what " logs." }

const struct conf_key conf_table[] = {
	/* Paths.  Relative values are taken from the directory holding
	 * tern.conf, so a development instance lives in one tree. */
	{ "state_dir", CONF_PATH, "state", NULL, NULL, NULL,
	  "Directory for sockets, pid file and state databases." },
	{ "spool_dir", CONF_PATH, "spool", NULL, NULL, NULL,
	  "Directory holding the mail queue." },
	{ "spool_subspools", CONF_INT, "10", "1", "10000", NULL,
	  "Number of subdirectories the spool is split into." },
	{ "spool_delivery_delay", CONF_TIME, "15s", "0", "1d", NULL,
	  "How long a new message waits in the spool before its first delivery attempt." },
	{ "spool_retry_intervals", CONF_LIST, "15m 30m 60m 90m", NULL, NULL, NULL,
	  "Waits between delivery attempts; after the last the message bounces." },
	{ "spool_new_mail_command", CONF_STR, "", NULL, NULL, NULL,
	  "Program run on each new message before delivery (%filepath = the spool file)." },
	{ "spool_new_mail_timeout", CONF_TIME, "5s", "1s", "10m", NULL,
	  "How long spool_new_mail_command may run before it is killed." },
	{ "queue_local_parallel", CONF_INT, "40", "1", "1000", NULL,
	  "Local delivery jobs the queue has out at once (spread over the delivery workers, whose commits they share)." },
	{ "queue_scan_interval", CONF_TIME, "60s", "1s", "1h", NULL,
	  "How often the queue rescans the spool for messages it was not told about." },
	{ "queue_active_max", CONF_INT, "20000", "100", "10000000", NULL,
	  "Most messages the queue keeps in memory at once." },
	{ "queue_remote_parallel", CONF_INT, "50", "1", "10000", NULL,
	  "Remote deliveries the queue runs at once (the reference's delivery threads)." },
	{ "queue_job_timeout", CONF_TIME, "10m", "1s", "1d", NULL,
	  "How long a delivery agent may take over one job before it is given up and retried." },
	{ "spool_dns_bounce_attempts", CONF_INT, "2", "1", "1000", NULL,
	  "Attempts after which a recipient whose domain cannot be resolved is bounced." },
	{ "smtp_out_port", CONF_INT, "25", "1", "65535", NULL,
	  "Port of the recipients' mail servers (MX hosts); tests and gateways may use another." },
	{ "smtp_out_timeout", CONF_TIME, "60s", "1s", "1h", NULL,
	  "How long the remote agent waits for each reply of another mail server." },
	{ "smtp_out_connect_timeout", CONF_TIME, "30s", "1s", "10m", NULL,
	  "How long the remote agent waits for a connection to another mail server." },
	{ "smtp_out_address", CONF_LIST, "", NULL, NULL, NULL,
	  "Source addresses for remote delivery, one IPv4 and one IPv6 at most; empty: the system's choice." },
	{ "smtp_out_tls", CONF_ENUM, "optional", NULL, NULL, "none|optional|require|verify",
	  "STARTTLS towards other mail servers: never, when offered, required, or required with a verified certificate." },
	{ "smtp_out_ca_file", CONF_PATH, "", NULL, NULL, NULL,
	  "Trusted CA certificates (PEM) for smtp_out_tls = verify; empty: the system's." },
	{ "dns_servers", CONF_LIST, "", NULL, NULL, NULL,
	  "DNS servers for MX and address lookups by the remote agent and smtpd's backup-MX check (IPv4 or IPv4:port, IPv6 or [IPv6]:port; up to 3); empty: the system's." },
	{ "dns_timeout", CONF_TIME, "5s", "1s", "1m", NULL,
	  "How long one DNS query may take before it is sent again." },
	{ "dns_retries", CONF_INT, "2", "1", "10", NULL,
	  "How many times a DNS query is sent before the lookup fails for now." },
	{ "spool_delay_warning", CONF_TIME, "4h", "0", "30d", NULL,
	  "How long a recipient that asked for delay notices (NOTIFY=DELAY) waits before its sender is warned; 0 = never." },
	{ "log_dir", CONF_PATH, "log", NULL, NULL, NULL,
	  "Directory for the log files, one per subsystem." },
	{ "libexec_dir", CONF_PATH, TERN_LIBEXEC_DIR, NULL, NULL, NULL,
	  "Where master finds the daemon programs." },
	{ "mail_dir", CONF_PATH, "mail", NULL, NULL, NULL,
	  "Root of the users' Maildir++ folders; a domain's folder defaults "
	  "to mail_dir/<domain>." },

	/* Identity. */
	{ "mail_user", CONF_STR, "tern", NULL, NULL, NULL,
	  "Unprivileged user every daemon runs as when master starts as "
	  "root." },
	{ "hostname", CONF_STR, "", NULL, NULL, NULL,
	  "Server's host name; empty = the system's host name." },
	{ "hostnames", CONF_LIST, "", NULL, NULL, NULL,
	  "Host name per local IP address, as IP=NAME items: the greeting, and the EHLO of remote delivery from that address." },
	{ "postmaster", CONF_STR, "", NULL, NULL, NULL,
	  "Address of the postmaster; empty = postmaster@hostname." },
	{ "auth_user", CONF_STR, "tern-auth", NULL, NULL, NULL,
	  "Owner of the password maps when adminctl rebuild runs as root; "
	  "the auth service's user in services.conf." },
	{ "admin_user", CONF_STR, "admin", NULL, NULL, NULL,
	  "Login name of the system administrator." },

	/* Passwords: the policy for new passwords and how they are hashed.
	 * The rules follow the reference's password requirements. */
	{ "password_min_length", CONF_INT, "8", "1", "128", NULL,
	  "Fewest characters a new password may have." },
	{ "password_require_number", CONF_BOOL, "yes", NULL, NULL, NULL,
	  "A new password must contain a digit." },
	{ "password_require_capital", CONF_BOOL, "no", NULL, NULL, NULL,
	  "A new password must contain a capital letter." },
	{ "password_require_lower", CONF_BOOL, "no", NULL, NULL, NULL,
	  "A new password must contain a lower case letter." },
	{ "password_require_symbol", CONF_BOOL, "no", NULL, NULL, NULL,
	  "A new password must contain a character that is neither a "
	  "letter nor a digit." },
	{ "password_not_username", CONF_BOOL, "yes", NULL, NULL, NULL,
	  "A new password may not be the user's name." },
	{ "password_hash", CONF_ENUM, "yescrypt", NULL, NULL,
	  "yescrypt|sha512crypt",
	  "crypt(3) scheme for new password hashes." },
	{ "password_hash_rounds", CONF_INT, "0", "0", "11", NULL,
	  "Cost passed to libxcrypt's crypt_gensalt for new hashes; 0 = "
	  "libxcrypt's default." },
	{ "auth_timeout", CONF_TIME, "10s", "1s", "5m", NULL,
	  "How long a daemon waits for the auth daemon to answer." },
	{ "auth_cache_size", CONF_INT, "10000", "0", "10000000", NULL,
	  "Verified logins each auth worker remembers; 0 = no cache." },
	{ "auth_cache_ttl", CONF_TIME, "1h", "0", "1d", NULL,
	  "How long a remembered login stays valid." },

	/* Logging.  Defaults follow the reference's log settings: delivery
	 * detailed; SMTP and the admin side normal; the rest exceptions. */
	{ "log_syslog", CONF_BOOL, "no", NULL, NULL, NULL,
	  "Send log lines to syslog instead of files in log_dir." },
	LOG_LEVEL_KEY("log_level_master", "normal", "master"),
	LOG_LEVEL_KEY("log_level_smtp", "normal", "SMTP"),
	LOG_LEVEL_KEY("log_level_pop", "exceptions", "POP3"),
	LOG_LEVEL_KEY("log_level_imap", "exceptions", "IMAP"),
	LOG_LEVEL_KEY("log_level_ldap", "exceptions", "LDAP"),
	LOG_LEVEL_KEY("log_level_delivery", "detailed", "delivery"),
	LOG_LEVEL_KEY("log_level_popretrieval", "exceptions",
	    "POP retrieval"),
	LOG_LEVEL_KEY("log_level_auth", "normal", "authentication"),
	LOG_LEVEL_KEY("log_level_filter", "normal", "filtering"),
	LOG_LEVEL_KEY("log_level_event", "exceptions", "the event system"),
	LOG_LEVEL_KEY("log_level_admin", "normal", "administration"),

	/* Master. */
	{ "master_drain_timeout", CONF_TIME, "30s", "1s", "1h", NULL,
	  "How long stopping services may take to finish their sessions "
	  "before they are killed." },
	{ "master_restart_delay_max", CONF_TIME, "60s", "1s", "1h", NULL,
	  "Longest wait before restarting a child that keeps crashing; the "
	  "wait doubles from 1s up to this." },
	{ "master_control_timeout", CONF_TIME, "10s", "1s", "5m", NULL,
	  "How long adminctl waits for master to answer a control "
	  "request." },

	/* IPC between daemons. */
	{ "ipc_max_frame", CONF_SIZE, "1m", "4k", "64m", NULL,
	  "Largest message one daemon accepts from another." },

	/* TLS.  Empty file names mean "not configured". */
	{ "tls_cert_file", CONF_PATH, "", NULL, NULL, NULL,
	  "Server certificate (PEM)." },
	{ "tls_key_file", CONF_PATH, "", NULL, NULL, NULL,
	  "Private key of the server certificate (PEM)." },
	{ "tls_chain_file", CONF_PATH, "", NULL, NULL, NULL,
	  "Intermediate certificates sent after the server certificate "
	  "(PEM)." },
	{ "tls_min_protocol", CONF_ENUM, "TLSv1.2", NULL, NULL,
	  "TLSv1.2|TLSv1.3",
	  "Oldest TLS version accepted or offered." },
	{ "tls_ciphers", CONF_STR, "", NULL, NULL, NULL,
	  "OpenSSL cipher list for TLS 1.2; empty = built-in modern list." },
	{ "tls_ciphersuites", CONF_STR, "", NULL, NULL, NULL,
	  "OpenSSL cipher suites for TLS 1.3; empty = OpenSSL default." },
	{ "tls_session_cache_size", CONF_INT, "20480", "0", "10000000", NULL,
	  "Most TLS sessions kept for resumption; 0 = no session cache." },
	{ "tls_session_timeout", CONF_TIME, "5m", "0", "1d", NULL,
	  "How long a cached TLS session may be resumed." },
	{ "tls_ca_file", CONF_PATH, "", NULL, NULL, NULL,
	  "Trusted CA certificates (PEM) for verifying peers; empty = "
	  "OpenSSL's default CA locations." },
	{ "tls_verify_peer", CONF_BOOL, "no", NULL, NULL, NULL,
	  "Verify the certificate of servers we connect to." },

	/* Local delivery. */
	{ "delivery_over_quota", CONF_ENUM, "defer", NULL, NULL, "defer|bounce",
	  "A full mailbox: keep the message and retry, or bounce it." },
	{ "delivery_disabled", CONF_ENUM, "bounce", NULL, NULL, "defer|bounce",
	  "Mail for a disabled user or domain: bounce it, or keep it for later." },
	{ "quota_warning_percent", CONF_INT, "90", "0", "100", NULL,
	  "Usage at which the user and the domain admin are warned once; 0 = never." },
	{ "forwarding_blacklist", CONF_LIST, "", NULL, NULL, NULL,
	  "Domains that forwarding never sends to." },

	/* imapd: the reference's IMAP protocol settings. */
	{ "imap_command_timeout", CONF_TIME, "15m", "10s", "1d", NULL,
	  "Idle time or stalled command after which an IMAP session is closed." },
	{ "imap_idle_timeout", CONF_TIME, "30m", "1m", "1d", NULL,
	  "Longest IDLE before the server ends it." },
	{ "imap_max_bad_commands", CONF_INT, "8", "1", "1000", NULL,
	  "Malformed or unknown IMAP commands before the session is closed." },
	{ "imap_max_connections", CONF_INT, "1000", "0", "1000000", NULL,
	  "Most simultaneous IMAP sessions; 0 = unlimited." },
	{ "imap_idle", CONF_BOOL, "yes", NULL, NULL, NULL,
	  "Offer the IDLE command." },
	{ "imap_plaintext_without_tls", CONF_BOOL, "no", NULL, NULL, NULL,
	  "Allow LOGIN and AUTHENTICATE on connections that are not encrypted." },
	{ "imap_plaintext_loopback", CONF_BOOL, "yes", NULL, NULL, NULL,
	  "Allow unencrypted logins from the loopback address." },
	{ "imap_max_line", CONF_SIZE, "64k", "8k", "16m", NULL,
	  "Longest IMAP command line, literals excluded." },
	{ "imap_max_literal", CONF_SIZE, "50m", "1k", "4g", NULL,
	  "Largest literal (APPEND message) accepted." },

	/* pop3d: the reference's POP protocol settings. */
	{ "pop_command_timeout", CONF_TIME, "5m", "10s", "1h", NULL,
	  "Idle time or stalled command after which a POP3 session is closed." },
	{ "pop_max_bad_commands", CONF_INT, "8", "1", "1000", NULL,
	  "Unknown or misplaced POP3 commands before the session is closed." },
	{ "pop_max_connections", CONF_INT, "500", "0", "1000000", NULL,
	  "Most simultaneous POP3 sessions; 0 = unlimited." },
	{ "pop_plaintext_without_tls", CONF_BOOL, "no", NULL, NULL, NULL,
	  "Allow USER/PASS and AUTH on connections that are not encrypted." },
	{ "pop_plaintext_loopback", CONF_BOOL, "yes", NULL, NULL, NULL,
	  "Allow unencrypted logins from the loopback address." },
	{ "pop_login_delay", CONF_TIME, "0", "0", "1d", NULL,
	  "Shortest time between two logins of one user (CAPA LOGIN-DELAY); 0 = none." },
	{ "pop_expire_days", CONF_INT, "0", "0", "10000", NULL,
	  "Days a retrieved message is kept (CAPA EXPIRE); 0 = NEVER." },

	/* smtpd: the reference's SMTP In page, SMTP Authentication Bypass,
	 * SMTP Blocked Senders and the IP white and black lists. */
	{ "smtp_relay", CONF_ENUM, "local-users", NULL, NULL, "nobody|local-users|local-domains|anyone",
	  "Who may send mail to other servers through us." },
	{ "smtp_relay_when_authenticated", CONF_BOOL, "yes", NULL, NULL, NULL,
	  "Clients that logged in may relay whatever smtp_relay says." },
	{ "smtp_auth_local_deliveries", CONF_BOOL, "no", NULL, NULL, NULL,
	  "Apply a domain's require_smtp_auth to mail for local users too." },
	{ "smtp_auth_mechanisms", CONF_LIST, "PLAIN LOGIN", NULL, NULL, NULL,
	  "SASL mechanisms offered: PLAIN, LOGIN, CRAM-MD5." },
	{ "smtp_disable_auth_login", CONF_BOOL, "no", NULL, NULL, NULL,
	  "Do not offer the LOGIN mechanism." },
	{ "smtp_auth_without_tls", CONF_BOOL, "no", NULL, NULL, NULL,
	  "Offer AUTH on connections that are not encrypted." },
	{ "smtp_session_timeout", CONF_TIME, "15m", "10s", "1d", NULL,
	  "Idle time after which a session is closed." },
	{ "smtp_command_timeout", CONF_TIME, "120s", "5s", "1h", NULL,
	  "How long a command or a stalled DATA transfer may take." },
	{ "smtp_max_bad_commands", CONF_INT, "8", "1", "1000", NULL,
	  "Unknown or misplaced commands before the session is closed." },
	{ "smtp_max_connections", CONF_INT, "1000", "0", "1000000", NULL,
	  "Most simultaneous SMTP sessions; 0 = unlimited." },
	{ "smtp_max_hops", CONF_INT, "20", "1", "1000", NULL,
	  "Received headers a message may carry before it is refused as a loop." },
	{ "smtp_max_message_size", CONF_SIZE, "30m", "0", "4g", NULL,
	  "Largest message accepted; 0 = unlimited." },
	{ "smtp_max_bad_recipients", CONF_INT, "20", "0", "100000", NULL,
	  "Refused recipients before the session is closed; 0 = unlimited." },
	{ "smtp_max_recipients", CONF_INT, "1000", "100", "100000", NULL,
	  "Most recipients in one message." },
	{ "smtp_vrfy", CONF_BOOL, "no", NULL, NULL, NULL,
	  "Answer VRFY." },
	{ "smtp_expn", CONF_BOOL, "no", NULL, NULL, NULL,
	  "Answer EXPN." },
	{ "smtp_max_command_line", CONF_SIZE, "512", "512", "64k", NULL,
	  "Longest SMTP command line (RFC 5321: 512)." },
	{ "smtp_max_text_line", CONF_SIZE, "1000", "1000", "1m", NULL,
	  "Longest line of message text (RFC 5321: 1000)." },
	{ "smtp_line_tolerance", CONF_SIZE, "8k", "0", "1m", NULL,
	  "Extra bytes accepted beyond the RFC line limits." },
	{ "smtp_bare_line_endings", CONF_ENUM, "reject", NULL, NULL, "reject|normalize",
	  "Bare CR or LF in message data on port 25: reject or normalize." },
	{ "submission_bare_line_endings", CONF_ENUM, "normalize", NULL, NULL, "reject|normalize",
	  "The same for submission services (587, 465)." },
	{ "smtp_over_quota", CONF_ENUM, "temporary", NULL, NULL, "temporary|permanent",
	  "Reply for a full mailbox: temporary 452 or permanent 552." },
	{ "smtp_received_auth_user", CONF_BOOL, "no", NULL, NULL, NULL,
	  "Name the logged-in user in the Received header." },
	{ "smtp_reverse_dns", CONF_BOOL, "yes", NULL, NULL, NULL,
	  "Look up the client's host name for the Received header." },
	{ "smtp_whitelist", CONF_LIST, "", NULL, NULL, NULL,
	  "Client addresses that may relay (IP, CIDR or A-B range)." },
	{ "smtp_blacklist", CONF_LIST, "", NULL, NULL, NULL,
	  "Client addresses refused at connection time." },
	{ "smtp_auth_bypass", CONF_LIST, "", NULL, NULL, NULL,
	  "Client addresses treated as logged in (for applications that cannot AUTH)." },
	{ "smtp_blocked_senders", CONF_LIST, "", NULL, NULL, NULL,
	  "Sender addresses or domains refused at MAIL FROM; * is a wildcard." },
	{ "smtp_sender_any", CONF_LIST, "", NULL, NULL, NULL,
	  "Logged-in users who may use any sender address." },
};

const size_t conf_table_len = sizeof(conf_table) / sizeof(conf_table[0]);
