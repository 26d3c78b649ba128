/*
 * Unit tests for smtpd's policy (smtpd/policy*.c, compiled in here: the
 * Makefile links unit tests against libtern.a only).  Account maps are
 * written with lib/map in the format of lib/accounts.h, settings with
 * conf_set(); every decision of policy.h is checked: connect, MAIL FROM
 * (blocked senders, ownership, submission, disabled and require-auth
 * domains, sizes), RCPT TO (limits, relay syntax, local resolution,
 * quota, the whole relay matrix, the open-relay battery) and VRFY.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../smtpd/policy.c"
#include "../../smtpd/policy_mail.c"
#include "../../smtpd/policy_rcpt.c"

#include "conf.h"
#include "map.h"
#include "tap.h"

static char tmpdir[] = "/tmp/tern-policy-XXXXXX";
static char *mapdir, *maildir, *folderdir;

/* --- fixtures ------------------------------------------------------------ */

static void
mkdirs(const char *path)
{
	char *p = xstrdup(path);

	for (char *s = p + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			if (mkdir(p, 0700) < 0 && errno != EEXIST)
				die("mkdir %s: %s", p, strerror(errno));
			*s = '/';
		}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		die("mkdir %s: %s", p, strerror(errno));
	free(p);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		die("write %s failed", path);
}

struct rec {
	const char *key, *val;
};

static void
write_map(const char *name, const struct rec *r)
{
	char *path = xasprintf("%s/%s", mapdir, name);
	const char *err;
	struct map_writer *w = map_writer_new(path, &err);

	if (w == NULL)
		die("%s: %s", path, err);
	for (; r->key != NULL; r++)
		if (map_writer_add(w, r->key, strlen(r->key), r->val,
		    strlen(r->val)) != 0)
			die("%s: cannot add %s", path, r->key);
	if (map_writer_commit(&w, &err) < 0)
		die("%s: %s", path, err);
	free(path);
}

/* A domain record with the keys tests care about (the rest absent, as
 * acct_field() then gives the defaults the code assumes). */
#define DOM(extra) "kind=domain\ndisabled=0\nrequire_smtp_auth=0\n" \
	"enable_catchalls=0\ncatchall=\nlist_address=\n" \
	"max_message_size=0\nmax_recipients=0\n" extra

static char *local_folder;

static void
write_maps(bool with_new_user)
{
	static char dom_local[512];
	const struct rec domains[] = {
		{ "@serial", "1" },
		{ "local.example", dom_local },
		{ "alias.example", "kind=alias\nprimary=local.example\n" },
		{ "auth.example", "kind=domain\nrequire_smtp_auth=1\n" },
		{ "off.example", "kind=domain\ndisabled=1\n" },
		{ "small.example", "kind=domain\nmax_message_size=1000\n"
		    "max_recipients=3\n" },
		{ "catch.example", "kind=domain\nenable_catchalls=1\n"
		    "catchall=bob@catch.example\nlist_address=lists\n" },
		{ "nocatch.example", "kind=domain\nenable_catchalls=0\n"
		    "catchall=bob@nocatch.example\n"
		    "list_address=cmd@nocatch.example\n" },
		{ "plain.example", "kind=domain\n" },
		{ "broken.example", "kind=alias\n" },
		{ NULL, NULL },
	};
	const struct rec users[] = {
		{ "alice@local.example", "name=Alice\nquota=0\ndisabled=0\n" },
		{ "boss@local.example", "name=\nquota=0\ndisabled=0\n" },
		{ "bob@local.example", "name=\nquota=0\ndisabled=1\n" },
		{ "full@local.example", "quota=1000\ndisabled=0\n" },
		{ "near@local.example", "quota=1000\ndisabled=0\n" },
		{ "broken@local.example", "quota=1000\ndisabled=0\n" },
		{ "empty@local.example", "quota=1000\ndisabled=0\n" },
		{ "neg@local.example", "quota=1000\ndisabled=0\n" },
		{ "eve1@local.example", "quota=0\ndisabled=0\n" },
		{ "carol@auth.example", "quota=0\ndisabled=0\n" },
		{ "dave@small.example", "quota=0\ndisabled=0\n" },
		{ "bob@catch.example", "quota=0\ndisabled=0\n" },
		{ "eve@off.example", "quota=0\ndisabled=0\n" },
		{ "pfull@plain.example", "quota=100\ndisabled=0\n" },
		{ with_new_user ? "newbie@local.example" :
		    "spare@plain.example",
		    "quota=0\ndisabled=0\n" },
		{ NULL, NULL },
	};
	const struct rec aliases[] = {
		{ "sales@local.example", "alice@local.example\n"
		    "x@remote.example\n" },
		{ "team@local.example", "carol@auth.example\n" },
		{ "via@local.example", "Alice@alias.example\n" },
		{ NULL, NULL },
	};

	snprintf(dom_local, sizeof(dom_local), DOM("folder_path=%s\n"),
	    local_folder);
	write_map(ACCT_MAP_DOMAINS, domains);
	write_map(ACCT_MAP_USERS, users);
	write_map(ACCT_MAP_ALIASES, aliases);
}

static void
maildirsize(const char *dir, const char *user, const char *text)
{
	char *d = xasprintf("%s/%s", dir, user), *f;

	mkdirs(d);
	f = xasprintf("%s/maildirsize", d);
	write_file(f, text);
	free(f);
	free(d);
}

static void
set(const char *key, const char *value)
{
	char *err = NULL;

	if (conf_set(key, value, &err) < 0)
		die("conf_set %s = %s: %s", key, value, err);
}

