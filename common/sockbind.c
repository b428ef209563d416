/*
 * One listening socket, bound with the options fdtool always uses.
 */
#include "common/sockbind.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/endpoint.h"

static int
setint(int fd, int level, int opt, int v)
{
	return setsockopt(fd, level, opt, &v, sizeof(v)) == 0 ? 0 : -errno;
}

/*
 * UDP never gets SO_REUSEADDR: on Linux it would let a second socket
 * bind the same port and silently take part of its traffic.
 */
int
sockbind(const struct fdt_bind *key)
{
	struct sockaddr_storage ss;
	int len = bind_sockaddr(key, &ss);
	int tcp = key->proto == FDT_PROTO_TCP;
	int fd, r = 0;

	if (len < 0)
		return len;
	fd = socket(ss.ss_family, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ss.ss_family == AF_INET6)
		r = setint(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	if (r == 0 && tcp)
		r = setint(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (r == 0 && (key->flags & FDT_BIND_F_REUSEPORT))
		r = setint(fd, SOL_SOCKET, SO_REUSEPORT, 1);
	if (r == 0 && bind(fd, (struct sockaddr *)&ss, (socklen_t)len) != 0)
		r = -errno;
	if (r == 0 && tcp && listen(fd, SOMAXCONN) != 0)
		r = -errno;
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}
