/* queue_rec - the append-only recipient record; see queue_rec.h */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queue_rec.h"
#include "spool.h"
#include "xalloc.h"

static const char *const state_names[] = {
	"pending", "delivered", "failed", "dropped",
};
/* The words on a "d" line, in enum order (pending has none). */
static const char *const done_words[] = { NULL, "ok", "fail", "drop" };

const char *
qrec_state_name(enum qrec_state s)
{
	ASSERT((unsigned)s <= QREC_DROP);
	return state_names[s];
}

void
qrec_init(struct qrec *q, size_t n)
{
	memset(q, 0, sizeof(*q));
	q->r = xcalloc(n > 0 ? n : 1, sizeof(*q->r));
	q->n = n;
}

void
qrec_release(struct qrec *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->r[i].text);
	free(q->r);
	memset(q, 0, sizeof(*q));
}

bool
qrec_id_valid(const char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++)
		if (!isxdigit((unsigned char)name[i]) ||
		    islower((unsigned char)name[i]))
			return false;
	return i == SPOOL_ID_LEN;
}

/* --- reading -------------------------------------------------------- */

/* Split a line into at most max words; the last takes the rest. */
static size_t
qrec_words(char *s, char **w, size_t max)
{
	size_t n = 0;

	while (*s != '\0' && n < max) {
		if (n == max - 1) {
			w[n++] = s;
			break;
		}
		w[n++] = s;
		s = strchr(s, ' ');
		if (s == NULL)
			break;
		*s++ = '\0';
	}
	return n;
}

static bool
qrec_num(const char *s, long long min, long long max, long long *v_r)
{
	char *end;
	long long v;

	if (!isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || errno != 0 || v < min || v > max)
		return false;
	*v_r = v;
	return true;
}

static bool
qrec_index(const struct qrec *q, const char *s, size_t *i_r)
{
	long long v;

	if (!qrec_num(s, 0, (long long)q->n - 1, &v))
		return false;
	*i_r = (size_t)v;
	return true;
}

static void
qrec_set_text(struct qrec_rcpt *r, const char *text)
{
	free(r->text);
	r->text = text != NULL ? xstrdup(text) : NULL;
}

static bool
qrec_apply_defer(struct qrec *q, char **w, size_t n)
{
	long long t, next, att;
	size_t i;
	struct qrec_rcpt *r;

	if (n < 5 || !qrec_index(q, w[1], &i) ||
	    !qrec_num(w[2], 0, (long long)1 << 40, &t) ||
	    !qrec_num(w[3], 0, (long long)1 << 40, &next) ||
	    !qrec_num(w[4], 0, 1000000, &att))
		return false;
	r = &q->r[i];
	if (r->state != QREC_PENDING)
		return true;          /* a late line changes nothing */
	r->attempts = (unsigned)att;
	r->last = t;
	r->next = next;
	qrec_set_text(r, n > 5 ? w[5] : "");
	return true;
}

static bool
qrec_apply_done(struct qrec *q, char **w, size_t n)
{
	long long t;
	size_t i;
	int st = -1;

	if (n < 4 || !qrec_index(q, w[1], &i) ||
	    !qrec_num(w[2], 0, (long long)1 << 40, &t))
		return false;
	for (int k = QREC_OK; k <= QREC_DROP; k++)
		if (strcmp(w[3], done_words[k]) == 0)
			st = k;
	if (st < 0)
		return false;
	q->r[i].state = (enum qrec_state)st;
	q->r[i].last = t;
	qrec_set_text(&q->r[i], n > 4 ? w[4] : "");
	return true;
}

static bool
qrec_apply_bounce(struct qrec *q, char **w, size_t n)
{
	bool warn = w[0][0] == 'w';
	char *s, *save = NULL;
	size_t i;

	if (n < 3 || !qrec_id_valid(w[1]))
		return false;
	for (s = strtok_r(w[2], ",", &save); s != NULL;
	    s = strtok_r(NULL, ",", &save))
		if (qrec_index(q, s, &i)) {
			if (warn)
				q->r[i].warned = true;
			else
				q->r[i].bounced = true;
		}
	return true;
}

void
qrec_apply(struct qrec *q, const char *line, size_t len)
{
	char *copy = xstrndup(line, len), *w[6];
	size_t n = qrec_words(copy, w, 6);
	long long v;
	bool good = false;

	if (n >= 1 && strlen(w[0]) == 1) {
		switch (w[0][0]) {
		case 't':
			good = qrec_apply_defer(q, w, n);
			break;
		case 'd':
			good = qrec_apply_done(q, w, n);
			break;
		case 'b':
		case 'w':
			good = qrec_apply_bounce(q, w, n);
			break;
		case 'p':
			if ((good = n == 2 && qrec_num(w[1], 1, 10, &v)))
				q->prio = (int)v;
			break;
		case 'h':
			if ((good = n == 2 && qrec_num(w[1], 0, 1, &v)))
				q->held = v == 1;
			break;
		case 'r':
			if ((good = n == 2 && qrec_num(w[1], 0,
			    (long long)1 << 40, &v)))
				for (size_t i = 0; i < q->n; i++)
					if (q->r[i].state == QREC_PENDING) {
						q->r[i].attempts = 0;
						q->r[i].next = v;
						q->r[i].last = v;
					}
			break;
		}
	}
	if (!good)
		q->bad++;
	free(copy);
}

