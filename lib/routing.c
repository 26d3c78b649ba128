/*
 * routing - routing.conf: gateways, domain forwarding, smart hosts.
 * See routing.h for the file and routing.conf(5) for the admin's view.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "cfgfile.h"
#include "conf.h"
#include "iplist.h"
#include "routing.h"
#include "xalloc.h"

enum sect_kind { SECT_NONE, SECT_GATEWAY, SECT_FORWARD, SECT_SMARTHOST };

struct parse_ctx {
	struct routing *r;
	enum sect_kind kind;
	void *cur;               /* the section being filled */
	unsigned seen;           /* keys given in it, by bit */
};

int
routing_parse_addr(const char *item, struct route_addr *a,
    const char **why_r)
{
	const char *host = item, *end, *port = NULL;
	char *norm = NULL;
	size_t hlen;

	memset(a, 0, sizeof(*a));
	a->port = 25;
	if (*item == '[') {
		end = strchr(item, ']');
		if (end == NULL) {
			*why_r = "'[' without ']'";
			return -1;
		}
		host = item + 1;
		hlen = (size_t)(end - host);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0') {
			*why_r = "text after ']'";
			return -1;
		}
	} else {
		end = strchr(item, ':');
		if (end != NULL && strchr(end + 1, ':') != NULL) {
			*why_r = "an IPv6 address must be written [addr] or "
			    "[addr]:port";
			return -1;
		}
		hlen = end != NULL ? (size_t)(end - item) : strlen(item);
		if (end != NULL)
			port = end + 1;
	}
	if (hlen == 0) {
		*why_r = "no host";
		return -1;
	}
	if (port != NULL) {
		long long p;
		const char *perr;

		if (conf_parse_int(port, &p, &perr) < 0 || p < 1 || p > 65535) {
			*why_r = "port must be 1 to 65535";
			return -1;
		}
		a->port = (unsigned)p;
	}
	{
		char *h = xstrndup(host, hlen);
		unsigned char bin[16];

		if (inet_pton(AF_INET, h, bin) == 1 ||
		    inet_pton(AF_INET6, h, bin) == 1) {
			a->host = h;
			return 0;
		}
		free(h);
	}
	if (*item == '[') {
		*why_r = "[...] must hold an IP address";
		return -1;
	}
	if (addr_domain_normalise(host, hlen, &norm, why_r) < 0)
		return -1;
	a->host = norm;
	return 0;
}

char *
routing_addr_text(const struct route_addr *a)
{
	if (strchr(a->host, ':') != NULL)
		return xasprintf("[%s]:%u", a->host, a->port);
	return xasprintf("%s:%u", a->host, a->port);
}

static int
parse_addrs(const char *value, struct route_addr **out, size_t *n_r,
    char **error_r)
{
	size_t n;
	char **items = conf_split_list(value, &n);
	const char *why;

	if (n == 0) {
		conf_list_free(&items);
		*error_r = xstrdup("address: no address given");
		return -1;
	}
	*out = xcalloc(n, sizeof(**out));
	for (size_t i = 0; i < n; i++)
		if (routing_parse_addr(items[i], &(*out)[i], &why) < 0) {
			*error_r = xasprintf("address '%s': %s", items[i], why);
			for (size_t j = 0; j < i; j++)
				free((*out)[j].host);
			free(*out);
			*out = NULL;
			conf_list_free(&items);
			return -1;
		}
	*n_r = n;
	conf_list_free(&items);
	return 0;
}

