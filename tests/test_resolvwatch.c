/*
 * resolv.conf watching in a private directory: every way the file is
 * replaced (in place, rename over, delete and create, a symlink's target
 * replaced or re-pointed, a target directory made late), unrelated files
 * that must stay quiet, queue overflow, and bad paths and descriptors.
 * inotify events are queued by the syscall that causes them, so each
 * check follows its cause directly, without sleeping.
 */
#include "roles/server/resolvwatch.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/helpers.h"

static char dir[64];
static int fds_before;

static void
setup(void)
{
	fds_before = count_fds(0);
	cr_assert_not_null(make_tmpdir(dir, sizeof(dir)));
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(p) : unlink(p);
}

static void
teardown(void)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* dir/rel, in one of a few rotating static buffers. */
static const char *
at(const char *rel)
{
	static char bufs[8][128];
	static int i;
	char *b = bufs[i++ % 8];

	snprintf(b, sizeof(bufs[0]), "%s/%s", dir, rel);
	return b;
}

static void
put(const char *rel, const char *text)
{
	FILE *f = fopen(at(rel), "w");

	cr_assert_not_null(f, "%s: %s", at(rel), strerror(errno));
	cr_assert_eq(fputs(text, f) >= 0, 1);
	cr_assert_eq(fclose(f), 0);
}

/* Rewrite an existing file through the same inode. */
static void
edit(const char *rel)
{
	int fd = open(at(rel), O_WRONLY | O_TRUNC);

	cr_assert_geq(fd, 0, "%s: %s", at(rel), strerror(errno));
	cr_assert_eq(write(fd, "nameserver 192.0.2.9\n", 21), 21);
	cr_assert_eq(close(fd), 0);
}

/* Replace by rename, as editors, resolvconf and NetworkManager do. */
static void
replace(const char *rel, const char *tmp)
{
	put(tmp, "nameserver 192.0.2.10\n");
	cr_assert_eq(rename(at(tmp), at(rel)), 0, "%s", strerror(errno));
}

static void
mkd(const char *rel)
{
	cr_assert_eq(mkdir(at(rel), 0755), 0, "%s: %s", at(rel), strerror(errno));
}

static void
link_to(const char *target, const char *rel)
{
	cr_assert_eq(symlink(target, at(rel)), 0, "%s: %s", at(rel), strerror(errno));
}

static int wfd = -1;
static char wpath[128];

static void
watch(const char *rel)
{
	snprintf(wpath, sizeof(wpath), "%s", at(rel));
	wfd = resolvwatch_open(wpath);
	cr_assert_geq(wfd, 0, "resolvwatch_open(%s): %s", wpath, strerror(-wfd));
	cr_assert_eq(resolvwatch_changed(wfd, wpath), 0, "quiet right after open");
}

static int
changed(void)
{
	return resolvwatch_changed(wfd, wpath);
}

static void
unwatch(void)
{
	cr_assert_eq(close(wfd), 0);
	wfd = -1;
	cr_expect_eq(count_fds(0), fds_before, "descriptor leak");
}

TestSuite(resolvwatch, .init = setup, .fini = teardown, .timeout = 30);

Test(resolvwatch, descriptor_flags)
{
	put("resolv.conf", "nameserver 192.0.2.1\n");
	watch("resolv.conf");
	cr_expect(fcntl(wfd, F_GETFD) & FD_CLOEXEC, "close-on-exec");
	cr_expect(fcntl(wfd, F_GETFL) & O_NONBLOCK, "non-blocking");
	unwatch();
}

Test(resolvwatch, edit_in_place)
{
	put("resolv.conf", "nameserver 192.0.2.1\n");
	watch("resolv.conf");
	edit("resolv.conf");
	cr_expect_eq(changed(), 1);
	cr_expect_eq(changed(), 0, "drained");
	edit("resolv.conf");
	edit("resolv.conf");
	cr_expect_eq(changed(), 1, "two edits, one report");
	cr_expect_eq(changed(), 0);
	unwatch();
}

