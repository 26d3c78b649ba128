/* services - services.conf; see services.h */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "cfgfile.h"
#include "conf.h"
#include "services.h"
#include "xalloc.h"

struct parse_ctx {
	struct service_table *t;
	struct service_conf *cur;
	unsigned seen;                 /* bit per key, for duplicates */
};

static const char *const service_keys[] = {
	"program", "args", "listen", "workers", "tls", "user", "chroot",
};
#define NKEYS (sizeof(service_keys) / sizeof(*service_keys))

static char *
path_in(const char *dir, const char *p)
{
	return p[0] == '/' ? xstrdup(p) : xasprintf("%s/%s", dir, p);
}

/* "host:port", "[v6]:port", "*:port" or "unix:path". */
static int
listen_parse(const char *s, struct listen_addr *a, char **error_r)
{
	char host[64];
	const char *colon;
	long port;
	char *end;

	memset(a, 0, sizeof(*a));
	if (strncmp(s, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;
		char *p = path_in(conf_str("state_dir"), s + 5);

		if (s[5] == '\0' || strlen(p) >= sizeof(un->sun_path)) {
			*error_r = xasprintf("bad unix socket path '%s'", s + 5);
			free(p);
			return -1;
		}
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, p);
		a->sslen = sizeof(*un);
		a->text = xasprintf("unix:%s", p);
		free(p);
		return 0;
	}
	colon = strrchr(s, ':');
	if (colon == NULL || colon == s || (size_t)(colon - s) >= sizeof(host))
		goto bad;
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 1 || port > 65535)
		goto bad;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (host[0] == '[') {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&a->ss;
		size_t hl = strlen(host);

		if (hl < 3 || host[hl - 1] != ']')
			goto bad;
		host[hl - 1] = '\0';
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((unsigned short)port);
		if (inet_pton(AF_INET6, host + 1, &in6->sin6_addr) != 1)
			goto bad;
		a->sslen = sizeof(*in6);
		a->text = xasprintf("[%s]:%ld", host + 1, port);
		return 0;
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&a->ss;

		in->sin_family = AF_INET;
		in->sin_port = htons((unsigned short)port);
		if (strcmp(host, "*") == 0)
			strcpy(host, "0.0.0.0");
		if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			goto bad;
		a->sslen = sizeof(*in);
		a->text = xasprintf("%s:%ld", host, port);
		return 0;
	}
bad:
	*error_r = xasprintf("bad listen address '%s' (want host:port, "
	    "[v6]:port or unix:path)", s);
	return -1;
}

static int
service_set(struct service_conf *sc, const char *key, const char *v,
    char **error_r)
{
	const char *err;
	long long n;

	if (strcmp(key, "program") == 0) {
		if (*v == '\0')
			goto empty;
		free(sc->program);
		sc->program = path_in(conf_str("libexec_dir"), v);
	} else if (strcmp(key, "args") == 0) {
		size_t na = 0;
		char *copy = xstrdup(v), *save = NULL;

		for (char *t = strtok_r(copy, " \t", &save); t != NULL;
		    t = strtok_r(NULL, " \t", &save)) {
			sc->args = xrealloc(sc->args, (na + 2) * sizeof(char *));
			sc->args[na++] = xstrdup(t);
			sc->args[na] = NULL;
		}
		free(copy);
	} else if (strcmp(key, "listen") == 0) {
		char *copy = xstrdup(v), *save = NULL;
		int rc = 0;

		for (char *t = strtok_r(copy, ", \t", &save); t != NULL && rc == 0;
		    t = strtok_r(NULL, ", \t", &save)) {
			if (sc->nlisten == SERVICE_MAX_LISTEN) {
				*error_r = xasprintf("more than %d listen "
				    "addresses", SERVICE_MAX_LISTEN);
				rc = -1;
				break;
			}
			rc = listen_parse(t, &sc->listen[sc->nlisten], error_r);
			if (rc == 0)
				sc->nlisten++;
		}
		free(copy);
		return rc;
	} else if (strcmp(key, "workers") == 0) {
		if (conf_parse_int(v, &n, &err) < 0) {
			*error_r = xasprintf("workers: %s", err);
			return -1;
		}
		if (n < 1 || n > SERVICE_MAX_WORKERS) {
			*error_r = xasprintf("workers must be 1 to %d",
			    SERVICE_MAX_WORKERS);
			return -1;
		}
		sc->workers = (int)n;
	} else if (strcmp(key, "tls") == 0) {
		if (strcmp(v, "none") != 0 && strcmp(v, "starttls") != 0 &&
		    strcmp(v, "implicit") != 0) {
			*error_r = xasprintf("tls must be none, starttls or "
			    "implicit, not '%s'", v);
			return -1;
		}
		free(sc->tls);
		sc->tls = xstrdup(v);
	} else if (strcmp(key, "user") == 0) {
		free(sc->user);
		sc->user = xstrdup(v);
	} else if (strcmp(key, "chroot") == 0) {
		free(sc->chroot);
		sc->chroot = *v ? path_in(conf_dir(), v) : xstrdup("");
	}
	return 0;
empty:
	*error_r = xasprintf("%s must not be empty", key);
	return -1;
}