/* Settings every test starts from. */
static void
conf_base(void)
{
	char *state = xasprintf("%s/state", tmpdir);

	conf_load_defaults();
	set("state_dir", state);
	set("mail_dir", maildir);
	set("smtp_whitelist", "192.0.2.10, 2001:db8::10");
	set("smtp_blacklist", "192.0.2.0/24 198.51.100.1-198.51.100.9");
	set("smtp_auth_bypass", "203.0.113.5");
	set("smtp_blocked_senders", "spammer@remote.example *.spam.example "
	    "blocked.example eve*@local.example");
	set("smtp_sender_any", "boss@local.example");
	free(state);
}

static struct policy *
pol(void)
{
	const char *err = NULL;
	struct policy *p = policy_new(&err);

	if (p == NULL)
		die("policy_new: %s", err);
	return p;
}

/* --- clients, addresses, replies ----------------------------------------- */

static struct policy_client
client(const char *ip, const char *user, bool submission)
{
	struct policy_client c;

	memset(&c, 0, sizeof(c));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&c.addr;

		in6->sin6_family = AF_INET6;
		ASSERT(inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1);
		c.addrlen = sizeof(*in6);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&c.addr;

		in->sin_family = AF_INET;
		ASSERT(inet_pton(AF_INET, ip, &in->sin_addr) == 1);
		c.addrlen = sizeof(*in);
	}
	c.auth_user = user;
	c.submission = submission;
	return c;
}

#define ANON     "198.18.0.1"
#define WHITE    "192.0.2.10"    /* also inside the blacklisted /24 */
#define BLACK    "192.0.2.20"
#define BYPASS   "203.0.113.5"

/* Parse as smtpd does for a path (no brackets needed here). */
static int
parse(const char *s, struct addr *a)
{
	char *path = xasprintf("<%s>", s);
	const char *why;
	int rc = addr_parse(path, strlen(path), ADDR_PATH | ADDR_ALLOW_NULL |
	    ADDR_ALLOW_ROUTE | ADDR_ALLOW_POSTMASTER | ADDR_SMTPUTF8, a, &why);

	free(path);
	return rc;
}

static char replybuf[400];

static const char *
rtext(const struct smtp_reply *r)
{
	snprintf(replybuf, sizeof(replybuf), "%d %s %s", r->code, r->enh,
	    r->text);
	return replybuf;
}

/* MAIL FROM; returns "ok" or the reply text. */
static const char *
mail(struct policy *p, const struct policy_client *c, const char *sender,
    unsigned long long size, struct policy_mail *m)
{
	struct addr a;
	struct smtp_reply r;
	bool okay;

	if (parse(sender, &a) < 0)
		return "parse error";
	memset(&r, 0, sizeof(r));
	okay = policy_mail_from(p, c, &a, size, m, &r);
	addr_release(&a);
	return okay ? "ok" : rtext(&r);
}

static const char *
rcpt_n(struct policy *p, const struct policy_client *c,
    const struct policy_mail *m, const char *to, size_t n,
    struct policy_rcpt *out)
{
	struct addr a;
	struct smtp_reply r;
	struct policy_rcpt dummy;
	bool okay;

	if (parse(to, &a) < 0)
		return "parse error";
	memset(&r, 0, sizeof(r));
	okay = policy_rcpt_to(p, c, m, &a, n, out ? out : &dummy, &r);
	addr_release(&a);
	return okay ? "ok" : rtext(&r);
}

static const char *
rcpt(struct policy *p, const struct policy_client *c,
    const struct policy_mail *m, const char *to)
{
	return rcpt_n(p, c, m, to, 0, NULL);
}

/* A whole transaction up to one RCPT: "ok", or the first refusal. */
static const char *
tx(struct policy *p, const struct policy_client *c, const char *from,
    const char *to)
{
	struct policy_mail m;
	const char *r = mail(p, c, from, 0, &m);

	if (strcmp(r, "ok") != 0)
		return r;
	return rcpt(p, c, &m, to);
}

static const char *
vrfy(struct policy *p, const char *s)
{
	struct addr a;
	struct smtp_reply r;

	if (parse(s, &a) < 0)
		return "parse error";
	memset(&r, 0, sizeof(r));
	policy_vrfy(p, &a, &r);
	addr_release(&a);
	return rtext(&r);
}

static bool
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

#define is_reply(got, want, name) is_str(got, want, name)
#define refused(got, prefix, name) do { \
	const char *g__ = (got); \
	if (!ok(starts(g__, prefix), name)) \
		diag("got: %s", g__); \
} while (0)

/* --- policy_new, reload --------------------------------------------------- */

static void
test_new(void)
{
	static const struct {
		const char *key, *value, *want;
	} bad[] = {
		{ "smtp_whitelist", "192.0.2.1 10.0.0.1/33",
		  "smtp_whitelist: '10.0.0.1/33': prefix length out of range "
		  "(IPv4: 0-32)" },
		{ "smtp_blacklist", "192.0.2.9-192.0.2.1",
		  "smtp_blacklist: '192.0.2.9-192.0.2.1': range ends below "
		  "its start" },
		{ "smtp_auth_bypass", "host.example",
		  "smtp_auth_bypass: 'host.example': not an IP address" },
		{ "smtp_blocked_senders", "ok.example user@",
		  "smtp_blocked_senders: 'user@': empty domain" },
		{ "smtp_sender_any", "a@@b.example",
		  "smtp_sender_any: 'a@@b.example': more than one '@'" },
	};
	struct policy *p;
	const char *err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *name = xasprintf("bad %s refused, key and item named",
		    bad[i].key);

		conf_base();
		set(bad[i].key, bad[i].value);
		err = NULL;
		p = policy_new(&err);
		ok(p == NULL, name);
		is_str(err, bad[i].want, "... error text");
		policy_free(&p);
		free(name);
	}

	/* No maps yet (before the first rebuild): nothing is local. */
	conf_base();
	set("state_dir", tmpdir);   /* has no maps/ */
	p = pol();
	ok(p != NULL, "missing maps directory: a policy all the same");
	is_reply(tx(p, &(struct policy_client){ 0 }, "a@remote.example",
	    "alice@local.example"), "554 5.7.1 <alice@local.example>: "
	    "Relaying denied", "... in which no domain is local");
	policy_free(&p);
	ok(p == NULL, "policy_free sets NULL");
	policy_free(&p);
}

