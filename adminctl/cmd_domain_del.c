/*
 * adminctl domain del NAME --yes [--purge] - the domain's config moves to
 * deleted/NAME.<time>/ (restore it by moving it back and rebuilding); its
 * mail stays unless --purge, which removes the mail folder once the maps
 * no longer know the domain.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "acct.h"
#include "adminctl.h"
#include "conf.h"
#include "confset.h"
#include "xalloc.h"

/* A free name deleted/NAME.<YYYYmmddHHMMSS>[.N]. */
static char *
del_trash_name(const char *name)
{
	char stamp[32], *p;
	time_t now = time(NULL);
	struct tm tm;
	struct stat st;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
	p = xasprintf("%s/deleted/%s.%s", A.confdir, name, stamp);
	for (int i = 1; i < 1000 && lstat(p, &st) == 0; i++) {
		free(p);
		p = xasprintf("%s/deleted/%s.%s.%d", A.confdir, name, stamp, i);
	}
	return p;
}

/* path, resolved, is p or a directory above it. */
static bool
del_covers(const char *real, const char *path)
{
	char *p = realpath(path, NULL);
	size_t n = strlen(real);
	bool covers;

	if (p == NULL)
		return false;
	covers = strncmp(p, real, n) == 0 && (p[n] == '\0' || p[n] == '/' ||
	    strcmp(real, "/") == 0);
	free(p);
	return covers;
}

/*
 * Remove the mail folder, refusing anything that is not plainly one
 * domain's folder: a symlink, "/", or a directory that holds (or is) the
 * config, state, spool, log or mail root.
 */
static int
del_purge(const char *folder)
{
	const char *keep[] = { A.confdir, conf_str("state_dir"),
	    conf_str("spool_dir"), conf_str("log_dir"), conf_str("mail_dir") };
	struct stat st;
	char *real;
	int rc = EX_OK;

	if (*folder == '\0' || lstat(folder, &st) < 0) {
		printf("no mail folder at %s\n", *folder ? folder : "(empty)");
		return EX_OK;
	}
	if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "adminctl: %s is not a plain directory; not "
		    "purged\n", folder);
		return EX_FAIL;
	}
	if ((real = realpath(folder, NULL)) == NULL)
		return EX_FAIL;
	for (size_t i = 0; i < sizeof(keep) / sizeof(*keep); i++)
		if (strcmp(real, "/") == 0 || del_covers(real, keep[i])) {
			fprintf(stderr, "adminctl: %s holds %s; not purged\n",
			    real, keep[i]);
			free(real);
			return EX_FAIL;
		}
	if (remove_tree(real) < 0) {
		fprintf(stderr, "adminctl: cannot remove %s: %s\n", real,
		    strerror(errno));
		rc = EX_FAIL;
	} else
		printf("mail folder %s removed\n", real);
	free(real);
	return rc;
}

/* The domain's mail folder, or NULL when domain.conf cannot tell. */
static char *
del_folder(const char *name)
{
	struct tree t;
	struct tdomain *d;
	char *folder = NULL;

	if (load_one(&t, name) < 0)
		return NULL;
	d = tree_domain(&t, name);
	if (d->conf != NULL) {
		const char *f = confset_str(d->conf, "folder_path");

		folder = *f ? xstrdup(f) : xasprintf("%s/%s",
		    conf_str("mail_dir"), name);
	}
	tree_release(&t);
	return folder;
}

static bool
del_exists(const char *name)
{
	char *dir = xasprintf("%s/domains/%s", A.confdir, name);
	struct stat st;
	bool ok = lstat(dir, &st) == 0 && S_ISDIR(st.st_mode);

	if (!ok)
		fprintf(stderr, "adminctl: no such domain %s\n", name);
	free(dir);
	return ok;
}

static int
del_move(struct edit *e, const char *name, char **trash_r)
{
	char *dir = xasprintf("%s/domains/%s", A.confdir, name);
	char *top = xasprintf("%s/deleted", A.confdir);
	int rc = -1;

	if (mkdir(top, 0700) < 0 && errno != EEXIST)
		fprintf(stderr, "adminctl: cannot create %s: %s\n", top,
		    strerror(errno));
	else {
		*trash_r = del_trash_name(name);
		if (rename(dir, *trash_r) < 0)
			fprintf(stderr, "adminctl: cannot move %s to %s: %s\n",
			    dir, *trash_r, strerror(errno));
		else {
			edit_undo_rename(e, dir, *trash_r);
			rc = 0;
		}
	}
	free(dir);
	free(top);
	return rc;
}

int
domain_del(int argc, char **argv)
{
	struct cmdopts o;
	struct edit *e = NULL;
	char *name = NULL, *folder = NULL, *trash = NULL;
	int rc = EX_FAIL;

	if (cmdopts_parse(argc, argv, 2, OPT_YES | OPT_PURGE | OPT_NO_RELOAD,
	    &o) < 0 || o.nargs != 1) {
		cmdopts_release(&o);
		fprintf(stderr, "usage: adminctl domain del NAME --yes "
		    "[--purge]\n");
		return EX_USAGE;
	}
	if ((name = arg_domain(o.args[0])) == NULL)
		goto out;
	if (!(o.set & OPT_YES)) {
		fprintf(stderr, "adminctl: deleting domain %s needs --yes (its "
		    "config moves to deleted/, its mail is kept unless "
		    "--purge)\n", name);
		goto out;
	}
	if ((e = edit_start()) == NULL)
		goto out;
	if (!del_exists(name))
		goto out;
	folder = del_folder(name);
	if (folder == NULL && (o.set & OPT_PURGE)) {
		fprintf(stderr, "adminctl: cannot tell where %s's mail is "
		    "(domain.conf unreadable); not deleted\n", name);
		goto out;
	}
	if (del_move(e, name, &trash) < 0)
		goto out;
	rc = edit_finish(&e, o.set & OPT_NO_RELOAD);
	if (rc != EX_OK)
		goto out;
	printf("domain %s deleted; its config is in %s\n", name, trash);
	if (o.set & OPT_PURGE)
		rc = del_purge(folder);
	else if (folder != NULL)
		printf("its mail is kept in %s\n", folder);
out:
	edit_end(&e);
	free(trash);
	free(folder);
	free(name);
	cmdopts_release(&o);
	return rc;
}
