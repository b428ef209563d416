/*
 * Where log lines go decides how they look: a child logs with its stderr
 * on a file that JOURNAL_STREAM names (journald: "<N>" priority, no
 * time), on a pipe or other file (the plain line the integration tests
 * grep), or on a pseudo-terminal (a local ISO 8601 timestamp).
 */
#include "common/log.h"

#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/helpers.h"

#define MATCH_STDERR	"match"	/* JOURNAL_STREAM: stderr's own dev:ino */

static char tmpfile_path[64];

static void
remove_tmpfile(void)
{
	if (tmpfile_path[0])
		unlink(tmpfile_path);
	tmpfile_path[0] = '\0';
}

TestSuite(logging, .fini = remove_tmpfile, .timeout = 10);

static int
make_tmpfile(void)
{
	int fd;

	snprintf(tmpfile_path, sizeof(tmpfile_path), "/tmp/fdtool-test-log.XXXXXX");
	fd = mkstemp(tmpfile_path);
	cr_assert_geq(fd, 0);
	return fd;
}

static void
body_levels(void)
{
	log_info("hello %d", 1);
	log_debug("not shown at info");
	log_warnx("careful");
	errno = EIO;
	log_warn("failed");
	if (errno != EIO)
		_exit(3);
}

static void
body_fatal(void)
{
	fatalx("bye");
}

/*
 * Fork a child whose stderr is out, with JOURNAL_STREAM set to js (NULL:
 * unset; MATCH_STDERR: out's dev:ino) and TZ to tz (NULL: unset), that
 * runs log_init and body; returns its exit status.
 */
