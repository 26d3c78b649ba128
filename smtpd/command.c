/*
 * command - the command table (verb, handler, the states it is legal
 * in, flags) and the dispatch of one command line: split the verb, log
 * it (AUTH without its arguments), refuse what is unknown, out of
 * sequence or given an argument it does not take, then call the handler
 * in cmd_*.c.
 */
#include <string.h>
#include <strings.h>

#include "linebuf.h"
#include "log.h"
#include "server.h"
#include "session.h"

#define BIT(st) (1u << (st))
#define IN_ANY (BIT(ST_GREET) | BIT(ST_READY) | BIT(ST_MAIL) | \
    BIT(ST_RCPT) | BIT(ST_CHUNKING))

/* Command flags. */
#define CMD_SECRET 1u     /* log the verb only (AUTH) */
#define CMD_NOARGS 2u     /* takes no argument */

struct command {
	const char *verb;
	cmd_fn *fn;
	unsigned states;      /* where it is legal */
	unsigned flags;
	const char *seq;      /* the 503 text elsewhere */
};

/*
 * BDAT is legal everywhere but inside a message: it must read its chunk
 * even when it refuses it (RFC 3030 section 4.2), so it decides itself.
 */
static const struct command commands[] = {
	{ "EHLO", cmd_ehlo, IN_ANY, 0, NULL },
	{ "HELO", cmd_helo, IN_ANY, 0, NULL },
	{ "MAIL", cmd_mail, BIT(ST_READY), 0, "Nested MAIL command" },
	{ "RCPT", cmd_rcpt, BIT(ST_MAIL) | BIT(ST_RCPT), 0,
	  "Need MAIL before RCPT" },
	{ "DATA", cmd_data, BIT(ST_MAIL) | BIT(ST_RCPT), CMD_NOARGS,
	  "Need MAIL and RCPT before DATA" },
	{ "BDAT", cmd_bdat, IN_ANY, 0, NULL },
	{ "RSET", cmd_rset, IN_ANY, CMD_NOARGS, NULL },
	{ "NOOP", cmd_noop, IN_ANY, 0, NULL },
	{ "QUIT", cmd_quit, IN_ANY, CMD_NOARGS, NULL },
	{ "HELP", cmd_help, IN_ANY, 0, NULL },
	{ "VRFY", cmd_vrfy, IN_ANY, 0, NULL },
	{ "EXPN", cmd_expn, IN_ANY, 0, NULL },
	{ "AUTH", cmd_auth, BIT(ST_READY), CMD_SECRET,
	  "AUTH not allowed during a mail transaction" },
	{ "STARTTLS", cmd_starttls, BIT(ST_GREET) | BIT(ST_READY), CMD_NOARGS,
	  "STARTTLS not allowed during a mail transaction" },
};

static const struct command *
command_find(const char *verb, size_t len)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strlen(commands[i].verb) == len &&
		    strncasecmp(commands[i].verb, verb, len) == 0)
			return &commands[i];
	return NULL;
}

void
command_run(struct session *s, const char *line, size_t len,
    unsigned flags)
{
	const struct command *c;
	size_t vlen = 0, alen;
	const char *args;

	if (flags & (LINE_F_BARE_CR | LINE_F_NUL)) {
		reply_bad(s, 500, "5.5.2", "Invalid characters in command");
		return;
	}
	while (vlen < len && line[vlen] != ' ')
		vlen++;
	args = line + vlen;
	while (*args == ' ')
		args++;
	alen = len - (size_t)(args - line);
	while (alen > 0 && (args[alen - 1] == ' ' || args[alen - 1] == '\t'))
		alen--;
	c = command_find(line, vlen);
	if (c == NULL) {
		log_detail(LOG_SMTP, "%s: <<< %.*s", s->id, (int)len, line);
		reply_bad(s, 500, "5.5.2", "Command unrecognized");
		return;
	}
	log_detail(LOG_SMTP, "%s: <<< %.*s", s->id,
	    (int)((c->flags & CMD_SECRET) ? vlen : len), line);
	/* Draining: finish a transaction, start nothing new. */
	if (server_draining() && c->fn != cmd_quit &&
	    (s->state == ST_GREET || s->state == ST_READY)) {
		reply(s, 421, "4.3.2", "%s Service shutting down, closing "
		    "connection", s->name);
		session_close(s);
		return;
	}
	if (!(c->states & BIT(s->state))) {
		if (s->state == ST_GREET)
			reply_bad(s, 503, "5.5.1", "Send EHLO/HELO first");
		else
			reply_bad(s, 503, "5.5.1", "%s", c->seq != NULL ? c->seq :
			    "Bad sequence of commands");
		return;
	}
	if ((c->flags & CMD_NOARGS) && alen > 0) {
		reply_bad(s, 501, "5.5.4", "Syntax: %s", c->verb);
		return;
	}
	/* The line is NUL-terminated by linebuf; cut the trailing blanks
	 * by length only (handlers get args + alen). */
	c->fn(s, args, alen);
}

void
command_too_long(struct session *s)
{
	if (s->state == ST_AUTH) {
		auth_abort(s);
		session_set_state(s, ST_READY);
		reply_bad(s, 500, "5.5.6", "Authentication exchange line is "
		    "too long");
		return;
	}
	reply_bad(s, 500, "5.5.2", "Line too long");
}
