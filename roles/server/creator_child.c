/*
 * The spawned creator's first steps, after fork(): every descriptor but
 * its channel (at 3, where --fd 3 says) and stdio closed, the loop's
 * signals back to default, then this same binary re-executed as
 * fdtool-creator.
 */
#include "roles/server/creator_child.h"

#include <fcntl.h>
#include <unistd.h>

#include "roles/server/child.h"

noreturn void
creator_exec_child(int fd, char *const argv[])
{
	/* child_keep makes it close-on-exec: 3 must survive the exec */
	if (child_keep(&fd, 1) < 0 || fcntl(3, F_SETFD, 0) != 0)
		_exit(127);
	execv("/proc/self/exe", argv);
	_exit(127);
}
