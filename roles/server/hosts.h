/*
 * Local name data read from files: the hosts file (answered without an
 * upstream) and resolv.conf (where the default upstreams come from).
 */
#ifndef FDTOOL_SERVER_HOSTS_H
#define FDTOOL_SERVER_HOSTS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/endpoint.h"
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

/*
 * "nameserver" lines of a resolv.conf(5) into out (port 53, proto both),
 * up to max, in file order; IPv6 with a %scope is skipped.  Returns the
 * count or -errno.
 */
int resolvconf_nameservers(const char *path, struct endpoint *out, size_t max);

/*
 * "nameserver" lines of a resolv.conf(5) as socket addresses (port 53),
 * up to max, in file order, parsed by server_addr_parse: scoped IPv6
 * ("fe80::1%eth0") is used.  The address is written as the C library
 * reads it: no brackets and no ":port".  *skipped (if not NULL) counts
 * the nameserver lines not used -- no address, one that does not parse
 * (an unknown interface, a link-local address without a scope), or past
 * max -- so the caller can say so.  Returns the count or -errno (-ENOENT
 * for a missing file).
 */
int resolvconf_upstreams(const char *path, struct sockaddr_storage *out,
    socklen_t *outlen, size_t max, size_t *skipped);

#endif