void
qrec_apply_all(struct qrec *q, const char *data, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(data + pos, '\n', len - pos);

		if (nl == NULL)
			break;
		if (nl > data + pos)
			qrec_apply(q, data + pos, (size_t)(nl - (data + pos)));
		pos = (size_t)(nl - data) + 1;
	}
	q->clean_len = pos;
	q->torn = len - pos;
}

int
qrec_read(const char *path, struct qrec *q, char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *data;
	size_t got = 0;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = xasprintf("%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		*error_r = xasprintf("%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if ((size_t)st.st_size > QREC_MAX) {
		*error_r = xasprintf("%s: record too large", path);
		close(fd);
		return -1;
	}
	data = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, data + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			*error_r = xasprintf("%s: %s", path, strerror(errno));
			free(data);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	q->exists = true;
	qrec_apply_all(q, data, got);
	free(data);
	return 0;
}

/* --- writing -------------------------------------------------------- */

/* The text field: controls become '?', cut at QREC_TEXT_MAX. */
static void
qrec_put_text(struct buf *b, const char *text)
{
	size_t n = 0;

	if (text == NULL || *text == '\0')
		text = "-";
	for (; *text != '\0' && n < QREC_TEXT_MAX; text++, n++) {
		unsigned char c = (unsigned char)*text;

		buf_putc(b, c < 0x20 || c == 0x7f ? '?' : c);
	}
	buf_putc(b, '\n');
}

void
qrec_put_defer(struct buf *b, size_t i, long long t, long long next,
    unsigned attempts, const char *text)
{
	buf_printf(b, "t %zu %lld %lld %u ", i, t, next, attempts);
	qrec_put_text(b, text);
}

void
qrec_put_done(struct buf *b, size_t i, long long t, enum qrec_state st,
    const char *text)
{
	ASSERT(st >= QREC_OK && st <= QREC_DROP);
	buf_printf(b, "d %zu %lld %s ", i, t, done_words[st]);
	qrec_put_text(b, text);
}

/* "<tag> <id> <i>,<i>...": the lines that name a report and the
 * recipients it covers. */
static void
qrec_put_report(struct buf *b, char tag, const char *id, const size_t *idx,
    size_t n)
{
	ASSERT(n > 0);
	buf_printf(b, "%c %s ", tag, id);
	for (size_t k = 0; k < n; k++)
		buf_printf(b, "%s%zu", k > 0 ? "," : "", idx[k]);
	buf_putc(b, '\n');
}

void
qrec_put_bounce(struct buf *b, const char *bounce_id, const size_t *idx,
    size_t n)
{
	qrec_put_report(b, 'b', bounce_id, idx, n);
}

void
qrec_put_warn(struct buf *b, const char *report_id, const size_t *idx,
    size_t n)
{
	qrec_put_report(b, 'w', report_id, idx, n);
}

void
qrec_put_prio(struct buf *b, int prio)
{
	ASSERT(prio >= 1 && prio <= 10);
	buf_printf(b, "p %d\n", prio);
}

void
qrec_put_reset(struct buf *b, long long t)
{
	buf_printf(b, "r %lld\n", t);
}

void
qrec_put_hold(struct buf *b, bool held)
{
	buf_printf(b, "h %d\n", held ? 1 : 0);
}

/* --- small helpers -------------------------------------------------- */

bool
qrec_notify_has(const char *notify, const char *word)
{
	size_t len = strlen(word);
	const char *p;

	if (notify == NULL)
		return false;
	for (p = notify; (p = strcasestr(p, word)) != NULL; p++)
		if ((p == notify || p[-1] == ',') &&
		    (p[len] == '\0' || p[len] == ','))
			return true;
	return false;
}

bool
qrec_notify_failure(const char *notify)
{
	if (notify == NULL || *notify == '\0')
		return true;
	return qrec_notify_has(notify, "FAILURE");
}

/* Length of "d.d{1,3}.d{1,3}" at s, or 0. */
static size_t
qrec_code_len(const char *s)
{
	size_t i = 0, k;

	if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		for (k = 0; k < 3 && isdigit((unsigned char)s[i]); k++)
			i++;
		if (k == 0)
			return 0;
		if (part == 0) {
			if (s[i] != '.')
				return 0;
			i++;
		}
	}
	return s[i] == '\0' || s[i] == ' ' ? i : 0;
}

void
qrec_status_code(const char *text, const char *def, char *code, size_t size)
{
	size_t n = 0;

	ASSERT(size >= 12);
	if (text != NULL) {
		n = qrec_code_len(text);
		if (n == 0 && isdigit((unsigned char)text[0]) &&
		    isdigit((unsigned char)text[1]) &&
		    isdigit((unsigned char)text[2]) &&
		    (text[3] == ' ' || text[3] == '-')) {
			text += 4;
			n = qrec_code_len(text);
		}
	}
	if (n == 0 || n >= size)
		snprintf(code, size, "%s", def);
	else
		snprintf(code, size, "%.*s", (int)n, text);
}
