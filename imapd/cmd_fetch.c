/*
 * cmd_fetch - FETCH and UID FETCH (RFC 3501 6.4.5): FLAGS, UID,
 * INTERNALDATE (the file's mtime), RFC822.SIZE (W= of the name, else
 * counted once and kept), ENVELOPE, BODY, BODYSTRUCTURE, BODY[section]
 * and BODY.PEEK[section] with <partial> for every section-spec (part
 * numbers, HEADER, HEADER.FIELDS (.NOT), TEXT, MIME), RFC822,
 * RFC822.HEADER and RFC822.TEXT (the sections [], [HEADER], [TEXT]),
 * MODSEQ; the ALL, FAST and FULL macros.  lib/mime does the structure:
 * sizes and offsets count CRLF line ends whatever the file has.
 *
 * A body fetch without .PEEK sets \Seen (not in a read-only folder).  A
 * section that does not exist (no such part, HEADER of a part that is
 * not message/rfc822, MIME of the message) is sent as "", as Dovecot
 * does; a partial beyond the end is "" too.  ENVELOPE, BODY and
 * BODYSTRUCTURE come from msgcache.c when a FETCH asked before.  A long
 * answer waits for the client to read it (fetch_continue).  A big
 * message fetched whole, or in pieces of the whole, is sent from its
 * file as it is read (fetch_stream_start), each piece resuming where
 * the last one ended.  No
 * EXPUNGE is sent during FETCH: a message another session removed is
 * skipped and the answer is NO [EXPUNGEISSUED] (RFC 2180 4.1.1).
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "imapd.h"
#include "log.h"
#include "mime.h"
#include "xalloc.h"

enum fkind {
	F_FLAGS, F_UID, F_DATE, F_SIZE, F_MODSEQ,
	F_ENVELOPE, F_BODY, F_BODYSTRUCTURE,    /* in enum mcache_item order */
	F_BODYSEC
};

struct fitem {
	enum fkind kind;
	const char *label;          /* what the answer calls it */
	char *label_buf;
	struct mime_section sec;    /* F_BODYSEC */
	bool partial;
	size_t start, count;
};

struct fetch {
	struct fitem *v;
	size_t n;
	bool need_body, need_struct, sets_seen;
	bool need_whole;            /* more than the header is asked for */
	int stream_item;            /* the whole-message item sent from the
	                             * file as it is read (big messages), or
	                             * -1 */
};

/* One message while its FETCH line is written. */
struct fmsg {
	struct message m;
	struct mime_msg *mime;      /* NULL until parsed */
	struct buf scratch;         /* HEADER.FIELDS output */
};

static void
fetch_release(struct fetch *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->v[i].label_buf);
		mime_section_release(&f->v[i].sec);
	}
	free(f->v);
}

static struct fitem *
fetch_add(struct fetch *f, enum fkind k)
{
	f->v = xrealloc(f->v, (f->n + 1) * sizeof(*f->v));
	memset(&f->v[f->n], 0, sizeof(f->v[0]));
	f->v[f->n].kind = k;
	if (k == F_ENVELOPE || k == F_BODY || k == F_BODYSTRUCTURE)
		f->need_struct = true;
	/* ENVELOPE comes from the header alone; the others need it all */
	if (k == F_BODY || k == F_BODYSTRUCTURE)
		f->need_whole = true;
	return &f->v[f->n++];
}

/* A body section; text is MIME_SECTION_* of the whole message. */
static struct fitem *
fetch_add_section(struct fetch *f, enum mime_section_text text, bool peek)
{
	struct fitem *it = fetch_add(f, F_BODYSEC);

	it->sec.part = xstrdup("");
	it->sec.text = text;
	f->need_body = true;
	if (text != MIME_SECTION_HEADER)
		f->need_whole = true;
	if (!peek)
		f->sets_seen = true;
	return it;
}

/* number = 1*DIGIT, no sign, no blanks, no overflow */
static const char *
parse_number(const char *p, size_t *n_r)
{
	size_t n = 0;
	const char *s = p;

	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (SIZE_MAX - 9) / 10)
			return NULL;
		n = n * 10 + (size_t)(*p - '0');
	}
	*n_r = n;
	return p == s ? NULL : p;
}

