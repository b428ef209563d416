/*
 * The creator's socket table, driven directly: what gets bound with which
 * options, that a repeat request gets the same kernel socket, the quota,
 * and that a half-failed "both" request leaves nothing behind.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/endpoint.h"
#include "roles/creator.h"
#include "tests/helpers.h"

Test(creator_table, binds_udp_and_tcp_with_the_right_options)
{
	struct creator_table t;
	unsigned port = free_port();
	struct fdt_bind b = loopback_bind(FDT_PROTO_BOTH, port);
	int fds[2], fresh;

	cr_assert_eq(creator_table_init(&t, 4), 0);
	cr_assert_eq(creator_table_get(&t, &b, fds, &fresh), 2);
	cr_assert_eq(fresh, 2);
	cr_assert_eq(sockopt_int(fds[0], SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
	cr_assert_eq(sockopt_int(fds[1], SOL_SOCKET, SO_TYPE), SOCK_STREAM);
	cr_assert_eq(sockopt_int(fds[0], SOL_SOCKET, SO_REUSEADDR), 0, "UDP must not get SO_REUSEADDR");
	cr_assert_eq(sockopt_int(fds[1], SOL_SOCKET, SO_REUSEADDR), 1);
	cr_assert_eq(sockopt_int(fds[1], SOL_SOCKET, SO_ACCEPTCONN), 1);
	cr_assert_eq(sockopt_int(fds[0], SOL_SOCKET, SO_REUSEPORT), 0);
	cr_assert_eq(t.used, 2);
	creator_table_free(&t);
}

Test(creator_table, ipv6_is_v6only)
{
	struct creator_table t;
	struct fdt_bind b = { .proto = FDT_PROTO_UDP, .family = FDT_FAMILY_INET6,
		.port = (uint16_t)free_port() };
	int fds[2], fresh, r;

	b.addr[15] = 1;
	cr_assert_eq(creator_table_init(&t, 4), 0);
	r = creator_table_get(&t, &b, fds, &fresh);
	if (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT)
		cr_skip_test("no ::1 on this machine (%s)", strerror(-r));
	cr_assert_eq(r, 1, "got %d", r);
	cr_assert_eq(sockopt_int(fds[0], IPPROTO_IPV6, IPV6_V6ONLY), 1);
	creator_table_free(&t);
}

Test(creator_table, repeat_gets_the_same_socket)
{
	struct creator_table t;
	struct fdt_bind b = loopback_bind(FDT_PROTO_BOTH, free_port());
	struct fdt_bind udp = b;
	int a[2], c[2], fresh;

	udp.proto = FDT_PROTO_UDP;
	cr_assert_eq(creator_table_init(&t, 4), 0);
	cr_assert_eq(creator_table_get(&t, &b, a, &fresh), 2);
	cr_assert_eq(creator_table_get(&t, &b, c, &fresh), 2);
	cr_assert_eq(fresh, 0);
	cr_assert_eq(fd_inode(a[0]), fd_inode(c[0]));
	cr_assert_eq(fd_inode(a[1]), fd_inode(c[1]));
	/* a UDP-only request finds the UDP half of the earlier "both" */
	cr_assert_eq(creator_table_get(&t, &udp, c, &fresh), 1);
	cr_assert_eq(fd_inode(c[0]), fd_inode(a[0]));
	cr_assert_eq(t.used, 2);
	creator_table_free(&t);
}

Test(creator_table, quota)
{
	struct creator_table t;
	unsigned p1 = free_port(), p2 = free_port();
	struct fdt_bind both = loopback_bind(FDT_PROTO_BOTH, p1);
	struct fdt_bind other = loopback_bind(FDT_PROTO_BOTH, p2);
	struct fdt_bind udp2 = loopback_bind(FDT_PROTO_UDP, p2);
	int fds[2], fresh;

	cr_assert_eq(creator_table_init(&t, 3), 0);
	cr_assert_eq(creator_table_get(&t, &both, fds, &fresh), 2);
	cr_assert_eq(creator_table_get(&t, &other, fds, &fresh), -EDQUOT);
	cr_assert_eq(t.used, 2, "a refused request binds nothing");
	cr_assert_eq(creator_table_get(&t, &udp2, fds, &fresh), 1);
	cr_assert_eq(creator_table_get(&t, &both, fds, &fresh), 2, "held sockets cost nothing");
	cr_assert_eq(creator_table_release(&t, &both), 0);
	cr_assert_eq(t.used, 1);
	cr_assert_eq(creator_table_get(&t, &other, fds, &fresh), 2);
	cr_assert_eq(fresh, 1, "UDP was held, TCP is new");
	creator_table_free(&t);
}

Test(creator_table, half_failed_both_keeps_nothing)
{
	struct creator_table t;
	unsigned port = free_port();
	struct fdt_bind b = loopback_bind(FDT_PROTO_BOTH, port);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int blocker = socket(AF_INET, SOCK_STREAM, 0), fds[2], fresh;

	/* someone else listens on the TCP port: the UDP half must be undone */
	cr_assert_eq(bind(blocker, (struct sockaddr *)&sin, sizeof(sin)), 0);
	cr_assert_eq(listen(blocker, 1), 0);
	cr_assert_eq(creator_table_init(&t, 4), 0);
	cr_assert_eq(creator_table_get(&t, &b, fds, &fresh), -EADDRINUSE);
	cr_assert_eq(t.used, 0);
	int udp = socket(AF_INET, SOCK_DGRAM, 0);
	cr_assert_eq(bind(udp, (struct sockaddr *)&sin, sizeof(sin)), 0, "UDP port left bound");
	close(udp);
	close(blocker);
	creator_table_free(&t);
}

Test(creator_table, reuseport_instances_are_distinct_sockets)
{
	struct creator_table t;
	struct fdt_bind b = loopback_bind(FDT_PROTO_UDP, free_port());
	int a[2], c[2], fresh;

	cr_assert_eq(creator_table_init(&t, 4), 0);
	b.instance = 1;
	cr_assert_eq(creator_table_get(&t, &b, a, &fresh), -EINVAL, "instance needs SO_REUSEPORT");
	b.flags = FDT_BIND_F_REUSEPORT;
	b.instance = 0;
	cr_assert_eq(creator_table_get(&t, &b, a, &fresh), 1);
	b.instance = 1;
	cr_assert_eq(creator_table_get(&t, &b, c, &fresh), 1);
	cr_assert_neq(fd_inode(a[0]), fd_inode(c[0]));
	cr_assert_eq(sockopt_int(c[0], SOL_SOCKET, SO_REUSEPORT), 1);
	creator_table_free(&t);
}

Test(creator_table, release_unknown_and_no_leak)
{
	struct creator_table t;
	struct fdt_bind b = loopback_bind(FDT_PROTO_BOTH, free_port());
	int fds[2], fresh, before = count_fds(0);

	cr_assert_eq(creator_table_init(&t, 4), 0);
	cr_assert_eq(creator_table_release(&t, &b), -ENOENT);
	cr_assert_eq(creator_table_get(&t, &b, fds, &fresh), 2);
	cr_assert_eq(count_fds(0), before + 2);
	cr_assert_eq(creator_table_release(&t, &b), 0);
	cr_assert_eq(count_fds(0), before);
	creator_table_free(&t);
}
