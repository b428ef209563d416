/*
 * Reading the small text files of /etc (hosts(5), resolv.conf(5)): the
 * rules both parsers share, so neither keeps a copy of the other's.
 */
#ifndef FDTOOL_SERVER_HOSTS_TEXT_H
#define FDTOOL_SERVER_HOSTS_TEXT_H

#include <stddef.h>

/*
 * The whole file into a NUL-terminated malloc'd buffer (*len excludes the
 * NUL); 0 or -errno, -EFBIG past 16 MiB.
 */
int text_read_file(const char *path, char **out, size_t *len);

/* The next line of [*p, end): its bounds, '\n' excluded; 0 at the end. */
int text_next_line(const char **p, const char *end, const char **ls, const char **le);

/* The next blank-separated token of [*p, end); 0 when none is left. */
int text_next_token(const char **p, const char *end, const char **ts, size_t *tn);

/* Where a line's data ends: at the first of chars, if any is in it. */
const char *text_strip_comment(const char *ls, const char *le, const char *chars);

#endif
