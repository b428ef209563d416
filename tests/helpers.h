/*
 * Helpers for the tests: descriptor counting for leak checks, and running
 * the real fdtool binary as a child with its stderr kept for the report.
 */
#ifndef FDTOOL_TEST_HELPERS_H
#define FDTOOL_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/wire.h"

/*
 * A SOCK_SEQPACKET socketpair per test (a suite's .init / .fini) and the
 * descriptor count from before it was made: pair_assert_no_leak() closes
 * the pair and checks that the test left nothing else open.
 */
extern int pair[2];
extern int pair_fds_before;
void pair_open(void);
void pair_close(void);
void pair_assert_no_leak(void);

/* A bind request for 127.0.0.1:port. */
struct fdt_bind loopback_bind(uint8_t proto, unsigned port);

/* An integer socket option, asserted readable. */
int sockopt_int(int fd, int level, int opt);

/* Open descriptors of a process (0 = this one), from /proc/PID/fd. */
int count_fds(pid_t pid);

/*
 * Start FDTOOL_BIN with argv (argv[0] is ignored; NULL-terminated),
 * stderr to logfile (or inherited if NULL), keeping descriptor keep_fd
 * (or -1) open at the same number.  Returns the pid.
 */
pid_t spawn_fdtool(const char *const argv[], const char *logfile, int keep_fd);

/* Kill and reap every spawned child still running: a suite's .fini. */
void reap_spawned(void);

/* Wait up to timeout_ms for path to exist (as a socket); 0 or -ETIMEDOUT. */
int wait_for_socket(const char *path, int timeout_ms);

/* Reap pid within timeout_ms; its wait status, or -1 (then SIGKILLed). */
int wait_child(pid_t pid, int timeout_ms);

/* SIGTERM pid and reap it; returns its wait status, or -1 on timeout (then SIGKILLed). */
int stop_child(pid_t pid, int timeout_ms);

/* Read "Key:\tvalue" from /proc/PID/status into buf; 0 or -ENOENT. */
int proc_status_field(pid_t pid, const char *key, char *buf, size_t size);

/* A fresh private directory under /tmp; returns its path (static storage per call site). */
char *make_tmpdir(char *buf, size_t size);

/* A file NAME holding len bytes of text in a fresh directory; its path in buf, or NULL. */
char *write_tmpfile(const char *name, const void *text, size_t len, char *buf, size_t size);

/* Whether we can do what the privileged tests need. */
int is_root(void);



/* A port on 127.0.0.1 that is free for both UDP and TCP right now. */
unsigned free_port(void);

/* The inode of a descriptor, to tell whether two are the same socket. */
unsigned long fd_inode(int fd);
/*
 * dns_make_template with the template written back over msg (room for
 * cap bytes), as the tests build a message and then use it as the
 * template.  Returns what dns_make_template returned.
 */
struct dns_template_info;
int tmpl_in_place(uint8_t *msg, size_t len, size_t cap, struct dns_template_info *info);

#endif
