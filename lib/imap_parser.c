/*
 * imap_parser - see imap_parser.h.
 *
 * The command is collected in one buffer in an internal form: each line's
 * text without CR LF followed by '\n'; after a line that announces a
 * literal, the literal's octets followed by a NUL (so a literal argument
 * can point into the buffer and still be a C string).  The tokenizer runs
 * once over that buffer at the end, so it never has to stop and resume.
 * While bytes come in, only what is needed to find a command's end is
 * tracked: whether we are inside a quoted string (a "{5}" there is text)
 * and the line's length.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "imap_parser.h"
#include "xalloc.h"

enum pstate { P_LINE, P_LITERAL, P_DONE, P_ERROR };

struct imap_parser {
	size_t max_line, max_literal;
	enum pstate st;
	bool raw;
	bool in_quote, quote_esc;
	size_t line_start;          /* offset in cmd of the current line */
	size_t literal_left;
	size_t literal_total;
	size_t nliterals;
	size_t line_bytes;          /* all lines' text, for the arena */
	struct buf cmd;
	char *tag;
	const char *err;
	bool err_fatal, err_toobig;
	/* tokenizer output */
	char *arena;
	size_t arena_len;
	struct imap_arg *args;
	size_t nargs;
};

struct imap_parser *
imap_parser_new(size_t max_line, size_t max_literal)
{
	struct imap_parser *p = xcalloc(1, sizeof(*p));

	p->max_line = max_line;
	p->max_literal = max_literal;
	buf_init(&p->cmd, 256, 0);
	return p;
}

static void
arg_list_free(struct imap_arg *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].type == IMAP_ARG_LIST)
			arg_list_free(a[i].list, a[i].n);
	free(a);
}

void
imap_parser_reset(struct imap_parser *p)
{
	arg_list_free(p->args, p->nargs);
	p->args = NULL;
	p->nargs = 0;
	free(p->arena);
	p->arena = NULL;
	p->arena_len = 0;
	free(p->tag);
	p->tag = NULL;
	buf_reset(&p->cmd);
	p->st = P_LINE;
	p->raw = false;
	p->in_quote = p->quote_esc = false;
	p->line_start = 0;
	p->literal_left = p->literal_total = p->line_bytes = 0;
	p->nliterals = 0;
	p->err = NULL;
	p->err_fatal = p->err_toobig = false;
}

void
imap_parser_trim(struct imap_parser *p)
{
	if (p->cmd.len == 0 && p->cmd.size > 4096) {
		buf_release(&p->cmd);
		buf_init(&p->cmd, 256, 0);
	}
}

void
imap_parser_free(struct imap_parser **pp)
{
	struct imap_parser *p = *pp;

	if (p == NULL)
		return;
	imap_parser_reset(p);
	buf_release(&p->cmd);
	xfree(pp);
}

void
imap_parser_set_raw(struct imap_parser *p)
{
	p->raw = true;
}

static void
p_fail(struct imap_parser *p, const char *err, bool fatal, bool toobig)
{
	p->st = P_ERROR;
	p->err = err;
	p->err_fatal = fatal;
	p->err_toobig = toobig;
}

const char *
imap_parser_error(const struct imap_parser *p, bool *fatal_r, bool *toobig_r)
{
	if (fatal_r != NULL)
		*fatal_r = p->err_fatal;
	if (toobig_r != NULL)
		*toobig_r = p->err_toobig;
	return p->err != NULL ? p->err : "no error";
}

static bool
tag_char(unsigned char c)
{
	/* ASTRING-CHAR except '+' (RFC 3501 tag) */
	return c > 0x20 && c < 0x7f && strchr("(){%*\"\\+", c) == NULL;
}

/* The first line is complete (or long enough): remember its tag. */
static void
p_take_tag(struct imap_parser *p)
{
	const char *s = p->cmd.data;
	size_t i = 0;

	if (p->tag != NULL || p->raw)
		return;
	while (i < p->cmd.len && tag_char((unsigned char)s[i]))
		i++;
	if (i > 0 && i < p->cmd.len && (s[i] == ' ' || s[i] == '\n'))
		p->tag = xstrndup(s, i);
}

const char *
imap_parser_tag(const struct imap_parser *p)
{
	return p->tag;
}

/*
 * The line just ended (its '\n' is in cmd).  Does it announce a literal?
 * Returns the size, or -1 for none, -2 for a malformed one; *plus_r for
 * "{n+}".
 */
