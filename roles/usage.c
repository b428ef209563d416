/*
 * What every role shares about its command line: one way to report a
 * usage error, so `fdtool ROLE` fails alike in every role.
 */
#include <stdarg.h>
#include <stdio.h>

#include "roles/roles.h"

int
role_usage_error(const char *role, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fdtool %s: ", role);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see 'fdtool %s --help')\n", role);
	return EXIT_USAGE;
}
