/*
 * adminctl user list DOMAIN | show ADDRESS - users as the text files
 * hold them.  Hashes are never printed; "password" says only which kind
 * is stored.
 *
 * list: one user per line, tab-separated: address, enabled|disabled,
 * quota in bytes (0 = none of its own), display name.
 */
#include <stdio.h>
#include <string.h>

#include "acct.h"
#include "adminctl.h"
#include "xalloc.h"

static const char *
show_pwkind(const char *hash)
{
	if (strcmp(hash, "*") == 0)
		return "none";
	if (hash[0] == '!')
		return "locked";
	return strncmp(hash, "$y$", 3) == 0 ? "yescrypt" : "sha512crypt";
}

static void
show_json(const struct tdomain *d, const struct tuser *u, bool first)
{
	char *addr = xasprintf("%s@%s", u->local, d->name);

	printf("%s{", first ? "" : ",");
	json_field("address", addr, true);
	json_field("name", u->name != NULL ? u->name : "", false);
	printf(",\"quota\":%llu,\"disabled\":%s", u->quota,
	    u->disabled ? "true" : "false");
	json_field("password", show_pwkind(u->hash), false);
	printf(",\"cram\":%s", u->cram != NULL ? "true" : "false");
	json_field("forward", u->forward != NULL ? u->forward : "", false);
	printf(",\"forward_keep\":%s,\"autoreply\":%s",
	    u->forward_nokeep ? "false" : "true",
	    u->autoreply ? "true" : "false");
	json_field("autoreply_subject", u->ar_subject != NULL ?
	    u->ar_subject : "", false);
	json_field("autoreply_text", u->ar_text != NULL ? u->ar_text : "",
	    false);
	json_field("autoreply_until", u->ar_until != NULL ? u->ar_until : "",
	    false);
	putchar('}');
	free(addr);
}

/* Forwarding and the auto-responder, when set (delivery(8)). */
static void
show_extras(const struct tuser *u)
{
	if (u->forward != NULL)
		printf("forward:  %s\nkeep:     %s\n", u->forward,
		    u->forward_nokeep ? "no" : "yes");
	if (u->autoreply || u->ar_subject != NULL || u->ar_text != NULL)
		printf("autoreply: %s\nautoreply subject: %s\n"
		    "autoreply until: %s\nautoreply text: %s\n",
		    u->autoreply ? "on" : "off",
		    u->ar_subject != NULL ? u->ar_subject : "",
		    u->ar_until != NULL ? u->ar_until : "",
		    u->ar_text != NULL ? u->ar_text : "");
}

static int
show_usage(const char *argv1, const char *what, struct cmdopts *o)
{
	cmdopts_release(o);
	fprintf(stderr, "usage: adminctl user %s %s\n", argv1, what);
	return EX_USAGE;
}

int
user_list(int argc, char **argv)
{
	struct cmdopts o;
	struct tdomain *d;
	struct tree t;
	char *name;

	if (cmdopts_parse(argc, argv, 2, 0, &o) < 0 || o.nargs != 1)
		return show_usage(argv[1], "DOMAIN", &o);
	name = arg_domain(o.args[0]);
	cmdopts_release(&o);
	if (name == NULL || load_one(&t, name) < 0) {
		free(name);
		return EX_FAIL;
	}
	d = tree_domain(&t, name);
	if (A.json)
		putchar('[');
	for (size_t i = 0; i < d->nusers; i++) {
		const struct tuser *u = &d->users[i];

		if (A.json)
			show_json(d, u, i == 0);
		else
			printf("%s@%s\t%s\t%llu\t%s\n", u->local, d->name,
			    u->disabled ? "disabled" : "enabled", u->quota,
			    u->name != NULL ? u->name : "");
	}
	if (A.json)
		printf("]\n");
	tree_release(&t);
	free(name);
	return EX_OK;
}

int
user_show(int argc, char **argv)
{
	struct cmdopts o;
	struct tree t;
	struct tuser *u;
	char *local, *domain;
	int rc = EX_FAIL;

	if (cmdopts_parse(argc, argv, 2, 0, &o) < 0 || o.nargs != 1)
		return show_usage(argv[1], "ADDRESS", &o);
	if (arg_addr(o.args[0], &local, &domain) < 0) {
		cmdopts_release(&o);
		return EX_FAIL;
	}
	cmdopts_release(&o);
	if (load_one(&t, domain) < 0)
		goto out;
	u = tree_user(tree_domain(&t, domain), local);
	if (u == NULL)
		fprintf(stderr, "adminctl: no such user %s@%s\n", local, domain);
	else if (A.json) {
		show_json(tree_domain(&t, domain), u, true);
		putchar('\n');
		rc = EX_OK;
	} else {
		printf("address:  %s@%s\nname:     %s\nquota:    %llu\n"
		    "disabled: %s\npassword: %s\ncram-md5: %s\n", u->local,
		    domain, u->name != NULL ? u->name : "", u->quota,
		    u->disabled ? "yes" : "no", show_pwkind(u->hash),
		    u->cram != NULL ? "yes" : "no");
		show_extras(u);
		rc = EX_OK;
	}
	tree_release(&t);
out:
	free(local);
	free(domain);
	return rc;
}
