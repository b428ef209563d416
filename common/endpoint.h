/*
 * Endpoints as operators write them: "udp:127.0.0.1:53", "tcp:[::1]:53",
 * "both:0.0.0.0:53", "both:127.0.0.1:8053-8060".  The creator's policy is
 * a list of them; the server's --listen uses the same syntax with the
 * protocol and the port optional.
 */
#ifndef FDTOOL_ENDPOINT_H
#define FDTOOL_ENDPOINT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/wire.h"

struct endpoint {
	uint8_t proto;		/* enum fdt_proto */
	uint8_t family;		/* enum fdt_family */
	uint8_t addr[16];	/* IPv4 in the first 4 bytes */
	uint16_t port_lo;
	uint16_t port_hi;	/* == port_lo for a single port */
};

#define ENDPOINT_PROTO_OPTIONAL	0x1	/* no "proto:" means both */
#define ENDPOINT_PORT_OPTIONAL	0x2	/* no ":port" means default_port */
#define ENDPOINT_NO_RANGE	0x4	/* one port, not lo-hi */

/* Longest formatted endpoint, NUL included: "both:[" v6 "]:65535-65535" */
#define ENDPOINT_STRLEN	72

/*
 * Returns 0, or -EINVAL with *why (if not NULL) saying what is wrong in
 * words fit for "--allow udp:x: <why>".
 */
int endpoint_parse(const char *s, unsigned flags, uint16_t default_port,
    struct endpoint *ep, const char **why);

/* A decimal port 1..65535, the whole of [s, end): 0 or -EINVAL. */
int endpoint_parse_port(const char *s, const char *end, uint16_t *port);

/* "both:[::1]:53" or "udp:127.0.0.1:8053-8060"; returns buf. */
char *endpoint_format(const struct endpoint *ep, char *buf, size_t size);

/* Whether the policy entry allows binding b (every protocol b asks for). */
int endpoint_allows(const struct endpoint *policy, const struct fdt_bind *b);

/* The bind request for one port of an endpoint. */
void endpoint_to_bind(const struct endpoint *ep, uint16_t port, struct fdt_bind *b);

/* sockaddr for a bind body; returns its length, or -EAFNOSUPPORT. */
int bind_sockaddr(const struct fdt_bind *b, struct sockaddr_storage *ss);

/* "udp 127.0.0.1:53" for logs; returns buf. */
char *bind_format(const struct fdt_bind *b, char *buf, size_t size);

#endif