/* BODY[section]<a.b> or BODY.PEEK[section]<a.b> (RFC 3501 9) */
static int
parse_section(struct fetch *f, const char *s, bool peek)
{
	bool whole = f->need_whole;      /* before this item said "all" */
	struct fitem *it = fetch_add_section(f, MIME_SECTION_NONE, peek);
	const char *open = strchr(s, '['), *close = strrchr(s, ']'), *err;
	const char *after, *p;

	if (open == NULL || close == NULL || close < open)
		return -1;
	mime_section_release(&it->sec);
	if (mime_section_parse(open + 1, (size_t)(close - open - 1), &it->sec,
	    &err) < 0)
		return -1;
	f->need_whole = whole || it->sec.part[0] != '\0' ||
	    (it->sec.text != MIME_SECTION_HEADER &&
	    it->sec.text != MIME_SECTION_FIELDS &&
	    it->sec.text != MIME_SECTION_FIELDS_NOT);
	after = close + 1;
	if (*after == '<') {
		/* partial = "<" number "." nz-number ">" */
		if ((p = parse_number(after + 1, &it->start)) == NULL ||
		    *p != '.' ||
		    (p = parse_number(p + 1, &it->count)) == NULL ||
		    it->count == 0 || strcmp(p, ">") != 0)
			return -1;
		it->partial = true;
	} else if (*after != '\0')
		return -1;
	/* the answer names the section as asked, without .PEEK and with
	 * only the origin of a partial (RFC 3501 7.4.2) */
	it->label_buf = xasprintf("BODY[%.*s]", (int)(close - open - 1),
	    open + 1);
	if (it->partial) {
		char *l = xasprintf("%s<%zu>", it->label_buf, it->start);

		free(it->label_buf);
		it->label_buf = l;
	}
	it->label = it->label_buf;
	return 0;
}

static int
parse_item(struct fetch *f, const struct imap_arg *a)
{
	if (a->type != IMAP_ARG_ATOM)
		return -1;
	const char *s = a->s;
	if (strcasecmp(s, "FLAGS") == 0)
		fetch_add(f, F_FLAGS);
	else if (strcasecmp(s, "UID") == 0)
		fetch_add(f, F_UID);
	else if (strcasecmp(s, "INTERNALDATE") == 0)
		fetch_add(f, F_DATE);
	else if (strcasecmp(s, "RFC822.SIZE") == 0)
		fetch_add(f, F_SIZE);
	else if (strcasecmp(s, "MODSEQ") == 0)
		fetch_add(f, F_MODSEQ);
	else if (strcasecmp(s, "ENVELOPE") == 0)
		fetch_add(f, F_ENVELOPE);
	else if (strcasecmp(s, "BODY") == 0)
		fetch_add(f, F_BODY);
	else if (strcasecmp(s, "BODYSTRUCTURE") == 0)
		fetch_add(f, F_BODYSTRUCTURE);
	/* RFC822* are BODY[], BODY.PEEK[HEADER] and BODY[TEXT] by other
	 * names (RFC 3501 6.4.5) */
	else if (strcasecmp(s, "RFC822") == 0)
		fetch_add_section(f, MIME_SECTION_NONE, false)->label =
		    "RFC822";
	else if (strcasecmp(s, "RFC822.HEADER") == 0)
		fetch_add_section(f, MIME_SECTION_HEADER, true)->label =
		    "RFC822.HEADER";
	else if (strcasecmp(s, "RFC822.TEXT") == 0)
		fetch_add_section(f, MIME_SECTION_TEXT, false)->label =
		    "RFC822.TEXT";
	else if (strncasecmp(s, "BODY[", 5) == 0)
		return parse_section(f, s, false);
	else if (strncasecmp(s, "BODY.PEEK[", 10) == 0)
		return parse_section(f, s, true);
	else
		return -1;
	return 0;
}