static bool
name_ok(const char *s)
{
	if (*s == '\0' || strlen(s) > 32)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-' || *s == '_'))
			return false;
	return true;
}

/* Checks that need the whole section: run after the file is read. */
static int
services_check(const struct service_table *t, const char *file,
    char **error_r)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct service_conf *sc = &t->svc[i];

		if (sc->program == NULL) {
			*error_r = xasprintf("%s:%d: service '%s' has no program",
			    file, sc->line, sc->name);
			return -1;
		}
		if (strcmp(sc->tls, "none") != 0 &&
		    (*conf_str("tls_cert_file") == '\0' ||
		    *conf_str("tls_key_file") == '\0')) {
			*error_r = xasprintf("%s:%d: service '%s' uses tls = %s "
			    "but tls_cert_file or tls_key_file is not set in "
			    "tern.conf", file, sc->line, sc->name, sc->tls);
			return -1;
		}
	}
	return 0;
}

static int
services_line(const struct cfg_line *l, void *arg, char **error_r)
{
	struct parse_ctx *p = arg;
	size_t k;

	if (l->key == NULL) {               /* a new [section] */
		if (!name_ok(l->section)) {
			*error_r = xasprintf("bad service name '%s' (a-z, 0-9, "
			    "'-', '_', at most 32)", l->section);
			return -1;
		}
		for (size_t i = 0; i < p->t->n; i++)
			if (strcmp(p->t->svc[i].name, l->section) == 0) {
				*error_r = xasprintf("service '%s' defined twice "
				    "(first at line %d)", l->section,
				    p->t->svc[i].line);
				return -1;
			}
		p->t->svc = xrealloc(p->t->svc, (p->t->n + 1) * sizeof(*p->t->svc));
		p->cur = &p->t->svc[p->t->n++];
		memset(p->cur, 0, sizeof(*p->cur));
		p->cur->name = xstrdup(l->section);
		p->cur->workers = 1;
		p->cur->tls = xstrdup("none");
		p->cur->user = xstrdup("");
		p->cur->chroot = xstrdup("");
		p->cur->line = l->line;
		p->seen = 0;
		return 0;
	}
	if (p->cur == NULL) {
		*error_r = xasprintf("'%s' outside a [service] section", l->key);
		return -1;
	}
	for (k = 0; k < NKEYS; k++)
		if (strcmp(l->key, service_keys[k]) == 0)
			break;
	if (k == NKEYS) {
		*error_r = xasprintf("unknown key '%s' in service '%s'", l->key,
		    p->cur->name);
		return -1;
	}
	if (p->seen & (1u << k)) {
		*error_r = xasprintf("'%s' given twice in service '%s'", l->key,
		    p->cur->name);
		return -1;
	}
	p->seen |= 1u << k;
	return service_set(p->cur, l->key, l->value, error_r);
}

int
services_load(const char *path, struct service_table *t, char **error_r)
{
	struct parse_ctx p = { .t = t };

	memset(t, 0, sizeof(*t));
	if (cfgfile_parse(path, true, false, services_line, &p, error_r) < 0 ||
	    services_check(t, path, error_r) < 0) {
		services_free(t);
		return -1;
	}
	return 0;
}

static void
service_conf_release(struct service_conf *sc)
{
	free(sc->name);
	free(sc->program);
	for (size_t i = 0; sc->args != NULL && sc->args[i] != NULL; i++)
		free(sc->args[i]);
	free(sc->args);
	for (int i = 0; i < sc->nlisten; i++)
		free(sc->listen[i].text);
	free(sc->tls);
	free(sc->user);
	free(sc->chroot);
}

void
services_free(struct service_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		service_conf_release(&t->svc[i]);
	free(t->svc);
	t->svc = NULL;
	t->n = 0;
}

static bool
args_same(char **a, char **b)
{
	size_t i;

	for (i = 0; a != NULL && a[i] != NULL; i++)
		if (b == NULL || b[i] == NULL || strcmp(a[i], b[i]) != 0)
			return false;
	return b == NULL || b[i] == NULL;
}

bool
service_conf_same_spawn(const struct service_conf *a,
    const struct service_conf *b)
{
	if (strcmp(a->program, b->program) != 0 || !args_same(a->args, b->args) ||
	    a->nlisten != b->nlisten || strcmp(a->tls, b->tls) != 0 ||
	    strcmp(a->user, b->user) != 0 || strcmp(a->chroot, b->chroot) != 0)
		return false;
	for (int i = 0; i < a->nlisten; i++)
		if (strcmp(a->listen[i].text, b->listen[i].text) != 0)
			return false;
	return true;
}
