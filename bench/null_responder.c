/*
 * The floor for a UDP DNS server: answer every datagram by turning it into
 * a response (set QR, send the same bytes back) -- no parsing, no cache,
 * no epoll.  What is left is the kernel's cost of receiving and sending.
 *
 *   null_responder plain ADDR PORT   one recvfrom + one sendto per query
 *   null_responder batch ADDR PORT   recvmmsg + sendmmsg, up to 32 at a time
 *
 * Runs until killed (SIGTERM/SIGINT); prints how many it answered.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH	32
#define BUFSZ	1500

static volatile sig_atomic_t stop;
static unsigned long long answered;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
flip(unsigned char *p, size_t len)
{
	if (len >= 12)
		p[2] |= 0x80;	/* QR: this is a response */
}

static void
run_plain(int fd)
{
	unsigned char buf[BUFSZ];

	while (!stop) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("recvfrom");
			return;
		}
		if (n < 12)
			continue;
		flip(buf, (size_t)n);
		if (sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl) >= 0)
			answered++;
	}
}

static void
run_batch(int fd)
{
	static unsigned char bufs[BATCH][BUFSZ];
	struct sockaddr_storage from[BATCH];
	struct iovec iov[BATCH];
	struct mmsghdr msgs[BATCH], out[BATCH];

	while (!stop) {
		for (int i = 0; i < BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = BUFSZ;
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_name = &from[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		}
		int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("recvmmsg");
			return;
		}
		int k = 0;
		for (int i = 0; i < n; i++) {
			size_t len = msgs[i].msg_len;
			if (len < 12)
				continue;
			flip(bufs[i], len);
			iov[i].iov_len = len;
			out[k].msg_hdr = msgs[i].msg_hdr;	/* same name, same iov */
			out[k].msg_len = 0;
			k++;
		}
		int sent = 0;
		while (sent < k) {
			int r = sendmmsg(fd, out + sent, (unsigned)(k - sent), 0);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				break;	/* drop the rest, as a server would */
			}
			sent += r;
		}
		answered += (unsigned long long)sent;
	}
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sigaction sa = { .sa_handler = on_signal };	/* no SA_RESTART */
	int fd;

	if (argc != 4 || (strcmp(argv[1], "plain") != 0 && strcmp(argv[1], "batch") != 0)) {
		fprintf(stderr, "usage: %s plain|batch ADDR PORT\n", argv[0]);
		return 2;
	}
	if (inet_pton(AF_INET, argv[2], &sin.sin_addr) != 1) {
		fprintf(stderr, "%s: bad IPv4 address %s\n", argv[0], argv[2]);
		return 2;
	}
	sin.sin_port = htons((unsigned short)atoi(argv[3]));
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		perror("socket/bind");
		return 1;
	}
	if (argv[1][0] == 'p')
		run_plain(fd);
	else
		run_batch(fd);
	fprintf(stderr, "null_responder %s: answered %llu\n", argv[1], answered);
	return 0;
}