static long long
p_literal_at_end(struct imap_parser *p, bool *plus_r)
{
	const char *s = p->cmd.data + p->line_start;
	size_t len = p->cmd.len - p->line_start - 1;   /* without '\n' */
	size_t i;
	unsigned long long n = 0;

	*plus_r = false;
	if (p->in_quote || len < 3 || s[len - 1] != '}')
		return -1;
	i = len - 1;
	if (s[i - 1] == '+') {
		*plus_r = true;
		i--;
	}
	size_t end = i;
	while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
		i--;
	if (i == 0 || s[i - 1] != '{')
		return -1;
	if (i == end || end - i > 10)
		return -2;
	for (size_t k = i; k < end; k++)
		n = n * 10 + (unsigned)(s[k] - '0');
	if (n > 0xffffffffULL)
		return -2;
	return (long long)n;
}

static enum imap_parse_status
p_line_end(struct imap_parser *p)
{
	long long n;
	bool plus;

	buf_putc(&p->cmd, '\n');
	p_take_tag(p);
	if (p->raw) {
		p->st = P_DONE;
		return IMAP_PARSE_DONE;
	}
	n = p_literal_at_end(p, &plus);
	if (n == -1) {
		p->st = P_DONE;
		return IMAP_PARSE_DONE;
	}
	if (n == -2) {
		/* "{x}" with junk: let the tokenizer say BAD; a {n+} of
		 * unknown size cannot be skipped safely. */
		p->st = P_DONE;
		return IMAP_PARSE_DONE;
	}
	if ((unsigned long long)n > p->max_literal - p->literal_total) {
		if (plus)
			p_fail(p, "literal too big", true, true);
		else
			p_fail(p, "literal too big", false, true);
		return IMAP_PARSE_ERROR;
	}
	p->literal_total += (size_t)n;
	p->nliterals++;
	p->literal_left = (size_t)n;
	p->st = P_LITERAL;
	if (p->literal_left == 0) {
		buf_putc(&p->cmd, '\0');
		p->st = P_LINE;
		p->line_start = p->cmd.len;
	}
	return plus ? IMAP_PARSE_MORE : IMAP_PARSE_LITERAL;
}

size_t
imap_parser_feed(struct imap_parser *p, const void *data, size_t len,
    enum imap_parse_status *st_r)
{
	const unsigned char *d = data;
	size_t i = 0;

	if (p->st == P_DONE) {
		*st_r = IMAP_PARSE_DONE;
		return 0;
	}
	if (p->st == P_ERROR) {
		*st_r = IMAP_PARSE_ERROR;
		return 0;
	}
	while (i < len) {
		if (p->st == P_LITERAL) {
			size_t take = len - i;

			if (take > p->literal_left)
				take = p->literal_left;
			buf_append(&p->cmd, d + i, take);
			i += take;
			p->literal_left -= take;
			if (p->literal_left == 0) {
				buf_putc(&p->cmd, '\0');
				p->st = P_LINE;
				p->line_start = p->cmd.len;
				p->in_quote = false;
			}
			continue;
		}
		/* P_LINE: copy up to LF, tracking quotes */
		size_t j = i;
		while (j < len && d[j] != '\n') {
			if (p->in_quote) {
				if (p->quote_esc)
					p->quote_esc = false;
				else if (d[j] == '\\')
					p->quote_esc = true;
				else if (d[j] == '"')
					p->in_quote = false;
			} else if (d[j] == '"')
				p->in_quote = true;
			j++;
		}
		if (p->cmd.len - p->line_start + (j - i) > p->max_line + 1) {
			/* keep what fits, so the tag can be named */
			buf_append(&p->cmd, d + i, p->max_line + 1 -
			    (p->cmd.len - p->line_start));
			p_take_tag(p);
			p_fail(p, "line too long", true, false);
			*st_r = IMAP_PARSE_ERROR;
			return j;
		}
		buf_append(&p->cmd, d + i, j - i);
		p->line_bytes += j - i;
		i = j;
		if (i == len)
			break;
		i++;                        /* the LF */
		if (p->cmd.len > p->line_start &&
		    p->cmd.data[p->cmd.len - 1] == '\r')
			buf_truncate(&p->cmd, p->cmd.len - 1);
		if (p->cmd.len - p->line_start > p->max_line) {
			p_take_tag(p);
			p_fail(p, "line too long", true, false);
			*st_r = IMAP_PARSE_ERROR;
			return i;
		}
		p->in_quote = p->in_quote && !p->raw;  /* see p_literal_at_end */
		enum imap_parse_status st = p_line_end(p);
		p->in_quote = false;
		p->quote_esc = false;
		if (st != IMAP_PARSE_MORE) {
			*st_r = st;
			return i;
		}
	}
	*st_r = IMAP_PARSE_MORE;
	return i;
}

const char *
imap_parser_line(const struct imap_parser *p, size_t *len_r)
{
	if (p->st != P_DONE || p->cmd.len == 0) {
		*len_r = 0;
		return "";
	}
	*len_r = p->cmd.len - 1;
	p->cmd.data[p->cmd.len - 1] = '\0';
	return p->cmd.data;
}

