/*
 * adminctl rebuild | check - validate the account tree and compile it
 * into the maps of state_dir/maps (accounts.h), then tell master to
 * reload so every daemon reopens them.  Also the tail of every command
 * that edits the tree (edit_finish).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "adminctl.h"
#include "conf.h"
#include "edit.h"
#include "tree.h"
#include "xalloc.h"

#define S(n)  ((n) == 1 ? "" : "s")
#define ES(n) ((n) == 1 ? "" : "es")

/* Master holds an flock on state_dir/master.pid while it runs. */
static bool
rebuild_master_running(void)
{
	char *path = xasprintf("%s/master.pid", conf_str("state_dir"));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool running = false;

	free(path);
	if (fd < 0)
		return false;
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		running = errno == EWOULDBLOCK;
	close(fd);
	return running;
}

static int
rebuild_reload(void)
{
	struct ipc_msg *req, *resp;
	int rc;

	if (!rebuild_master_running()) {
		printf("master not running; maps will be read at start\n");
		return EX_OK;
	}
	req = ipc_msg_new("reload");
	resp = master_call(req, &rc);
	ipc_msg_free(&req);
	if (resp != NULL)
		printf("master reloaded\n");
	else
		fprintf(stderr, "adminctl: the new maps are in place, but the "
		    "daemons have not been told\n");
	ipc_msg_free(&resp);
	return rc;
}

static double
rebuild_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
rebuild_warnings(const struct tree *t)
{
	if (t->cram_missing > 0)
		fprintf(stderr, "adminctl: warning: %zu user(s) of domains with "
		    "auth_cram_md5 = yes have no CRAM-MD5 secret; set their "
		    "passwords again (adminctl user passwd)\n",
		    t->cram_missing);
}

/*
 * Load, check and (with compile) write the maps.  *installed_r: the new
 * maps are in place (errors after that point do not undo an edit).
 */
static int
rebuild_run(bool compile, bool reload, bool *installed_r)
{
	struct timespec t0;
	struct tree t;
	char *maps, *err = NULL;
	int rc = EX_OK;

	*installed_r = false;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tree_load(&t, A.confdir, NULL);
	tree_check(&t);
	if (t.errs.total > 0) {
		errs_print(&t.errs);
		fprintf(stderr, "adminctl: %zu error%s%s\n", t.errs.total,
		    t.errs.total == 1 ? "" : "s",
		    compile ? "; the maps were not changed" : "");
		tree_release(&t);
		return EX_FAIL;
	}
	rebuild_warnings(&t);
	if (!compile) {
		printf("ok: %zu domain%s, %zu user%s, %zu alias%s\n",
		    t.ndoms, S(t.ndoms), t.nusers, S(t.nusers), t.naliases,
		    ES(t.naliases));
		tree_release(&t);
		return EX_OK;
	}
	maps = xasprintf("%s/maps", conf_str("state_dir"));
	if (tree_compile(&t, maps, &err) < 0) {
		fprintf(stderr, "adminctl: %s; the maps were not changed\n",
		    err);
		free(err);
		rc = EX_FAIL;
	} else {
		*installed_r = true;
		printf("rebuilt %s: %zu domain%s, %zu user%s, %zu alias%s in "
		    "%.2fs\n", maps, t.ndoms, S(t.ndoms), t.nusers,
		    S(t.nusers), t.naliases, ES(t.naliases),
		    rebuild_since(&t0));
	}
	free(maps);
	tree_release(&t);
	if (rc == EX_OK && reload)
		rc = rebuild_reload();
	return rc;
}

struct edit *
edit_start(void)
{
	char *err = NULL;
	struct edit *e = edit_begin(A.confdir, &err);

	if (e == NULL) {
		fprintf(stderr, "adminctl: %s\n", err);
		free(err);
	}
	return e;
}

int
edit_finish(struct edit **ep, bool no_reload)
{
	bool installed = false;
	char *err = NULL;
	int rc;

	if (edit_save(*ep, &err) < 0) {
		fprintf(stderr, "adminctl: %s\n", err);
		free(err);
		edit_rollback(*ep);
		edit_end(ep);
		return EX_FAIL;
	}
	rc = rebuild_run(true, !no_reload, &installed);
	if (rc != EX_OK && !installed) {
		edit_rollback(*ep);
		fprintf(stderr, "adminctl: nothing was changed\n");
	}
	edit_end(ep);
	return rc;
}

int
cmd_rebuild(int argc, char **argv)
{
	struct cmdopts o;
	struct edit *e;
	bool installed;
	int rc;

	if (cmdopts_parse(argc, argv, 1, OPT_NO_RELOAD, &o) < 0 ||
	    o.nargs != 0) {
		cmdopts_release(&o);
		fprintf(stderr, "usage: adminctl rebuild [--no-reload]\n");
		return EX_USAGE;
	}
	if ((e = edit_start()) == NULL) {
		cmdopts_release(&o);
		return EX_FAIL;
	}
	rc = rebuild_run(true, !(o.set & OPT_NO_RELOAD), &installed);
	edit_end(&e);
	cmdopts_release(&o);
	return rc;
}

int
cmd_check(int argc, char **argv)
{
	struct cmdopts o;
	struct edit *e;
	char *err = NULL;
	bool installed;
	int rc;

	if (cmdopts_parse(argc, argv, 1, 0, &o) < 0 || o.nargs != 0) {
		cmdopts_release(&o);
		fprintf(stderr, "usage: adminctl check\n");
		return EX_USAGE;
	}
	/* A reader may not be able to create the lock: check unlocked. */
	e = edit_begin(A.confdir, &err);
	free(err);
	rc = rebuild_run(false, false, &installed);
	edit_end(&e);
	cmdopts_release(&o);
	return rc;
}
