/*
 * resolv.conf(5), read for its nameservers: the default upstreams when
 * none are given, re-read when the file changes.
 */
#ifndef FDTOOL_SERVER_RESOLVCONF_H
#define FDTOOL_SERVER_RESOLVCONF_H

#include <stddef.h>
#include <sys/socket.h>

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
