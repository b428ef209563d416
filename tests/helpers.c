/*
 * Test helpers.  Children are started with fork+exec and stopped by pid,
 * so a test only ever signals processes it started itself.
 */
#include "tests/helpers.h"
#include "roles/server/dns.h"

#include <criterion/criterion.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
count_fds(pid_t pid)
{
	char path[64];
	DIR *d;
	struct dirent *e;
	int n = 0;

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/fd");
	else
		snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	if (!(d = opendir(path)))
		return -errno;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return pid == 0 ? n - 1 : n;	/* not the DIR's own descriptor */
}

/*
 * Children still running when a test ends (a failed assertion leaves the
 * test early) are killed by reap_spawned(), the suites' .fini, and again
 * when the test's process exits (a skipped test may not run its .fini):
 * a daemon left running would outlive the test run.
 */
static pid_t spawned[16];
static pid_t spawner;		/* the process that may reap them: not a fork of it */

static void
reap_at_exit(void)
{
	if (getpid() == spawner)
		reap_spawned();
}

static void
remember(pid_t pid)
{
	if (spawner != getpid()) {
		spawner = getpid();
		atexit(reap_at_exit);
	}
	for (size_t i = 0; i < sizeof(spawned) / sizeof(spawned[0]); i++)
		if (spawned[i] == 0) {
			spawned[i] = pid;
			return;
		}
}

static void
forget(pid_t pid)
{
	for (size_t i = 0; i < sizeof(spawned) / sizeof(spawned[0]); i++)
		if (spawned[i] == pid)
			spawned[i] = 0;
}

void
reap_spawned(void)
{
	for (size_t i = 0; i < sizeof(spawned) / sizeof(spawned[0]); i++)
		if (spawned[i] > 0) {
			kill(spawned[i], SIGKILL);
			waitpid(spawned[i], NULL, 0);
			spawned[i] = 0;
		}
}

pid_t
spawn_fdtool(const char *const argv[], const char *logfile, int keep_fd)
{
	pid_t pid = fork();

	if (pid != 0) {
		if (pid > 0)
			remember(pid);
		return pid;
	}
	/* No inherited stdout: a stray child must not hold the runner's pipe. */
	int null = open("/dev/null", O_RDWR);
	int log = logfile ? open(logfile, O_WRONLY | O_CREAT | O_APPEND, 0644) : -1;
	dup2(null, 0);
	dup2(null, 1);
	if (log >= 0)
		dup2(log, 2);
	if (null > 2)
		close(null);
	if (log > 2)
		close(log);
	/* nothing of the test runner's: a daemon holding its pipes would keep
	 * ctest waiting for their end if it ever outlived the test */
	if (keep_fd > 3)
		syscall(SYS_close_range, 3, keep_fd - 1, 0);
	syscall(SYS_close_range, keep_fd >= 3 ? keep_fd + 1 : 3, ~0U, 0);
	if (keep_fd >= 0)
		fcntl(keep_fd, F_SETFD, 0);
	/* execv promises not to write through argv; its type predates const */
	execv(FDTOOL_BIN, (char *const *)(uintptr_t)argv);
	_exit(126);
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int
wait_for_socket(const char *path, int timeout_ms)
{
	struct stat st;

	for (int waited = 0; waited < timeout_ms; waited += 10) {
		if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			return 0;
		sleep_ms(10);
	}
	return -ETIMEDOUT;
}

int
wait_child(pid_t pid, int timeout_ms)
{
	int status;

	for (int waited = 0; waited < timeout_ms; waited += 10) {
		if (waitpid(pid, &status, WNOHANG) == pid) {
			forget(pid);
			return status;
		}
		sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	forget(pid);
	return -1;
}

int
stop_child(pid_t pid, int timeout_ms)
{
	kill(pid, SIGTERM);
	return wait_child(pid, timeout_ms);
}

int
proc_status_field(pid_t pid, const char *key, char *buf, size_t size)
{
	char path[64], line[512];
	size_t klen = strlen(key);
	FILE *f;
	int r = -ENOENT;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (!(f = fopen(path, "r")))
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, klen) != 0 || line[klen] != ':')
			continue;
		char *v = line + klen + 1;
		v += strspn(v, " \t");
		v[strcspn(v, "\n")] = '\0';
		snprintf(buf, size, "%s", v);
		r = 0;
		break;
	}
	fclose(f);
	return r;
}

char *
make_tmpdir(char *buf, size_t size)
{
	snprintf(buf, size, "/tmp/fdtool-test.XXXXXX");
	if (!mkdtemp(buf))
		return NULL;
	chmod(buf, 0755);
	return buf;
}

char *
write_tmpfile(const char *name, const void *text, size_t len, char *buf, size_t size)
{
	char dir[64];
	FILE *f;

	if (!make_tmpdir(dir, sizeof(dir)))
		return NULL;
	snprintf(buf, size, "%s/%s", dir, name);
	if (!(f = fopen(buf, "w")))
		return NULL;
	if (fwrite(text, 1, len, f) != len) {
		fclose(f);
		return NULL;
	}
	return fclose(f) == 0 ? buf : NULL;
}

int
is_root(void)
{
	return geteuid() == 0;
}

static int
try_bind(int type, unsigned port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return ntohs(sin.sin_port);
}

unsigned
free_port(void)
{
	for (int i = 0; i < 100; i++) {
		int port = try_bind(SOCK_STREAM, 0);
		if (port > 0 && try_bind(SOCK_DGRAM, (unsigned)port) == port)
			return (unsigned)port;
	}
	return 0;
}

unsigned long
fd_inode(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (unsigned long)st.st_ino : 0;
}

int pair[2] = { -1, -1 };
int pair_fds_before;

void
pair_open(void)
{
	signal(SIGPIPE, SIG_DFL);	/* a SIGPIPE must kill the test, not be ignored */
	pair_fds_before = count_fds(0);
	cr_assert_gt(pair_fds_before, 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
}

void
pair_close(void)
{
	for (int i = 0; i < 2; i++) {
		if (pair[i] >= 0)
			close(pair[i]);
		pair[i] = -1;
	}
}

void
pair_assert_no_leak(void)
{
	int now;

	pair_close();
	now = count_fds(0);
	cr_assert_eq(now, pair_fds_before, "descriptors leaked: %d before, %d after",
	    pair_fds_before, now);
}

struct fdt_bind
loopback_bind(uint8_t proto, unsigned port)
{
	struct fdt_bind b = { .proto = proto, .family = FDT_FAMILY_INET, .port = (uint16_t)port };

	b.addr[0] = 127;
	b.addr[3] = 1;
	return b;
}

int
sockopt_int(int fd, int level, int opt)
{
	int v = -1;
	socklen_t len = sizeof(v);

	cr_assert_eq(getsockopt(fd, level, opt, &v, &len), 0);
	return v;
}

int
tmpl_in_place(uint8_t *msg, size_t len, size_t cap, struct dns_template_info *info)
{
	static uint8_t out[DNS_MSG_MAX];
	int n = dns_make_template(msg, len, out, sizeof(out), info);

	if (n > 0 && (size_t)n <= cap)
		memcpy(msg, out, (size_t)n);
	return n;
}
