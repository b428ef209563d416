/*
 * resolv.conf watching.  Watches are on directories and events are
 * matched by file name, since every way of replacing the file (rename,
 * unlink + create, re-pointing a link) changes the inode a file watch
 * would hold.  The names are worked out again from the path on each
 * call, so no state lives outside the inotify descriptor.
 */
#include "roles/server/resolvwatch.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define WATCH_MASK	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | \
			 IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/*
 * Paths longer than this are not followed: resolv.conf and its link
 * targets are short, and RESOLVWATCH_HOPS of PATH_MAX would be 64 KiB
 * of stack.
 */
#define HOP_PATH_MAX	512

/*
 * A file on the way from path to the real file.  Its directory may not
 * exist yet (/run/systemd/resolve before resolved starts): then wdir is
 * the nearest ancestor that does.
 */
struct hop {
	char dir[HOP_PATH_MAX];
	char base[NAME_MAX + 1];
	char wdir[HOP_PATH_MAX];	/* "" if nothing on the way exists */
	int wd;				/* wdir's watch, or -1 */
};

/* Split p into directory ("." or "/" if none) and base name; -ENAMETOOLONG, -EINVAL. */
static int
split(const char *p, char dir[HOP_PATH_MAX], char base[NAME_MAX + 1])
{
	const char *slash = strrchr(p, '/');
	const char *b = slash ? slash + 1 : p;
	size_t dl = slash ? (size_t)(slash - p) : 0;

	if (*b == '\0')
		return -EINVAL;
	if (strlen(b) > NAME_MAX || dl >= HOP_PATH_MAX)
		return -ENAMETOOLONG;
	if (!slash)
		memcpy(dir, ".", 2);
	else if (dl == 0)
		memcpy(dir, "/", 2);	/* "/resolv.conf" */
	else {
		memcpy(dir, p, dl);
		dir[dl] = '\0';
	}
	memcpy(base, b, strlen(b) + 1);
	return 0;
}

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Fill wdir: the directory to watch for this hop. */
static void
locate(struct hop *h)
{
	char cur[HOP_PATH_MAX], child[NAME_MAX + 1];

	memcpy(h->wdir, h->dir, strlen(h->dir) + 1);
	/* each step removes a component, so this ends at "/" or "." */
	while (!is_dir(h->wdir)) {
		memcpy(cur, h->wdir, strlen(h->wdir) + 1);
		if (strcmp(cur, "/") == 0 || strcmp(cur, ".") == 0 ||
		    split(cur, h->wdir, child) < 0) {
			h->wdir[0] = '\0';
			return;
		}
	}
}

/*
 * path, then each symlink target in turn (a relative target is relative
 * to the link's directory); returns how many hops were filled, or -errno
 * if path itself cannot be split.  A dangling or unreadable link ends the
 * chain where it is: what exists is what can be watched.
 */
static int
hops(const char *path, struct hop h[RESOLVWATCH_HOPS])
{
	char cur[HOP_PATH_MAX], target[HOP_PATH_MAX];
	int n = 1, e;

	if (strlen(path) >= sizeof(cur))
		return -ENAMETOOLONG;
	if ((e = split(path, h[0].dir, h[0].base)) < 0)
		return e;
	locate(&h[0]);
	memcpy(cur, path, strlen(path) + 1);
	while (n < RESOLVWATCH_HOPS) {
		struct stat st;
		ssize_t tl;
		size_t dl;

		if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
			break;
		tl = readlink(cur, target, sizeof(target));
		if (tl <= 0 || (size_t)tl >= sizeof(target))
			break;
		target[tl] = '\0';
		if (target[0] == '/') {
			memcpy(cur, target, (size_t)tl + 1);
		} else {
			dl = strlen(h[n - 1].dir);
			if (dl + 1 + (size_t)tl >= sizeof(cur))
				break;
			memmove(cur, h[n - 1].dir, dl);
			cur[dl] = '/';
			memcpy(cur + dl + 1, target, (size_t)tl + 1);
		}
		if (split(cur, h[n].dir, h[n].base) < 0)
			break;
		locate(&h[n]);
		n++;
	}
	return n;
}

