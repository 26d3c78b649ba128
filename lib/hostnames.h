/*
 * hostnames - the server's name on each of its addresses: tern.conf's
 * hostnames (IP=NAME items, the reference's Hostnames page), else
 * hostname, else the system's name.  smtpd greets with it and the remote
 * delivery agent says it in EHLO, each for the local address of the
 * connection; the agent also knows itself among a domain's MX hosts by
 * any of these names.
 */
#ifndef TERN_HOSTNAMES_H
#define TERN_HOSTNAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct hostnames {
	char *host;                 /* hostname, the system's, or localhost */
	char **pairs;               /* canonical ip, name, ip, name ... */
	size_t n;                   /* pairs */
};

#define HOSTNAMES_IP_MAX 64

/* From the loaded tern.conf; an item that is not IP=NAME is logged to
 * log subsystem sub and skipped.  Release with hostnames_release. */
void hostnames_load(struct hostnames *h, int sub);
void hostnames_release(struct hostnames *h);
/* The name for the local address sa. */
const char *hostnames_for(const struct hostnames *h,
    const struct sockaddr *sa);
/* Is name (any case) one of ours? */
bool hostnames_ours(const struct hostnames *h, const char *name);
/* sa's IP as text ("192.0.2.1", "2001:db8::1"; an IPv4-mapped IPv6
 * address as IPv4), "unknown" for other families. */
void hostnames_ip_text(const struct sockaddr *sa,
    char buf[HOSTNAMES_IP_MAX]);

#endif