/* "1-10", "5" */
static int
parse_range(const char *s, int *lo, int *hi, char **error_r)
{
	const char *dash = strchr(s, '-');
	const char *why;
	long long a, b;
	char *first = dash != NULL ? xstrndup(s, (size_t)(dash - s)) :
	    xstrdup(s);
	int rc = conf_parse_int(first, &a, &why);

	free(first);
	if (rc == 0)
		rc = conf_parse_int(dash != NULL ? dash + 1 : s, &b, &why);
	if (rc < 0 || a < 1 || b > 10 || a > b) {
		*error_r = xasprintf("priority '%s': want a range like 1-10 "
		    "(lowest first, within 1 to 10)", s);
		return -1;
	}
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

static int
parse_bool_key(const char *key, const char *value, bool *out,
    char **error_r)
{
	const char *why;

	if (conf_parse_bool(value, out, &why) < 0) {
		*error_r = xasprintf("%s: %s", key, why);
		return -1;
	}
	return 0;
}

static const struct route_forward *
forward_of(const struct routing *r, const char *domain)
{
	for (size_t i = 0; i < r->nfw; i++)
		for (size_t j = 0; j < r->fw[i].ndomains; j++)
			if (strcasecmp(r->fw[i].domains[j], domain) == 0)
				return &r->fw[i];
	return NULL;
}

static int
parse_domains(struct parse_ctx *p, struct route_forward *f,
    const char *value, char **error_r)
{
	size_t n;
	char **items = conf_split_list(value, &n);
	const struct route_forward *other;
	const char *why;
	char *norm;
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++) {
		if (addr_domain_normalise(items[i], strlen(items[i]), &norm,
		    &why) < 0) {
			*error_r = xasprintf("domains: '%s': %s", items[i], why);
			rc = -1;
		} else if ((other = forward_of(p->r, norm)) != NULL) {
			*error_r = xasprintf("domains: %s is already forwarded "
			    "by the [forward] at line %d", norm, other->line);
			free(norm);
			rc = -1;
		} else {
			f->domains = xrealloc(f->domains,
			    (f->ndomains + 1) * sizeof(*f->domains));
			f->domains[f->ndomains++] = norm;
		}
	}
	conf_list_free(&items);
	return rc;
}

static const char *const gateway_keys[] = { "name", "address",
    "priority", "auth_user", "auth_password", "tls", NULL };
static const char *const forward_keys[] = { "name", "address", "domains",
    "greylisting", NULL };
static const char *const smarthost_keys[] = { "name", "primary",
    "greylisting", NULL };

static int
gateway_set(struct route_gateway *g, const char *key, const char *value,
    char **error_r)
{
	const char *word, *why;
	size_t len;

	if (strcmp(key, "address") == 0)
		return parse_addrs(value, &g->addrs, &g->naddrs, error_r);
	if (strcmp(key, "priority") == 0)
		return parse_range(value, &g->prio_lo, &g->prio_hi, error_r);
	if (strcmp(key, "auth_user") == 0) {
		g->auth_user = xstrdup(value);
		return 0;
	}
	if (strcmp(key, "auth_password") == 0) {
		g->auth_password = xstrdup(value);
		return 0;
	}
	if (conf_parse_enum(value, "none|optional|require|verify", &word, &len,
	    &why) < 0) {
		*error_r = xasprintf("tls: %s (none, optional, require or "
		    "verify)", why);
		return -1;
	}
	g->tls = *word == 'n' ? ROUTE_TLS_NONE : *word == 'o' ?
	    ROUTE_TLS_OPTIONAL : *word == 'r' ? ROUTE_TLS_REQUIRE :
	    ROUTE_TLS_VERIFY;
	return 0;
}

static int
forward_set(struct parse_ctx *p, struct route_forward *f, const char *key,
    const char *value, char **error_r)
{
	if (strcmp(key, "address") == 0)
		return parse_addrs(value, &f->addrs, &f->naddrs, error_r);
	if (strcmp(key, "domains") == 0)
		return parse_domains(p, f, value, error_r);
	return parse_bool_key(key, value, &f->greylisting, error_r);
}

