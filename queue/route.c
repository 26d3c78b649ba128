/*
 * route - routing.conf (routing(5)) as the queue applies it: a remote
 * job for a forwarded domain goes to that domain's server, one whose
 * message priority a gateway covers goes to the gateways (in file
 * order), everything else by MX.  The agent gets each gateway's hosts,
 * login and TLS policy as one relay group of the job.
 *
 * Read at start and on every reload; a file with a mistake keeps the
 * previous table in force (adminctl check names the mistake).
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "queue.h"
#include "routing.h"
#include "xalloc.h"

static struct routing *R;

void
route_config(void)
{
	char *path = routing_default_path(), *err = NULL;
	struct routing *r = routing_load(path, &err);

	if (r == NULL) {
		log_exc(QLOG, "queue: %s; %s", err, R != NULL ?
		    "the previous routing stays in force" : "routing by MX");
		free(err);
	} else {
		routing_free(&R);
		R = r;
		if (R->ngw + R->nfw > 0)
			log_msg(QLOG, "queue: routing: %zu gateway(s), %zu "
			    "forwarded domain group(s)", R->ngw, R->nfw);
	}
	free(path);
}

void
route_exit(void)
{
	routing_free(&R);
}

static void
route_addrs(struct buf *b, const struct route_addr *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *t = routing_addr_text(&a[i]);

		buf_printf(b, "%s%s", buf_len(b) > 0 ? " " : "", t);
		free(t);
	}
}

static const char *
route_tls_name(enum route_tls t)
{
	return t == ROUTE_TLS_NONE ? "none" : t == ROUTE_TLS_REQUIRE ?
	    "require" : t == ROUTE_TLS_VERIFY ? "verify" : "optional";
}

/* A relay group for dj: hosts malloc'd (route_release frees them). */
static void
route_group(struct djob *dj, const struct route_addr *a, size_t n,
    const char *user, const char *password, const char *tls)
{
	struct djob_relay *r = &dj->relays[dj->nrelays++];
	struct buf b;

	buf_init(&b, 128, 0);
	route_addrs(&b, a, n);
	r->hosts = buf_steal(&b);
	/* buf_steal leaves b ready for reuse: release that too. */
	buf_release(&b);
	r->user = user;
	r->password = password;
	r->tls = tls;
}

size_t
route_fill(const struct qdu *d, struct djob *dj, const char **via_r)
{
	const struct route_gateway *gw[DJOB_RELAY_MAX];
	const struct route_forward *f;
	size_t n;

	*via_r = NULL;
	dj->nrelays = 0;
	if (R == NULL || d->dom == NULL)
		return 0;
	if ((f = routing_forward(R, rdom_name(d->dom))) != NULL) {
		route_group(dj, f->addrs, f->naddrs, NULL, NULL, NULL);
		*via_r = f->name;
	} else if ((n = routing_gateways(R, msg_prio(d->m, d), gw,
	    DJOB_RELAY_MAX)) > 0) {
		/* each gateway with its own login and TLS policy */
		for (size_t i = 0; i < n; i++)
			route_group(dj, gw[i]->addrs, gw[i]->naddrs,
			    gw[i]->auth_user, gw[i]->auth_password,
			    route_tls_name(gw[i]->tls));
		*via_r = gw[0]->name;
	}
	return dj->nrelays;
}

void
route_release(struct djob *dj)
{
	for (size_t i = 0; i < dj->nrelays; i++)
		free((char *)dj->relays[i].hosts);
	dj->nrelays = 0;
}
