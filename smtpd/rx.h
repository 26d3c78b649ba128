/*
 * rx - reads message data (DATA or BDAT) byte by byte, as it arrives,
 * straight from the input buffer into the spool file's write buffer.
 *
 * DATA (dot mode): a line that is a lone "." ends the data only when
 * both that line and the line before it ended with CRLF: the exact
 * sequence CRLF "." CRLF (the CRLF of the DATA command counts).  "\n.\n",
 * "\r\n.\n", "\n.\r\n", "\r.\r" and their friends never end it: those are
 * the SMTP smuggling sequences (CVE-2023-51766 and its cousins).  A
 * leading dot of any other line is removed (RFC 5321 4.5.2); a lone "."
 * that does not end the data is kept as it is.
 *
 * Either mode: a bare CR or a bare LF is noted and written as CRLF, so
 * what reaches the spool only ever has CRLF line ends; the caller
 * refuses the message instead when smtp_bare_line_endings says so.
 * Binary mode (BDAT with BODY=BINARYMIME) takes bytes as they are.
 *
 * Checked while reading, against the caller's limits: the longest line
 * (after normalising), the total size, and the Received header lines of
 * the header section (hop count).  Once something is wrong, or the file
 * cannot be written, the file is aborted (the temp file removed) and
 * the rest only counted, so a refused message leaves nothing behind.
 *
 * Why not lib/linebuf: it drops the terminator of a line that is too
 * long, and the DATA end rule needs to know whether that line ended
 * with CRLF; and it would copy every line once more.
 */
#ifndef TERN_SMTPD_RX_H
#define TERN_SMTPD_RX_H

#include <stdbool.h>
#include <stddef.h>

struct spool_file;

enum rx_scan {
	RX_BOL,         /* at the start of an input line */
	RX_TEXT,        /* inside a line */
	RX_CR,          /* inside a line, a CR held back: CRLF or bare? */
	RX_DOT,         /* "." at the start of a line (DATA) */
	RX_DOT_CR,      /* ".\r" at the start of a line (DATA) */
};

struct rx {
	/* set by rx_start */
	bool dot_mode;
	bool binary;
	bool bare_reject;          /* abort the file at the first bare CR/LF */
	size_t max_line;           /* longest line content, CRLF not counted */
	unsigned long long max_size;    /* 0 = none */
	unsigned max_hops;
	struct spool_file *file;   /* NULL once aborted */
	/* input side */
	enum rx_scan scan;
	bool bol_crlf;             /* the line before ended with CRLF */
	/* output side */
	size_t linelen;            /* bytes of the current output line */
	bool in_headers;
	char hdr[9];               /* first bytes of a header line */
	size_t hdrlen;
	unsigned long long size;   /* bytes of message after unstuffing */
	unsigned hops;
	/* findings */
	bool bare;                 /* a bare CR or LF was seen */
	bool too_long;
	bool too_big;
	bool too_many_hops;
	int write_errno;           /* the spool write failed */
};

/*
 * Start reading a message into f (rx takes it: it aborts it when the
 * message goes wrong).  bol_crlf: whether the command before the data
 * ended with CRLF (DATA); true for BDAT.
 */
void rx_start(struct rx *r, struct spool_file *f, bool dot_mode,
    bool binary, bool bare_reject, size_t max_line,
    unsigned long long max_size, unsigned max_hops, bool bol_crlf);

/*
 * Read p[0..n).  Returns how many bytes were used: n, or in dot mode
 * fewer when the end of the data was found (*end_r set; the bytes of
 * the end marker count as used, what follows it does not).
 */
size_t rx_feed(struct rx *r, const char *p, size_t n, bool *end_r);

/* The last BDAT chunk is in: settle a held-back CR and end an
 * unterminated last line with CRLF (text mode). */
void rx_finish(struct rx *r);

/* True once something makes the message unacceptable. */
bool rx_failed(const struct rx *r);

/* Give up storing: abort the file (if still open). */
void rx_abort(struct rx *r);

/* Hand the file over (NULL if aborted); rx forgets it. */
struct spool_file *rx_take_file(struct rx *r);

#endif