static int
parse_items(struct fetch *f, const struct imap_arg *a)
{
	/* the macros (RFC 3501 6.4.5) */
	if (imap_arg_is(a, "ALL") || imap_arg_is(a, "FAST") ||
	    imap_arg_is(a, "FULL")) {
		fetch_add(f, F_FLAGS);
		fetch_add(f, F_DATE);
		fetch_add(f, F_SIZE);
		if (!imap_arg_is(a, "FAST"))
			fetch_add(f, F_ENVELOPE);
		if (imap_arg_is(a, "FULL"))
			fetch_add(f, F_BODY);
		return 0;
	}
	if (a->type == IMAP_ARG_LIST) {
		if (a->n == 0)
			return -1;
		for (size_t i = 0; i < a->n; i++)
			if (parse_item(f, &a->list[i]) < 0)
				return -1;
		return 0;
	}
	return parse_item(f, a);
}

static void
out_date(struct session *s, time_t t)
{
	struct tm tm;
	char b[64];

	localtime_r(&t, &tm);
	strftime(b, sizeof(b), "%d-%b-%Y %H:%M:%S %z", &tm);
	out(s, "INTERNALDATE \"%s\"", b);
}

/* ENVELOPE, BODY or BODYSTRUCTURE, from the cache or the parse. */
static void
out_struct(struct session *s, uint32_t i, struct fmsg *fm,
    enum mcache_item which)
{
	static const char *const names[MC_ITEMS] = {
		"ENVELOPE", "BODY", "BODYSTRUCTURE",
	};
	uint32_t uid = s->mb->msgs[i].uid;
	const char *v;
	size_t len;
	struct buf b;

	out(s, "%s ", names[which]);
	if ((v = mcache_get(s, uid, which, &len)) != NULL) {
		out_raw(s, v, len);
		return;
	}
	ASSERT(fm->mime != NULL);
	buf_init(&b, 256, 0);
	if (which == MC_ENVELOPE)
		mime_envelope(fm->mime, NULL, &b);
	else
		mime_bodystructure(fm->mime, which == MC_BODYSTRUCTURE, &b);
	out_raw(s, b.data, b.len);
	mcache_put(s, uid, which, b.data, b.len);
	buf_release(&b);
}

static void
out_section(struct session *s, const struct fitem *it, struct fmsg *fm)
{
	struct mime_slice sl;
	struct buf conv;
	const char *d;
	size_t len, off = it->partial ? it->start : 0;

	(void)mime_section_get(fm->mime, &it->sec, &fm->scratch, &sl);
	buf_init(&conv, 0, 0);
	if (sl.len == sl.size) {
		/* message_load() made every line end CRLF already */
		d = sl.data;
		len = sl.len;
		if (off >= len)
			len = 0;
		else {
			d += off;
			len -= off;
		}
		if (it->partial && len > it->count)
			len = it->count;
	} else {
		mime_crlf_append(&conv, sl.data, sl.len, off,
		    it->partial ? it->count : SIZE_MAX);
		d = conv.data;
		len = conv.len;
	}
	if (len == 0)
		out(s, "%s \"\"", it->label);
	else {
		out(s, "%s {%zu}\r\n", it->label, len);
		out_raw(s, d, len);
	}
	buf_release(&conv);
}

/* Does message i need reading for f (or is all it wants cached)? */
static bool
fetch_needs_file(struct session *s, uint32_t i, const struct fetch *f)
{
	size_t len;

	if (f->need_body)
		return true;
	for (size_t k = 0; f->need_struct && k < f->n; k++)
		if (f->v[k].kind >= F_ENVELOPE &&
		    f->v[k].kind <= F_BODYSTRUCTURE &&
		    mcache_get(s, s->mb->msgs[i].uid,
		    (enum mcache_item)(f->v[k].kind - F_ENVELOPE), &len) ==
		    NULL)
			return true;
	return false;
}

/* A long answer is sent as the client reads it: made while less than
 * FETCH_OUT_HIGH waits to be sent, resumed at FETCH_OUT_LOW (see
 * fetch_continue). */
#define FETCH_OUT_HIGH (256 * 1024)
#define FETCH_OUT_LOW (64 * 1024)

static size_t
out_pending(struct session *s)
{
	return evbuffer_get_length(bufferevent_get_output(s->bev));
}

/* A message at least this big is sent from its file as it is read,
 * when the FETCH allows (fetch.stream_item), instead of read whole. */
