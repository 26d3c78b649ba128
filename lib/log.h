/*
 * log - one logging API for every daemon.
 *
 * Each subsystem writes its own file in log_dir (smtp.log, imap.log, ...)
 * or to syslog, at the reference's three levels: exceptions, normal,
 * detailed (plus "none").  The level of each subsystem comes from its
 * log_level_<subsystem> key in tern.conf.  Lines look like
 *
 *   2026-11-24T23:50:01.123Z smtpd[1234] normal: 4F2A...: accepted ...
 *
 * By convention the session or queue id comes first in the message text.
 * Files are opened O_APPEND and each line is one write(), so several
 * processes can share a file; log_reopen() (on SIGHUP) follows logrotate.
 */
#ifndef TERN_LOG_H
#define TERN_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <sys/types.h>

enum log_subsys {
	LOG_MASTER,      /* master.log: services, restarts, control */
	LOG_SMTP,
	LOG_POP,
	LOG_IMAP,
	LOG_LDAP,
	LOG_DELIVERY,    /* delivery and spool (queue) */
	LOG_POPRETRIEVAL,
	LOG_AUTHD,       /* auth daemon (syslog.h owns LOG_AUTH) */
	LOG_FILTER,
	LOG_EVENT,
	LOG_ADMIN,       /* adminctl changes */
	LOG_NSUBSYS
};

enum log_level {
	LOG_LEVEL_NONE = 0,
	LOG_LEVEL_EXC = 1,
	LOG_LEVEL_NORMAL = 2,
	LOG_LEVEL_DETAIL = 3,
};

/*
 * Open logging for program `ident` (e.g. "smtpd").  dir: the log directory,
 * or NULL to log to stderr only (tests, adminctl).  Levels come from the
 * loaded config when available; log_set_level() overrides.
 */
void log_open(const char *ident, const char *dir, bool use_syslog);
/* The subsystem die() and BUG() write to (default LOG_MASTER); the server
 * skeleton sets the daemon's own, since master.log is master's alone. */
void log_set_main(enum log_subsys s);
/* Re-open every file (after logrotate moved them); re-read levels.  A file
 * that cannot be opened again keeps its old descriptor. */
void log_reopen(void);
/* Open subsystem s's file now (before a chroot or privilege drop); the fd
 * or -1. */
int log_open_now(enum log_subsys s);
/* Give the open files to uid:gid (a daemon about to drop root). */
void log_chown(uid_t uid, gid_t gid);
void log_close(void);
/* Also copy lines to stderr (foreground master, tests). */
void log_set_stderr(bool on);
void log_set_level(enum log_subsys s, enum log_level l);
bool log_enabled(enum log_subsys s, enum log_level l);

const char *log_subsys_name(enum log_subsys s);
/* "none", "exceptions", "normal", "detailed" -> level; -1 if unknown */
int log_level_parse(const char *s);
const char *log_level_name(enum log_level l);

void log_write(enum log_subsys s, enum log_level l, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void log_vwrite(enum log_subsys s, enum log_level l, const char *fmt,
    va_list ap);

#define log_exc(s, ...)    log_write((s), LOG_LEVEL_EXC, __VA_ARGS__)
#define log_msg(s, ...)    log_write((s), LOG_LEVEL_NORMAL, __VA_ARGS__)
#define log_detail(s, ...) log_write((s), LOG_LEVEL_DETAIL, __VA_ARGS__)

#endif
