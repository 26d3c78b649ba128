/*
 * tree_users - one line of a domain's users file:
 *
 *   alice    $y$j9T$...$...   name="Alice Smith" quota=2g
 *   "j doe"  $6$...$...       disabled=yes
 *
 * Fields are separated by blanks; a field may hold a double-quoted part
 * (with \" and \\ escapes) so local parts and values can hold blanks.
 * The file is read line by line with no per-line allocation beyond the
 * user's own strings: 100,000 users take well under a second.
 */
#include <crypt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "buf.h"
#include "conf.h"
#include "tree.h"
#include "xalloc.h"

#define USER_NAME_MAX 256
/* Forwarding and auto-reply values (delivery(8)). */
#define FORWARD_MAX_TARGETS 20
#define AR_SUBJECT_MAX 256
#define AR_TEXT_MAX 4000
#define CRAM_HEX_LEN  64
/* Length of the hash part (after the last '$') of what we store. */
#define SHA512_HASH_LEN   86
#define YESCRYPT_HASH_LEN 43

const char *const user_keys[] = { "name", "quota", "disabled", "cram",
	"forward", "forward_keep", "autoreply", "autoreply_subject",
	"autoreply_text", "autoreply_until", "throttle_messages_per_hour",
	"throttle_bandwidth_per_hour", NULL };

static bool
users_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* One token from s[i..len): to the first blank outside quotes. */
static int
users_token_end(const char *s, size_t len, size_t i, size_t *end_r,
    const char **why_r)
{
	bool quoted = false;

	for (; i < len && (quoted || !users_blank(s[i])); i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 && c != '\t') {
			*why_r = "control character in the line";
			return -1;
		}
		if (c == 0x7f) {
			*why_r = "control character in the line";
			return -1;
		}
		if (quoted && c == '\\') {
			if (++i == len)
				break;
		} else if (c == '"')
			quoted = !quoted;
	}
	if (quoted) {
		*why_r = "unterminated quoted string";
		return -1;
	}
	*end_r = i;
	return 0;
}

int
users_tokens(const char *s, size_t len, struct utok *tok, size_t *n_r,
    const char **why_r)
{
	size_t i = 0, n = 0;

	while (i < len) {
		size_t ws = i;

		while (i < len && users_blank(s[i]))
			i++;
		if (i == len)
			break;
		if (n == USERS_MAX_TOKENS) {
			*why_r = "too many fields";
			return -1;
		}
		tok[n].ws = ws;
		tok[n].start = i;
		if (users_token_end(s, len, i, &i, why_r) < 0)
			return -1;
		tok[n++].end = i;
	}
	*n_r = n;
	return 0;
}

char *
users_quote(const char *v)
{
	struct buf b;
	char *s;

	if (*v != '\0' && strpbrk(v, " \t\"\\") == NULL)
		return xstrdup(v);
	buf_init(&b, strlen(v) + 3, 0);
	buf_putc(&b, '"');
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			buf_putc(&b, '\\');
		buf_putc(&b, *v);
	}
	buf_putc(&b, '"');
	s = buf_steal(&b);
	buf_release(&b);
	return s;
}

/* A value as written: "..." unescaped, or the bare text (no quotes). */
static char *
users_value(const char *s, size_t len, const char **why_r)
{
	char *out, *o;

	if (len == 0 || s[0] != '"') {
		if (memchr(s, '"', len) != NULL) {
			*why_r = "a quote inside an unquoted value";
			return NULL;
		}
		return xstrndup(s, len);
	}
	if (len < 2 || s[len - 1] != '"') {
		*why_r = "text after a quoted value";
		return NULL;
	}
	o = out = xmalloc(len);
	for (size_t i = 1; i < len - 1; i++) {
		if (s[i] == '\\') {
			i++;
			/* "\n" stays as the two characters: autoreply_text
			 * writes line breaks that way. */
			if (s[i] == 'n')
				*o++ = '\\';
			else if (s[i] != '"' && s[i] != '\\') {
				free(out);
				*why_r = "only \\\", \\\\ and \\n may be "
				    "escaped";
				return NULL;
			}
		} else if (s[i] == '"') {
			free(out);
			*why_r = "text after a quoted value";
			return NULL;
		}
		*o++ = s[i];
	}
	*o = '\0';
	return out;
}