#define STREAM_MIN (1024 * 1024)

/*
 * Big messages whose CRLF size is known, with a place in each to resume
 * from: a client that fetches a big message in pieces
 * (BODY.PEEK[]<0.65536>, then <65536.65536>, ...; Thunderbird does by
 * default) costs one read of the file in all, not one per piece.  Per
 * process, for every session: a file's content never changes, and the
 * key (device, inode, size, mtime) tells when a name is another file.
 */
struct fkey {
	dev_t dev;
	ino_t ino;
	off_t size;
	long long mtime_ns;
};

struct fpos {
	unsigned long long file_off, crlf_off;
	char prev;
};

struct fknown {
	struct fkey key;
	unsigned long long crlf_size;
	struct fpos ck;
	unsigned long long used;    /* LRU clock */
};

#define FKNOWN_MAX 8
static struct fknown fknown[FKNOWN_MAX];
static unsigned long long fknown_clock;

static bool
fkey_eq(const struct fkey *a, const struct fkey *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime_ns == b->mtime_ns;
}

/* The entry for key, or NULL. */
static struct fknown *
fknown_get(const struct fkey *key)
{
	for (size_t i = 0; i < FKNOWN_MAX; i++)
		if (fknown[i].used != 0 && fkey_eq(&fknown[i].key, key)) {
			fknown[i].used = ++fknown_clock;
			return &fknown[i];
		}
	return NULL;
}

/* A new entry for key (the least recently used one replaced). */
static struct fknown *
fknown_put(const struct fkey *key, unsigned long long crlf_size)
{
	struct fknown *e = &fknown[0];

	for (size_t i = 1; i < FKNOWN_MAX; i++)
		if (fknown[i].used < e->used)
			e = &fknown[i];
	*e = (struct fknown){ .key = *key, .crlf_size = crlf_size,
	    .used = ++fknown_clock };
	return e;
}

/* The message being sent from its file: LF made CRLF on the way, as
 * message_load does; skip octets of that dropped first (a partial's
 * origin), then exactly left more to go. */
struct fstream {
	int fd;
	unsigned long long left, skip;
	char prev;
	/* how far the file is read, and the CRLF text made of it */
	unsigned long long file_off, crlf_off;
	struct fpos ck;             /* before the last read: a place to
	                             * resume the next partial from */
	struct fkey key;
};

/* The one item that may be streamed: the whole message ([], RFC822,
 * with or without a partial), when nothing else asked needs the file.
 * -1 if none. */
static int
stream_item_of(const struct fetch *f)
{
	int item = -1;

	for (size_t k = 0; k < f->n; k++) {
		const struct fitem *it = &f->v[k];

		if (it->kind == F_ENVELOPE || it->kind == F_BODY ||
		    it->kind == F_BODYSTRUCTURE)
			return -1;
		if (it->kind != F_BODYSEC)
			continue;
		if (item >= 0 || it->sec.part[0] != '\0' ||
		    it->sec.text != MIME_SECTION_NONE)
			return -1;
		item = (int)k;
	}
	return item;
}

/* Bytes of message i's file (S= of its name, else stat); 0 if gone. */
static unsigned long long
msg_file_size(struct session *s, uint32_t i)
{
	long long n = imap_name_size(imap_msg_name(s->mb, i), 'S');
	struct stat st;
	char *p;

	if (n >= 0)
		return (unsigned long long)n;
	p = xasprintf("%s/cur/%s", s->mb->dir, imap_msg_name(s->mb, i));
	n = stat(p, &st) == 0 ? st.st_size : 0;
	free(p);
	return (unsigned long long)n;
}

/* The size with CRLF line ends of the file behind fd, read through once
 * (the name's W= is not trusted: the literal must be exact).  -1 on a
 * read error. */
static long long
stream_size(int fd)
{
	char b[65536], prev = 0;
	long long n = 0;
	ssize_t r;

	while ((r = read(fd, b, sizeof(b))) != 0) {
		if (r < 0)
			return -1;
		n += (long long)mime_crlf_size_chunk(b, (size_t)r, &prev);
	}
	return lseek(fd, 0, SEEK_SET) == 0 ? n : -1;
}