static void
test_reload(void)
{
	struct policy *p;
	struct policy_client black = client(BLACK, NULL, false);
	struct policy_client other = client("198.18.7.7", NULL, false);
	struct smtp_reply r;

	conf_base();
	p = pol();
	ok(!policy_connect(p, &black, &r) &&
	    policy_connect(p, &other, &r), "before reload");
	set("smtp_blacklist", "198.18.7.0/24");
	policy_reload(p);
	ok(policy_connect(p, &black, &r) &&
	    !policy_connect(p, &other, &r), "reload: the new blacklist");
	set("smtp_blacklist", "198.18.7.0/24 nonsense");
	set("smtp_relay", "anyone");
	policy_reload(p);
	ok(!policy_connect(p, &other, &r), "reload with a bad list: the old "
	    "lists stay");
	is_reply(tx(p, &other, "", "x@remote.example"), "554 5.7.1 "
	    "<x@remote.example>: Relaying denied",
	    "... and so do the other settings (no open relay by a typo)");

	is_reply(tx(p, &other, "", "newbie@local.example"),
	    "550 5.1.1 <newbie@local.example>: User unknown",
	    "before the rebuild: unknown user");
	write_maps(true);
	set("smtp_blacklist", "");
	policy_reload(p);
	is_reply(tx(p, &other, "", "newbie@local.example"), "ok",
	    "reload reopens the rebuilt maps");
	write_maps(false);
	policy_reload(p);
	policy_free(&p);
}

/* --- connect, authenticated ---------------------------------------------- */

static void
test_connect(void)
{
	struct policy *p;
	struct smtp_reply r;
	struct policy_client c;

	conf_base();
	p = pol();
	c = client(BLACK, NULL, false);
	ok(!policy_connect(p, &c, &r), "blacklisted client refused");
	is_str(rtext(&r), "554 5.7.1 Access denied", "... with 554 5.7.1");
	c = client("::ffff:192.0.2.20", NULL, false);
	ok(!policy_connect(p, &c, &r), "... also as an IPv4-mapped address");
	c = client("198.51.100.9", NULL, false);
	ok(!policy_connect(p, &c, &r), "last address of a blacklist range");
	c = client("198.51.100.10", NULL, false);
	ok(policy_connect(p, &c, &r), "one past it is let in");
	c = client(WHITE, NULL, false);
	ok(policy_connect(p, &c, &r), "whitelist wins over blacklist");
	c = client(ANON, NULL, false);
	ok(policy_connect(p, &c, &r), "an ordinary client is let in");
	memset(&c, 0, sizeof(c));
	ok(policy_connect(p, &c, &r), "no address (unix socket): let in");

	c = client(ANON, NULL, false);
	ok(!policy_authenticated(p, &c), "anonymous: not authenticated");
	c = client(BYPASS, NULL, false);
	ok(policy_authenticated(p, &c), "smtp_auth_bypass: authenticated");
	c = client("::ffff:203.0.113.5", NULL, false);
	ok(policy_authenticated(p, &c), "... mapped too");
	c = client(ANON, "alice@local.example", false);
	ok(policy_authenticated(p, &c), "logged in: authenticated");
	c = client(WHITE, NULL, false);
	ok(!policy_authenticated(p, &c), "whitelisted is not logged in");
	policy_free(&p);
}

/* --- MAIL FROM ----------------------------------------------------------- */

static void
test_mail_blocked(struct policy *p)
{
	struct policy_client anon = client(ANON, NULL, false);
	struct policy_client white = client(WHITE, NULL, false);
	struct policy_client boss = client(ANON, "boss@local.example", false);
	struct policy_mail m;

	is_reply(mail(p, &anon, "spammer@remote.example", 0, &m),
	    "554 5.7.1 <spammer@remote.example>: Sender address blocked",
	    "blocked address");
	refused(mail(p, &anon, "SPAMMER@Remote.Example", 0, &m), "554 5.7.1",
	    "blocked address, other case");
	refused(mail(p, &anon, "x@a.spam.example", 0, &m), "554 5.7.1",
	    "blocked by *.spam.example");
	is_reply(mail(p, &anon, "x@spam.example", 0, &m), "ok",
	    "*.spam.example leaves spam.example itself");
	refused(mail(p, &anon, "anyone@blocked.example", 0, &m), "554 5.7.1",
	    "blocked domain");
	is_reply(mail(p, &anon, "anyone@sub.blocked.example", 0, &m), "ok",
	    "a blocked domain does not cover its subdomains");
	refused(mail(p, &anon, "eve1@local.example", 0, &m), "554 5.7.1",
	    "blocked local user (wildcard)");
	refused(mail(p, &anon, "eve1@alias.example", 0, &m), "554 5.7.1",
	    "... also through the domain alias");
	refused(mail(p, &white, "spammer@remote.example", 0, &m), "554 5.7.1",
	    "blocked even from the whitelist");
	refused(mail(p, &boss, "spammer@remote.example", 0, &m), "554 5.7.1",
	    "blocked even for a smtp_sender_any user");
	is_reply(mail(p, &anon, "", 0, &m), "ok",
	    "the null sender is never blocked");
}

