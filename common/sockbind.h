/*
 * Binding one listening socket the way fdtool always does it: shared by
 * the creator and by a server that binds its own unprivileged ports.
 */
#ifndef FDTOOL_SOCKBIND_H
#define FDTOOL_SOCKBIND_H

#include "common/wire.h"

/*
 * A socket for key (proto UDP or TCP, not both), bound and, for TCP,
 * listening.  UDP never gets SO_REUSEADDR; TCP does; IPv6 is V6ONLY;
 * SO_REUSEPORT only with FDT_BIND_F_REUSEPORT.  Close-on-exec.  Returns
 * the descriptor or -errno.
 */
int sockbind(const struct fdt_bind *key);

#endif