static int
run_logger(int out, const char *js, const char *tz, void (*body)(void))
{
	int status;
	pid_t pid = fork();

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		char buf[64];
		struct stat st;
		if (dup2(out, STDERR_FILENO) != STDERR_FILENO)
			_exit(2);
		if (js && strcmp(js, MATCH_STDERR) == 0) {
			if (fstat(STDERR_FILENO, &st) != 0)
				_exit(2);
			snprintf(buf, sizeof(buf), "%llu:%llu",
			    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
			setenv("JOURNAL_STREAM", buf, 1);
		} else if (js)
			setenv("JOURNAL_STREAM", js, 1);
		else
			unsetenv("JOURNAL_STREAM");
		if (tz)
			setenv("TZ", tz, 1);
		else
			unsetenv("TZ");
		log_init("fdtool test", LOG_LVL_INFO);
		body();
		_exit(0);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* What the child wrote into the temporary file. */
static void
read_back(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	cr_assert_geq(n, 0);
	buf[n] = '\0';
}

Test(logging, journald_gets_priorities_and_no_timestamp)
{
	char out[1024];
	int fd = make_tmpfile();

	cr_assert_eq(run_logger(fd, MATCH_STDERR, NULL, body_levels), 0, "errno not preserved");
	read_back(fd, out, sizeof(out));
	cr_assert_str_eq(out,
	    "<6>fdtool test: info: hello 1\n"
	    "<4>fdtool test: warning: careful\n"
	    "<4>fdtool test: warning: failed: Input/output error\n");
	close(fd);
}

Test(logging, journald_fatal_is_priority_3)
{
	char out[256];
	int fd = make_tmpfile();

	cr_assert_eq(run_logger(fd, MATCH_STDERR, NULL, body_fatal), 1);
	read_back(fd, out, sizeof(out));
	/* only the first line: LeakSanitizer may add its own at exit() */
	cr_assert_eq(strncmp(out, "<3>fdtool test: error: bye\n", 27), 0, "got %s", out);
	close(fd);
}

/* By value: Criterion hands parameters to a fresh process, where pointers into our data need not hold. */
struct stream_case {
	char js[16];		/* "-": leave JOURNAL_STREAM unset */
	char why[64];
};

/* Not the journal: the line stays exactly as it always was. */
static struct stream_case not_journal[] = {
	{ "-", "no JOURNAL_STREAM" },
	{ "1:1", "another stream's dev:ino (stderr was redirected since)" },
	{ "", "empty" },
	{ "garbage", "no colon" },
	{ "12:", "no inode" },
	{ ":12", "no device" },
	{ "1:2:3", "trailing bytes" },
};

ParameterizedTestParameters(logging, plain_on_a_file_that_is_not_the_journal)
{
	return cr_make_param_array(struct stream_case, not_journal,
	    sizeof(not_journal) / sizeof(not_journal[0]));
}

ParameterizedTest(struct stream_case *c, logging, plain_on_a_file_that_is_not_the_journal)
{
	char out[1024];
	int fd = make_tmpfile();

	cr_assert_eq(run_logger(fd, strcmp(c->js, "-") ? c->js : NULL, NULL, body_levels), 0);
	read_back(fd, out, sizeof(out));
	cr_assert_str_eq(out,
	    "fdtool test: info: hello 1\n"
	    "fdtool test: warning: careful\n"
	    "fdtool test: warning: failed: Input/output error\n", "%s", c->why);
	close(fd);
}

Test(logging, plain_on_a_pipe)
{
	char out[1024];
	int p[2];
	ssize_t n;

	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(run_logger(p[1], NULL, NULL, body_levels), 0);
	close(p[1]);
	n = read(p[0], out, sizeof(out) - 1);
	cr_assert_gt(n, 0);
	out[n] = '\0';
	cr_assert_str_eq(out,
	    "fdtool test: info: hello 1\n"
	    "fdtool test: warning: careful\n"
	    "fdtool test: warning: failed: Input/output error\n");
	close(p[0]);
}

/*
 * Everything a child wrote to a pseudo-terminal.  The parent holds the
 * slave open too, so the child's exit is no hang-up that would lose data.
 */
static void
run_on_pty(const char *tz, char *out, size_t size)
{
	struct pollfd pfd;
	size_t len = 0;
	int master, slave;
	ssize_t n;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert_geq(master, 0, "posix_openpt: %s", strerror(errno));
	cr_assert_eq(grantpt(master), 0);
	cr_assert_eq(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert_geq(slave, 0);
	cr_assert_eq(run_logger(slave, NULL, tz, body_levels), 0);
	pfd = (struct pollfd){ .fd = master, .events = POLLIN };
	while (len < size - 1 && poll(&pfd, 1, 200) == 1 &&
	    (n = read(master, out + len, size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(slave);
	close(master);
}

static void
assert_matches(const char *text, const char *re)
{
	regex_t rx;

	cr_assert_eq(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB | REG_NEWLINE), 0);
	cr_assert_eq(regexec(&rx, text, 0, NULL, 0), 0, "%s\ndoes not match\n%s", text, re);
	regfree(&rx);
}

#define STAMP "[0-9]{4}-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\\.[0-9]{3}"

Test(logging, a_terminal_gets_a_local_timestamp)
{
	char out[2048];

	run_on_pty("UTC", out, sizeof(out));
	/* the terminal's ONLCR turns \n into \r\n */
	assert_matches(out,
	    "^" STAMP "\\+00:00 fdtool test: info: hello 1\r\n"
	    STAMP "\\+00:00 fdtool test: warning: careful\r\n"
	    STAMP "\\+00:00 fdtool test: warning: failed: Input/output error\r\n$");
}

Test(logging, the_timestamp_carries_the_zone_offset)
{
	char out[2048];

	/* POSIX TZ signs are west-positive: "X-05:30" is five and a half hours east */
	run_on_pty("FDT-05:30", out, sizeof(out));
	assert_matches(out, "^" STAMP "\\+05:30 fdtool test: info: hello 1\r\n");
	run_on_pty("FDT+03:45", out, sizeof(out));
	assert_matches(out, "^" STAMP "-03:45 fdtool test: info: hello 1\r\n");
}

Test(logging, journald_wins_over_a_terminal)
{
	char out[2048];
	struct pollfd pfd;
	int master, slave;
	ssize_t n;

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert_geq(master, 0);
	cr_assert_eq(grantpt(master), 0);
	cr_assert_eq(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	cr_assert_geq(slave, 0);
	cr_assert_eq(run_logger(slave, MATCH_STDERR, NULL, body_levels), 0);
	pfd = (struct pollfd){ .fd = master, .events = POLLIN };
	cr_assert_eq(poll(&pfd, 1, 1000), 1);
	n = read(master, out, sizeof(out) - 1);
	cr_assert_gt(n, 0);
	out[n] = '\0';
	assert_matches(out, "^<6>fdtool test: info: hello 1\r\n");
	close(slave);
	close(master);
}

static void
body_flood(void)
{
	static struct log_limit rl;

	for (int i = 0; i < 1000; i++) {
		errno = EMFILE;
		log_warn_limited(&rl, "accept %d", i);
		if (errno != EMFILE)
			_exit(3);
	}
	/* the window has passed: the next line carries the count */
	rl.window_start_ms -= LOG_LIMIT_WINDOW_S * 1000LL;
	log_warnx_limited(&rl, "again");
	log_warnx_limited(&rl, "and again");
}

/* A flood of one line gives a handful, then one that counts the rest. */
Test(logging, a_repeated_line_is_rate_limited_and_counted)
{
	char out[4096];
	int fd = make_tmpfile();

	cr_assert_eq(run_logger(fd, NULL, NULL, body_flood), 0, "errno not preserved");
	read_back(fd, out, sizeof(out));
	cr_assert_str_eq(out,
	    "fdtool test: warning: accept 0: Too many open files\n"
	    "fdtool test: warning: accept 1: Too many open files\n"
	    "fdtool test: warning: accept 2: Too many open files\n"
	    "fdtool test: warning: accept 3: Too many open files\n"
	    "fdtool test: warning: accept 4: Too many open files\n"
	    "fdtool test: warning: again (995 more in the last 10 s)\n"
	    "fdtool test: warning: and again\n");
	close(fd);
}