static void
test_mail_owner(struct policy *p)
{
	struct policy_client alice = client(ANON, "alice@local.example",
	    false);
	struct policy_client alice2 = client(ANON, "Alice@Alias.Example",
	    false);
	struct policy_client boss = client(ANON, "boss@local.example", false);
	struct policy_client bypass = client(BYPASS, NULL, false);
	struct policy_mail m;

	is_reply(mail(p, &alice, "alice@local.example", 0, &m), "ok",
	    "own address");
	ok(m.sender_local_domain && m.sender_local_user &&
	    strcmp(m.sender_domain, "local.example") == 0 && !m.bypass &&
	    !m.whitelisted, "... facts filled");
	is_reply(mail(p, &alice, "ALICE@Local.Example", 0, &m), "ok",
	    "own address, other case");
	is_reply(mail(p, &alice, "alice@alias.example", 0, &m), "ok",
	    "own address through the domain alias");
	is_str(m.sender_domain, "local.example", "... primary name kept");
	is_reply(mail(p, &alice2, "alice@local.example", 0, &m), "ok",
	    "logged in through the domain alias");
	is_reply(mail(p, &alice, "sales@local.example", 0, &m), "ok",
	    "an alias that delivers to the user");
	ok(m.sender_local_user, "... is a local user for relaying");
	is_reply(mail(p, &alice, "via@local.example", 0, &m), "ok",
	    "an alias whose target names the user via the domain alias");
	is_reply(mail(p, &alice, "team@local.example", 0, &m),
	    "553 5.7.1 Sender address not owned by user "
	    "<alice@local.example>", "an alias for someone else");
	refused(mail(p, &alice, "boss@local.example", 0, &m), "553 5.7.1",
	    "another user of the same domain");
	refused(mail(p, &alice, "alice@remote.example", 0, &m), "553 5.7.1",
	    "same local part elsewhere");
	refused(mail(p, &alice, "carol@auth.example", 0, &m), "553 5.7.1",
	    "a user of another local domain");
	refused(mail(p, &alice, "alice@[192.0.2.1]", 0, &m), "553 5.7.1",
	    "an address literal");
	refused(mail(p, &alice, "nobody@local.example", 0, &m), "553 5.7.1",
	    "an address that does not exist");
	is_reply(mail(p, &alice, "", 0, &m), "ok",
	    "the null sender (read receipts, vacation replies)");
	ok(!m.sender_local_user && !m.sender_local_domain,
	    "... is no local user");
	is_reply(mail(p, &boss, "anything@remote.example", 0, &m), "ok",
	    "smtp_sender_any: any address");
	ok(!m.sender_local_domain, "... remote facts");
	is_reply(mail(p, &bypass, "carol@auth.example", 0, &m), "ok",
	    "a bypass client (no login) may use any sender");
	ok(m.bypass && m.sender_local_user, "... flagged bypass");
}

static void
test_mail_domains(struct policy *p)
{
	struct policy_client anon = client(ANON, NULL, false);
	struct policy_client white = client(WHITE, NULL, false);
	struct policy_client bypass = client(BYPASS, NULL, false);
	struct policy_client carol = client(ANON, "carol@auth.example", false);
	struct policy_mail m;

	is_reply(mail(p, &anon, "eve@off.example", 0, &m),
	    "550 5.7.1 <eve@off.example>: Sender domain is disabled",
	    "sender in a disabled domain");
	refused(mail(p, &white, "nobody@off.example", 0, &m), "550 5.7.1",
	    "... from anywhere");

	/* require_smtp_auth alone: only mail leaving for other domains. */
	is_reply(mail(p, &anon, "carol@auth.example", 0, &m), "ok",
	    "require_smtp_auth, auth_local_deliveries off: MAIL taken");
	ok(m.sender_requires_auth, "... flagged for RCPT");
	is_reply(rcpt(p, &anon, &m, "alice@local.example"), "ok",
	    "... a local recipient is taken");
	set("smtp_relay", "anyone");
	policy_reload(p);
	is_reply(tx(p, &anon, "carol@auth.example", "x@remote.example"),
	    "530 5.7.0 Authentication required",
	    "... a remote one needs a login, even with smtp_relay = anyone");
	is_reply(tx(p, &white, "carol@auth.example", "x@remote.example"), "ok",
	    "... unless whitelisted");
	is_reply(tx(p, &anon, "alice@local.example", "x@remote.example"), "ok",
	    "... and only for that domain's senders");
	set("smtp_relay", "local-users");
	set("smtp_auth_local_deliveries", "yes");
	policy_reload(p);
	is_reply(mail(p, &anon, "carol@auth.example", 0, &m),
	    "530 5.7.0 Authentication required",
	    "with smtp_auth_local_deliveries: refused at MAIL FROM");
	is_reply(mail(p, &anon, "nobody@auth.example", 0, &m),
	    "530 5.7.0 Authentication required",
	    "... for any address of the domain");
	is_reply(mail(p, &white, "carol@auth.example", 0, &m), "ok",
	    "... not from the whitelist");
	is_reply(mail(p, &bypass, "carol@auth.example", 0, &m), "ok",
	    "... nor from smtp_auth_bypass");
	is_reply(tx(p, &carol, "carol@auth.example", "alice@local.example"),
	    "ok", "... nor once logged in");
	is_reply(mail(p, &anon, "alice@local.example", 0, &m), "ok",
	    "... other domains unaffected");
	set("smtp_auth_local_deliveries", "no");
	policy_reload(p);
}

static void
test_mail_submission(struct policy *p)
{
	struct policy_client sub = client(ANON, NULL, true);
	struct policy_client subbp = client(BYPASS, NULL, true);
	struct policy_client subwh = client(WHITE, NULL, true);
	struct policy_client subal = client(ANON, "alice@local.example", true);
	struct policy_mail m;

	is_reply(mail(p, &sub, "alice@local.example", 0, &m),
	    "530 5.7.0 Authentication required", "submission without login");
	is_reply(mail(p, &sub, "", 0, &m), "530 5.7.0 Authentication required",
	    "... not even a bounce");
	refused(mail(p, &subbp, "x@remote.example", 0, &m), "530 5.7.0",
	    "... not even from smtp_auth_bypass");
	refused(mail(p, &subwh, "x@remote.example", 0, &m), "530 5.7.0",
	    "... nor from the whitelist");
	is_reply(mail(p, &subal, "alice@local.example", 0, &m), "ok",
	    "submission after login");
}

