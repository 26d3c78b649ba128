/*
 * cmd_search - SEARCH and UID SEARCH (RFC 3501 6.4.4): every search key,
 * NOT, OR and parenthesised groups (nesting is capped by the parser),
 * sequence sets with '*', CHARSET UTF-8 / US-ASCII.  String keys match as
 * case-insensitive substrings (ASCII case folding; UTF-8 bytes compare
 * as they are).  Header values are matched as people read them: encoded
 * words (RFC 2047) are decoded to UTF-8 first, and the raw value is
 * tried too.  A message is read only when a key needs it.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imapd.h"
#include "mime.h"
#include "mime_text.h"
#include "rfc2047.h"
#include "utf8fold.h"
#include "xalloc.h"

struct sctx {
	struct session *s;
	uint32_t i;
	bool loaded, failed;
	struct message m;           /* its header, or all once body keys ask */
	bool text_done;
	int encoded;                /* encoded(): -1 not asked yet */
	struct buf text;            /* header and body as people read them */
	size_t body_at;             /* where the body starts in text */
};

static void
sctx_release(struct sctx *c)
{
	if (c->loaded)
		message_release(&c->m);
	if (c->text_done)
		buf_release(&c->text);
}

static time_t
parse_date(const char *s)
{
	static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm = { 0 };
	char m[4];
	int d, y;

	if (sscanf(s, "%d-%3c-%d", &d, m, &y) != 3)
		return -1;
	m[3] = '\0';
	const char *p = strcasestr(mon, m);
	if (p == NULL || (p - mon) % 3 || d < 1 || d > 31 || y < 1900)
		return -1;
	tm.tm_mday = d;
	tm.tm_mon = (int)((p - mon) / 3);
	tm.tm_year = y - 1900;
	return timegm(&tm);
}

/* The day (00:00 UTC) a time falls on, in the server's zone. */
static time_t
day_of(time_t t)
{
	struct tm tm;

	localtime_r(&t, &tm);
	struct tm d = { .tm_mday = tm.tm_mday, .tm_mon = tm.tm_mon,
	    .tm_year = tm.tm_year };
	return timegm(&d);
}

/* Substring search ignoring case, beyond ASCII too (RFC 3501 6.4.4). */
static bool
ci_contains(const char *hay, size_t hlen, const char *needle, size_t nlen)
{
	return utf8_contains_fold(hay, hlen, needle, nlen);
}

/*
 * The message as people read it, for BODY and TEXT: its header with
 * encoded words decoded, then its text parts with transfer encodings
 * undone and charsets in UTF-8 (lib/mime_text).  Made once per message,
 * only when the raw bytes did not match.
 */
static const struct buf *
search_text(struct sctx *c)
{
	if (!c->text_done) {
		struct mime_msg *mm = mime_parse(c->m.data.data, c->m.data.len);
		char *h = rfc2047_decode(c->m.data.data, c->m.hdr_len);

		c->text_done = true;
		buf_init(&c->text, c->m.data.len + 64, 0);
		buf_append_str(&c->text, h);
		c->body_at = buf_len(&c->text);
		mime_text_utf8(mm, &c->text);
		free(h);
		mime_free(&mm);
	}
	return &c->text;
}

/* Could the text as read differ from the bytes (a transfer encoding, a
 * charset, encoded words)?  Asked once per message, however many keys. */
static bool
encoded(struct sctx *c)
{
	if (c->encoded < 0)
		c->encoded = ci_contains(c->m.data.data, c->m.data.len,
		    "content-transfer-encoding", 25) || ci_contains(
		    c->m.data.data, c->m.data.len, "charset", 7) ||
		    ci_contains(c->m.data.data, c->m.hdr_len, "=?", 2);
	return c->encoded > 0;
}

/* The message read for c: its header at least, all of it when whole. */
static bool
load_part(struct sctx *c, bool whole)
{
	if (c->loaded && !c->failed && whole && !c->m.whole) {
		message_release(&c->m);
		c->loaded = false;
	}
	if (!c->loaded) {
		c->loaded = true;
		c->failed = message_load(c->s, c->i, &c->m, !whole) < 0;
	}
	return !c->failed;
}

static bool
load(struct sctx *c)
{
	return load_part(c, true);
}

static bool
load_header(struct sctx *c)
{
	return load_part(c, false);
}

/* needle in the value as written or with its encoded words decoded. */
static bool
header_value_has(const char *v, const char *needle, size_t nlen)
{
	char *d;
	bool r;

	if (ci_contains(v, strlen(v), needle, nlen))
		return true;
	if (strstr(v, "=?") == NULL)
		return false;
	d = rfc2047_decode(v, strlen(v));
	r = ci_contains(d, strlen(d), needle, nlen);
	free(d);
	return r;
}

