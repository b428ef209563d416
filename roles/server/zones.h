/*
 * Where a name goes: upstream addresses as operators write them (IPv6
 * scopes included), forward zones (a suffix sent to its own servers) and
 * the RFC 6303 private reverse zones answered locally, never forwarded.
 */
#ifndef FDTOOL_SERVER_ZONES_H
#define FDTOOL_SERVER_ZONES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "roles/server/dns.h"

/* Longest server_addr_format output, NUL included: "[" v6 "%" ifname "]:65535" */
#define SERVER_ADDR_STRLEN	(1 + 46 + 1 + 16 + 1 + 6 + 1)

/*
 * "192.0.2.1", "192.0.2.1:5353", "2001:db8::1", "[2001:db8::1]:5353",
 * "fe80::1%eth0", "[fe80::1%eth0]:53", "fe80::1%2".  Numeric addresses
 * only.  A scope is an interface name (if_nametoindex) or an index, and
 * only a link-local address (fe80::/10) takes one -- and must.  Without
 * ":port", default_port (0: the port is required).
 * Returns 0 with *ss and *len set, or -EINVAL with *why (if not NULL) fit
 * for "--upstream X: <why>".
 */
int server_addr_parse(const char *s, uint16_t default_port,
    struct sockaddr_storage *ss, socklen_t *len, const char **why);

/* "192.0.2.1:53", "[2001:db8::1]:53", "[fe80::1%eth0]:53" (the index if
 * the interface is gone); returns buf (truncated if size is short). */
char *server_addr_format(const struct sockaddr *sa, char *buf, size_t size);

/*
 * A forward zone: names at or under name go to addr[] instead of the
 * default upstreams.  The root zone "." is valid and catches every name.
 */
#define ZONE_MAX_ADDR	8
struct forward_zone {
	uint8_t name[DNS_NAME_MAX];	/* wire form, case-folded */
	uint8_t namelen;
	struct sockaddr_storage addr[ZONE_MAX_ADDR];
	socklen_t addrlen[ZONE_MAX_ADDR];
	size_t naddr;			/* 1..ZONE_MAX_ADDR */
};

/*
 * "ZONE=ADDR[,ADDR...]": "corp.example=10.0.0.1",
 * "corp=10.0.0.1:5353,10.0.0.2", "168.192.in-addr.arpa=[fe80::1%eth0]:53",
 * ".=192.0.2.1".  The zone in any case, trailing dot optional; each
 * address as server_addr_parse takes it, port 53 by default.
 * Returns 0, or -EINVAL with *why (if not NULL) fit for
 * "--forward-zone X: <why>".
 */
int forward_zone_parse(const char *spec, struct forward_zone *z, const char **why);

/*
 * Index of the longest of the n zones that is name or one of its parents
 * (whole labels, any case: "xcorp.example" is not under "corp.example"),
 * the first in list order among equals; -1 if none or if name is not a
 * well-formed uncompressed wire name of namelen bytes.
 */
int forward_zone_find(const struct forward_zone *z, size_t n,
    const uint8_t *name, size_t namelen);

/*
 * 1 if name (wire form, any case) is at or under one of the locally
 * served zones of RFC 6303 section 4 or RFC 7793 (100.64.0.0/10), with
 * *zone_off (if not NULL) the offset in name where that zone begins, so
 * that name + *zone_off is the owner of the zone's SOA; else 0.
 */
int private_reverse_zone(const uint8_t *name, size_t namelen, size_t *zone_off);

#endif
