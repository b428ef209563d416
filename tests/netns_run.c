/*
 * netns_run PROGRAM [ARGS...]: run a test in a network namespace of its own
 * with loopback up, so the servers it starts never meet the host's ports,
 * and with the host's fdtool configuration and runtime directories hidden
 * under empty tmpfs mounts, so an installed fdtool.conf or a running
 * daemon's control socket never leaks in.  Root gets new network and mount
 * namespaces; anyone else also a user namespace that maps only their own
 * ids, so a test still sees who it is.  Test-only: never installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef FDTOOL_CONFIG_DIR
#define FDTOOL_CONFIG_DIR "/etc/fdtool"
#endif

#define EXIT_SKIP 77	/* ctest's SKIP_RETURN_CODE for every wrapped test */

static int
write_file(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int r;

	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	r = n < 0 ? -errno : (size_t)n == len ? 0 : -EIO;
	close(fd);
	return r;
}

/* Map our own ids only: no other uid exists in here, root-only tests still skip. */
static int
map_own_ids(uid_t uid, gid_t gid)
{
	char line[32];
	int r;

	r = write_file("/proc/self/setgroups", "deny");
	if (r == 0) {
		snprintf(line, sizeof(line), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
		r = write_file("/proc/self/uid_map", line);
	}
	if (r == 0) {
		snprintf(line, sizeof(line), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
		r = write_file("/proc/self/gid_map", line);
	}
	return r;
}

/* A new namespace's lo is down; bringing it up gives it 127.0.0.1 and ::1. */
static int
loopback_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r = 0;

	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", sizeof("lo"));
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) != 0)
		r = -errno;
	if (r == 0) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) != 0)
			r = -errno;
	}
	close(fd);
	return r;
}

/*
 * The host's fdtool files, each covered by an empty tmpfs in our mount
 * namespace: configuration (read-only; the compiled-in default may be
 * /etc/fdtool or under the install prefix, or both may be the same, which
 * does no harm) and the runtime directory where servers put their default
 * control socket, so tests never meet each other's sockets or a running
 * daemon's.  Root makes /run/fdtool if it is missing, as a server would.
 */
static const struct {
	const char *dir;
	unsigned long flags;
	int make;
} covered[] = {
	{ "/etc/fdtool", MS_RDONLY, 0 },
	{ FDTOOL_CONFIG_DIR, MS_RDONLY, 0 },
	{ "/run/fdtool", 0, 1 },
};

static int
cover_dir(const char *dir, unsigned long flags, int make)
{
	struct stat st;

	if (make && mkdir(dir, 0755) != 0 && errno != EEXIST)
		return -errno;
	if (stat(dir, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (mount("tmpfs", dir, "tmpfs", flags | MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    "mode=0755") != 0)
		return -errno;
	return 0;
}

/*
 * FDTOOL_TEST_NETNS names the namespace we made ("net:[inode]"): the
 * integration scripts refuse to run anywhere else, e.g. on the host when
 * started by hand.
 */
static int
name_netns(void)
{
	char ns[64];
	ssize_t n = readlink("/proc/self/ns/net", ns, sizeof(ns) - 1);

	if (n < 0)
		return -errno;
	ns[n] = '\0';
	return setenv("FDTOOL_TEST_NETNS", ns, 1) == 0 ? 0 : -errno;
}

/*
 * Inside the new namespaces: our ids, lo, mounts made private so what we
 * mount stays in here, the host's fdtool files covered, the namespace
 * named for the scripts.  0, or -errno with *step saying what failed.
 */
static int
setup(uid_t uid, gid_t gid, const char **step)
{
	size_t i;
	int r;

	*step = "map our uid and gid";
	if (uid != 0 && (r = map_own_ids(uid, gid)) < 0)
		return r;
	*step = "bring lo up";
	if ((r = loopback_up()) < 0)
		return r;
	*step = "make mounts private";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
		return -errno;
	for (i = 0; i < sizeof(covered) / sizeof(covered[0]); i++) {
		*step = covered[i].dir;
		r = cover_dir(covered[i].dir, covered[i].flags, covered[i].make && uid == 0);
		if (r < 0)
			return r;
	}
	*step = "name the namespace";
	return name_netns();
}

int
main(int argc, char **argv)
{
	uid_t uid = geteuid();
	gid_t gid = getegid();
	const char *step;
	int r;

	if (argc < 2) {
		fprintf(stderr, "usage: netns_run PROGRAM [ARGS...]\n");
		return 2;
	}
	/* Only "this system lets us make none" is a skip; anything else is a
	 * failure to see, not a test that quietly did not run. */
	if (unshare(CLONE_NEWNET | CLONE_NEWNS | (uid == 0 ? 0 : CLONE_NEWUSER)) != 0) {
		int skip = errno == EPERM || errno == EINVAL || errno == ENOSPC ||
		    errno == EUSERS || errno == ENOSYS;
		fprintf(stderr, "netns_run: cannot create a network namespace: %s%s\n",
		    strerror(errno), skip ? "; skipping" : "");
		return skip ? EXIT_SKIP : 1;
	}
	/* A namespace we cannot finish is no place to run the test, nor is the host. */
	if ((r = setup(uid, gid, &step)) < 0) {
		fprintf(stderr, "netns_run: cannot set up the network namespace: %s: %s\n",
		    step, strerror(-r));
		return 1;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "netns_run: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