static void
test_mail_size(struct policy *p)
{
	struct policy_client anon = client(ANON, NULL, false);
	struct policy_client dave = client(ANON, "dave@small.example", false);
	struct policy_mail m;

	is_reply(mail(p, &anon, "x@remote.example", 30 * 1024 * 1024, &m),
	    "ok", "SIZE at the default limit");
	ok(m.max_size == 30 * 1024 * 1024 && m.max_rcpts == 1000 &&
	    m.size == 30 * 1024 * 1024, "... limits filled");
	is_reply(mail(p, &anon, "x@remote.example", 30 * 1024 * 1024 + 1, &m),
	    "552 5.3.4 Message size exceeds fixed maximum message size "
	    "(31457280 bytes)", "SIZE one byte over");
	is_reply(mail(p, &anon, "", 30 * 1024 * 1024 + 1, &m),
	    "552 5.3.4 Message size exceeds fixed maximum message size "
	    "(31457280 bytes)", "... for the null sender too");
	is_reply(mail(p, &dave, "dave@small.example", 1000, &m), "ok",
	    "domain limit: at it");
	ok(m.max_size == 1000 && m.max_rcpts == 3,
	    "domain limits are smaller: they apply");
	refused(mail(p, &dave, "dave@small.example", 1001, &m), "552 5.3.4",
	    "domain limit: one over");
	refused(mail(p, &anon, "forged@small.example", 1001, &m), "552 5.3.4",
	    "... for any sender of that domain");
	is_reply(mail(p, &anon, "x@remote.example", 0, &m), "ok",
	    "no SIZE: nothing to check at MAIL");
	set("smtp_max_message_size", "500");
	set("smtp_max_recipients", "100");
	policy_reload(p);
	is_reply(mail(p, &dave, "dave@small.example", 0, &m), "ok",
	    "global limit smaller");
	ok(m.max_size == 500 && m.max_rcpts == 3, "... the smaller of each");
	refused(mail(p, &dave, "dave@small.example", 501, &m), "552 5.3.4",
	    "... refused above it");
	set("smtp_max_message_size", "0");
	policy_reload(p);
	is_reply(mail(p, &anon, "x@remote.example", 1ULL << 40, &m), "ok",
	    "smtp_max_message_size = 0: no limit");
	ok(m.max_size == 0, "... max_size 0");
	is_reply(mail(p, &dave, "dave@small.example", 0, &m), "ok",
	    "... but the domain's limit");
	ok(m.max_size == 1000, "... still applies");
	set("smtp_max_message_size", "30m");
	set("smtp_max_recipients", "1000");
	policy_reload(p);
}

static void
test_mail(void)
{
	struct policy *p;

	conf_base();
	p = pol();
	test_mail_blocked(p);
	test_mail_owner(p);
	test_mail_domains(p);
	test_mail_submission(p);
	test_mail_size(p);
	policy_free(&p);
}

/* --- RCPT TO: local recipients ------------------------------------------- */

static void
test_rcpt_local(struct policy *p)
{
	struct policy_client anon = client(ANON, NULL, false);
	struct policy_mail m;
	struct policy_rcpt out;

	ok(strcmp(mail(p, &anon, "x@remote.example", 0, &m), "ok") == 0,
	    "MAIL from a remote sender");
	is_reply(rcpt_n(p, &anon, &m, "alice@local.example", 0, &out), "ok",
	    "local user");
	ok(out.local && strcmp(out.kind, "user") == 0, "... kind user");
	is_reply(rcpt(p, &anon, &m, "ALICE@LOCAL.EXAMPLE"), "ok",
	    "local user, upper case");
	is_reply(rcpt(p, &anon, &m, "alice@alias.example"), "ok",
	    "local user through a domain alias");
	is_reply(rcpt_n(p, &anon, &m, "sales@local.example", 0, &out), "ok",
	    "alias");
	is_str(out.kind, "alias", "... kind alias");
	is_reply(rcpt_n(p, &anon, &m, "TEAM@alias.example", 0, &out), "ok",
	    "alias, any case, through the domain alias");
	is_reply(rcpt_n(p, &anon, &m, "lists@catch.example", 0, &out), "ok",
	    "list_address as a local part");
	is_str(out.kind, "list", "... kind list");
	is_reply(rcpt_n(p, &anon, &m, "cmd@nocatch.example", 0, &out), "ok",
	    "list_address as a full address");
	is_reply(rcpt_n(p, &anon, &m, "postmaster@local.example", 0, &out),
	    "ok", "postmaster@ without a user or alias (RFC 5321 4.5.1)");
	ok(out.local && strcmp(out.kind, "postmaster") == 0,
	    "... kind postmaster");
	is_reply(rcpt(p, &anon, &m, "PostMaster@plain.example"), "ok",
	    "... any case, any local domain");
	is_reply(rcpt_n(p, &anon, &m, "Postmaster", 0, &out), "ok",
	    "bare <Postmaster>");
	ok(out.local && strcmp(out.kind, "postmaster") == 0, "... local");
	is_reply(rcpt(p, &anon, &m, "nobody@local.example"),
	    "550 5.1.1 <nobody@local.example>: User unknown", "unknown user");
	is_reply(rcpt(p, &anon, &m, "nobody@alias.example"),
	    "550 5.1.1 <nobody@alias.example>: User unknown",
	    "... named as the client wrote it");
	is_reply(rcpt_n(p, &anon, &m, "whoever@catch.example", 0, &out), "ok",
	    "catch-all on");
	is_str(out.kind, "catchall", "... kind catchall");
	is_reply(rcpt_n(p, &anon, &m, "bob@catch.example", 0, &out), "ok",
	    "the catch-all target itself");
	is_str(out.kind, "user", "... is a user");
	refused(rcpt(p, &anon, &m, "whoever@nocatch.example"), "550 5.1.1",
	    "catch-all set but enable_catchalls off: unknown");
	is_reply(rcpt(p, &anon, &m, "bob@local.example"),
	    "550 5.2.1 <bob@local.example>: Mailbox unavailable (account "
	    "disabled)", "disabled user");
	is_reply(rcpt(p, &anon, &m, "eve@off.example"),
	    "550 5.2.1 <eve@off.example>: Mailbox unavailable (domain "
	    "disabled)", "user of a disabled domain");
	refused(rcpt(p, &anon, &m, "postmaster@off.example"), "550 5.2.1",
	    "... even postmaster");
	is_reply(rcpt(p, &anon, &m, "x@broken.example"),
	    "451 4.3.0 Temporary lookup failure, try again later",
	    "a broken map record: temporary failure");
	is_reply(rcpt(p, &anon, &m, "\"alice\"@local.example"), "ok",
	    "needlessly quoted local part is the same user");
}

