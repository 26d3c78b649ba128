/*
 * adminctl user add|del|passwd|set|disable|enable - one line each in
 * domains/<domain>/users.  Passwords are read from the terminal (twice,
 * no echo), --password-stdin or --password-file, checked against the
 * password_* policy, and stored only as a crypt(3) hash (plus the
 * CRAM-MD5 secret where the domain has auth_cram_md5 = yes).
 */
#include <stdio.h>
#include <string.h>

#include "acct.h"
#include "adminctl.h"
#include "confset.h"
#include "domain_keys.h"
#include "passwd.h"
#include "xalloc.h"

#define PW_OPTS (OPT_PASSWORD_STDIN | OPT_PASSWORD_FILE | OPT_NO_RELOAD)

/* What a user command works on. */
struct user_ctx {
	struct cmdopts o;
	char *local, *domain, *key, *addr;
	struct edit *e;
	struct edfile *f;       /* the users file */
	ssize_t line;           /* the user's line, or -1 */
};

static void
user_ctx_release(struct user_ctx *c)
{
	edit_end(&c->e);
	free(c->local);
	free(c->domain);
	free(c->key);
	free(c->addr);
	cmdopts_release(&c->o);
}

/* (Re)open the users file, locked or not, and find the user. */
static int
user_ctx_files(struct user_ctx *c, bool lock)
{
	char *path, *err;

	edit_end(&c->e);
	c->e = lock ? edit_start() : edit_begin_unlocked();
	if (c->e == NULL)
		return EX_FAIL;
	path = domain_path(c->domain, "users");
	c->f = edit_open(c->e, path, false, 0600, true, &err);
	free(path);
	if (c->f == NULL) {
		fprintf(stderr, "adminctl: %s\n", err);
		free(err);
		return EX_FAIL;
	}
	c->line = users_find(c->f, c->key);
	return EX_OK;
}

/*
 * Parse the arguments and find the user.  Commands that read a password
 * (opts has the password options) look without the lock and take it with
 * user_ctx_files(c, true) once the password is in: a person typing must
 * not hold up other adminctl runs.
 */
static int
user_ctx_open(struct user_ctx *c, int argc, char **argv, unsigned opts,
    int min_args, int max_args, const char *usage)
{
	bool asks_password = (opts & OPT_PASSWORD_STDIN) != 0;

	memset(c, 0, sizeof(*c));
	if (cmdopts_parse(argc, argv, 2, opts, &c->o) < 0 ||
	    c->o.nargs < min_args || (max_args >= 0 && c->o.nargs > max_args)) {
		fprintf(stderr, "usage: adminctl user %s %s\n", argv[1], usage);
		return EX_USAGE;
	}
	if (arg_addr(c->o.args[0], &c->local, &c->domain) < 0 ||
	    domain_exists(c->domain) < 0)
		return EX_FAIL;
	c->key = tree_fold(c->local);
	c->addr = xasprintf("%s@%s", c->local, c->domain);
	return user_ctx_files(c, !asks_password);
}

static int
user_need(const struct user_ctx *c)
{
	if (c->line >= 0)
		return EX_OK;
	fprintf(stderr, "adminctl: no such user %s\n", c->addr);
	return EX_FAIL;
}

/* Does the domain keep CRAM-MD5 secrets?  -1 when unreadable. */
static int
user_cram(const char *domain)
{
	struct confset *s = confset_new(domain_table, domain_table_len);
	char *path = domain_path(domain, "domain.conf"), *err;
	int r;

	if (confset_load(s, path, NULL, false, &err) < 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		r = -1;
	} else
		r = confset_bool(s, "auth_cram_md5");
	free(path);
	confset_free(&s);
	return r;
}

/* A new password, hashed: the crypt string and the CRAM-MD5 secret
 * (NULL when the domain keeps none). */
struct user_pw {
	char *hash, *secret;
};

static void
user_pw_release(struct user_pw *p)
{
	free(p->hash);
	if (p->secret != NULL)
		explicit_bzero(p->secret, strlen(p->secret));
	free(p->secret);
}

static int
user_pw_read(const struct user_ctx *c, struct user_pw *p)
{
	int cram = user_cram(c->domain);
	const char *why;
	char *pw;

	memset(p, 0, sizeof(*p));
	if (cram < 0 || (pw = password_read(&c->o, c->addr)) == NULL)
		return -1;
	if (passwd_policy_check(pw, c->addr, &why) < 0)
		fprintf(stderr, "adminctl: password refused: %s\n", why);
	else if ((p->hash = passwd_hash(pw, &why)) == NULL)
		fprintf(stderr, "adminctl: %s\n", why);
	else if (cram)
		p->secret = passwd_cram_secret(pw);
	password_free(&pw);
	return p->hash != NULL ? 0 : -1;
}

/* line with the new hash and cram secret (or none). */
static char *
user_pw_apply(const struct user_pw *p, const char *line)
{
	char *l1 = users_line_hash(line, p->hash), *l2;

	if (l1 == NULL)
		return NULL;
	l2 = users_line_set(l1, "cram", p->secret);
	free(l1);
	return l2;
}

/* line with every key=value argument from args[first] applied. */
static char *
user_apply_kvs(const struct user_ctx *c, const char *line, int first)
{
	char *l = xstrdup(line);

	for (int i = first; i < c->o.nargs && l != NULL; i++) {
		char *k, *v, *n;

		if (arg_kv(c->o.args[i], &k, &v) < 0) {
			xfree(&l);
			break;
		}
		if (strcmp(k, "cram") == 0) {
			fprintf(stderr, "adminctl: cram is written by adminctl "
			    "user passwd\n");
			n = NULL;
		} else
			n = users_line_set(l, k, *v ? v : NULL);
		free(l);
		l = n;
		free(k);
		free(v);
		if (l != NULL && users_line_ok(l) < 0)
			xfree(&l);
	}
	return l;
}

