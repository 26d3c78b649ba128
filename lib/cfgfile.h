/*
 * cfgfile - the line reader under every Tern config file.
 *
 * Reads `key = value` lines: blank lines and lines whose first non-blank
 * character is '#' are ignored; a line beginning with white space
 * continues the previous value (joined with one space); `[name]` starts a
 * section when the caller allows sections.  White space around keys and
 * values is trimmed.  Every error names file and line.
 */
#ifndef TERN_CFGFILE_H
#define TERN_CFGFILE_H

#include <stdbool.h>

struct cfg_line {
	const char *file;
	int line;             /* line where the key starts */
	const char *section;  /* current [section], or NULL */
	const char *key;
	const char *value;    /* may be empty */
};

/*
 * Called for each key; also once per section header with key == NULL.
 * The strings in *l are valid only during the call.
 * Return 0 to go on, or -1 with *error_r = a malloc'd message that names
 * no position (cfgfile prefixes "file:line: ").
 */
typedef int cfg_cb(const struct cfg_line *l, void *arg, char **error_r);

/*
 * Parse path.  Returns 0, or -1 with *error_r = "file:line: message"
 * (malloc'd).  A missing file is an error unless missing_ok.
 */
int cfgfile_parse(const char *path, bool allow_sections, bool missing_ok,
    cfg_cb *cb, void *arg, char **error_r);

#endif
