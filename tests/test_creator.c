/*
 * fdtool creator, the real binary, driven over its socket: grants within
 * the policy, refusals outside it, peers it does not trust, the socket
 * table seen from outside, hostile records, and (as root) the privilege
 * it keeps.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/creator_client.h"
#include "common/endpoint.h"
#include "common/fdpass.h"
#include "common/log.h"
#include "common/unixsock.h"
#include "tests/helpers.h"

#define TIMEOUT_MS 5000

struct creator_run {
	char dir[64];
	char sock[128];
	char log[128];
	pid_t pid;
};

/*
 * Start `fdtool creator --listen DIR/creator.sock --allow-uid OURS ARGS...`:
 * unprivileged, the test and the creator share a uid, which the creator
 * does not trust unless told to (as root the flag changes nothing).
 */
static void
creator_start_in(struct creator_run *cr, const char *const *args, int premade)
{
	static char uid[16];
	const char *argv[32];
	char run[96];
	int n = 0;

	cr_assert_not_null(make_tmpdir(cr->dir, sizeof(cr->dir)));
	snprintf(cr->sock, sizeof(cr->sock), "%s/run/creator.sock", cr->dir);
	/* premade: its directory is the dropped user's, as systemd's
	 * RuntimeDirectory= would make it; else the creator makes it */
	snprintf(run, sizeof(run), "%s/run", cr->dir);
	if (premade) {
		cr_assert_eq(mkdir(run, 0755), 0);
		if (is_root())
			cr_assert_eq(chown(run, 65534, 65534), 0);
	}
	snprintf(cr->log, sizeof(cr->log), "%s/creator.log", cr->dir);
	argv[n++] = "fdtool";
	argv[n++] = "creator";
	argv[n++] = "--listen";
	argv[n++] = cr->sock;
	snprintf(uid, sizeof(uid), "%u", (unsigned)getuid());
	argv[n++] = "--allow-uid";
	argv[n++] = uid;
	for (; args && *args && n < 31; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	cr->pid = spawn_fdtool(argv, cr->log, -1);
	cr_assert_gt(cr->pid, 0);
	cr_assert_eq(wait_for_socket(cr->sock, TIMEOUT_MS), 0,
	    "creator did not come up; see %s", cr->log);
}

static void
creator_start(struct creator_run *cr, const char *const *args)
{
	creator_start_in(cr, args, 1);
}

static void
creator_stop(struct creator_run *cr)
{
	int status = stop_child(cr->pid, TIMEOUT_MS);

	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	    "creator did not exit cleanly on SIGTERM (status %d)", status);
}

static int
creator_connect(const struct creator_run *cr)
{
	int fd = unixsock_connect(cr->sock);

	cr_assert_geq(fd, 0, "connect: %s", strerror(-fd));
	return fd;
}

/* Whether the creator's log has a line containing every given piece. */
static int
log_has(const struct creator_run *cr, const char *a, const char *b)
{
	char line[1024];
	FILE *f = fopen(cr->log, "r");
	int found = 0;

	cr_assert_not_null(f);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, a) && (!b || strstr(line, b));
	fclose(f);
	return found;
}

static unsigned
bound_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	cr_assert_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	cr_assert_eq(sin.sin_family, AF_INET);
	cr_assert_eq(ntohl(sin.sin_addr.s_addr), INADDR_LOOPBACK);
	return ntohs(sin.sin_port);
}

static void
close_fds(int *fds, int n)
{
	for (int i = 0; i < n; i++)
		close(fds[i]);
}

static char allow_arg[64];

static const char *
allow_both(unsigned port)
{
	snprintf(allow_arg, sizeof(allow_arg), "both:127.0.0.1:%u", port);
	return allow_arg;
}

TestSuite(creator, .timeout = 30, .fini = reap_spawned);