static void
test_rcpt_quota(struct policy *p)
{
	struct policy_client anon = client(ANON, NULL, false);
	struct policy_mail m;

	ok(strcmp(mail(p, &anon, "x@remote.example", 0, &m), "ok") == 0,
	    "MAIL without SIZE");
	is_reply(rcpt(p, &anon, &m, "full@local.example"),
	    "452 4.2.2 <full@local.example>: Mailbox full, try again later",
	    "mailbox at its quota (folder_path): temporary");
	refused(rcpt(p, &anon, &m, "near@local.example"), "ok",
	    "below the quota, no SIZE: taken");
	is_reply(rcpt(p, &anon, &m, "broken@local.example"), "ok",
	    "malformed maildirsize: taken (delivery recalculates)");
	is_reply(rcpt(p, &anon, &m, "empty@local.example"), "ok",
	    "no maildirsize yet: nothing used");
	is_reply(rcpt(p, &anon, &m, "neg@local.example"), "ok",
	    "deletions (negative lines) are subtracted");
	refused(rcpt(p, &anon, &m, "pfull@plain.example"), "452 4.2.2",
	    "domain without folder_path: mail_dir/<domain>/<user>");
	is_reply(rcpt(p, &anon, &m, "sales@local.example"), "ok",
	    "an alias is not checked (delivery does that per target)");

	ok(strcmp(mail(p, &anon, "x@remote.example", 100, &m), "ok") == 0,
	    "MAIL SIZE=100");
	is_reply(rcpt(p, &anon, &m, "near@local.example"), "ok",
	    "900 used + 100 declared = quota: taken");
	ok(strcmp(mail(p, &anon, "x@remote.example", 101, &m), "ok") == 0,
	    "MAIL SIZE=101");
	refused(rcpt(p, &anon, &m, "near@local.example"), "452 4.2.2",
	    "900 used + 101 declared: full");
	refused(rcpt(p, &anon, &m, "neg@local.example"), "452 4.2.2",
	    "... with deletions counted");

	set("smtp_over_quota", "permanent");
	policy_reload(p);
	is_reply(rcpt(p, &anon, &m, "full@local.example"),
	    "552 5.2.2 <full@local.example>: Mailbox full",
	    "smtp_over_quota = permanent: 552 5.2.2");
	set("smtp_over_quota", "temporary");
	policy_reload(p);
}

static void
test_rcpt_limits(struct policy *p)
{
	struct policy_client anon = client(ANON, NULL, false);
	struct policy_client dave = client(ANON, "dave@small.example", false);
	struct policy_mail m;

	ok(strcmp(mail(p, &anon, "x@remote.example", 0, &m), "ok") == 0,
	    "MAIL");
	is_reply(rcpt_n(p, &anon, &m, "alice@local.example", 999, NULL), "ok",
	    "the 1000th recipient");
	is_reply(rcpt_n(p, &anon, &m, "alice@local.example", 1000, NULL),
	    "452 4.5.3 Too many recipients", "the 1001st: 452 4.5.3");
	ok(strcmp(mail(p, &dave, "dave@small.example", 0, &m), "ok") == 0,
	    "MAIL from a domain with max_recipients = 3");
	is_reply(rcpt_n(p, &dave, &m, "x@remote.example", 2, NULL), "ok",
	    "third recipient");
	is_reply(rcpt_n(p, &dave, &m, "alice@local.example", 3, NULL),
	    "452 4.5.3 Too many recipients", "fourth: refused, local or not");
}

/* --- RCPT TO: relaying ---------------------------------------------------- */

enum who { W_ANON, W_WHITE, W_BYPASS, W_LOGIN, W_N };
enum sender { S_USER, S_DOMAIN, S_REMOTE, S_NULL, S_N };

static const char *const modes[] = {
	"nobody", "local-users", "local-domains", "anyone",
};

/*
 * The rule from tern.conf(5), written out independently: the whitelist
 * and "anyone" always; otherwise a login or bypass, and then
 * smtp_relay_when_authenticated, or local-users with a local user as
 * sender, or local-domains with a sender in a local domain.
 */
static bool
relay_expected(int mode, bool when_auth, enum who w, enum sender s)
{
	bool authed = w == W_BYPASS || w == W_LOGIN;

	if (w == W_WHITE || mode == 3)
		return true;
	if (!authed)
		return false;
	if (when_auth)
		return true;
	return (mode == 1 && s == S_USER) ||
	    (mode == 2 && (s == S_USER || s == S_DOMAIN));
}

