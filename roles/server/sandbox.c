/*
 * The server's Landlock sandbox and the probe that proves it holds.
 * glibc has no Landlock wrappers and the installed UAPI header may predate
 * the running kernel, so the newer constants and structs are defined here
 * from the kernel ABI and used only when the kernel reports that ABI.
 */
#include "roles/server/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER		(1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE		(1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV		(1ULL << 15)
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP		(1ULL << 0)
#endif
#ifndef LANDLOCK_ACCESS_NET_CONNECT_TCP
#define LANDLOCK_ACCESS_NET_CONNECT_TCP		(1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET	(1ULL << 0)
#endif

/*
 * LANDLOCK_RULE_NET_PORT is an enum member in new headers (no #ifdef can
 * see it) and the structs grew fields, so these carry our own names.
 */
#define SANDBOX_RULE_PATH_BENEATH	1
#define SANDBOX_RULE_NET_PORT		2

struct sandbox_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;	/* ABI 4 */
	uint64_t scoped;		/* ABI 6 */
};

struct sandbox_path_beneath_attr {
	uint64_t allowed_access;
	int32_t parent_fd;
} __attribute__((packed));

struct sandbox_net_port_attr {
	uint64_t allowed_access;
	uint64_t port;
};

_Static_assert(sizeof(struct sandbox_path_beneath_attr) == 12,
    "landlock_path_beneath_attr is packed to 12 bytes");
_Static_assert(sizeof(struct sandbox_net_port_attr) == 16,
    "landlock_net_port_attr is 16 bytes");

#define FS_ACCESS_V1 (LANDLOCK_ACCESS_FS_EXECUTE | \
    LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_READ_FILE | \
    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_REMOVE_DIR | \
    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR | \
    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | \
    LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | \
    LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM)

#define PROBE_NAME "fdtool-sandbox-probe"

static int
landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0,
	    LANDLOCK_CREATE_RULESET_VERSION);

	return abi < 0 ? -errno : (int)abi;
}

/*
 * Each ABI only accepts the rights it knows; a right it does not know
 * cannot be restricted on that kernel anyway.
 */
static uint64_t
fs_access(int abi)
{
	uint64_t fs = FS_ACCESS_V1;

	if (abi >= 2)
		fs |= LANDLOCK_ACCESS_FS_REFER;
	if (abi >= 3)
		fs |= LANDLOCK_ACCESS_FS_TRUNCATE;
	if (abi >= 5)
		fs |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
	return fs;
}

static int
add_rule(int ruleset, int type, const void *attr)
{
	return syscall(SYS_landlock_add_rule, ruleset, type, attr, 0) == 0 ?
	    0 : -errno;
}

/* READ_DIR on a file is EINVAL, so it is granted only to directories. */
static int
allow_read(int ruleset, const char *path)
{
	struct sandbox_path_beneath_attr pb;
	struct stat st;
	int fd, r;

	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) != 0) {
		r = -errno;
		close(fd);
		return r;
	}
	pb.allowed_access = LANDLOCK_ACCESS_FS_READ_FILE;
	if (S_ISDIR(st.st_mode))
		pb.allowed_access |= LANDLOCK_ACCESS_FS_READ_DIR;
	pb.parent_fd = fd;
	r = add_rule(ruleset, SANDBOX_RULE_PATH_BENEATH, &pb);
	close(fd);
	return r;
}

static int
allow_connect(int ruleset, uint16_t port)
{
	struct sandbox_net_port_attr np = {
		.allowed_access = LANDLOCK_ACCESS_NET_CONNECT_TCP,
		.port = port,
	};

	return add_rule(ruleset, SANDBOX_RULE_NET_PORT, &np);
}

static int
add_rules(int ruleset, int abi, const char *const *read_paths,
    const uint16_t *tcp_ports, size_t nports)
{
	int r;

	for (size_t i = 0; read_paths && read_paths[i]; i++)
		if ((r = allow_read(ruleset, read_paths[i])) < 0)
			return r;
	if (abi < 4)
		return 0;
	for (size_t i = 0; i < nports; i++)
		if ((r = allow_connect(ruleset, tcp_ports[i])) < 0)
			return r;
	return 0;
}

/*
 * Signals are deliberately not scoped: the server must still be able to
 * signal its creator, which was started outside this domain.  The attr
 * size passed is the one the ABI knows, so an older kernel never sees a
 * field it would reject.
 */
int
sandbox_enter(const char *const *read_paths, const uint16_t *tcp_ports,
    size_t nports)
{
	struct sandbox_ruleset_attr attr = { 0 };
	size_t size;
	int abi, ruleset, r;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -errno;
	if ((abi = landlock_abi()) < 0)
		return abi;
	attr.handled_access_fs = fs_access(abi);
	size = sizeof(attr.handled_access_fs);
	if (abi >= 4) {
		attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP |
		    LANDLOCK_ACCESS_NET_CONNECT_TCP;
		size = sizeof(attr) - sizeof(attr.scoped);
	}
	if (abi >= 6) {
		attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
		size = sizeof(attr);
	}
	ruleset = syscall(SYS_landlock_create_ruleset, &attr, size, 0);
	if (ruleset < 0)
		return -errno;
	r = add_rules(ruleset, abi, read_paths, tcp_ports, nports);
	if (r == 0 && syscall(SYS_landlock_restrict_self, ruleset, 0) != 0)
		r = -errno;
	close(ruleset);
	return r < 0 ? r : abi;
}

/*
 * Only EACCES is proof: any other failure (no such directory, a
 * read-only mount) would be refused by an absent sandbox just the same.
 */
static int
refused(int ok)
{
	if (ok)
		return -EPERM;
	return errno == EACCES ? 0 : -errno;
}

/*
 * O_NONBLOCK and O_NOCTTY so that, unsandboxed, a FIFO or a terminal
 * given as existing_file cannot hang the probe or become our tty.
 */
int
sandbox_probe(const char *dir, const char *existing_file)
{
	char path[4096];
	int n, fd, r;

	n = snprintf(path, sizeof(path), "%s/" PROBE_NAME ".%ld", dir,
	    (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;

	fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if ((r = refused(fd >= 0)) < 0) {
		if (fd >= 0) {
			close(fd);
			unlink(path);
		}
		return r;
	}

	n = mkdir(path, 0700);
	if ((r = refused(n == 0)) < 0) {
		if (n == 0)
			rmdir(path);
		return r;
	}

	fd = open(existing_file, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if ((r = refused(fd >= 0)) < 0) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	return 0;
}
