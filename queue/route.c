/*
 * route - routing.conf (routing(5)) as the queue applies it: a remote
 * job for a forwarded domain goes to that domain's server, one whose
 * message priority a gateway covers goes to the gateways (in file
 * order), everything else by MX.  The agent gets the hosts in the job's
 * relay fields; the login and TLS policy are the first gateway's.
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

char *
route_fill(const struct qdu *d, struct djob *dj, const char **via_r)
{
	const struct route_gateway *gw[16];
	const struct route_forward *f;
	struct buf b;
	size_t n;
	char *relay;

	*via_r = NULL;
	if (R == NULL || d->dom == NULL)
		return NULL;
	buf_init(&b, 128, 0);
	if ((f = routing_forward(R, rdom_name(d->dom))) != NULL) {
		route_addrs(&b, f->addrs, f->naddrs);
		*via_r = f->name;
	} else if ((n = routing_gateways(R, msg_prio(d->m, d), gw, 16)) > 0) {
		for (size_t i = 0; i < n; i++)
			route_addrs(&b, gw[i]->addrs, gw[i]->naddrs);
		dj->relay_user = gw[0]->auth_user;
		dj->relay_password = gw[0]->auth_password;
		dj->relay_tls = route_tls_name(gw[0]->tls);
		*via_r = gw[0]->name;
	} else {
		buf_release(&b);
		return NULL;
	}
	/* buf_steal leaves b ready for reuse: release that too. */
	relay = buf_steal(&b);
	buf_release(&b);
	dj->relay = relay;
	return relay;
}
