/*
 * The hosts file: local names answered without an upstream, forward and
 * reverse.  resolv.conf, the other file of /etc we read, is resolvconf.h.
 */
#ifndef FDTOOL_SERVER_HOSTS_H
#define FDTOOL_SERVER_HOSTS_H

#include <stddef.h>
#include <stdint.h>

#include "roles/server/dns.h"

struct hosts;

/*
 * Parse a hosts(5) file: "ADDRESS NAME [ALIAS...]", '#' comments, IPv4
 * and IPv6 addresses (a %scope suffix makes the line ignored), names
 * case-folded.  Malformed lines are skipped and counted in *bad (if not
 * NULL).  At most HOSTS_MAX_NAMES names.  Returns the table, or NULL with
 * *err = -errno (a missing file is an error: the caller decides).
 */
#define HOSTS_MAX_NAMES	100000
struct hosts *hosts_load(const char *path, size_t *bad, int *err);
void hosts_free(struct hosts *h);
size_t hosts_count(const struct hosts *h);	/* names held */

/*
 * Addresses for a name (wire form, case-folded): family 4 fills 4-byte
 * items, 6 fills 16-byte items, up to max, in file order.  Returns the
 * count (0: the name is known but has no address of that family, which
 * is NODATA), or -ENOENT if the name is not in the file at all.
 */
int hosts_lookup(const struct hosts *h, const uint8_t *name, size_t namelen,
    int family, uint8_t *addrs, size_t max);

/*
 * The PTR answer: name is the wire-form question (x.x.x.x.in-addr.arpa or
 * the 32-nibble ip6.arpa form, any case); on a match, out gets the first
 * name given for that address (wire form) and its length is returned.
 * -ENOENT: not a reverse name we hold.
 */
int hosts_reverse(const struct hosts *h, const uint8_t *name, size_t namelen,
    uint8_t out[DNS_NAME_MAX]);

#endif