/*
 * Watch what hops [from, n) need, noting each watch.  Adding a watch on
 * an inode already watched returns its descriptor and changes nothing,
 * so this is also how we learn the descriptors.  What cannot be watched
 * now is skipped (wd -1).
 */
static void
watch_dirs(int fd, struct hop *h, int from, int n)
{
	for (int i = from; i < n; i++)
		h[i].wd = h[i].wdir[0] ? inotify_add_watch(fd, h[i].wdir, WATCH_MASK) : -1;
}

int
resolvwatch_open(const char *path)
{
	struct hop h[RESOLVWATCH_HOPS];
	int fd, n, e;

	n = hops(path, h);
	if (n < 0)
		return n;
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* path's own directory must exist: there is no sense in waiting for /etc */
	if (inotify_add_watch(fd, h[0].dir, WATCH_MASK) < 0) {
		e = -errno;
		close(fd);
		return e;
	}
	watch_dirs(fd, h, 1, n);
	return fd;
}

/* Whether name is one of the components of dir. */
static int
in_path(const char *dir, const char *name, size_t nl)
{
	for (const char *c = dir; *c; ) {
		size_t cl = strcspn(c, "/");

		if (cl == nl && memcmp(c, name, nl) == 0)
			return 1;
		c += cl;
		c += *c == '/';
	}
	return 0;
}

static int
concerns(const struct inotify_event *ev, const struct hop *h, int n)
{
	size_t nl;

	/* overflow: events were lost; a watched directory removed or moved */
	if (ev->mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF))
		return 1;
	if (ev->len == 0)
		return 0;
	nl = strnlen(ev->name, ev->len);
	for (int i = 0; i < n; i++) {
		/*
		 * The file itself, in its own directory (resolved keeps a
		 * resolv.conf next to stub-resolv.conf that is not ours).
		 * Without a watch descriptor, any directory will do.
		 */
		if (strlen(h[i].base) == nl && memcmp(h[i].base, ev->name, nl) == 0 &&
		    (h[i].wd < 0 || (ev->wd == h[i].wd && strcmp(h[i].wdir, h[i].dir) == 0)))
			return 1;
		/*
		 * A directory on the way to a link target made, moved or
		 * removed.  Any component, not just the first missing one
		 * now: by the time we read the event, more may exist.  A
		 * false alarm costs one re-read of resolv.conf.
		 */
		if (i > 0 && in_path(h[i].dir, ev->name, nl))
			return 1;
	}
	return 0;
}

int
resolvwatch_changed(int fd, const char *path)
{
	/* aligned for struct inotify_event, as inotify(7) shows */
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct hop h[RESOLVWATCH_HOPS];
	int n, changed = 0;

	n = hops(path, h);
	if (n < 0)
		return n;
	watch_dirs(fd, h, 0, n);
	for (int r = 0; r < RESOLVWATCH_READS; r++) {
		ssize_t len = read(fd, buf, sizeof(buf));
		const char *p = buf;

		if (len < 0 && errno == EINTR)
			continue;
		if (len < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (len < 0)
			return -errno;
		if (len == 0)
			break;
		/* the kernel returns whole events; check anyway before reading one */
		while ((size_t)(buf + len - p) >= sizeof(struct inotify_event)) {
			const struct inotify_event *ev = (const struct inotify_event *)(const void *)p;
			size_t sz = sizeof(*ev) + ev->len;

			if (sz > (size_t)(buf + len - p))
				return -EPROTO;
			if (concerns(ev, h, n))
				changed = 1;
			p += sz;
		}
	}
	/*
	 * A made directory, a re-made one or a re-pointed link: watch what
	 * is there now, since it may have changed after the watches above.
	 */
	if (changed && (n = hops(path, h)) > 0)
		watch_dirs(fd, h, 0, n);
	return changed;
}