/* Send more of st while the client keeps up; true when all is sent. */
static bool
stream_pump(struct session *s, struct fstream *st)
{
	char in[32768];
	struct buf conv;

	buf_init(&conv, 2 * sizeof(in), 0);
	while (st->left > 0 && out_pending(s) < FETCH_OUT_HIGH) {
		struct fpos here = { .file_off = st->file_off,
		    .crlf_off = st->crlf_off, .prev = st->prev };
		ssize_t r = read(st->fd, in, sizeof(in));
		size_t drop;

		if (r < 0 && errno == EINTR)
			continue;
		buf_reset(&conv);
		if (r <= 0) {
			/* the file shrank under us: the literal's length is
			 * promised, so blanks make it up */
			log_exc(LOG_IMAP, "%s: a message changed while being "
			    "sent", s->id);
			memset(in, ' ', sizeof(in));
			buf_append(&conv, in, st->left < sizeof(in) ?
			    st->left : sizeof(in));
			st->skip = 0;
			st->key.ino = 0;        /* nothing to remember */
		} else {
			st->ck = here;
			mime_crlf_append_chunk(&conv, in, (size_t)r, &st->prev);
			st->file_off += (unsigned long long)r;
			st->crlf_off += conv.len;
		}
		drop = conv.len < st->skip ? conv.len : (size_t)st->skip;
		st->skip -= drop;
		size_t o = conv.len - drop < st->left ? conv.len - drop :
		    (size_t)st->left;
		out_raw(s, conv.data + drop, o);
		st->left -= o;
	}
	buf_release(&conv);
	if (st->left > 0)
		return false;
	if (st->key.ino != 0 && st->file_off > 0) {
		struct fknown *e = fknown_get(&st->key);

		if (e != NULL)
			e->ck = st->ck;
	}
	out(s, ")\r\n");
	close(st->fd);
	st->fd = -1;
	return true;
}

/* \Seen for a body fetched without .PEEK (not in a read-only folder). */
static void
fetch_set_seen(struct session *s, uint32_t i, const struct fetch *f)
{
	struct imap_msg *mm = &s->mb->msgs[i];

	if (f->sets_seen && !s->readonly && !(mm->flags & IMAP_F_SEEN))
		if (imap_mbox_set_flags(s->mb, i, mm->flags | IMAP_F_SEEN) < 0)
			log_exc(LOG_IMAP, "%s: cannot set \\Seen", s->id);
}

/*
 * "* n FETCH (" and every item of f but skip (-1: none), blank between
 * them, then what a client gets unasked: the FLAGS a body fetch changed,
 * MODSEQ once CONDSTORE is on.  more: the skipped item follows, so those
 * are due even if nothing else was written.  fm: the message as read,
 * for the items that need it.  True when something was written.
 */
static bool
fetch_items(struct session *s, uint32_t i, const struct fetch *f, bool uid,
    struct fmsg *fm, int skip, bool more)
{
	struct imap_msg *mm = &s->mb->msgs[i];
	bool first = true, flags_shown = false, modseq_shown = false;

	out(s, "* %u FETCH (", i + 1);
	if (uid) {
		out(s, "UID %u", mm->uid);
		first = false;
	}
	for (size_t k = 0; k < f->n; k++) {
		const struct fitem *it = &f->v[k];

		if ((int)k == skip || (it->kind == F_UID && uid) ||
		    (it->kind == F_FLAGS && flags_shown))
			continue;
		if (!first)
			out(s, " ");
		first = false;
		switch (it->kind) {
		case F_FLAGS:
			out_flags(s, mm);
			flags_shown = true;
			break;
		case F_UID:
			out(s, "UID %u", mm->uid);
			break;
		case F_DATE:
			out_date(s, message_date(s, i));
			break;
		case F_SIZE:
			out(s, "RFC822.SIZE %u", message_size(s, i));
			break;
		case F_MODSEQ:
			out(s, "MODSEQ (%llu)", (unsigned long long)mm->modseq);
			modseq_shown = true;
			break;
		case F_ENVELOPE:
		case F_BODY:
		case F_BODYSTRUCTURE:
			out_struct(s, i, fm,
			    (enum mcache_item)(it->kind - F_ENVELOPE));
			break;
		case F_BODYSEC:
			out_section(s, it, fm);
			break;
		}
	}
	if (f->sets_seen && !flags_shown && !s->readonly) {
		out(s, "%s", first ? "" : " ");
		out_flags(s, mm);
		first = false;
	}
	if (s->condstore && !modseq_shown && (!first || more)) {
		out(s, "%sMODSEQ (%llu)", first ? "" : " ",
		    (unsigned long long)mm->modseq);
		first = false;
	}
	return !first;
}

