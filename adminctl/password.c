/*
 * password - read a new password: from the terminal (twice, without
 * echo), from stdin (--password-stdin, one line) or from the first line
 * of a file (--password-file).  Nothing here prints or logs a password.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "adminctl.h"
#include "xalloc.h"

#define PASSWORD_MAX 1024

/* One line from fd (no stdio: stdin may be shared with a script). */
static char *
password_line(int fd, bool *eof_r)
{
	char *s = xmalloc(PASSWORD_MAX + 2);
	size_t n = 0;

	*eof_r = false;
	while (n < PASSWORD_MAX + 1) {
		ssize_t r = read(fd, s + n, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			*eof_r = n == 0;
			break;
		}
		if (s[n] == '\n')
			break;
		n++;
	}
	if (n > 0 && s[n - 1] == '\r')
		n--;
	s[n] = '\0';
	return s;
}

static char *
password_check(char *pw, bool eof, const char *from)
{
	const char *why = NULL;

	if (eof)
		why = "no password given";
	else if (strlen(pw) > PASSWORD_MAX)
		why = "password too long (over 1024 bytes)";
	else if (pw[0] == '\0')
		why = "empty password";
	if (why == NULL)
		return pw;
	fprintf(stderr, "adminctl: %s: %s\n", from, why);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	return NULL;
}

static char *
password_prompt(int fd, const char *prompt, bool *eof_r)
{
	struct termios old, quiet;
	bool tty = tcgetattr(fd, &old) == 0;
	char *pw;

	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	(void)!write(fd, prompt, strlen(prompt));
	pw = password_line(fd, eof_r);
	(void)!write(fd, "\n", 1);
	if (tty)
		tcsetattr(fd, TCSAFLUSH, &old);
	return pw;
}

static char *
password_tty(const char *what)
{
	int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	char *p1, *p2, *prompt;
	bool eof;

	if (fd < 0) {
		fprintf(stderr, "adminctl: no terminal to read the password "
		    "from; use --password-stdin or --password-file\n");
		return NULL;
	}
	prompt = xasprintf("New password for %s: ", what);
	p1 = password_prompt(fd, prompt, &eof);
	p1 = password_check(p1, eof, "terminal");
	free(prompt);
	if (p1 == NULL) {
		close(fd);
		return NULL;
	}
	p2 = password_prompt(fd, "Again: ", &eof);
	close(fd);
	if (strcmp(p1, p2) != 0) {
		fprintf(stderr, "adminctl: the passwords differ\n");
		explicit_bzero(p1, strlen(p1));
		free(p1);
		p1 = NULL;
	}
	explicit_bzero(p2, strlen(p2));
	free(p2);
	return p1;
}

char *
password_read(const struct cmdopts *o, const char *what)
{
	bool eof;
	char *pw;
	int fd;

	if (o->set & OPT_PASSWORD_STDIN) {
		pw = password_line(0, &eof);
		return password_check(pw, eof, "stdin");
	}
	if (!(o->set & OPT_PASSWORD_FILE))
		return password_tty(what);
	fd = open(o->password_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "adminctl: cannot read %s: %s\n",
		    o->password_file, strerror(errno));
		return NULL;
	}
	pw = password_line(fd, &eof);
	close(fd);
	return password_check(pw, eof, o->password_file);
}

void
password_free(char **pwp)
{
	if (*pwp != NULL)
		explicit_bzero(*pwp, strlen(*pwp));
	xfree(pwp);
}
