/*
 * reload - read tern.conf and services.conf, and apply them to the
 * running set of services.
 *
 * Nothing changes unless both files are valid: a broken file is reported
 * with file:line and the running services go on untouched.  A service
 * whose program, arguments, listeners, TLS mode, user and chroot are
 * unchanged keeps its children (they get SIGHUP to reopen maps and logs);
 * a changed one, and a chrooted one (its workers cannot read tern.conf or
 * the maps again), is started anew and its old children drain; sockets for
 * addresses that stay are handed over, never closed, so a reload drops no
 * connection.  Services the admin stopped stay stopped (state_dir/
 * stopped-services) across reloads and restarts.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "master.h"
#include "tls.h"
#include "xalloc.h"

#include <sys/stat.h>

/* What the TLS files were at the last (re)load: a certificate renewed
 * on disk makes the next reload restart the services that use TLS, since
 * their unprivileged workers cannot read a root-only key again. */
static char *tls_stamp;

struct service *
service_find(const char *name)
{
	for (struct service *s = M.services; s != NULL; s = s->next)
		if (strcmp(s->conf.name, name) == 0)
			return s;
	return NULL;
}

/* One name per line; written to a temp file and renamed into place. */
void
stopped_save(void)
{
	char *tmp = xasprintf("%s.tmp", M.stopped_path);
	FILE *f = fopen(tmp, "w");

	if (f == NULL) {
		log_exc(LOG_MASTER, "cannot write %s: %s", tmp, strerror(errno));
		free(tmp);
		return;
	}
	for (struct service *s = M.services; s != NULL; s = s->next)
		if (s->stopped)
			fprintf(f, "%s\n", s->conf.name);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0 || fclose(f) != 0 ||
	    rename(tmp, M.stopped_path) != 0)
		log_exc(LOG_MASTER, "cannot write %s: %s", M.stopped_path,
		    strerror(errno));
	free(tmp);
}

static bool
stopped_listed(const char *name)
{
	FILE *f = fopen(M.stopped_path, "r");
	char line[128];
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		found = strcmp(line, name) == 0;
	}
	fclose(f);
	return found;
}

static struct service *
service_new(const struct service_conf *sc)
{
	struct service *s = xcalloc(1, sizeof(*s));

	s->conf = *sc;
	for (int i = 0; i < SERVICE_MAX_LISTEN; i++)
		s->fds[i] = -1;
	s->stopped = stopped_listed(sc->name);
	return s;
}

static void
master_paths(void)
{
	free(M.stopped_path);
	M.stopped_path = xasprintf("%s/stopped-services", conf_str("state_dir"));
}

static char *
tls_stamp_now(void)
{
	static const char *const keys[] = { "tls_cert_file", "tls_key_file",
	    "tls_chain_file" };
	struct buf *b = buf_new(128);
	struct stat st;

	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		const char *p = conf_str(keys[i]);

		if (*p != '\0' && stat(p, &st) == 0)
			buf_printf(b, "%s:%llu:%lld.%09ld:%lld;", p,
			    (unsigned long long)st.st_ino, (long long)st.st_mtim.tv_sec,
			    st.st_mtim.tv_nsec, (long long)st.st_size);
		else
			buf_printf(b, "%s:-;", p);
	}
	/* Any tls_* setting counts too (protocols, ciphers ...). */
	for (size_t i = 0; i < conf_table_len; i++)
		if (strncmp(conf_table[i].name, "tls_", 4) == 0)
			buf_printf(b, "%s=%s;", conf_table[i].name,
			    conf_text(conf_table[i].name));
	char *s = buf_steal(b);
	buf_free(&b);
	return s;
}

/* Master loads the TLS files itself before any worker does, so a broken
 * certificate is refused with the config instead of crash-looping. */
static int
tls_check(const struct service_table *t, char **error_r)
{
	struct tls_settings ts;
	SSL_CTX *ctx;
	char *err = NULL;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->svc[i].tls, "none") != 0)
			break;
	if (i == t->n)
		return 0;
	tls_settings_from_conf(&ts);
	ctx = tls_server_ctx_new(&ts, &err);
	if (ctx == NULL) {
		*error_r = xasprintf("%s: service '%s' needs TLS: %s",
		    M.conf_path, t->svc[i].name, err);
		free(err);
		return -1;
	}
	tls_ctx_free(&ctx);
	return 0;
}

/* Read both files; on success the new service table is in *t. */
static int
master_read(struct service_table *t, char **error_r)
{
	if (conf_load(M.conf_path, error_r) < 0)
		return -1;
	if (services_load(M.services_path, t, error_r) < 0)
		return -1;
	if (tls_check(t, error_r) < 0) {
		services_free(t);
		return -1;
	}
	return 0;
}

int
master_load(char **error_r)
{
	struct service_table t;
	struct service **tail = &M.services;

	if (master_read(&t, error_r) < 0)
		return -1;
	master_paths();
	tls_stamp = tls_stamp_now();
	for (size_t i = 0; i < t.n; i++) {
		struct service *s = service_new(&t.svc[i]);

		*tail = s;
		tail = &s->next;
		if (!s->stopped)
			service_bind(s, NULL);
	}
	free(t.svc);              /* the confs now live in the services */
	return 0;
}

/* Apply a new table: keep, replace, add, retire. */
static void
master_apply(struct service_table *t)
{
	struct service *old = M.services, *keep = NULL, **tail = &keep;
	char *stamp = tls_stamp_now();
	bool tls_changed = strcmp(stamp, tls_stamp) != 0;

	free(tls_stamp);
	tls_stamp = stamp;
	M.services = NULL;
	for (size_t i = 0; i < t->n; i++) {
		struct service_conf *sc = &t->svc[i];
		struct service **op, *s = NULL;

		for (op = &old; *op != NULL; op = &(*op)->next)
			if (strcmp((*op)->conf.name, sc->name) == 0)
				break;
		if (*op != NULL && service_conf_same_spawn(&(*op)->conf, sc) &&
		    (*op)->error == NULL && sc->chroot[0] == '\0' &&
		    !(tls_changed && strcmp(sc->tls, "none") != 0)) {
			s = *op;
			*op = s->next;
			/* Fewer workers: drain the extra slots. */
			for (int w = sc->workers; w < s->conf.workers; w++)
				if (s->slot[w] != NULL)
					child_drain(s->slot[w]);
			s->conf.workers = sc->workers;
			struct service_table one = { xmalloc(sizeof(*sc)), 1 };
			*one.svc = *sc;
			services_free(&one);
			for (int w = 0; w < s->conf.workers; w++)
				if (s->slot[w] != NULL)
					kill(s->slot[w]->pid, SIGHUP);
		} else {
			s = service_new(sc);
			if (!s->stopped)
				service_bind(s, old);
		}
		s->next = NULL;
		*tail = s;
		tail = &s->next;
	}
	free(t->svc);
	while (old != NULL) {
		struct service *next = old->next;

		log_msg(LOG_MASTER, "service %s: retired by reload",
		    old->conf.name);
		service_free(&old);
		old = next;
	}
	M.services = keep;
}

int
master_reload(char **error_r)
{
	struct service_table t;

	if (master_read(&t, error_r) < 0) {
		log_exc(LOG_MASTER, "reload refused: %s", *error_r);
		return -1;
	}
	master_paths();
	log_reopen();
	master_apply(&t);
	for (struct service *s = M.services; s != NULL; s = s->next)
		service_start_all(s);
	log_msg(LOG_MASTER, "configuration reloaded");
	return 0;
}