/* --- the tokenizer ------------------------------------------------------ */

struct tok {
	struct imap_parser *p;
	const char *s;
	size_t len, i;
	const char *err;
};

static bool
atom_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f && c != '(' && c != ')' && c != '"' &&
	    c != '{';
}

static char *
arena_put(struct imap_parser *p, const char *s, size_t n)
{
	char *d = p->arena + p->arena_len;

	memcpy(d, s, n);
	d[n] = '\0';
	p->arena_len += n + 1;
	return d;
}

static int tok_list(struct tok *t, int depth, char close,
    struct imap_arg **list_r, size_t *n_r);

static int
tok_atom(struct tok *t, struct imap_arg *a)
{
	size_t start = t->i;
	int bracket = 0;

	while (t->i < t->len) {
		unsigned char c = (unsigned char)t->s[t->i];

		if (bracket > 0) {
			if (c == '\n' || c == '\0' || c < 0x20 || c >= 0x7f)
				break;
			if (c == '[')
				bracket++;
			else if (c == ']')
				bracket--;
			t->i++;
			continue;
		}
		if (c == '[') {
			bracket++;
			t->i++;
			continue;
		}
		if (!atom_char(c) || c == ']')
			break;
		t->i++;
	}
	if (bracket > 0) {
		t->err = "unbalanced [ in atom";
		return -1;
	}
	if (t->i == start) {
		t->err = "unexpected character";
		return -1;
	}
	a->s = arena_put(t->p, t->s + start, t->i - start);
	a->len = t->i - start;
	a->type = a->len == 3 && strncasecmp(a->s, "NIL", 3) == 0 ?
	    IMAP_ARG_NIL : IMAP_ARG_ATOM;
	return 0;
}

static int
tok_quoted(struct tok *t, struct imap_arg *a)
{
	char *d = t->p->arena + t->p->arena_len;
	size_t n = 0;

	t->i++;                 /* opening quote */
	for (;;) {
		if (t->i >= t->len) {
			t->err = "unterminated quoted string";
			return -1;
		}
		unsigned char c = (unsigned char)t->s[t->i++];

		if (c == '"')
			break;
		if (c == '\n' || c == '\r' || c == '\0') {
			t->err = "CR, LF or NUL in quoted string";
			return -1;
		}
		if (c == '\\') {
			if (t->i >= t->len || (t->s[t->i] != '"' &&
			    t->s[t->i] != '\\')) {
				t->err = "bad escape in quoted string";
				return -1;
			}
			c = (unsigned char)t->s[t->i++];
		}
		d[n++] = (char)c;
	}
	d[n] = '\0';
	t->p->arena_len += n + 1;
	a->type = IMAP_ARG_STRING;
	a->s = d;
	a->len = n;
	return 0;
}

static int
tok_literal(struct tok *t, struct imap_arg *a)
{
	unsigned long long n = 0;
	size_t digits = 0;

	t->i++;                 /* '{' */
	while (t->i < t->len && t->s[t->i] >= '0' && t->s[t->i] <= '9' &&
	    digits < 11) {
		n = n * 10 + (unsigned)(t->s[t->i++] - '0');
		digits++;
	}
	if (t->i < t->len && t->s[t->i] == '+')
		t->i++;
	if (digits == 0 || digits > 10 || t->i + 1 >= t->len ||
	    t->s[t->i] != '}' || t->s[t->i + 1] != '\n') {
		t->err = "malformed literal";
		return -1;
	}
	t->i += 2;
	if (n > t->len - t->i - 1 || t->s[t->i + n] != '\0') {
		t->err = "malformed literal";
		return -1;
	}
	a->type = IMAP_ARG_LITERAL;
	a->s = t->s + t->i;
	a->len = (size_t)n;
	t->i += (size_t)n + 1;
	return 0;
}

static int
tok_one(struct tok *t, int depth, struct imap_arg *a)
{
	char c = t->s[t->i];

	memset(a, 0, sizeof(*a));
	if (c == '(') {
		if (depth + 1 > IMAP_MAX_DEPTH) {
			t->err = "too deeply nested";
			return -1;
		}
		t->i++;
		a->type = IMAP_ARG_LIST;
		a->s = "";
		return tok_list(t, depth + 1, ')', &a->list, &a->n);
	}
	if (c == '"')
		return tok_quoted(t, a);
	if (c == '{')
		return tok_literal(t, a);
	return tok_atom(t, a);
}

/*
 * Arguments up to `close` (')' for a list, '\n' for the end of the
 * command), separated by exactly one space.
 */
