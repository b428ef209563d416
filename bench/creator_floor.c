/*
 * The creator's floor: how long does it take, at the least, to have another
 * process bind a UDP socket and hand it over?
 *
 *   creator_floor ROUNDS PORT FDTOOL [CREATOR-ARGS...]   (uses PORT and PORT+1)
 *
 * Two peers, each on its own SOCK_SEQPACKET socketpair, measured in
 * alternating blocks of BLOCK rounds (bare, fdtool, bare, fdtool, ...), so
 * that whatever else the machine does falls on both alike while each stays
 * warm within its block:
 *
 *   bare    a forked peer reads a 1024-byte request, does socket() + bind()
 *           on 127.0.0.1:PORT+1 (plus the setsockopt calls sockbind() would
 *           make: none for UDP over IPv4), sends a 1024-byte reply with the
 *           socket attached (SCM_RIGHTS) and closes its copy.  No
 *           validation, no table, no logging.
 *
 *   fdtool  `FDTOOL creator --fd 3 --allow udp:127.0.0.1:PORT [CREATOR-ARGS]`;
 *           each round is the project's own client call, creator_bind()
 *           (BIND_REQ -> BIND_REP, reply and socket checked), timed; then,
 *           untimed, the socket is closed and creator_release() makes the
 *           creator forget it, so every round is a fresh bind.
 *
 * Prints one line: rounds, then for each of bare and fdtool the median, p10,
 * p90 and minimum of the timed round trip in microseconds, the median over
 * the blocks of (fdtool's median / bare's median), and fdtool's median
 * release time.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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
#define WARMUP	50	/* rounds of each, not measured */
#define BLOCK	250	/* rounds of one kind before switching to the other */

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

static pid_t
spawn_bare(unsigned short port, int *sock)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		bare_peer(sv[1], port);
	}
	close(sv[1]);
	*sock = sv[0];
	return pid;
}

static pid_t
spawn_creator(unsigned short port, char *fdtool, char **extra, int nextra, int *sock)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		char allow[64];
		char **av = calloc((size_t)nextra + 8, sizeof(*av));
		int k = 0;

		close(sv[0]);
		/* the creator gets its end as descriptor 3 (dup2 clears CLOEXEC) */
		if (dup2(sv[1], 3) < 0)
			_exit(127);
		snprintf(allow, sizeof(allow), "udp:127.0.0.1:%u", port);
		av[k++] = fdtool;
		av[k++] = "creator";
		av[k++] = "--fd";
		av[k++] = "3";
		av[k++] = "--allow";
		av[k++] = allow;
		for (int i = 0; i < nextra; i++)
			av[k++] = extra[i];
		av[k] = NULL;
		execv(fdtool, av);
		perror("exec fdtool");
		_exit(127);
	}
	close(sv[1]);
	*sock = sv[0];
	return pid;
}

int
main(int argc, char **argv)
{
	int bsock = -1, csock = -1, rounds;
	unsigned short port;
	pid_t bpid, cpid;
	struct fdt_bind b;
	struct endpoint ep;
	char spec[64];

	if (argc < 4) {
		fprintf(stderr, "usage: %s ROUNDS PORT FDTOOL [CREATOR-ARGS...]\n", argv[0]);
		return 2;
	}
	rounds = atoi(argv[1]);
	port = (unsigned short)atoi(argv[2]);
	if (rounds < 1 || port == 0) {
		fprintf(stderr, "%s: bad ROUNDS or PORT\n", argv[0]);
		return 2;
	}
	snprintf(spec, sizeof(spec), "udp:127.0.0.1:%u", port);
	if (endpoint_parse(spec, 0, 0, &ep, NULL) != 0) {
		fprintf(stderr, "cannot parse %s\n", spec);
		return 1;
	}
	endpoint_to_bind(&ep, port, &b);
	/* the bare peer binds PORT+1: its copy may still be open a moment after its reply */
	bpid = spawn_bare((unsigned short)(port + 1), &bsock);
	cpid = spawn_creator(port, argv[3], argv + 4, argc - 4, &csock);
	if (bpid < 0 || cpid < 0) {
		perror("socketpair/fork");
		return 1;
	}

	double *tb = calloc((size_t)rounds, sizeof(double));
	double *tc = calloc((size_t)rounds, sizeof(double));
	double *rel = calloc((size_t)rounds, sizeof(double));
	double *ratio = calloc((size_t)rounds / BLOCK + 1, sizeof(double));
	int nblocks = 0;

	/* warm both up, then blocks of BLOCK bare rounds and BLOCK fdtool rounds */
	for (int start = -WARMUP; start < rounds; start = start < 0 ? 0 : start + BLOCK) {
		int end = start < 0 ? 0 : (start + BLOCK < rounds ? start + BLOCK : rounds);

		for (int i = start; i < end; i++) {
			double t0 = now_us();
			int fd = bare_round(bsock);
			double t1 = now_us();

			if (fd < 0) {
				fprintf(stderr, "bare round %d failed\n", i);
				return 1;
			}
			close(fd);
			if (i >= 0)
				tb[i] = t1 - t0;
		}
		for (int i = start; i < end; i++) {
			int fds[FDT_MAX_FDS], n;
			double t0 = now_us(), t1, t2;

			n = creator_bind(csock, &b, fds, 5000);
			t1 = now_us();
			if (n != 1) {
				fprintf(stderr, "creator_bind round %d: %s\n", i,
				    n < 0 ? strerror(-n) : "wrong descriptor count");
				return 1;
			}
			close(fds[0]);
			t2 = now_us();
			n = creator_release(csock, &b, 5000);
			if (n != 0) {
				fprintf(stderr, "creator_release round %d: %s\n", i, strerror(-n));
				return 1;
			}
			if (i >= 0) {
				tc[i] = t1 - t0;
				rel[i] = now_us() - t2;
			}
		}
		if (start >= 0 && end - start >= 2) {
			/* this block's ratio of medians */
			size_t k = (size_t)(end - start);
			double *x = malloc(k * sizeof(double)), *y = malloc(k * sizeof(double));

			memcpy(x, tb + start, k * sizeof(double));
			memcpy(y, tc + start, k * sizeof(double));
			qsort(x, k, sizeof(double), cmp_double);
			qsort(y, k, sizeof(double), cmp_double);
			ratio[nblocks++] = pct(y, (int)k, 0.5) / pct(x, (int)k, 0.5);
			free(x);
			free(y);
		}
	}
	close(bsock);
	close(csock);
	waitpid(bpid, NULL, 0);
	waitpid(cpid, NULL, 0);

	qsort(tb, (size_t)rounds, sizeof(double), cmp_double);
	qsort(tc, (size_t)rounds, sizeof(double), cmp_double);
	qsort(ratio, (size_t)nblocks, sizeof(double), cmp_double);
	qsort(rel, (size_t)rounds, sizeof(double), cmp_double);
	printf("rounds=%d bare_median_us=%.2f bare_p10_us=%.2f bare_p90_us=%.2f bare_min_us=%.2f "
	    "fdtool_median_us=%.2f fdtool_p10_us=%.2f fdtool_p90_us=%.2f fdtool_min_us=%.2f "
	    "ratio_median=%.3f release_median_us=%.2f\n", rounds,
	    pct(tb, rounds, 0.5), pct(tb, rounds, 0.1), pct(tb, rounds, 0.9), tb[0],
	    pct(tc, rounds, 0.5), pct(tc, rounds, 0.1), pct(tc, rounds, 0.9), tc[0],
	    nblocks ? pct(ratio, nblocks, 0.5) : 0.0, pct(rel, rounds, 0.5));
	return 0;
}
