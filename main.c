/*
 * fdtool: one executable, three roles.  The role comes from the name we
 * were run as (fdtool-creator ...) or from the first argument (fdtool
 * creator ...).  This file holds the only table of roles.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "roles/roles.h"

struct role {
	const char *name;
	int (*main)(int, char **);
	const char *usage;
	const char *summary;
};

static const struct role roles[] = {
	{ "creator", creator_main, creator_usage,
	    "privileged socket creator: binds sockets, passes them on" },
	{ "server", server_main, server_usage,
	    "caching DNS stub resolver, unprivileged" },
	{ "control", control_main, control_usage,
	    "operate a running server" },
};

#define NROLES (sizeof(roles) / sizeof(roles[0]))

static void
usage(FILE *f)
{
	fprintf(f, "usage: fdtool ROLE [options]   (or run as fdtool-ROLE)\n"
	    "       fdtool ROLE --help\n"
	    "       fdtool help\n"
	    "       fdtool --version\n\nroles:\n");
	for (size_t i = 0; i < NROLES; i++)
		fprintf(f, "  %-9s %s\n", roles[i].name, roles[i].summary);
}

static const struct role *
find_role(const char *name)
{
	for (size_t i = 0; i < NROLES; i++)
		if (strcmp(roles[i].name, name) == 0)
			return &roles[i];
	return NULL;
}

/* --help or --version anywhere before "--": answered here for every role. */
static int
wants(int argc, char **argv, const char *a, const char *b)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], a) == 0 || (b && strcmp(argv[i], b) == 0))
			return 1;
	}
	return 0;
}

static int
run(const struct role *r, int argc, char **argv)
{
	char comm[16];

	if (wants(argc, argv, "--help", "-h")) {
		fputs(r->usage, stdout);
		return EXIT_OK;
	}
	if (wants(argc, argv, "--version", NULL)) {
		printf("fdtool %s\n", FDTOOL_VERSION);
		return EXIT_OK;
	}
	/* ps and ss show the role, also when we were exec'd as /proc/self/exe */
	snprintf(comm, sizeof(comm), "fdtool-%s", r->name);
	prctl(PR_SET_NAME, comm);
	return r->main(argc, argv);
}

/*
 * Descriptors 0, 1 and 2 open before anything else is.  Started with one
 * closed, the first descriptor a role opens takes its number: `control
 * dump-cache - >&-` handed the server its own control socket as the dump's
 * output, and every log line would go into whatever landed on 2.  What is
 * missing becomes /dev/null.  0 or -errno.
 */
static int
stdio_fill(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int n;

		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		if (errno != EBADF)
			return -errno;
		/* the lowest free number: fd itself, as 0..fd-1 are open */
		if ((n = open("/dev/null", O_RDWR)) < 0)
			return -errno;
		if (n != fd && (dup2(n, fd) < 0 || close(n) < 0))
			return -errno;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *self = argc > 0 ? argv[0] : "fdtool";
	const char *base = strrchr(self, '/') ? strrchr(self, '/') + 1 : self;
	const struct role *r;
	int e;

	if ((e = stdio_fill()) < 0) {
		/* stderr may be one of those missing: this line may go nowhere */
		fprintf(stderr, "fdtool: cannot open /dev/null for descriptors 0-2: %s\n",
		    strerror(-e));
		return EXIT_RUNTIME;
	}
	if (strncmp(base, "fdtool-", 7) == 0) {
		if (!(r = find_role(base + 7))) {
			fprintf(stderr, "fdtool: unknown role '%s'\n", base + 7);
			usage(stderr);
			return EXIT_UNKNOWN_ROLE;
		}
		return run(r, argc, argv);
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("fdtool %s\n", FDTOOL_VERSION);
		return EXIT_OK;
	}
	if (!(r = find_role(argv[1]))) {
		fprintf(stderr, "fdtool: unknown role '%s'\n", argv[1]);
		usage(stderr);
		return EXIT_UNKNOWN_ROLE;
	}
	return run(r, argc - 1, argv + 1);
}
