/* hostnames - the server's name per local address; see hostnames.h */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "hostnames.h"
#include "log.h"
#include "xalloc.h"

/* Canonical text of an IP literal s[0..len), or NULL if it is none. */
static char *
ip_canon(const char *s, size_t len)
{
	char tmp[HOSTNAMES_IP_MAX], out[HOSTNAMES_IP_MAX];
	unsigned char bin[sizeof(struct in6_addr)];

	if (len >= sizeof(tmp))
		return NULL;
	memcpy(tmp, s, len);
	tmp[len] = '\0';
	if (inet_pton(AF_INET, tmp, bin) == 1)
		return xstrdup(inet_ntop(AF_INET, bin, out, sizeof(out)));
	if (inet_pton(AF_INET6, tmp, bin) == 1)
		return xstrdup(inet_ntop(AF_INET6, bin, out, sizeof(out)));
	return NULL;
}

void
hostnames_load(struct hostnames *h, int sub)
{
	const char *const *l = conf_list("hostnames", NULL);
	char buf[256];

	memset(h, 0, sizeof(*h));
	if (conf_str("hostname")[0] != '\0')
		h->host = xstrdup(conf_str("hostname"));
	else if (gethostname(buf, sizeof(buf)) == 0 && buf[0] != '\0') {
		buf[sizeof(buf) - 1] = '\0';
		h->host = xstrdup(buf);
	} else
		h->host = xstrdup("localhost");
	for (; *l != NULL; l++) {
		const char *eq = strchr(*l, '=');
		char *ip = eq != NULL ? ip_canon(*l, (size_t)(eq - *l)) : NULL;

		if (ip == NULL || eq[1] == '\0') {
			log_exc(sub, "hostnames: '%s' is not IP=NAME; ignored",
			    *l);
			free(ip);
			continue;
		}
		h->pairs = xrealloc(h->pairs, (h->n + 1) * 2 * sizeof(char *));
		h->pairs[h->n * 2] = ip;
		h->pairs[h->n * 2 + 1] = xstrdup(eq + 1);
		h->n++;
	}
}

void
hostnames_release(struct hostnames *h)
{
	for (size_t i = 0; i < h->n * 2; i++)
		free(h->pairs[i]);
	free(h->pairs);
	free(h->host);
	memset(h, 0, sizeof(*h));
}

void
hostnames_ip_text(const struct sockaddr *sa, char buf[HOSTNAMES_IP_MAX])
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    buf, HOSTNAMES_IP_MAX);
	else if (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf,
		    HOSTNAMES_IP_MAX);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &s6->sin6_addr, buf, HOSTNAMES_IP_MAX);
	else
		snprintf(buf, HOSTNAMES_IP_MAX, "unknown");
}

const char *
hostnames_for(const struct hostnames *h, const struct sockaddr *sa)
{
	char ip[HOSTNAMES_IP_MAX];

	if (h->n > 0) {
		hostnames_ip_text(sa, ip);
		for (size_t i = 0; i < h->n; i++)
			if (strcmp(h->pairs[i * 2], ip) == 0)
				return h->pairs[i * 2 + 1];
	}
	return h->host;
}

bool
hostnames_ours(const struct hostnames *h, const char *name)
{
	if (strcasecmp(name, h->host) == 0)
		return true;
	for (size_t i = 0; i < h->n; i++)
		if (strcasecmp(name, h->pairs[i * 2 + 1]) == 0)
			return true;
	return false;
}
