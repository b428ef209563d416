/*
 * fdtool control: the operator's client.  Registered now so the role
 * table is complete; the commands themselves are issue #4.
 */
const char control_usage[] =
"usage: fdtool control [--socket PATH] COMMAND [ARGS]\n"
"\n"
"Operates a running fdtool server.  Not yet available in this version.\n";

#include <stdio.h>

#include "roles/roles.h"

int
control_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "fdtool control: not yet available\n");
	return EXIT_RUNTIME;
}
