/*
 * sd_notify without libsystemd: the protocol is one connected AF_UNIX
 * datagram socket and a few lines of text, not worth a library and its
 * dependencies in a process whose point is to hold almost nothing.
 */
#include "common/notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define NOTIFY_MAX	4096

static int notify_fd = -1;

/* A path is NUL-terminated in sun_path; an abstract name is not. */
static int
notify_addr(const char *name, struct sockaddr_un *sun, socklen_t *len)
{
	size_t n = strlen(name);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (name[0] == '/') {
		if (n >= sizeof(sun->sun_path))
			return -ENAMETOOLONG;
		memcpy(sun->sun_path, name, n);
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
		return 0;
	}
	if (name[0] == '@') {
		if (n < 2)
			return -EINVAL;
		if (n > sizeof(sun->sun_path))
			return -ENAMETOOLONG;
		memcpy(sun->sun_path + 1, name + 1, n - 1);
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
		return 0;
	}
	/* "vsock:CID:PORT" (systemd 254+, for VMs) is not ours to speak */
	return n == 0 ? -EINVAL : -EAFNOSUPPORT;
}

int
notify_open(void)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct timeval tv = { .tv_sec = 1 };
	struct sockaddr_un sun;
	socklen_t len;
	int fd, r;

	notify_close();
	if (!name)
		return 0;
	r = notify_addr(name, &sun, &len);
	unsetenv("NOTIFY_SOCKET");	/* after the last use of name */
	if (r < 0)
		return r;
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -errno;
	/* systemd reading slowly must not stall a daemon's loop for long */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		goto fail;
	while ((r = connect(fd, (struct sockaddr *)&sun, len)) != 0 && errno == EINTR)
		;
	if (r != 0)
		goto fail;
	notify_fd = fd;
	return 1;
fail:
	r = -errno;
	close(fd);
	return r;
}

static int
notify_vsend(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static int
notify_vsend(const char *fmt, va_list ap)
{
	char buf[NOTIFY_MAX];
	ssize_t r;
	int n;

	if (notify_fd < 0)
		return 0;
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		return -EMSGSIZE;
	while ((r = send(notify_fd, buf, (size_t)n, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return -errno;
	return 1;
}

int
notify_send(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = notify_vsend(fmt, ap);
	va_end(ap);
	return r;
}

int
notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return notify_send("RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000ULL);
}

void
notify_close(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}