static bool
header_has(struct sctx *c, const char *field, const char *needle)
{
	if (!load_header(c))
		return false;
	char *v = header_get(c->m.data.data, c->m.hdr_len, field);
	bool r = v != NULL && header_value_has(v, needle, strlen(needle));

	free(v);
	return r;
}

static time_t
sent_day(struct sctx *c)
{
	struct tm tm = { 0 };
	char *v;
	time_t t = -1;

	if (!load_header(c) || (v = header_get(c->m.data.data, c->m.hdr_len,
	    "Date")) == NULL)
		return -1;
	const char *p = strchr(v, ',') ? strchr(v, ',') + 1 : v;
	if (strptime(p, " %d %b %Y", &tm) != NULL)
		t = timegm(&tm);
	free(v);
	return t;
}

/* Match keys a[*k..] (one key, consuming its arguments); -1 on syntax. */
static int
skey(struct sctx *c, struct imap_arg *a, size_t n, size_t *k, bool uid,
    int *r)
{
	struct session *s = c->s;
	struct imap_msg *m = &s->mb->msgs[c->i];
	struct imap_arg *x = &a[(*k)++];
	const char *w = x->s;
	int sub;

	(void)uid;
	if (x->type == IMAP_ARG_LIST) {
		size_t j = 0;
		*r = 1;
		if (x->n == 0)
			return -1;
		while (j < x->n) {
			if (skey(c, x->list, x->n, &j, uid, &sub) < 0)
				return -1;
			*r = *r && sub;
		}
		return 0;
	}
	if (x->type != IMAP_ARG_ATOM)
		return -1;
	/* keys without arguments */
	static const struct { const char *n; uint32_t f; bool set; } fk[] = {
		{ "ANSWERED", IMAP_F_ANSWERED, true },
		{ "DELETED", IMAP_F_DELETED, true },
		{ "DRAFT", IMAP_F_DRAFT, true },
		{ "FLAGGED", IMAP_F_FLAGGED, true },
		{ "SEEN", IMAP_F_SEEN, true },
		{ "RECENT", IMAP_F_RECENT, true },
		{ "UNANSWERED", IMAP_F_ANSWERED, false },
		{ "UNDELETED", IMAP_F_DELETED, false },
		{ "UNDRAFT", IMAP_F_DRAFT, false },
		{ "UNFLAGGED", IMAP_F_FLAGGED, false },
		{ "UNSEEN", IMAP_F_SEEN, false },
		{ "OLD", IMAP_F_RECENT, false },
	};
	for (size_t i = 0; i < sizeof(fk) / sizeof(fk[0]); i++)
		if (strcasecmp(w, fk[i].n) == 0) {
			*r = !!(m->flags & fk[i].f) == fk[i].set;
			return 0;
		}
	if (strcasecmp(w, "ALL") == 0) {
		*r = 1;
		return 0;
	}
	if (strcasecmp(w, "NEW") == 0) {
		*r = (m->flags & IMAP_F_RECENT) && !(m->flags & IMAP_F_SEEN);
		return 0;
	}
	if (strcasecmp(w, "NOT") == 0) {
		if (*k >= n || skey(c, a, n, k, uid, &sub) < 0)
			return -1;
		*r = !sub;
		return 0;
	}
	if (strcasecmp(w, "OR") == 0) {
		int r2;
		if (*k >= n || skey(c, a, n, k, uid, &sub) < 0 ||
		    *k >= n || skey(c, a, n, k, uid, &r2) < 0)
			return -1;
		*r = sub || r2;
		return 0;
	}
	if ((w[0] >= '0' && w[0] <= '9') || w[0] == '*') {
		struct imap_seqset set;
		if (imap_seqset_parse(w, &set) < 0)
			return -1;
		*r = msg_in_set(s, &set, c->i, false);
		imap_seqset_free(&set);
		return 0;
	}
	/* keys with one argument */
	if (*k >= n || !imap_arg_astring(&a[*k]))
		return -1;
	struct imap_arg *v = &a[(*k)++];
	if (strcasecmp(w, "UID") == 0) {
		struct imap_seqset set;
		if (v->type != IMAP_ARG_ATOM ||
		    imap_seqset_parse(v->s, &set) < 0)
			return -1;
		*r = msg_in_set(s, &set, c->i, true);
		imap_seqset_free(&set);
		return 0;
	}
	if (strcasecmp(w, "LARGER") == 0 || strcasecmp(w, "SMALLER") == 0) {
		char *e;
		unsigned long long z = strtoull(v->s, &e, 10);
		if (*e != '\0' || e == v->s)
			return -1;
		uint32_t size = message_size(s, c->i);
		*r = w[0] == 'L' || w[0] == 'l' ? size > z : size < z;
		return 0;
	}
	static const char *const dk[] = { "BEFORE", "ON", "SINCE",
	    "SENTBEFORE", "SENTON", "SENTSINCE" };
	for (size_t i = 0; i < 6; i++)
		if (strcasecmp(w, dk[i]) == 0) {
			time_t d = parse_date(v->s), t;
			if (d < 0)
				return -1;
			t = i < 3 ? day_of(message_date(s, c->i)) : sent_day(c);
			if (t < 0) {
				*r = 0;
				return 0;
			}
			*r = i % 3 == 0 ? t < d : i % 3 == 1 ? t == d : t >= d;
			return 0;
		}
	static const char *const hk[] = { "FROM", "TO", "CC", "BCC",
	    "SUBJECT" };
	for (size_t i = 0; i < 5; i++)
		if (strcasecmp(w, hk[i]) == 0) {
			*r = header_has(c, hk[i], v->s);
			return 0;
		}
	if (strcasecmp(w, "KEYWORD") == 0 || strcasecmp(w, "UNKEYWORD") == 0) {
		int idx = imap_keywords_find(&s->mb->kw, v->s);
		bool has = idx >= 0 && (m->flags & IMAP_F_KW(idx));

		*r = (w[0] == 'U' || w[0] == 'u') ? !has : has;
		return 0;
	}
	if (strcasecmp(w, "MODSEQ") == 0) {
		*r = m->modseq >= strtoull(v->s, NULL, 10);
		return 0;
	}
	if (strcasecmp(w, "BODY") == 0 || strcasecmp(w, "TEXT") == 0) {
		if (!load(c)) {
			*r = 0;
			return 0;
		}
		bool body = w[0] == 'B' || w[0] == 'b';
		const char *h = c->m.data.data + (body ? c->m.hdr_len : 0);
		size_t l = c->m.data.len - (body ? c->m.hdr_len : 0);
		*r = ci_contains(h, l, v->s, v->len);
		/* not as written: as read, if anything is encoded */
		if (!*r && encoded(c)) {
			const struct buf *t = search_text(c);
			size_t from = body ? c->body_at : 0;

			*r = ci_contains(buf_data(t) + from, buf_len(t) - from,
			    v->s, v->len);
		}
		return 0;
	}
	if (strcasecmp(w, "HEADER") == 0) {
		if (*k >= n || !imap_arg_astring(&a[*k]))
			return -1;
		struct imap_arg *val = &a[(*k)++];
		if (!load_header(c)) {
			*r = 0;
			return 0;
		}
		char *hv = header_get(c->m.data.data, c->m.hdr_len, v->s);
		*r = hv != NULL && header_value_has(hv, val->s, val->len);
		free(hv);
		return 0;
	}
	return -1;
}

