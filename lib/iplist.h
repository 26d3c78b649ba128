/*
 * iplist - client address lists: the smtp_whitelist, smtp_blacklist and
 * smtp_auth_bypass keys and, later, the other protocols' lists.
 *
 * An item is one of
 *
 *   192.0.2.1                    a single address, IPv4 or IPv6
 *   192.0.2.0/24  2001:db8::/32  a CIDR block; host bits must be zero
 *   192.0.2.1-192.0.2.99         an inclusive range, both ends of one
 *   2001:db8::1-2001:db8::ff     family and the first not above the last
 *
 * with no blanks inside (config lists split on blanks and commas, so
 * write "A-B", not "A - B").  IPv4 addresses are kept as their
 * IPv4-mapped IPv6 form (::ffff:a.b.c.d): a client that reaches an IPv6
 * socket as ::ffff:192.0.2.1 matches the item 192.0.2.1, and the items
 * 192.0.2.1 and ::ffff:192.0.2.1 are the same.  The one consequence to
 * know: an IPv6 block wide enough to hold ::ffff:0:0/96 (::/0 up to ::/80,
 * or a range across it) holds every IPv4 address too.  Zone ids
 * (fe80::1%eth0) are refused.
 *
 * The list is kept as sorted, merged ranges: a lookup is a binary search,
 * O(log n) for any number of items.
 */
#ifndef TERN_IPLIST_H
#define TERN_IPLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct iplist;

/*
 * Build a list from items[0..n).  Returns the list (never NULL on
 * success; n = 0 gives an empty list that matches nothing), or NULL and
 * *error_r = "'<item>': <reason>" (malloc'd; the caller frees it) naming
 * the first bad item.
 */
struct iplist *iplist_new(const char *const *items, size_t n,
    char **error_r);

/*
 * Check one item without building a list (for adminctl and master to
 * validate the same way smtpd will).  0, or -1 with *why_r a static
 * reason ("prefix length out of range" ...).
 */
int iplist_check(const char *item, const char **why_r);

/* True when sa (AF_INET or AF_INET6) is in the list; false for a NULL or
 * empty list and for other address families. */
bool iplist_match(const struct iplist *l, const struct sockaddr *sa);

/* Number of disjoint ranges left after merging (for logs and tests). */
size_t iplist_ranges(const struct iplist *l);

/* Free *lp (may be NULL) and set it to NULL. */
void iplist_free(struct iplist **lp);

#endif