static int
smarthost_set(struct route_smarthost *s, const char *key, const char *value,
    char **error_r)
{
	if (strcmp(key, "primary") == 0) {
		size_t n;
		char **items = conf_split_list(value, &n);
		char *err = NULL;

		s->primary = n == 0 ? NULL :
		    iplist_new((const char *const *)items, n, &err);
		conf_list_free(&items);
		if (s->primary == NULL) {
			*error_r = err != NULL ? xasprintf("primary: %s", err) :
			    xstrdup("primary: no address given");
			free(err);
			return -1;
		}
		return 0;
	}
	return parse_bool_key(key, value, &s->greylisting, error_r);
}

/* What a complete section must hold: checked once the file is read, so
 * each message names the section's own line. */
static int
routing_check(struct routing *r, char **error_r)
{
	for (size_t i = 0; i < r->ngw; i++) {
		struct route_gateway *g = &r->gw[i];

		if (g->naddrs == 0) {
			*error_r = xasprintf("%s:%d: [gateway] has no address",
			    r->path, g->line);
			return -1;
		}
		if ((g->auth_user == NULL) != (g->auth_password == NULL)) {
			*error_r = xasprintf("%s:%d: [gateway]: auth_user and "
			    "auth_password go together", r->path, g->line);
			return -1;
		}
		if (g->name == NULL)
			g->name = routing_addr_text(&g->addrs[0]);
	}
	for (size_t i = 0; i < r->nfw; i++) {
		if (r->fw[i].naddrs == 0 || r->fw[i].ndomains == 0) {
			*error_r = xasprintf("%s:%d: [forward] needs an address "
			    "and domains", r->path, r->fw[i].line);
			return -1;
		}
		if (r->fw[i].name == NULL)
			r->fw[i].name = routing_addr_text(&r->fw[i].addrs[0]);
	}
	for (size_t i = 0; i < r->nsh; i++) {
		if (r->sh[i].primary == NULL) {
			*error_r = xasprintf("%s:%d: [smarthost] has no primary",
			    r->path, r->sh[i].line);
			return -1;
		}
		if (r->sh[i].name == NULL)
			r->sh[i].name = xasprintf("line %d", r->sh[i].line);
	}
	return 0;
}

static int
section_start(struct parse_ctx *p, const struct cfg_line *l, char **error_r)
{
	struct routing *r = p->r;

	p->seen = 0;
	if (strcmp(l->section, "gateway") == 0) {
		struct route_gateway *g;

		r->gw = xrealloc(r->gw, (r->ngw + 1) * sizeof(*r->gw));
		g = &r->gw[r->ngw++];
		memset(g, 0, sizeof(*g));
		g->prio_lo = 1;
		g->prio_hi = 10;
		g->tls = ROUTE_TLS_OPTIONAL;
		g->line = l->line;
		p->kind = SECT_GATEWAY;
		p->cur = g;
	} else if (strcmp(l->section, "forward") == 0) {
		struct route_forward *f;

		r->fw = xrealloc(r->fw, (r->nfw + 1) * sizeof(*r->fw));
		f = &r->fw[r->nfw++];
		memset(f, 0, sizeof(*f));
		f->greylisting = true;
		f->line = l->line;
		p->kind = SECT_FORWARD;
		p->cur = f;
	} else if (strcmp(l->section, "smarthost") == 0) {
		struct route_smarthost *sh;

		r->sh = xrealloc(r->sh, (r->nsh + 1) * sizeof(*r->sh));
		sh = &r->sh[r->nsh++];
		memset(sh, 0, sizeof(*sh));
		sh->greylisting = true;
		sh->line = l->line;
		p->kind = SECT_SMARTHOST;
		p->cur = sh;
	} else {
		*error_r = xasprintf("[%s]: unknown section (gateway, forward "
		    "or smarthost)", l->section);
		return -1;
	}
	return 0;
}

/* A section's name for logs and messages: its "name" key, else
 * "<kind> at line N". */
static char **
section_name(struct parse_ctx *p)
{
	switch (p->kind) {
	case SECT_GATEWAY:
		return &((struct route_gateway *)p->cur)->name;
	case SECT_FORWARD:
		return &((struct route_forward *)p->cur)->name;
	default:
		return &((struct route_smarthost *)p->cur)->name;
	}
}

