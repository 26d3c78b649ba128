/*
 * addrpat - lists of address and domain patterns, such as
 * smtp_blocked_senders and smtp_sender_any (and, later, the forwarding
 * blacklist).
 *
 * An item is
 *
 *   user@example.com     one address
 *   example.com          every address of a domain (not its subdomains)
 *   *@example.com        the same as example.com
 *   *.example.com        every subdomain of example.com (not itself)
 *   sales*@example.*     '*' stands for any run of characters, '.' too
 *
 * Matching ignores ASCII case.  A pattern without '@' is compared with
 * the domain alone.  Domains are compared in their A-label form: an item
 * with a UTF-8 domain and no '*' is converted (xn--...) when the list is
 * built; with a '*' it must already be written as A-labels.
 */
#ifndef TERN_ADDRPAT_H
#define TERN_ADDRPAT_H

#include <stdbool.h>
#include <stddef.h>

struct addrpat;

/*
 * Build a list from items[0..n).  The list (n = 0: matches nothing), or
 * NULL and *error_r = "'<item>': <reason>" (malloc'd, caller frees).
 */
struct addrpat *addrpat_new(const char *const *items, size_t n,
    char **error_r);

/* Check one item alone (adminctl, master).  0, or -1 and static why. */
int addrpat_check(const char *item, const char **why_r);

/*
 * True when local@domain matches an item.  domain: as addr_parse()
 * returns it (lower case, A-labels, or an address literal).  local: the
 * local part in any case, or NULL to ask about the domain alone (then
 * only items without a local part, or with local part "*", can match).
 */
bool addrpat_match(const struct addrpat *p, const char *local,
    const char *domain);

/* Number of items. */
size_t addrpat_count(const struct addrpat *p);

/* Free *pp (may be NULL) and set it to NULL. */
void addrpat_free(struct addrpat **pp);

#endif