/*
 * Message i as one streamed literal: every other item first (none of
 * them needs the file), then "BODY[] {size}" and the file itself, the
 * rest by stream_pump.  false when the file is gone.
 */
static bool
fetch_stream_start(struct session *s, uint32_t i, const struct fetch *f,
    bool uid, struct fstream *st)
{
	char *p = xasprintf("%s/cur/%s", s->mb->dir, imap_msg_name(s->mb, i));
	const struct fitem *it = &f->v[f->stream_item];
	unsigned long long size, start = 0, lit;
	struct fknown *e;
	struct stat sb;

	*st = (struct fstream){ .fd = open(p, O_RDONLY | O_CLOEXEC) };
	free(p);
	if (st->fd < 0 || fstat(st->fd, &sb) < 0)
		goto gone;
	st->key = (struct fkey){ .dev = sb.st_dev, .ino = sb.st_ino,
	    .size = sb.st_size, .mtime_ns = (long long)sb.st_mtim.tv_sec *
	    1000000000LL + sb.st_mtim.tv_nsec };
	if ((e = fknown_get(&st->key)) == NULL) {
		long long n = stream_size(st->fd);

		if (n < 0)
			goto gone;
		e = fknown_put(&st->key, (unsigned long long)n);
	}
	size = e->crlf_size;
	if (size < UINT32_MAX)
		s->mb->msgs[i].size = (uint32_t)size;
	lit = size;
	if (it->partial) {
		start = it->start;
		lit = start >= size ? 0 : size - start < it->count ?
		    size - start : it->count;
	}
	/* resume where an earlier piece ended, when that is not past us */
	if (start > 0 && e->ck.crlf_off <= start && e->ck.file_off > 0) {
		if (lseek(st->fd, (off_t)e->ck.file_off, SEEK_SET) < 0)
			goto gone;
		st->file_off = e->ck.file_off;
		st->crlf_off = e->ck.crlf_off;
		st->prev = e->ck.prev;
	}
	st->skip = start - st->crlf_off;
	st->left = lit;
	fetch_set_seen(s, i, f);
	bool wrote = fetch_items(s, i, f, uid, NULL, f->stream_item, true);
	if (lit == 0)
		out(s, "%s%s \"\"", wrote ? " " : "", it->label);
	else
		out(s, "%s%s {%llu}\r\n", wrote ? " " : "", it->label, lit);
	return true;
gone:
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	return false;
}

static bool
fetch_one(struct session *s, uint32_t i, const struct fetch *f, bool uid)
{
	struct fmsg fm = { .mime = NULL };
	bool load = fetch_needs_file(s, i, f);

	buf_init(&fm.scratch, 0, 0);
	if (load) {
		if (message_load(s, i, &fm.m, !f->need_whole) < 0) {
			message_release(&fm.m);
			buf_release(&fm.scratch);
			return false;
		}
		fm.mime = mime_parse(fm.m.data.data != NULL ?
		    fm.m.data.data : "", fm.m.data.len);
	}
	fetch_set_seen(s, i, f);
	fetch_items(s, i, f, uid, &fm, -1, false);
	out(s, ")\r\n");
	if (load) {
		mime_free(&fm.mime);
		message_release(&fm.m);
	}
	buf_release(&fm.scratch);
	return true;
}

/*
 * A FETCH in progress.  The answer is made one message at a time; once
 * more than FETCH_OUT_HIGH bytes wait to be sent the session parks
 * (W_OUTPUT) until the client has read them down to FETCH_OUT_LOW, so
 * FETCH 1:* BODY[] of a whole mailbox holds about one message in memory,
 * not the mailbox.  No other command runs meanwhile (pipelined ones wait
 * in the input buffer), and the folder view does not change.
 */