static int
user_add(int argc, char **argv)
{
	struct user_ctx c;
	struct user_pw pw = { 0 };
	char *line = NULL, *l2 = NULL;
	int rc = user_ctx_open(&c, argc, argv, PW_OPTS, 1, -1,
	    "ADDRESS [name=...] [quota=SIZE] [disabled=yes]");

	if (rc != EX_OK)
		goto out;
	rc = EX_FAIL;
	if (c.line >= 0) {
		fprintf(stderr, "adminctl: user %s already exists\n", c.addr);
		goto out;
	}
	/* Keys first, with a placeholder hash: no password asked for a
	 * command that is going to fail anyway. */
	line = xasprintf("%s  *", c.local);
	l2 = user_apply_kvs(&c, line, 1);
	xfree(&line);
	if (l2 == NULL || user_pw_read(&c, &pw) < 0 ||
	    (line = user_pw_apply(&pw, l2)) == NULL ||
	    user_ctx_files(&c, true) != EX_OK)
		goto out;
	if (c.line >= 0) {
		fprintf(stderr, "adminctl: user %s already exists\n", c.addr);
		goto out;
	}
	edfile_append(c.f, line);
	rc = edit_finish(&c.e, c.o.set & OPT_NO_RELOAD);
	if (rc == EX_OK)
		printf("user %s added\n", c.addr);
out:
	user_pw_release(&pw);
	free(line);
	free(l2);
	user_ctx_release(&c);
	return rc;
}

static int
user_del(int argc, char **argv)
{
	struct user_ctx c;
	int rc = user_ctx_open(&c, argc, argv, OPT_NO_RELOAD, 1, 1,
	    "ADDRESS");

	if (rc == EX_OK && (rc = user_need(&c)) == EX_OK) {
		edfile_delete(c.f, (size_t)c.line, 1);
		rc = edit_finish(&c.e, c.o.set & OPT_NO_RELOAD);
		if (rc == EX_OK)
			printf("user %s deleted (its mail is kept)\n", c.addr);
	}
	user_ctx_release(&c);
	return rc;
}

static int
user_passwd(int argc, char **argv)
{
	struct user_ctx c;
	struct user_pw pw = { 0 };
	char *line;
	int rc = user_ctx_open(&c, argc, argv, PW_OPTS, 1, 1, "ADDRESS");

	if (rc != EX_OK || (rc = user_need(&c)) != EX_OK)
		goto out;
	rc = EX_FAIL;
	if (user_pw_read(&c, &pw) < 0 || user_ctx_files(&c, true) != EX_OK ||
	    user_need(&c) != EX_OK)
		goto out;
	if ((line = user_pw_apply(&pw, c.f->line[c.line])) == NULL)
		goto out;
	edfile_replace(c.f, (size_t)c.line, line);
	free(line);
	rc = edit_finish(&c.e, c.o.set & OPT_NO_RELOAD);
	if (rc == EX_OK)
		printf("password of %s changed\n", c.addr);
out:
	user_pw_release(&pw);
	user_ctx_release(&c);
	return rc;
}

/* user set, and disable/enable as set with a fixed argument. */
static int
user_change(int argc, char **argv, const char *fixed)
{
	struct user_ctx c;
	char *line;
	int rc = user_ctx_open(&c, argc, argv, OPT_NO_RELOAD, fixed ? 1 : 2,
	    fixed ? 1 : -1, fixed ? "ADDRESS" : "ADDRESS key=value ...");

	if (rc == EX_OK && (rc = user_need(&c)) == EX_OK) {
		if (fixed != NULL)
			c.o.args[c.o.nargs++] = (char *)fixed;
		line = user_apply_kvs(&c, c.f->line[c.line], 1);
		if (line == NULL)
			rc = EX_FAIL;
		else {
			edfile_replace(c.f, (size_t)c.line, line);
			free(line);
			rc = edit_finish(&c.e, c.o.set & OPT_NO_RELOAD);
			if (rc == EX_OK)
				printf("user %s changed\n", c.addr);
		}
	}
	user_ctx_release(&c);
	return rc;
}

static int
user_set(int argc, char **argv)
{
	return user_change(argc, argv, NULL);
}

static int
user_disable(int argc, char **argv)
{
	return user_change(argc, argv, "disabled=yes");
}

static int
user_enable(int argc, char **argv)
{
	return user_change(argc, argv, "disabled=");
}

static const struct subcmd user_cmds[] = {
	{ "add", user_add, "ADDRESS [name=...] [quota=SIZE] [disabled=yes] "
	    "[--password-stdin | --password-file FILE]" },
	{ "del", user_del, "ADDRESS" },
	{ "list", user_list, "DOMAIN" },
	{ "show", user_show, "ADDRESS" },
	{ "passwd", user_passwd, "ADDRESS [--password-stdin | "
	    "--password-file FILE]" },
	{ "set", user_set, "ADDRESS key=value ..." },
	{ "disable", user_disable, "ADDRESS" },
	{ "enable", user_enable, "ADDRESS" },
};

int
cmd_user(int argc, char **argv)
{
	return subcmd_run("user", user_cmds, sizeof(user_cmds) /
	    sizeof(*user_cmds), argc, argv);
}
