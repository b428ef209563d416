/*
 * The small text files of /etc we read, hosts(5) and resolv.conf(5), share
 * these rules: the whole file read at once (its size capped), lines, blank-
 * separated tokens, comments.  Each parser then holds only its own grammar.
 */
#include "roles/server/hosts_text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEXT_FILE_MAX	(16u << 20)	/* a hosts file or resolv.conf bigger: a mistake */

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Whole file into a NUL-terminated buffer; *len excludes the NUL. */
int
text_read_file(const char *path, char **out, size_t *len)
{
	struct stat st;
	size_t cap, n = 0;
	char *buf, *nbuf;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0) {
		e = -errno;
		close(fd);
		return e;
	}
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > TEXT_FILE_MAX) {
		close(fd);
		return -EFBIG;
	}
	/* The size is a hint only: the file may change under us. */
	cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 4096;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r;

		if (n == cap - 1) {
			if (cap - 1 > TEXT_FILE_MAX) {
				e = -EFBIG;
				goto fail;
			}
			cap = cap * 2 > TEXT_FILE_MAX + 2 ? TEXT_FILE_MAX + 2 : cap * 2;
			nbuf = realloc(buf, cap);
			if (!nbuf) {
				e = -ENOMEM;
				goto fail;
			}
			buf = nbuf;
		}
		r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			e = -errno;
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > TEXT_FILE_MAX) {
		e = -EFBIG;
		goto fail;
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
fail:
	free(buf);
	close(fd);
	return e;
}

/* The next line of [*p, end): its bounds, '\n' excluded; 0 at the end. */
int
text_next_line(const char **p, const char *end, const char **ls, const char **le)
{
	const char *nl;

	if (*p >= end)
		return 0;
	*ls = *p;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	*le = nl ? nl : end;
	*p = nl ? nl + 1 : end;
	return 1;
}

/* The next whitespace-separated token of [*p, end); 0 when none is left. */
int
text_next_token(const char **p, const char *end, const char **ts, size_t *tn)
{
	const char *s = *p, *e;

	while (s < end && is_space(*s))
		s++;
	if (s == end)
		return 0;
	for (e = s; e < end && !is_space(*e); e++)
		;
	*ts = s;
	*tn = (size_t)(e - s);
	*p = e;
	return 1;
}

/* Where a line's data ends: at a comment character if there is one. */
const char *
text_strip_comment(const char *ls, const char *le, const char *chars)
{
	for (const char *p = ls; p < le; p++)
		if (*p != '\0' && strchr(chars, *p))
			return p;
	return le;
}