static void
test_relay_matrix(struct policy *p)
{
	static const char *const senders[S_N] = {
		"alice@local.example", "ghost@local.example",
		"x@remote.example", "",
	};
	static const char *const who_ip[W_N] = { ANON, WHITE, BYPASS, ANON };
	int wrong = 0, cases = 0, allowed = 0;

	for (int mode = 0; mode < 4; mode++)
		for (int wa = 0; wa < 2; wa++) {
			set("smtp_relay", modes[mode]);
			set("smtp_relay_when_authenticated", wa ? "yes" : "no");
			policy_reload(p);
			for (int w = 0; w < W_N; w++)
				for (int s = 0; s < S_N; s++) {
					/* smtp_sender_any lets boss use every
					 * sender, so MAIL passes for all. */
					struct policy_client c = client(
					    who_ip[w], w == W_LOGIN ?
					    "boss@local.example" : NULL,
					    false);
					bool want = relay_expected(mode, wa,
					    w, s);
					const char *got = tx(p, &c, senders[s],
					    "dest@remote.example");
					const char *local = tx(p, &c,
					    senders[s], "alice@local.example");
					bool is_ok = strcmp(got, "ok") == 0;

					cases++;
					allowed += want;
					if (is_ok != want || (!is_ok &&
					    strcmp(got, "554 5.7.1 "
					    "<dest@remote.example>: Relaying "
					    "denied") != 0) ||
					    strcmp(local, "ok") != 0) {
						wrong++;
						diag("%s when_auth=%d who=%d "
						    "sender='%s': %s / local: "
						    "%s", modes[mode], wa, w,
						    senders[s], got, local);
					}
				}
		}
	is_int(wrong, 0, "relay matrix: 4 modes x when_authenticated x "
	    "4 clients x 4 senders, remote refused with 554 5.7.1 and "
	    "local always taken");
	ok(cases == 128 && allowed > 0 && allowed < cases,
	    "... the matrix both allows and refuses");
	set("smtp_relay", "local-users");
	set("smtp_relay_when_authenticated", "yes");
	policy_reload(p);
}

static void
test_relay_cases(struct policy *p)
{
	struct policy_client anon = client(ANON, NULL, false);
	struct policy_client alice = client(ANON, "alice@local.example",
	    false);
	struct policy_client bypass = client(BYPASS, NULL, false);
	struct policy_client white6 = client("2001:db8::10", NULL, false);
	struct policy_mail m;
	struct policy_rcpt out;

	is_reply(tx(p, &anon, "alice@local.example", "x@remote.example"),
	    "554 5.7.1 <x@remote.example>: Relaying denied",
	    "defaults: an anonymous client with a local sender cannot relay");
	is_reply(tx(p, &alice, "alice@local.example", "x@remote.example"),
	    "ok", "defaults: a logged-in user can");
	ok(strcmp(mail(p, &alice, "alice@local.example", 0, &m), "ok") == 0 &&
	    strcmp(rcpt_n(p, &alice, &m, "x@remote.example", 0, &out),
	    "ok") == 0 && !out.local && strcmp(out.kind, "remote") == 0,
	    "... kind remote");
	is_reply(tx(p, &bypass, "", "x@remote.example"), "ok",
	    "defaults: smtp_auth_bypass can");
	is_reply(tx(p, &white6, "", "x@remote.example"), "ok",
	    "an IPv6 whitelisted client can");
	set("smtp_relay", "nobody");
	set("smtp_relay_when_authenticated", "no");
	policy_reload(p);
	refused(tx(p, &alice, "alice@local.example", "x@remote.example"),
	    "554 5.7.1", "nobody, not when authenticated: login refused");
	is_reply(tx(p, &white6, "", "x@remote.example"), "ok",
	    "... only the whitelist");
	set("smtp_relay", "local-users");
	set("smtp_relay_when_authenticated", "yes");
	policy_reload(p);
}

/* The classic open-relay tests: nothing may leave for another domain. */
static void
test_relay_battery(struct policy *p)
{
	static const char *const battery[] = {
		"user%remote.example@local.example",
		"remote.example!user@local.example",
		"\"user@remote.example\"@local.example",
		"\"user%remote.example\"@local.example",
		"@local.example:user@remote.example",
		"@local.example,@local.example:user@remote.example",
		"user@remote.example@local.example",
		"user@[192.0.2.1]",
		"user@[IPv6:2001:db8::1]",
		"USER@REMOTE.EXAMPLE",
		"user@remote.example.",
		"user@local.example.remote.example",
		"user@remote.example%local.example",
		"user%remote.example@alias.example",
		"user%remote.example",
		"remote.example!user",
		"alice%remote.example@local.example",
		"alice@local.example@remote.example",
		"user@local.example.",
		"user@.local.example",
		"postmaster%remote.example@local.example",
		"user@xn--remote.example",
		"\"alice\"@remote.example",
		"user@[127.0.0.1]",
	};
	struct policy_client anon = client(ANON, NULL, false);
	struct policy_client alice = client(ANON, "alice@local.example",
	    false);
	struct policy_client white = client(WHITE, NULL, false);
	const char *const senders[] = {
		"", "x@remote.example", "alice@local.example",
	};

	for (size_t i = 0; i < sizeof(battery) / sizeof(battery[0]); i++) {
		int bad = 0;

		for (size_t s = 0; s < 3; s++) {
			const char *got = tx(p, &anon, senders[s], battery[i]);

			if (!(strcmp(got, "parse error") == 0 ||
			    got[0] == '5')) {
				bad++;
				diag("from <%s>: %s", senders[s], got);
			}
		}
		{
			char *name = xasprintf("open-relay battery: <%s> "
			    "refused (anonymous, 3 senders)", battery[i]);

			ok(bad == 0, name);
			free(name);
		}
	}
	/* Relay syntax is refused whoever asks, as we would have to guess
	 * what it means. */
	refused(tx(p, &alice, "alice@local.example",
	    "user%remote.example@local.example"), "550 5.7.1",
	    "relay syntax: refused for a logged-in user too");
	is_reply(tx(p, &white, "", "a!b@remote.example"), "550 5.7.1 "
	    "<a!b@remote.example>: Relay syntax not allowed",
	    "... and for the whitelist, with a remote domain");
	refused(tx(p, &anon, "", "\"a@b\"@local.example"), "550 5.7.1",
	    "quoted @ in a local domain");
	is_reply(tx(p, &alice, "alice@local.example", "user@[192.0.2.1]"),
	    "ok", "an address literal is an ordinary remote destination "
	    "for a client that may relay");
}