Test(resolvwatch, rename_over)
{
	put("resolv.conf", "nameserver 192.0.2.1\n");
	watch("resolv.conf");
	put("resolv.conf.tmp", "nameserver 192.0.2.2\n");
	cr_expect_eq(changed(), 0, "the temporary file is not resolv.conf");
	cr_assert_eq(rename(at("resolv.conf.tmp"), at("resolv.conf")), 0);
	cr_expect_eq(changed(), 1, "renamed over");
	cr_expect_eq(changed(), 0);
	/* the watch is on the directory, so the new inode is watched too */
	edit("resolv.conf");
	cr_expect_eq(changed(), 1, "edit after the rename");
	cr_assert_eq(rename(at("resolv.conf"), at("resolv.conf.old")), 0);
	cr_expect_eq(changed(), 1, "moved away");
	unwatch();
}

Test(resolvwatch, delete_and_create)
{
	put("resolv.conf", "nameserver 192.0.2.1\n");
	watch("resolv.conf");
	cr_assert_eq(unlink(at("resolv.conf")), 0);
	cr_expect_eq(changed(), 1, "deleted");
	cr_expect_eq(changed(), 0);
	put("resolv.conf", "nameserver 192.0.2.3\n");
	cr_expect_eq(changed(), 1, "created");
	unwatch();
}

Test(resolvwatch, missing_file_then_created)
{
	watch("resolv.conf");
	put("resolv.conf", "nameserver 192.0.2.1\n");
	cr_expect_eq(changed(), 1);
	unwatch();
}

Test(resolvwatch, unrelated_files_are_quiet)
{
	static const char *const names[] = {
		"hosts", "resolv.conf.bak", "resolv.con", "xresolv.conf", ".resolv.conf.swp",
		"resolv.conf~", "RESOLV.CONF",
	};

	put("resolv.conf", "nameserver 192.0.2.1\n");
	watch("resolv.conf");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		put(names[i], "x\n");
		edit(names[i]);
		cr_assert_eq(rename(at(names[i]), at("moved")), 0);
		cr_assert_eq(unlink(at("moved")), 0);
		cr_expect_eq(changed(), 0, "%s", names[i]);
	}
	mkd("sub");
	put("sub/resolv.conf", "x\n");
	cr_expect_eq(changed(), 0, "a resolv.conf in a subdirectory");
	edit("resolv.conf");
	cr_expect_eq(changed(), 1, "the control");
	unwatch();
}

/* systemd-resolved: etc/resolv.conf -> ../run/stub-resolv.conf */
static void
symlink_case(const char *target)
{
	mkd("etc");
	mkd("run");
	put("run/stub-resolv.conf", "nameserver 127.0.0.53\n");
	link_to(target, "etc/resolv.conf");
	watch("etc/resolv.conf");

	replace("run/stub-resolv.conf", "run/.stub-resolv.conf.tmp");
	cr_expect_eq(changed(), 1, "target replaced by rename");
	cr_expect_eq(changed(), 0);
	edit("run/stub-resolv.conf");
	cr_expect_eq(changed(), 1, "target edited");
	put("run/resolv.conf.other", "x\n");
	put("run/other", "x\n");
	put("etc/hosts", "x\n");
	cr_expect_eq(changed(), 0, "unrelated files next to link and target");
	cr_assert_eq(unlink(at("run/stub-resolv.conf")), 0);
	cr_expect_eq(changed(), 1, "target deleted");
	put("run/stub-resolv.conf", "nameserver 127.0.0.53\n");
	cr_expect_eq(changed(), 1, "target created");
	unwatch();
}

Test(resolvwatch, symlink_relative_target_replaced)
{
	symlink_case("../run/stub-resolv.conf");
}

Test(resolvwatch, symlink_absolute_target_replaced)
{
	symlink_case(at("run/stub-resolv.conf"));
}

Test(resolvwatch, symlink_chain)
{
	mkd("etc");
	mkd("a");
	mkd("b");
	put("b/real.conf", "nameserver 192.0.2.1\n");
	link_to("../b/real.conf", "a/middle.conf");
	link_to("../a/middle.conf", "etc/resolv.conf");
	watch("etc/resolv.conf");
	replace("b/real.conf", "b/tmp");
	cr_expect_eq(changed(), 1, "the end of the chain");
	put("b/other", "x\n");
	cr_expect_eq(changed(), 0);
	unwatch();
}

