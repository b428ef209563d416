/*
 * The server's filesystem sandbox (Landlock): after it, no file can be
 * created or opened for writing, only the listed paths can be read, and
 * (where the kernel can) TCP can connect only to the listed ports and
 * bind nothing.  Descriptors opened before stay as they were.
 */
#ifndef FDTOOL_SERVER_SANDBOX_H
#define FDTOOL_SERVER_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

/*
 * Enter the sandbox (sets no_new_privs first, which Landlock needs).
 * read_paths: files or directories readable afterwards (NULL-terminated;
 * a missing one is skipped).  Returns the Landlock ABI version in force
 * (>= 1), -ENOSYS / -EOPNOTSUPP when the kernel has no Landlock or it is
 * disabled, or -errno.
 */
int sandbox_enter(const char *const *read_paths, const uint16_t *tcp_ports,
    size_t nports);

/*
 * Prove it: try to create a file and a directory in dir and to open an
 * existing file for writing.  Returns 0 if all were refused with EACCES,
 * -EPERM if any succeeded (what it made is removed again), or another
 * -errno when a refusal proved nothing (e.g. -ENOENT: no such dir).
 * Treat anything but 0 as "not sandboxed".
 */
int sandbox_probe(const char *dir, const char *existing_file);

#endif
