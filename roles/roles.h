/*
 * The roles fdtool can play.  main.c holds the one table of them; each
 * role keeps its usage text beside its code.
 */
#ifndef FDTOOL_ROLES_H
#define FDTOOL_ROLES_H

int creator_main(int argc, char **argv);
int server_main(int argc, char **argv);
int control_main(int argc, char **argv);

extern const char creator_usage[];
extern const char server_usage[];
extern const char control_usage[];

/* Exit codes shared by every role (README lists them). */
enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
	EXIT_UNKNOWN_ROLE = 127,
};

/* Report a usage error the same way in every role; returns EXIT_USAGE. */
int role_usage_error(const char *role, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