static int
tok_list(struct tok *t, int depth, char close, struct imap_arg **list_r,
    size_t *n_r)
{
	struct imap_arg *v = NULL;
	size_t n = 0, alloc = 0;
	bool want_sep = false;

	*list_r = NULL;
	*n_r = 0;
	for (;;) {
		if (t->i >= t->len) {
			t->err = close == ')' ? "missing )" : "truncated";
			goto fail;
		}
		char c = t->s[t->i];

		if (c == close) {
			t->i++;
			break;
		}
		if (c == ')' || c == '\n') {
			t->err = c == ')' ? "unexpected )" : "missing )";
			goto fail;
		}
		if (want_sep) {
			if (c != ' ') {
				t->err = "missing space between arguments";
				goto fail;
			}
			t->i++;
			if (t->i < t->len && (t->s[t->i] == ' ' ||
			    t->s[t->i] == close)) {
				t->err = "extra space";
				goto fail;
			}
			want_sep = false;
			continue;
		}
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 4;
			v = xrealloc(v, alloc * sizeof(*v));
		}
		if (tok_one(t, depth, &v[n]) < 0) {
			if (v[n].type == IMAP_ARG_LIST)
				arg_list_free(v[n].list, v[n].n);
			goto fail;
		}
		n++;
		/* a literal is followed directly by the next line's text */
		want_sep = true;
	}
	*list_r = v;
	*n_r = n;
	return 0;
fail:
	arg_list_free(v, n);
	return -1;
}

int
imap_parser_args(struct imap_parser *p, struct imap_arg **args_r,
    size_t *n_r, const char **error_r)
{
	struct tok t = { .p = p, .s = p->cmd.data, .len = p->cmd.len };

	if (p->st != P_DONE || p->raw) {
		*error_r = "no command";
		return -1;
	}
	if (p->args == NULL) {
		free(p->arena);
		p->arena = xmalloc(2 * p->line_bytes + 16);
		p->arena_len = 0;
		if (memchr(p->cmd.data, '\0', p->cmd.len) != NULL &&
		    p->nliterals == 0) {
			*error_r = "NUL in command";
			return -1;
		}
		if (tok_list(&t, 0, '\n', &p->args, &p->nargs) < 0) {
			*error_r = t.err;
			return -1;
		}
		if (t.i != t.len) {
			*error_r = "junk after command";
			return -1;
		}
	}
	*args_r = p->args;
	*n_r = p->nargs;
	return 0;
}

bool
imap_arg_is(const struct imap_arg *a, const char *word)
{
	return a->type == IMAP_ARG_ATOM && strcasecmp(a->s, word) == 0;
}

bool
imap_arg_astring(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_STRING ||
	    a->type == IMAP_ARG_LITERAL;
}

bool
imap_arg_string(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_STRING || a->type == IMAP_ARG_LITERAL;
}

/* --- sequence sets ------------------------------------------------------ */

static int
seq_number(const char **sp, uint32_t *v_r)
{
	const char *s = *sp;
	unsigned long long v = 0;

	if (*s == '*') {
		*v_r = UINT32_MAX;
		*sp = s + 1;
		return 0;
	}
	if (*s < '1' || *s > '9')
		return -1;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned)(*s++ - '0');
		if (v > 0xffffffffULL - 1)
			return -1;
	}
	*v_r = (uint32_t)v;
	*sp = s;
	return 0;
}

int
imap_seqset_parse(const char *s, struct imap_seqset *set_r)
{
	size_t alloc = 0;

	set_r->r = NULL;
	set_r->n = 0;
	for (;;) {
		uint32_t lo, hi;

		if (seq_number(&s, &lo) < 0)
			goto fail;
		hi = lo;
		if (*s == ':') {
			s++;
			if (seq_number(&s, &hi) < 0)
				goto fail;
		}
		if (set_r->n == alloc) {
			alloc = alloc ? alloc * 2 : 4;
			set_r->r = xrealloc(set_r->r, alloc * sizeof(*set_r->r));
		}
		set_r->r[set_r->n].lo = lo < hi ? lo : hi;
		set_r->r[set_r->n].hi = lo < hi ? hi : lo;
		set_r->n++;
		if (*s == '\0')
			return 0;
		if (*s++ != ',')
			goto fail;
	}
fail:
	imap_seqset_free(set_r);
	return -1;
}

void
imap_seqset_free(struct imap_seqset *set)
{
	free(set->r);
	set->r = NULL;
	set->n = 0;
}

bool
imap_seqset_has(const struct imap_seqset *set, uint32_t x, uint32_t star)
{
	for (size_t i = 0; i < set->n; i++) {
		uint32_t lo = set->r[i].lo, hi = set->r[i].hi;

		if (hi == UINT32_MAX) {
			if (star == 0)
				continue;
			hi = star;
			if (lo == UINT32_MAX)
				lo = star;
			if (lo > hi) {
				uint32_t t = lo;
				lo = hi;
				hi = t;
			}
		}
		if (x >= lo && x <= hi)
			return true;
	}
	return false;
}
