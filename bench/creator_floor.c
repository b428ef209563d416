/*
 * The creator's floor: how long does it take, at the least, to have another
 * process bind a UDP socket and hand it over?  Two measurements, same shape:
 *
 *   creator_floor bare ROUNDS PORT
 *       a forked peer on a SOCK_SEQPACKET socketpair reads a 1024-byte
 *       request, does socket() + bind() on 127.0.0.1:PORT (plus the
 *       setsockopt calls sockbind() would make: none for UDP over IPv4),
 *       sends a 1024-byte reply with the socket attached (SCM_RIGHTS) and
 *       closes its copy.  No validation, no table, no logging.
 *
 *   creator_floor fdtool ROUNDS PORT FDTOOL [CREATOR-ARGS...]
 *       `FDTOOL creator --fd 3 --allow udp:127.0.0.1:PORT [CREATOR-ARGS]`
 *       as the peer; each round is the project's own client call,
 *       creator_bind() (BIND_REQ -> BIND_REP, socket checked), timed; then,
 *       untimed, the socket is closed and creator_release() makes the
 *       creator forget it, so every round is a fresh bind.
 *
 * Prints one line: mode, rounds, median/p10/p90/min microseconds of the
 * timed round trip (and, for fdtool, the median of the release).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/creator_client.h"
#include "common/endpoint.h"
#include "common/wire.h"

#define MSG	1024
#define WARMUP	50

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
pct(double *v, int n, double p)
{
	int i = (int)(p * (n - 1) + 0.5);

	return v[i];
}

/* ---- bare ---- */

static void
bare_peer(int s, unsigned short port)
{
	unsigned char req[MSG], rep[MSG];
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	memset(rep, 0, sizeof(rep));
	for (;;) {
		ssize_t n = recv(s, req, sizeof(req), 0);
		if (n <= 0)
			_exit(0);
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
			perror("bare peer: socket/bind");
			_exit(1);
		}
		memcpy(rep, req, 16);	/* echo the header, like a reply would */
		union {
			char buf[CMSG_SPACE(sizeof(int))];
			struct cmsghdr align;
		} c;
		struct iovec iov = { .iov_base = rep, .iov_len = sizeof(rep) };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = c.buf, .msg_controllen = sizeof(c.buf),
		};
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		if (sendmsg(s, &mh, MSG_NOSIGNAL) != (ssize_t)sizeof(rep)) {
			perror("bare peer: sendmsg");
			_exit(1);
		}
		close(fd);
	}
}

static int
bare_round(int s)
{
	unsigned char req[MSG], rep[MSG];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} c;
	struct iovec iov = { .iov_base = rep, .iov_len = sizeof(rep) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = c.buf, .msg_controllen = sizeof(c.buf),
	};
	int fd = -1;

	memset(req, 0, sizeof(req));
	memcpy(req, "fdt1", 4);
	if (send(s, req, sizeof(req), 0) != (ssize_t)sizeof(req))
		return -1;
	if (recvmsg(s, &mh, MSG_CMSG_CLOEXEC) != (ssize_t)sizeof(rep))
		return -1;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

int
main(int argc, char **argv)
{
	int sv[2], rounds, bare;
	unsigned short port;
	pid_t pid;

	if (argc < 4 || (strcmp(argv[1], "bare") != 0 && strcmp(argv[1], "fdtool") != 0) ||
	    (strcmp(argv[1], "fdtool") == 0 && argc < 5)) {
		fprintf(stderr, "usage: %s bare ROUNDS PORT | fdtool ROUNDS PORT FDTOOL [ARGS...]\n",
		    argv[0]);
		return 2;
	}
	bare = strcmp(argv[1], "bare") == 0;
	rounds = atoi(argv[2]);
	port = (unsigned short)atoi(argv[3]);
	if (rounds < 1 || port == 0) {
		fprintf(stderr, "%s: bad ROUNDS or PORT\n", argv[0]);
		return 2;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) != 0) {
		perror("socketpair");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		close(sv[0]);
		if (bare)
			bare_peer(sv[1], port);
		/* the creator gets its end as descriptor 3 */
		if (dup2(sv[1], 3) < 0)
			_exit(127);
		char allow[64];
		snprintf(allow, sizeof(allow), "udp:127.0.0.1:%u", port);
		char **av = calloc((size_t)argc + 8, sizeof(*av));
		int k = 0;
		av[k++] = argv[4];
		av[k++] = "creator";
		av[k++] = "--fd";
		av[k++] = "3";
		av[k++] = "--allow";
		av[k++] = allow;
		for (int i = 5; i < argc; i++)
			av[k++] = argv[i];
		av[k] = NULL;
		execv(argv[4], av);
		perror("exec fdtool");
		_exit(127);
	}
	close(sv[1]);

	struct fdt_bind b;
	struct endpoint ep;
	char spec[64];
	snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u", port);
	if (!bare) {
		if (endpoint_parse(spec, 0, 0, &ep, NULL) != 0) {
			fprintf(stderr, "cannot parse %s\n", spec);
			return 1;
		}
		endpoint_to_bind(&ep, port, &b);
	}

	double *t = calloc((size_t)rounds, sizeof(*t));
	double *rel = calloc((size_t)rounds, sizeof(*rel));
	for (int i = -WARMUP; i < rounds; i++) {
		double t0 = now_us(), t1, t2;
		int fds[FDT_MAX_FDS], n;

		if (bare) {
			int fd = bare_round(sv[0]);
			t1 = now_us();
			if (fd < 0) {
				fprintf(stderr, "bare round %d failed\n", i);
				return 1;
			}
			close(fd);
			t2 = t1;
		} else {
			n = creator_bind(sv[0], &b, fds, 5000);
			t1 = now_us();
			if (n != 1) {
				fprintf(stderr, "creator_bind round %d: %s\n", i,
				    n < 0 ? strerror(-n) : "wrong descriptor count");
				return 1;
			}
			close(fds[0]);
			double r0 = now_us();
			n = creator_release(sv[0], &b, 5000);
			t2 = now_us();
			if (n != 0) {
				fprintf(stderr, "creator_release round %d: %s\n", i, strerror(-n));
				return 1;
			}
			if (i >= 0)
				rel[i] = t2 - r0;
		}
		if (i >= 0)
			t[i] = t1 - t0;
	}
	close(sv[0]);
	waitpid(pid, NULL, 0);

	qsort(t, (size_t)rounds, sizeof(*t), cmp_double);
	qsort(rel, (size_t)rounds, sizeof(*rel), cmp_double);
	printf("mode=%s rounds=%d median_us=%.2f p10_us=%.2f p90_us=%.2f min_us=%.2f",
	    argv[1], rounds, pct(t, rounds, 0.5), pct(t, rounds, 0.1), pct(t, rounds, 0.9), t[0]);
	if (!bare)
		printf(" release_median_us=%.2f", pct(rel, rounds, 0.5));
	printf("\n");
	return 0;
}