Test(resolvwatch, symlink_repointed)
{
	mkd("etc");
	mkd("a");
	mkd("b");
	put("a/one.conf", "nameserver 192.0.2.1\n");
	put("b/two.conf", "nameserver 192.0.2.2\n");
	link_to("../a/one.conf", "etc/resolv.conf");
	watch("etc/resolv.conf");
	link_to("../b/two.conf", "etc/.resolv.conf.new");
	cr_expect_eq(changed(), 0, "a new link under another name");
	cr_assert_eq(rename(at("etc/.resolv.conf.new"), at("etc/resolv.conf")), 0);
	cr_expect_eq(changed(), 1, "the link replaced");
	edit("b/two.conf");
	cr_expect_eq(changed(), 1, "the new target is watched");
	edit("a/one.conf");
	cr_expect_eq(changed(), 0, "the old target no longer concerns us");
	unwatch();
}

/* resolved not started yet: its directory appears after we start */
Test(resolvwatch, target_directory_made_late)
{
	mkd("etc");
	mkd("run");
	link_to("../run/systemd/resolve/stub-resolv.conf", "etc/resolv.conf");
	watch("etc/resolv.conf");
	put("run/unrelated", "x\n");
	cr_expect_eq(changed(), 0);
	mkd("run/systemd");
	cr_expect_eq(changed(), 1, "first missing directory made");
	mkd("run/systemd/resolve");
	cr_expect_eq(changed(), 1, "second missing directory made");
	put("run/systemd/resolve/stub-resolv.conf", "nameserver 127.0.0.53\n");
	cr_expect_eq(changed(), 1, "target made");
	put("run/systemd/resolve/resolv.conf", "nameserver 192.0.2.1\n");
	cr_expect_eq(changed(), 0, "its neighbour is not ours");
	edit("run/systemd/resolve/stub-resolv.conf");
	cr_expect_eq(changed(), 1);
	unwatch();
}

Test(resolvwatch, target_directory_removed)
{
	mkd("etc");
	mkd("run");
	put("run/stub-resolv.conf", "nameserver 127.0.0.53\n");
	link_to("../run/stub-resolv.conf", "etc/resolv.conf");
	watch("etc/resolv.conf");
	cr_assert_eq(rename(at("run"), at("run.old")), 0);
	cr_expect_eq(changed(), 1, "the target's directory moved away");
	unwatch();
}

Test(resolvwatch, overflow_counts_as_changed)
{
	FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
	unsigned max = 0;
	int r = 0;

	if (!f || fscanf(f, "%u", &max) != 1 || max > 100000) {
		if (f)
			fclose(f);
		cr_skip_test("cannot read a usable max_queued_events");
	}
	fclose(f);
	put("resolv.conf", "nameserver 192.0.2.1\n");
	put("noise", "x\n");
	watch("resolv.conf");
	put("noise2", "x\n");
	/* alternating names: the kernel merges identical consecutive events */
	for (unsigned i = 0; i <= max; i++) {
		int fd = open(at(i % 2 ? "noise" : "noise2"), O_WRONLY);

		cr_assert_geq(fd, 0);
		close(fd);
	}
	/* bounded reads per call: the overflow event may take a few calls */
	for (int i = 0; i < 64 && r == 0; i++)
		r = changed();
	cr_expect_eq(r, 1, "queue overflow reported as a change");
	unwatch();
}

Test(resolvwatch, bad_paths)
{
	int fd;

	fd = resolvwatch_open(at("no/such/dir/resolv.conf"));
	cr_expect_eq(fd, -ENOENT, "%d", fd);
	fd = resolvwatch_open(at(""));
	cr_expect_eq(fd, -EINVAL, "a directory name: %d", fd);
	put("file", "x\n");
	fd = resolvwatch_open(at("file/resolv.conf"));
	cr_expect_eq(fd, -ENOTDIR, "%d", fd);
	cr_expect_eq(count_fds(0), fds_before, "no descriptor left behind");
}

Test(resolvwatch, read_errors)
{
	int p[2];

	cr_expect_eq(resolvwatch_changed(-1, "/etc/resolv.conf"), -EBADF);
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(close(p[1]), 0);
	/* a pipe at end of file reads 0: no events, not a loop */
	cr_expect_eq(resolvwatch_changed(p[0], "/etc/resolv.conf"), 0);
	close(p[0]);
}