int
users_check_hash(const char *hash, const char **why_r)
{
	const char *last;
	size_t want;

	if (strcmp(hash, "*") == 0)
		return 0;               /* no password: login refused */
	if (hash[0] == '!')
		hash++;                 /* locked, hash kept */
	if (strncmp(hash, "$y$", 3) == 0)
		want = YESCRYPT_HASH_LEN;
	else if (strncmp(hash, "$6$", 3) == 0)
		want = SHA512_HASH_LEN;
	else {
		*why_r = "password hash is not yescrypt ($y$) or SHA-512-crypt "
		    "($6$)";
		return -1;
	}
	last = strrchr(hash, '$');
	if (crypt_checksalt(hash) != CRYPT_SALT_OK || last - hash < 4 ||
	    strlen(last + 1) != want || strspn(last + 1, "./0123456789"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") != want) {
		*why_r = "malformed password hash";
		return -1;
	}
	return 0;
}

static int
users_check_cram(const char *v, const char **why_r)
{
	if (strlen(v) != CRAM_HEX_LEN ||
	    strspn(v, "0123456789abcdefABCDEF") != CRAM_HEX_LEN) {
		*why_r = "cram must be 64 hex digits (written by adminctl)";
		return -1;
	}
	return 0;
}

/* forward=: comma-separated addresses, kept normalised in u->forward. */
static int
users_forward(struct tuser *u, const char *v, const char **why_r)
{
	struct buf b;
	size_t n = 0;

	buf_init(&b, strlen(v) + 1, 0);
	for (const char *p = v; *p != '\0'; ) {
		size_t len = strcspn(p, ","), used;
		struct addr a;
		char *s;

		while (len > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			len--;
		}
		used = len;
		while (used > 0 && (p[used - 1] == ' ' || p[used - 1] == '\t'))
			used--;
		if (used > 0) {
			if (addr_parse(p, used, ADDR_SMTPUTF8 | ADDR_NO_LITERAL,
			    &a, why_r) < 0)
				goto fail;
			if (a.domain == NULL) {
				addr_release(&a);
				*why_r = "a forwarding target needs a domain";
				goto fail;
			}
			s = addr_format(&a);
			addr_release(&a);
			buf_printf(&b, "%s%s", n ? "," : "", s);
			free(s);
			if (++n > FORWARD_MAX_TARGETS) {
				*why_r = "more than 20 forwarding targets";
				goto fail;
			}
		}
		p += len;
		if (*p == ',')
			p++;
	}
	if (n == 0) {
		buf_release(&b);
		return 0;               /* forward= with nothing: not set */
	}
	u->forward = buf_steal(&b);
	buf_release(&b);
	return 0;
fail:
	buf_release(&b);
	return -1;
}

/* autoreply_until=YYYY-MM-DD, a real calendar date. */
static int
users_date(const char *v, const char **why_r)
{
	struct tm tm = { 0 };
	int y, m, d, n = 0;

	if (strlen(v) != 10 || v[4] != '-' || v[7] != '-' ||
	    sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10) {
		*why_r = "expected a date as YYYY-MM-DD";
		return -1;
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	if (m < 1 || m > 12 || d < 1 || timegm(&tm) == (time_t)-1 ||
	    tm.tm_mday != d || tm.tm_mon != m - 1) {
		*why_r = "no such date";
		return -1;
	}
	return 0;
}

/* The keys of forwarding and the auto-responder; 1 when key is one. */
static int
users_apply_delivery(struct tuser *u, const char *key, char *v,
    const char **why_r)
{
	bool b;

	if (strcmp(key, "forward") == 0)
		users_forward(u, v, why_r);
	else if (strcmp(key, "forward_keep") == 0) {
		if (conf_parse_bool(v, &b, why_r) == 0)
			u->forward_nokeep = !b;
	} else if (strcmp(key, "autoreply") == 0) {
		if (conf_parse_bool(v, &b, why_r) == 0)
			u->autoreply = b;
	} else if (strcmp(key, "autoreply_subject") == 0) {
		if (strlen(v) > AR_SUBJECT_MAX)
			*why_r = "too long (over 256 bytes)";
		else
			u->ar_subject = xstrdup(v);
	} else if (strcmp(key, "autoreply_text") == 0) {
		if (strlen(v) > AR_TEXT_MAX)
			*why_r = "too long (over 4000 bytes)";
		else
			u->ar_text = xstrdup(v);
	} else if (strcmp(key, "autoreply_until") == 0) {
		if (users_date(v, why_r) == 0)
			u->ar_until = xstrdup(v);
	} else if (strcmp(key, "throttle_messages_per_hour") == 0) {
		long long n;

		if (conf_parse_int(v, &n, why_r) == 0) {
			if (n < 0 || n > 10000000)
				*why_r = "must be 0 (no limit) to 10000000";
			else
				u->thr_msgs = (unsigned long long)n;
		}
	} else if (strcmp(key, "throttle_bandwidth_per_hour") == 0) {
		conf_parse_size(v, &u->thr_bytes, why_r);
	} else
		return 0;
	return 1;
}

/* Apply key=value to u; the value string is taken. */
static int
users_apply(struct tuser *u, const char *key, char *v, char **error_r)
{
	const char *why = NULL;
	bool b;

	if (users_apply_delivery(u, key, v, &why) == 1) {
		/* nothing more: the value was copied or refused */
	} else if (strcmp(key, "name") == 0) {
		if (strlen(v) > USER_NAME_MAX)
			why = "too long (over 256 bytes)";
		else {
			u->name = v;
			return 0;
		}
	} else if (strcmp(key, "quota") == 0)
		conf_parse_size(v, &u->quota, &why);
	else if (strcmp(key, "disabled") == 0) {
		if (conf_parse_bool(v, &b, &why) == 0)
			u->disabled = b;
	} else if (strcmp(key, "cram") != 0) {
		BUG("user key %s has no parser", key);
	} else if (users_check_cram(v, &why) == 0) {
		u->cram = v;
		return 0;
	}
	if (why != NULL)
		*error_r = xasprintf("%s: invalid value '%.80s': %s", key, v,
		    why);
	free(v);
	return why != NULL ? -1 : 0;
}

static int
users_field(struct tuser *u, const char *s, size_t len, unsigned *seen,
    char **error_r)
{
	const char *eq = memchr(s, '=', len), *why = NULL;
	size_t klen = eq != NULL ? (size_t)(eq - s) : len;
	char *v;
	int k;

	for (k = 0; user_keys[k] != NULL; k++)
		if (strlen(user_keys[k]) == klen &&
		    memcmp(user_keys[k], s, klen) == 0)
			break;
	if (user_keys[k] == NULL || eq == NULL) {
		*error_r = eq == NULL ? xasprintf("'%.*s': expected key=value",
		    (int)(len > 80 ? 80 : len), s) :
		    xasprintf("unknown user key '%.*s' (known: name, quota, "
		    "disabled, cram, forward, forward_keep, autoreply, "
		    "autoreply_subject, autoreply_text, autoreply_until, "
		    "throttle_messages_per_hour, throttle_bandwidth_per_hour)",
		    (int)(klen > 80 ? 80 : klen), s);
		return -1;
	}
	if (*seen & (1u << k)) {
		*error_r = xasprintf("%s given twice", user_keys[k]);
		return -1;
	}
	*seen |= 1u << k;
	v = users_value(eq + 1, len - klen - 1, &why);
	if (v == NULL) {
		*error_r = xasprintf("%s: %s", user_keys[k], why);
		return -1;
	}
	return users_apply(u, user_keys[k], v, error_r);
}

static int
users_local(struct tuser *u, const char *s, size_t len, char **error_r)
{
	const char *why;
	size_t used;

	if (addr_local_parse(s, len, ADDR_SMTPUTF8, &used, &u->local,
	    &why) < 0) {
		*error_r = xasprintf("bad local part '%.*s': %s",
		    (int)(len > 80 ? 80 : len), s, why);
		return -1;
	}
	if (used != len) {
		*error_r = xasprintf("'%.*s': a user is a local part, not an "
		    "address", (int)(len > 80 ? 80 : len), s);
		xfree(&u->local);
		return -1;
	}
	u->key = tree_fold(u->local);
	return 0;
}

int
users_parse_line(const char *s, size_t len, struct tuser *u,
    char **error_r)
{
	struct utok tok[USERS_MAX_TOKENS];
	const char *why;
	unsigned seen = 0;
	size_t n, i = 0;

	while (i < len && users_blank(s[i]))
		i++;
	if (i == len || s[i] == '#')
		return 0;
	if (users_tokens(s, len, tok, &n, &why) < 0) {
		*error_r = xstrdup(why);
		return -1;
	}
	memset(u, 0, sizeof(*u));
	if (users_local(u, s + tok[0].start, tok[0].end - tok[0].start,
	    error_r) < 0)
		return -1;
	if (n < 2) {
		*error_r = xasprintf("user %s: missing password hash",
		    u->local);
		goto fail;
	}
	u->hash = xstrndup(s + tok[1].start, tok[1].end - tok[1].start);
	if (users_check_hash(u->hash, &why) < 0) {
		*error_r = xasprintf("user %s: %s", u->local, why);
		goto fail;
	}
	for (i = 2; i < n; i++)
		if (users_field(u, s + tok[i].start, tok[i].end - tok[i].start,
		    &seen, error_r) < 0) {
			char *m = *error_r;

			*error_r = xasprintf("user %s: %s", u->local, m);
			free(m);
			goto fail;
		}
	return 1;
fail:
	tuser_release(u);
	return -1;
}

void
tuser_release(struct tuser *u)
{
	xfree(&u->local);
	xfree(&u->key);
	xfree(&u->hash);
	xfree(&u->name);
	xfree(&u->cram);
	xfree(&u->forward);
	xfree(&u->ar_subject);
	xfree(&u->ar_text);
	xfree(&u->ar_until);
}