Test(creator, grants_what_the_policy_allows)
{
	struct creator_run cr;
	unsigned port = free_port();
	const char *args[] = { "--allow", allow_both(port), NULL };
	struct fdt_bind b = loopback_bind(FDT_PROTO_BOTH, port);
	int fds[2], sock, n;
	char pidtxt[32], what[64];

	creator_start(&cr, args);
	sock = creator_connect(&cr);
	n = creator_bind(sock, &b, fds, TIMEOUT_MS);
	cr_assert_eq(n, 2, "creator_bind: %s", n < 0 ? strerror(-n) : "wrong count");
	cr_assert_eq(bound_port(fds[0]), port);
	cr_assert_eq(bound_port(fds[1]), port);
	cr_assert_eq(sockopt_int(fds[0], SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
	cr_assert_eq(sockopt_int(fds[1], SOL_SOCKET, SO_TYPE), SOCK_STREAM);
	cr_assert_eq(sockopt_int(fds[1], SOL_SOCKET, SO_ACCEPTCONN), 1);

	/* one protocol alone */
	b.proto = FDT_PROTO_TCP;
	close_fds(fds, 2);
	cr_assert_eq(creator_bind(sock, &b, fds, TIMEOUT_MS), 1);
	cr_assert_eq(sockopt_int(fds[0], SOL_SOCKET, SO_TYPE), SOCK_STREAM);
	close_fds(fds, 1);
	close(sock);
	creator_stop(&cr);

	snprintf(pidtxt, sizeof(pidtxt), "pid %d uid %u", (int)getpid(), (unsigned)getuid());
	snprintf(what, sizeof(what), "granted both 127.0.0.1:%u", port);
	cr_assert(log_has(&cr, what, pidtxt), "grant not logged with peer pid/uid");
	cr_assert_eq(access(cr.sock, F_OK), -1, "socket file left behind after SIGTERM");
}

Test(creator, refuses_outside_the_policy)
{
	struct creator_run cr;
	unsigned port = free_port();
	const char *args[] = { "--allow", allow_both(port), NULL };
	struct fdt_bind b = loopback_bind(FDT_PROTO_BOTH, port == 65535 ? port - 1 : port + 1);
	int fds[2], sock;
	char what[64];

	creator_start(&cr, args);
	sock = creator_connect(&cr);
	cr_assert_eq(creator_bind(sock, &b, fds, TIMEOUT_MS), -EACCES);
	b = loopback_bind(FDT_PROTO_BOTH, port);
	b.addr[3] = 2;		/* 127.0.0.2: right port, wrong address */
	cr_assert_eq(creator_bind(sock, &b, fds, TIMEOUT_MS), -EACCES);
	/* the connection is still good */
	b = loopback_bind(FDT_PROTO_UDP, port);
	cr_assert_eq(creator_bind(sock, &b, fds, TIMEOUT_MS), 1);
	close_fds(fds, 1);
	close(sock);
	creator_stop(&cr);
	snprintf(what, sizeof(what), "refused both 127.0.0.1:%u", port == 65535 ? port - 1 : port + 1);
	cr_assert(log_has(&cr, what, "pid "), "refusal not logged");
}

Test(creator, no_allow_refuses_everything)
{
	struct creator_run cr;
	struct fdt_bind b = loopback_bind(FDT_PROTO_UDP, free_port());
	int fds[2], sock;

	creator_start(&cr, NULL);
	sock = creator_connect(&cr);
	cr_assert_eq(creator_bind(sock, &b, fds, TIMEOUT_MS), -EACCES);
	close(sock);
	creator_stop(&cr);
	cr_assert(log_has(&cr, "every request will be refused", NULL));
}

Test(creator, repeat_request_gets_the_same_socket)
{
	struct creator_run cr;
	unsigned port = free_port();
	const char *args[] = { "--allow", allow_both(port), NULL };
	struct fdt_bind b = loopback_bind(FDT_PROTO_BOTH, port);
	int a[2], c[2], sock;

	creator_start(&cr, args);
	sock = creator_connect(&cr);
	cr_assert_eq(creator_bind(sock, &b, a, TIMEOUT_MS), 2);
	cr_assert_eq(creator_bind(sock, &b, c, TIMEOUT_MS), 2, "second request must not meet EADDRINUSE");
	cr_assert_eq(fd_inode(a[0]), fd_inode(c[0]));
	cr_assert_eq(fd_inode(a[1]), fd_inode(c[1]));
	close_fds(c, 2);

	/* a "restarted server": new connection, its old descriptors gone */
	close(sock);
	unsigned long udp = fd_inode(a[0]), tcp = fd_inode(a[1]);
	close_fds(a, 2);
	sock = creator_connect(&cr);
	cr_assert_eq(creator_bind(sock, &b, c, TIMEOUT_MS), 2);
	cr_assert_eq(fd_inode(c[0]), udp);
	cr_assert_eq(fd_inode(c[1]), tcp);
	close_fds(c, 2);
	close(sock);
	creator_stop(&cr);
}

Test(creator, release_drops_the_entry)
{
	struct creator_run cr;
	unsigned port = free_port();
	const char *args[] = { "--allow", allow_both(port), NULL };
	struct fdt_bind b = loopback_bind(FDT_PROTO_BOTH, port);
	int a[2], c[2], sock;

	creator_start(&cr, args);
	sock = creator_connect(&cr);
	cr_assert_eq(creator_bind(sock, &b, a, TIMEOUT_MS), 2);
	unsigned long udp = fd_inode(a[0]);
	cr_assert_eq(creator_release(sock, &b, TIMEOUT_MS), 0);
	cr_assert_eq(creator_release(sock, &b, TIMEOUT_MS), -ENOENT);
	/* our copies keep the port: a new bind must really be new, and fail */
	cr_assert_eq(creator_bind(sock, &b, c, TIMEOUT_MS), -EADDRINUSE);
	close_fds(a, 2);
	cr_assert_eq(creator_bind(sock, &b, c, TIMEOUT_MS), 2);
	cr_assert_neq(fd_inode(c[0]), udp);
	close_fds(c, 2);
	close(sock);
	creator_stop(&cr);
}

Test(creator, quota)
{
	struct creator_run cr;
	unsigned p1 = free_port(), p2 = free_port();
	char allow2[64];
	const char *args[] = { "--allow", allow_both(p1), "--allow", allow2,
		"--max-sockets", "3", NULL };
	struct fdt_bind b1 = loopback_bind(FDT_PROTO_BOTH, p1), b2 = loopback_bind(FDT_PROTO_BOTH, p2);
	int fds[2], sock;

	snprintf(allow2, sizeof(allow2), "both:127.0.0.1:%u", p2);
	creator_start(&cr, args);
	sock = creator_connect(&cr);
	cr_assert_eq(creator_bind(sock, &b1, fds, TIMEOUT_MS), 2);
	close_fds(fds, 2);
	cr_assert_eq(creator_bind(sock, &b2, fds, TIMEOUT_MS), -EDQUOT);
	b2.proto = FDT_PROTO_UDP;
	cr_assert_eq(creator_bind(sock, &b2, fds, TIMEOUT_MS), 1);
	close_fds(fds, 1);
	b2.proto = FDT_PROTO_TCP;
	cr_assert_eq(creator_bind(sock, &b2, fds, TIMEOUT_MS), -EDQUOT);
	cr_assert_eq(creator_bind(sock, &b1, fds, TIMEOUT_MS), 2, "held sockets are still handed out");
	close_fds(fds, 2);
	close(sock);
	creator_stop(&cr);
	cr_assert(log_has(&cr, "--max-sockets reached", NULL));
}

/* Send raw bytes (and maybe a descriptor); expect an error reply. */
static void
expect_rejected(int sock, const void *buf, size_t len, int fd, uint32_t want_status)
{
	struct fdt_msg m;
	int fds[FDT_MAX_FDS];

	cr_assert_eq(fdpass_send(sock, buf, len, &fd, fd >= 0 ? 1 : 0), 0);
	cr_assert_eq(fdt_msg_recv(sock, &m, fds, 0), 0);
	cr_assert_eq(m.type, FDT_MSG_ERROR, "len %zu: got %s", len, fdt_msg_type_name(m.type));
	if (want_status)
		cr_assert_eq(m.status, want_status, "len %zu: status %u", len, m.status);
	else
		cr_assert_neq(m.status, 0);
}

Test(creator, survives_garbage_and_injected_descriptors)
{
	struct creator_run cr;
	unsigned port = free_port();
	const char *args[] = { "--allow", allow_both(port), NULL };
	struct fdt_bind b = loopback_bind(FDT_PROTO_BOTH, port);
	struct fdt_msg m;
	struct fdt_wire w;
	uint8_t junk[2048];
	int fds[2], sock, other, before, devnull = open("/dev/null", O_RDONLY);

	creator_start(&cr, args);
	other = creator_connect(&cr);	/* a bystander that must not notice */
	sock = creator_connect(&cr);
	cr_assert_eq(creator_bind(sock, &b, fds, TIMEOUT_MS), 2);
	close_fds(fds, 2);
	before = count_fds(cr.pid);
	cr_assert_gt(before, 0);

	memset(junk, 0xa5, sizeof(junk));
	expect_rejected(sock, junk, 1, -1, EMSGSIZE);
	expect_rejected(sock, junk, FDT_MSG_SIZE - 1, -1, EMSGSIZE);
	expect_rejected(sock, junk, FDT_MSG_SIZE + 1, -1, EMSGSIZE);
	expect_rejected(sock, junk, sizeof(junk), devnull, EMSGSIZE);
	expect_rejected(sock, junk, FDT_MSG_SIZE, -1, EPROTO);
	expect_rejected(sock, junk, 0, -1, EMSGSIZE);

	/* a valid request with a descriptor it must not carry */
	fdt_msg_init(&m, FDT_MSG_BIND_REQ, 77);
	m.body.bind = b;
	cr_assert_eq(fdt_msg_pack(&m, &w), 0);
	for (int i = 0; i < 20; i++)
		expect_rejected(sock, &w, sizeof(w), devnull, EBADMSG);
	/* reserved byte set */
	w.reserved[1] = 1;
	expect_rejected(sock, &w, sizeof(w), -1, EBADMSG);
	/* well-formed but a reply, not a request */
	fdt_msg_init(&m, FDT_MSG_CTL_REP, 78);
	cr_assert_eq(fdt_msg_pack(&m, &w), 0);
	expect_rejected(sock, &w, sizeof(w), -1, EOPNOTSUPP);

	cr_assert_eq(count_fds(cr.pid), before, "creator leaked injected descriptors");
	/* the same channel, and the bystander, still work */
	cr_assert_eq(creator_bind(sock, &b, fds, TIMEOUT_MS), 2);
	close_fds(fds, 2);
	cr_assert_eq(creator_bind(other, &b, fds, TIMEOUT_MS), 2);
	close_fds(fds, 2);

	/* a peer vanishing mid-conversation disturbs nobody */
	cr_assert_eq(fdpass_send(sock, junk, 10, NULL, 0), 0);
	close(sock);
	cr_assert_eq(creator_bind(other, &b, fds, TIMEOUT_MS), 2);
	close_fds(fds, 2);
	close(other);
	close(devnull);
	creator_stop(&cr);
}

Test(creator, serves_one_peer_on_an_inherited_descriptor)
{
	unsigned port = free_port();
	char fdarg[16], allow[64], dir[64], log[128];
	struct fdt_bind b = loopback_bind(FDT_PROTO_BOTH, port);
	int sv[2], fds[2], status;
	pid_t pid;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_not_null(make_tmpdir(dir, sizeof(dir)));
	snprintf(log, sizeof(log), "%s/creator.log", dir);
	snprintf(fdarg, sizeof(fdarg), "%d", sv[1]);
	snprintf(allow, sizeof(allow), "both:127.0.0.1:%u", port);
	const char *argv[] = { "fdtool", "creator", "--fd", fdarg, "--allow", allow, NULL };
	pid = spawn_fdtool(argv, log, sv[1]);
	close(sv[1]);
	cr_assert_gt(pid, 0);
	cr_assert_eq(creator_bind(sv[0], &b, fds, TIMEOUT_MS), 2);
	cr_assert_eq(bound_port(fds[1]), port);
	close_fds(fds, 2);
	/* its peer gone, it has nothing left to do */
	close(sv[0]);
	status = wait_child(pid, TIMEOUT_MS);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %d", status);
}

/*
 * In a child turned nobody, ask the creator for both:127.0.0.1:port.
 * Returns 0 when both sockets came, else -errno from creator_bind() (or
 * -1 / -2 / -255 when the child could not get that far).
 */
static int
bind_as_nobody(const struct creator_run *cr, unsigned port)
{
	int status;
	pid_t child = fork();

	cr_assert_geq(child, 0);
	if (child == 0) {
		struct fdt_bind b = loopback_bind(FDT_PROTO_BOTH, port);
		int fds[2];
		if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
			_exit(1);
		int sock = unixsock_connect(cr->sock);
		if (sock < 0)
			_exit(2);
		int r = creator_bind(sock, &b, fds, TIMEOUT_MS);
		_exit(r == 2 ? 0 : r < 0 ? -r : 255);
	}
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert(WIFEXITED(status));
	return -WEXITSTATUS(status);
}

Test(creator, refuses_a_uid_it_was_not_told_to_trust)
{
	if (!is_root())
		cr_skip_test("needs root: runs a client as nobody");
	struct creator_run cr;
	unsigned port = free_port();
	const char *args[] = { "--allow", allow_both(port), NULL };
	int r;

	/* nobody owns the socket file (the creator's --user), so only
	 * SO_PEERCRED can say no here */
	creator_start(&cr, args);
	r = bind_as_nobody(&cr, port);
	cr_assert_eq(r, -EACCES, "nobody was not refused: %s", strerror(-r));
	creator_stop(&cr);
	cr_assert(log_has(&cr, "refused connection from pid", "uid 65534"));
}

Test(creator, trusts_an_allowed_uid)
{
	if (!is_root())
		cr_skip_test("needs root: runs a client as nobody");
	struct creator_run cr;
	unsigned port = free_port();
	const char *args[] = { "--allow", allow_both(port), "--allow-uid", "nobody", NULL };
	int r;

	creator_start(&cr, args);
	r = bind_as_nobody(&cr, port);
	cr_assert_eq(r, 0, "allowed uid refused: %s", strerror(-r));
	creator_stop(&cr);
}

/* The done-when of the foundation issue, on a private socket path. */
Test(creator, as_root_keeps_only_cap_net_bind_service)
{
	if (!is_root())
		cr_skip_test("needs root: drops to nobody and binds port 53");
	struct creator_run cr;
	const char *args[] = { "--user", "nobody", "--allow", "both:127.0.0.1:53", NULL };
	struct fdt_bind b = loopback_bind(FDT_PROTO_BOTH, 53);
	char v[128];
	int fds[2], sock, n, before;
	uint8_t junk[FDT_MSG_SIZE];

	creator_start_in(&cr, args, 0);
	/* it serves only once it has dropped: a grant first, then /proc */
	sock = creator_connect(&cr);
	n = creator_bind(sock, &b, fds, TIMEOUT_MS);
	cr_assert_eq(n, 2, "port 53: %s", n < 0 ? strerror(-n) : "wrong count");
	cr_assert_eq(proc_status_field(cr.pid, "Uid", v, sizeof(v)), 0);
	cr_assert_str_eq(v, "65534\t65534\t65534\t65534");
	cr_assert_eq(proc_status_field(cr.pid, "Gid", v, sizeof(v)), 0);
	cr_assert_str_eq(v, "65534\t65534\t65534\t65534");
	cr_assert_eq(proc_status_field(cr.pid, "CapEff", v, sizeof(v)), 0);
	cr_assert_str_eq(v, "0000000000000400");
	cr_assert_eq(proc_status_field(cr.pid, "CapPrm", v, sizeof(v)), 0);
	cr_assert_str_eq(v, "0000000000000400");
	cr_assert_eq(proc_status_field(cr.pid, "CapBnd", v, sizeof(v)), 0);
	cr_assert_str_eq(v, "0000000000000400");
	cr_assert_eq(proc_status_field(cr.pid, "CapInh", v, sizeof(v)), 0);
	cr_assert_str_eq(v, "0000000000000000");
	cr_assert_eq(proc_status_field(cr.pid, "CapAmb", v, sizeof(v)), 0);
	cr_assert_str_eq(v, "0000000000000000");
	cr_assert_eq(proc_status_field(cr.pid, "NoNewPrivs", v, sizeof(v)), 0);
	cr_assert_str_eq(v, "1");

	struct stat st;
	cr_assert_eq(stat(cr.sock, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0660);
	cr_assert_eq(st.st_uid, 65534);

	cr_assert_eq(bound_port(fds[0]), 53);
	cr_assert_eq(bound_port(fds[1]), 53);
	close_fds(fds, 2);
	b.port = 22;
	cr_assert_eq(creator_bind(sock, &b, fds, TIMEOUT_MS), -EACCES);

	before = count_fds(cr.pid);
	memset(junk, 0x5a, sizeof(junk));
	for (int i = 0; i < 10; i++)
		expect_rejected(sock, junk, sizeof(junk) - (size_t)i, i % 2 ? -1 : sock, 0);
	cr_assert_eq(count_fds(cr.pid), before, "descriptor leak in the creator");
	close(sock);
	creator_stop(&cr);
	/* the directory it made is root's, not nobody's: nobody cannot plant a
	 * socket there, nor remove ours, which the next start replaces */
	char parent[sizeof(cr.sock)];
	snprintf(parent, sizeof(parent), "%s", cr.sock);
	*strrchr(parent, '/') = '\0';
	cr_assert_eq(stat(parent, &st), 0);
	cr_assert(st.st_uid == 0 && (st.st_mode & 0777) == 0755, "uid %u mode %o",
	    (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
	cr_assert(log_has(&cr, "left", "the next start replaces it"));
	n = unixsock_listen(cr.sock, 0600, (uid_t)-1, (gid_t)-1);
	cr_assert_geq(n, 0, "the stale socket is replaced: %s", strerror(-n));
	close(n);
	unlink(cr.sock);
}

Test(creator, max_peers_turns_the_next_one_away)
{
	struct creator_run cr;
	unsigned port = free_port();
	const char *args[] = { "--allow", allow_both(port), "--max-peers", "1", NULL };
	struct fdt_bind b = loopback_bind(FDT_PROTO_UDP, port);
	int fds[2], first, second;

	creator_start(&cr, args);
	first = creator_connect(&cr);
	cr_assert_eq(creator_bind(first, &b, fds, TIMEOUT_MS), 1);
	close_fds(fds, 1);
	second = creator_connect(&cr);
	cr_assert_eq(creator_bind(second, &b, fds, TIMEOUT_MS), -EUSERS);
	close(second);
	cr_assert_eq(creator_bind(first, &b, fds, TIMEOUT_MS), 1, "the first peer is unaffected");
	close_fds(fds, 1);
	close(first);
	creator_stop(&cr);
	cr_assert(log_has(&cr, "--max-peers reached", NULL));
}

/* CPU time (user + system) a process has used, in clock ticks. */
static long
cpu_ticks(pid_t pid)
{
	char path[64], buf[1024], *p;
	long utime = -1, stime = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	cr_assert_not_null(f = fopen(path, "r"));
	cr_assert_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	/* after the name in parentheses: state is field 3, utime 14, stime 15 */
	cr_assert_not_null(p = strrchr(buf, ')'));
	cr_assert_eq(sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %ld %ld",
	    &utime, &stime), 2);
	return utime + stime;
}

static int
log_count(const struct creator_run *cr, const char *a)
{
	char line[1024];
	FILE *f = fopen(cr->log, "r");
	int n = 0;

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, a) != NULL;
	fclose(f);
	return n;
}

/*
 * Defect 3 of issue 10: with its descriptor table full and a peer waiting
 * to be accepted, the creator span on the readable listener and logged
 * about a million "accept" lines in 2 s.  Now the waiting peer is told
 * EMFILE and the rest is quiet; once descriptors free, it serves again.
 */
Test(creator, out_of_descriptors_turns_a_peer_away_without_spinning)
{
	struct creator_run cr;
	unsigned base = free_port(), held[64], nheld = 0;
	char allow[64];
	const char *args[] = { "--allow", allow, "--max-sockets", "64", NULL };
	struct rlimit rl, low;
	struct fdt_bind b;
	int fds[2], sock, late, r = 0;
	long before;

	if (base > 65535 - 64)
		base -= 64;
	snprintf(allow, sizeof(allow), "udp:127.0.0.1:%u-%u", base, base + 63);
	/* the creator inherits a small table: 16 descriptors */
	cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
	low = (struct rlimit){ .rlim_cur = 16, .rlim_max = rl.rlim_max };
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	creator_start(&cr, args);
	cr_assert_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);

	/* a port of the range that another test of this suite (they run in
	 * parallel) holds answers EADDRINUSE: skip it, remember the held */
	sock = creator_connect(&cr);
	for (unsigned i = 0; i < 64 && r != -EMFILE; i++) {
		b = loopback_bind(FDT_PROTO_UDP, base + i);
		if ((r = creator_bind(sock, &b, fds, TIMEOUT_MS)) == 1) {
			close(fds[0]);
			held[nheld++] = base + i;
		}
	}
	cr_assert_eq(r, -EMFILE, "the creator's table never filled (%u held)", nheld);
	cr_assert_geq(nheld, 3);

	late = creator_connect(&cr);	/* waits in the backlog: accept fails */
	before = cpu_ticks(cr.pid);
	nanosleep(&(struct timespec){ .tv_sec = 2 }, NULL);
	cr_assert_leq(cpu_ticks(cr.pid) - before, 20,
	    "the creator spins with a peer it cannot accept (%ld ticks in 2 s)",
	    cpu_ticks(cr.pid) - before);
	cr_assert_leq(log_count(&cr, "accept"), LOG_LIMIT_BURST + 1,
	    "%d accept lines in the log", log_count(&cr, "accept"));
	b = loopback_bind(FDT_PROTO_UDP, held[0]);
	r = creator_bind(late, &b, fds, TIMEOUT_MS);
	cr_assert_eq(r, -EMFILE, "the turned-away peer reads why: %s", strerror(-r));
	close(late);
	r = creator_bind(sock, &b, fds, TIMEOUT_MS);
	cr_assert_eq(r, 1, "a held socket is still handed out: %s", strerror(-r));
	close(fds[0]);

	/* descriptors free: a new peer is served */
	for (unsigned i = 0; i < 3; i++) {
		b = loopback_bind(FDT_PROTO_UDP, held[i]);
		r = creator_release(sock, &b, TIMEOUT_MS);
		cr_assert_eq(r, 0, "release of port %u: %s", held[i], strerror(-r));
	}
	late = creator_connect(&cr);
	r = creator_bind(late, &b, fds, TIMEOUT_MS);
	cr_assert_eq(r, 1, "served again once descriptors freed: %s", strerror(-r));
	close(fds[0]);
	close(late);
	close(sock);
	creator_stop(&cr);
}
