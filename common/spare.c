/*
 * The spare descriptor that lets a full descriptor table still take a
 * waiting client off a listener's backlog (spare.h says why).
 */
#include "common/spare.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/wire.h"

int
spare_take(int *spare, int of)
{
	if (*spare < 0 && (*spare = fcntl(of, F_DUPFD_CLOEXEC, 0)) < 0)
		return -errno;
	return 0;
}

int
spare_turn_away(int *spare, int of, int lfd, int why)
{
	int fd, r = 0;

	if (*spare < 0)
		return -EBADF;
	close(*spare);
	*spare = -1;
	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0)
		r = -errno;
	else if (why)
		fdt_msg_refuse(fd, why);
	else
		close(fd);
	/* only now: the accepted descriptor held the spare's number */
	spare_take(spare, of);
	return r;
}

void
spare_close(int *spare)
{
	if (*spare >= 0)
		close(*spare);
	*spare = -1;
}