void
cmd_search(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	struct buf res;
	size_t start = 0;
	uint64_t maxms = 0;
	bool want_modseq = false;

	if (n >= 2 && imap_arg_is(&a[0], "CHARSET")) {
		if (!imap_arg_astring(&a[1]) || (strcasecmp(a[1].s, "UTF-8") &&
		    strcasecmp(a[1].s, "US-ASCII"))) {
			tagged(s, tag, "NO [BADCHARSET (UTF-8 US-ASCII)] "
			    "Unsupported charset");
			return;
		}
		start = 2;
	}
	if (start >= n) {
		session_bad(s, tag, "SEARCH needs keys");
		return;
	}
	for (size_t k = start; k < n; k++)
		if (imap_arg_is(&a[k], "MODSEQ"))
			want_modseq = true;
	buf_init(&res, 256, 0);
	for (uint32_t i = 0; i < s->mb->count; i++) {
		struct sctx c = { .s = s, .i = i, .encoded = -1 };
		int all = 1, r;
		size_t k = start;

		while (k < n) {
			if (skey(&c, a, n, &k, uid, &r) < 0) {
				sctx_release(&c);
				buf_release(&res);
				session_bad(s, tag, "Invalid search key");
				return;
			}
			all = all && r;
		}
		sctx_release(&c);
		if (all) {
			buf_printf(&res, " %u", uid ? s->mb->msgs[i].uid : i + 1);
			if (s->mb->msgs[i].modseq > maxms)
				maxms = s->mb->msgs[i].modseq;
		}
	}
	if (s->mb->count == 0) {
		/* still check the syntax against a dummy? keep it simple */
	}
	if (want_modseq && res.len > 0)
		out(s, "* SEARCH%s (MODSEQ %llu)\r\n", res.data,
		    (unsigned long long)maxms);
	else
		out(s, "* SEARCH%s\r\n", res.len ? res.data : "");
	buf_release(&res);
	tagged(s, tag, "OK SEARCH completed");
}
