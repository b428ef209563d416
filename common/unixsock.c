/*
 * Listening UNIX sockets.  The file mode is set through the umask during
 * bind(): a chmod afterwards would leave a window in which the socket is
 * open to anyone.
 */
#include "common/unixsock.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int
fill_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	strcpy(sun->sun_path, path);
	return 0;
}

static int
connect_type(const char *path, int type)
{
	struct sockaddr_un sun;
	int fd, r;

	if ((r = fill_addr(path, &sun)) < 0)
		return r;
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	while ((r = connect(fd, (struct sockaddr *)&sun, sizeof(sun))) < 0 &&
	    errno == EINTR)
		;
	if (r < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int
unixsock_connect(const char *path)
{
	return connect_type(path, SOCK_SEQPACKET);
}

/*
 * Make the socket's directory if it is missing: root's, 0755.  Not the
 * daemon user's: a directory that user may write is one where any other
 * process of that user (nobody is many daemons) could put a socket of its
 * own under our name for our clients to connect to.
 */
static int
make_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	strcpy(dir, path);
	if (!(slash = strrchr(dir, '/')) || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0755) != 0)
		return errno == EEXIST ? 0 : -errno;
	return 0;
}

/* Remove a socket file that no process listens on any more. */
static int
clear_stale(const char *path, int type)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = connect_type(path, type);
	if (fd >= 0) {
		close(fd);
		return -EADDRINUSE;
	}
	if (fd != -ECONNREFUSED)
		return fd;
	return unlink(path) == 0 ? 0 : -errno;
}

/*
 * Bound and listening under a temporary name of our own, then linked to
 * PATH: a client that sees PATH can connect at once (never ECONNREFUSED
 * from a socket not yet listening), and link() fails with EEXIST where
 * another instance got there first, so a live socket is never replaced.
 */
static int
listen_type(const char *path, int type, mode_t mode, uid_t uid, gid_t gid)
{
	struct sockaddr_un sun;
	char tmp[sizeof(sun.sun_path)];
	mode_t old;
	int fd, r;

	if ((r = fill_addr(path, &sun)) < 0)
		return r;
	if (snprintf(tmp, sizeof(tmp), "%s~%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if ((r = make_parent(path)) < 0 || (r = clear_stale(path, type)) < 0 ||
	    (r = clear_stale(tmp, type)) < 0)
		return r;
	if ((r = fill_addr(tmp, &sun)) < 0)
		return r;
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	old = umask(~mode & 0777);
	r = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (r != 0)
		goto fail;
	if (listen(fd, SOMAXCONN) != 0)
		goto fail_unlink;
	/* link first, chown after: with fs.protected_hardlinks, linking a file
	 * we do not own needs CAP_FOWNER, which fdtool.service does not grant */
	if (link(tmp, path) != 0) {
		if (errno == EEXIST)
			errno = EADDRINUSE;	/* someone else's, live or about to be */
		goto fail_unlink;
	}
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && lchown(tmp, uid, gid) != 0) {
		r = -errno;
		unlink(path);
		unlink(tmp);
		close(fd);
		return r;
	}
	unlink(tmp);
	return fd;

fail_unlink:
	r = -errno;
	unlink(tmp);
	close(fd);
	return r;
fail:
	r = -errno;
	close(fd);
	return r;
}

int
unixsock_listen(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	return listen_type(path, SOCK_SEQPACKET, mode, uid, gid);
}

/* The same for a stream socket: rec_control's protocol is a byte stream. */
int
unixsock_listen_stream(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	return listen_type(path, SOCK_STREAM, mode, uid, gid);
}