struct fetch_run {
	struct fetch f;
	struct imap_seqset set;
	struct fstream st;          /* fd -1: no message half sent */
	bool uid, missing;
	unsigned long long changedsince;
	uint32_t next;              /* index of the next message to look at */
	char *tag;
};

void
fetch_run_free(struct session *s)
{
	struct fetch_run *fr = s->fetch;

	if (fr == NULL)
		return;
	imap_seqset_free(&fr->set);
	fetch_release(&fr->f);
	if (fr->st.fd >= 0)
		close(fr->st.fd);
	free(fr->tag);
	free(fr);
	s->fetch = NULL;
}

/* Wait for the client to read; go on from message next then. */
static void
fetch_park(struct session *s, uint32_t next, bool parked)
{
	s->fetch->next = next;
	if (!parked)
		log_detail(LOG_IMAP, "%s: FETCH waits for the client to read",
		    s->id);
	session_wait_output(s, FETCH_OUT_LOW);
}

void
fetch_continue(struct session *s)
{
	struct fetch_run *fr = s->fetch;
	bool parked = s->wait == W_OUTPUT;

	if (fr->st.fd >= 0 && !stream_pump(s, &fr->st)) {
		session_wait_output(s, FETCH_OUT_LOW);
		return;
	}
	for (uint32_t i = fr->next; i < s->mb->count; i++) {
		if (!msg_in_set(s, &fr->set, i, fr->uid))
			continue;
		if (fr->changedsince &&
		    s->mb->msgs[i].modseq <= fr->changedsince)
			continue;
		if (fr->f.stream_item >= 0 &&
		    msg_file_size(s, i) >= STREAM_MIN) {
			if (!fetch_stream_start(s, i, &fr->f, fr->uid, &fr->st))
				fr->missing = true;
			else if (!stream_pump(s, &fr->st)) {
				fetch_park(s, i + 1, parked);
				return;
			}
		} else if (!fetch_one(s, i, &fr->f, fr->uid))
			fr->missing = true;
		if (out_pending(s) > FETCH_OUT_HIGH && i + 1 < s->mb->count) {
			fetch_park(s, i + 1, parked);
			return;
		}
	}
	imap_mbox_flush_modseq(s->mb);
	if (fr->missing)
		tagged(s, fr->tag, "NO [EXPUNGEISSUED] Some messages were "
		    "expunged");
	else
		tagged(s, fr->tag, "OK FETCH completed");
	fetch_run_free(s);
	if (parked)
		session_output_done(s);
}

void
cmd_fetch(struct session *s, const char *tag, struct imap_arg *a, size_t n,
    bool uid)
{
	struct fetch_run *fr = xcalloc(1, sizeof(*fr));

	fr->uid = uid;
	if (n < 2 || n > 3) {
		free(fr);
		session_bad(s, tag, "FETCH sequence-set items");
		return;
	}
	if (n == 3) {
		/* (CHANGEDSINCE n), RFC 7162 */
		if (a[2].type != IMAP_ARG_LIST || a[2].n != 2 ||
		    !imap_arg_is(&a[2].list[0], "CHANGEDSINCE") ||
		    a[2].list[1].type != IMAP_ARG_ATOM) {
			free(fr);
			session_bad(s, tag, "Unknown FETCH modifier");
			return;
		}
		fr->changedsince = strtoull(a[2].list[1].s, NULL, 10);
		s->condstore = true;
	}
	if (parse_items(&fr->f, &a[1]) < 0) {
		fetch_release(&fr->f);
		free(fr);
		session_bad(s, tag, "Invalid FETCH item");
		return;
	}
	if (seqset_arg(s, tag, &a[0], uid, &fr->set) < 0) {
		fetch_release(&fr->f);
		free(fr);
		return;
	}
	fr->f.stream_item = stream_item_of(&fr->f);
	fr->st.fd = -1;
	fr->tag = xstrdup(tag);
	s->fetch = fr;
	fetch_continue(s);
}