static int
routing_line(const struct cfg_line *l, void *arg, char **error_r)
{
	struct parse_ctx *p = arg;
	const char *const *keys;
	size_t k;

	if (l->key == NULL)
		return section_start(p, l, error_r);
	keys = p->kind == SECT_GATEWAY ? gateway_keys :
	    p->kind == SECT_FORWARD ? forward_keys :
	    p->kind == SECT_SMARTHOST ? smarthost_keys : NULL;
	if (keys == NULL) {
		*error_r = xasprintf("'%s' outside a section", l->key);
		return -1;
	}
	for (k = 0; keys[k] != NULL; k++)
		if (strcmp(l->key, keys[k]) == 0)
			break;
	if (keys[k] == NULL) {
		*error_r = xasprintf("unknown key '%s' in [%s]", l->key,
		    l->section);
		return -1;
	}
	if (p->seen & (1u << k)) {
		*error_r = xasprintf("'%s' given twice in [%s]", l->key,
		    l->section);
		return -1;
	}
	p->seen |= 1u << k;
	if (k == 0) {
		*section_name(p) = xstrdup(l->value);
		return 0;
	}
	switch (p->kind) {
	case SECT_GATEWAY:
		return gateway_set(p->cur, l->key, l->value, error_r);
	case SECT_FORWARD:
		return forward_set(p, p->cur, l->key, l->value, error_r);
	default:
		return smarthost_set(p->cur, l->key, l->value, error_r);
	}
}

struct routing *
routing_load(const char *path, char **error_r)
{
	struct routing *r = xcalloc(1, sizeof(*r));
	struct parse_ctx p = { .r = r };

	r->path = xstrdup(path);
	if (cfgfile_parse(path, true, true, routing_line, &p, error_r) < 0 ||
	    routing_check(r, error_r) < 0) {
		routing_free(&r);
		return NULL;
	}
	return r;
}

char *
routing_default_path(void)
{
	return xasprintf("%s/routing.conf", conf_dir());
}

static void
addrs_free(struct route_addr *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(a[i].host);
	free(a);
}

void
routing_free(struct routing **rp)
{
	struct routing *r = *rp;

	if (r == NULL)
		return;
	for (size_t i = 0; i < r->ngw; i++) {
		free(r->gw[i].name);
		addrs_free(r->gw[i].addrs, r->gw[i].naddrs);
		free(r->gw[i].auth_user);
		free(r->gw[i].auth_password);
	}
	for (size_t i = 0; i < r->nfw; i++) {
		free(r->fw[i].name);
		addrs_free(r->fw[i].addrs, r->fw[i].naddrs);
		for (size_t j = 0; j < r->fw[i].ndomains; j++)
			free(r->fw[i].domains[j]);
		free(r->fw[i].domains);
	}
	for (size_t i = 0; i < r->nsh; i++) {
		free(r->sh[i].name);
		iplist_free(&r->sh[i].primary);
	}
	free(r->gw);
	free(r->fw);
	free(r->sh);
	free(r->path);
	free(r);
	*rp = NULL;
}

const struct route_forward *
routing_forward(const struct routing *r, const char *domain)
{
	return r != NULL ? forward_of(r, domain) : NULL;
}

size_t
routing_gateways(const struct routing *r, int priority,
    const struct route_gateway **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; r != NULL && i < r->ngw && n < max; i++)
		if (priority >= r->gw[i].prio_lo &&
		    priority <= r->gw[i].prio_hi)
			out[n++] = &r->gw[i];
	return n;
}

bool
routing_smarthost_primary(const struct routing *r, const struct sockaddr *sa,
    bool *greylisting_r)
{
	for (size_t i = 0; r != NULL && i < r->nsh; i++)
		if (iplist_match(r->sh[i].primary, sa)) {
			if (greylisting_r != NULL)
				*greylisting_r = r->sh[i].greylisting;
			return true;
		}
	return false;
}
