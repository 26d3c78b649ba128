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
	{ "log_dir", CONF_PATH, "log", NULL, NULL, NULL,
	  "Directory for the log files, one per subsystem." },
	{ "libexec_dir", CONF_PATH, TERN_LIBEXEC_DIR, NULL, NULL, NULL,
	  "Where master finds the daemon programs." },

	/* Identity. */
	{ "mail_user", CONF_STR, "tern", NULL, NULL, NULL,
	  "Unprivileged user every daemon runs as when master starts as "
	  "root." },
	{ "hostname", CONF_STR, "", NULL, NULL, NULL,
	  "Server's host name; empty = the system's host name." },

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
};

const size_t conf_table_len = sizeof(conf_table) / sizeof(conf_table[0]);