static void
test_rcpt(void)
{
	struct policy *p;

	conf_base();
	p = pol();
	test_rcpt_local(p);
	test_rcpt_quota(p);
	test_rcpt_limits(p);
	test_relay_matrix(p);
	test_relay_cases(p);
	test_relay_battery(p);
	policy_free(&p);
}

/* --- VRFY, replies -------------------------------------------------------- */

static void
test_vrfy(void)
{
	struct policy *p;

	conf_base();
	p = pol();
	is_str(vrfy(p, "Alice@Local.Example"),
	    "250 2.1.5 <Alice@local.example>",
	    "VRFY user");
	is_str(vrfy(p, "sales@alias.example"),
	    "250 2.1.5 <sales@alias.example>",
	    "VRFY alias through the domain alias");
	is_str(vrfy(p, "lists@catch.example"),
	    "250 2.1.5 <lists@catch.example>",
	    "VRFY list address");
	is_str(vrfy(p, "postmaster@plain.example"),
	    "250 2.1.5 <postmaster@plain.example>", "VRFY postmaster@");
	is_str(vrfy(p, "postmaster"), "250 2.1.5 <postmaster>",
	    "VRFY bare postmaster");
	is_str(vrfy(p, "nobody@local.example"),
	    "550 5.1.1 <nobody@local.example>: User unknown", "VRFY unknown");
	is_str(vrfy(p, "bob@local.example"), "550 5.2.1 <bob@local.example>: "
	    "Mailbox unavailable (account disabled)", "VRFY disabled user");
	is_str(vrfy(p, "eve@off.example"), "550 5.2.1 <eve@off.example>: "
	    "Mailbox unavailable (domain disabled)", "VRFY disabled domain");
	is_str(vrfy(p, "who@catch.example"), "252 2.1.5 Cannot VRFY user, "
	    "but will accept message", "VRFY under a catch-all: 252");
	is_str(vrfy(p, "x@remote.example"), "252 2.1.5 Cannot VRFY user, but "
	    "will accept message", "VRFY remote: 252");
	is_str(vrfy(p, "x@[192.0.2.1]"), "252 2.1.5 Cannot VRFY user, but "
	    "will accept message", "VRFY address literal: 252");
	ok(starts(vrfy(p, "a%b@local.example"), "550 5.7.1"),
	    "VRFY relay syntax: 550");
	ok(starts(vrfy(p, "x@broken.example"), "451 4.3.0"),
	    "VRFY on a broken record: 451");
	policy_free(&p);
}

static void
test_reply(void)
{
	struct smtp_reply r;
	char big[600];

	ok(!policy_reply(&r, 550, "5.1.1", "<%s>: User unknown", "a@b"),
	    "policy_reply returns false");
	is_str(rtext(&r), "550 5.1.1 <a@b>: User unknown", "... and fills r");
	policy_reply(&r, 550, "5.1.1", "a\r\nb\tc\x7f");
	is_str(r.text, "a??b?c?", "controls in the text become '?'");
	memset(big, 'x', sizeof(big));
	big[sizeof(big) - 1] = '\0';
	policy_reply(&r, 550, "5.1.1", "%s", big);
	ok(strlen(r.text) == sizeof(r.text) - 1, "long text cut to fit");
	/* 254 ASCII bytes then a 3-byte character: only its lead byte
	 * would fit; it must go. */
	memset(big, 'x', 254);
	strcpy(big + 254, "\xe2\x82\xac" "tail");
	policy_reply(&r, 550, "5.1.1", "%s", big);
	ok(strlen(r.text) == 254, "a cut UTF-8 character is dropped whole");
	memset(big, 'x', 253);
	strcpy(big + 253, "\xe2\x82\xac" "tail");
	policy_reply(&r, 550, "5.1.1", "%s", big);
	ok(strlen(r.text) == 253, "... also with two of its bytes in");
	memset(big, 'x', 252);
	strcpy(big + 252, "\xe2\x82\xac" "tail");
	policy_reply(&r, 550, "5.1.1", "%s", big);
	ok(strlen(r.text) == 255 && strcmp(r.text + 252, "\xe2\x82\xac") == 0,
	    "... a character that fits stays");
}

/* --- main ---------------------------------------------------------------- */

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

int
main(void)
{
	char *plain;

	if (mkdtemp(tmpdir) == NULL)
		die("mkdtemp failed");
	log_set_level(LOG_SMTP, LOG_LEVEL_NONE);
	mapdir = xasprintf("%s/state/maps", tmpdir);
	maildir = xasprintf("%s/mail", tmpdir);
	folderdir = xasprintf("%s/folders", tmpdir);
	local_folder = xasprintf("%s/local.example", folderdir);
	mkdirs(mapdir);
	write_maps(false);
	maildirsize(local_folder, "full", "1000S\n600 3\n400 2\n");
	maildirsize(local_folder, "near", "1000S,100C\n900 3\n");
	maildirsize(local_folder, "broken", "1000S\n5000 1\nbogus\n");
	maildirsize(local_folder, "neg", "1000S\n1200 4\n-300 -1\n");
	plain = xasprintf("%s/plain.example", maildir);
	maildirsize(plain, "pfull", "100S\n100 1\n");
	free(plain);

	test_new();
	test_reload();
	test_connect();
	test_mail();
	test_rcpt();
	test_vrfy();
	test_reply();

	conf_unload();
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(mapdir);
	free(maildir);
	free(folderdir);
	free(local_folder);
	return done_testing();
}
