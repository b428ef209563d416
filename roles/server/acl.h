/*
 * Who may ask the server: --allow-from CIDR entries and the per-query
 * match against a client's address.  Parsing happens once at start-up;
 * acl_match runs per query and does no allocation and no string work.
 */
#ifndef FDTOOL_SERVER_ACL_H
#define FDTOOL_SERVER_ACL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * One network.  addr holds the network with its host bits zero (IPv4 in
 * the first 4 bytes, the rest zero), so a match is a prefix compare.
 * An IPv4-mapped IPv6 entry (::ffff:0:0/96 or longer) is stored as the
 * IPv4 network it names, since clients on mapped addresses match as IPv4.
 */
struct acl_entry {
	uint8_t family;		/* 4 or 6 */
	uint8_t prefix;		/* 0..32 or 0..128 */
	uint8_t addr[16];
};

/* Longest acl_format output, NUL included: an IPv6 address and "/128". */
#define ACL_STRLEN	(46 + 4)

/*
 * "10.0.0.0/8", "192.168.1.5" (/32), "fe80::/10", "::1" (/128).  Host
 * bits set below the prefix ("10.1.2.3/8") are cleared, as Unbound and
 * iptables do; the return value says so, so the caller can warn that the
 * entry means acl_format's text rather than what was written.
 * Returns 0, 1 (host bits were cleared), or -EINVAL with *why (if not
 * NULL) fit for "--allow-from X: <why>".
 */
int acl_parse(const char *s, struct acl_entry *e, const char **why);

/*
 * 1 if sa (AF_INET or AF_INET6) lies in any of the n entries, else 0.
 * ::ffff:a.b.c.d is matched as a.b.c.d, so "::/0" does not admit IPv4
 * clients on a dual-stack socket: say "0.0.0.0/0" for them.
 */
int acl_match(const struct acl_entry *list, size_t n, const struct sockaddr *sa);

/* 1 for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104, else 0. */
int acl_is_loopback(const struct sockaddr *sa);

/* "10.0.0.0/8", "fe80::/10"; returns buf (truncated if size is short). */
char *acl_format(const struct acl_entry *e, char *buf, size_t size);

#endif
