/*
 * fdtool server: the caching DNS stub resolver.  Registered now so the
 * role table is complete; the resolver itself is issue #3.
 */
const char server_usage[] =
"usage: fdtool server [options]\n"
"\n"
"A caching DNS stub resolver that runs with no privilege on sockets from\n"
"the creator.  Not yet available in this version.\n";

#include <stdio.h>

#include "roles/roles.h"

int
server_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "fdtool server: not yet available\n");
	return EXIT_RUNTIME;
}
