/*
 * SCM_RIGHTS send and receive.  The control buffer is a union with
 * struct cmsghdr so that CMSG_* macros see it aligned, and is sized for
 * FDPASS_MAX: the kernel truncates (MSG_CTRUNC) past what we offer and
 * closes the excess itself, so only what did arrive needs closing.
 */
#include "common/fdpass.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

union fdpass_cmsg {
	struct cmsghdr hdr;
	char buf[CMSG_SPACE(sizeof(int) * FDPASS_MAX)];
};

void
fdpass_close_all(int *fds, size_t n)
{
	int saved = errno;

	for (size_t i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
	errno = saved;
}

int
fdpass_send(int sock, const void *buf, size_t len, const int *fds, size_t nfds)
{
	union fdpass_cmsg cm;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (nfds > FDPASS_MAX)
		return -EINVAL;
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* A record socket sends all or nothing; a short send means a stream. */
	return (size_t)n == len ? 0 : -EPROTOTYPE;
}

/* Move every SCM_RIGHTS descriptor into fds; note anything else. */
static int
fdpass_collect(struct msghdr *mh, int *fds, size_t maxfds, size_t *nfds)
{
	int bad = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0)) {
			bad = 1;
			continue;
		}
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const unsigned char *p = CMSG_DATA(c);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, p + i * sizeof(int), sizeof(int));
			if (*nfds < maxfds)
				fds[(*nfds)++] = fd;
			else {
				close(fd);
				bad = 1;
			}
		}
	}
	return bad;
}

ssize_t
fdpass_recv(int sock, void *buf, size_t len, int *fds, size_t maxfds,
    size_t *nfds, int flags)
{
	union fdpass_cmsg cm;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cm.buf,
		.msg_controllen = sizeof(cm.buf),
	};
	ssize_t n;
	int bad;

	*nfds = 0;
	do
		n = recvmsg(sock, &mh, flags | MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;

	bad = fdpass_collect(&mh, fds, maxfds, nfds);
	if (bad || (mh.msg_flags & MSG_CTRUNC)) {
		fdpass_close_all(fds, *nfds);
		*nfds = 0;
		return -EBADMSG;
	}
	if (mh.msg_flags & MSG_TRUNC) {
		fdpass_close_all(fds, *nfds);
		*nfds = 0;
		return -EMSGSIZE;
	}
	return n;
}
