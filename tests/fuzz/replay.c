/*
 * Replays inputs through a fuzz target without libFuzzer, so every build
 * (gcc or clang, with or without the sanitizers) runs the committed
 * corpus as a test: each argument is a file, or a directory whose files
 * are fed in name order.  A broken invariant aborts, and so fails.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

static size_t ran;

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap = cap ? cap * 2 : 4096);
			if (!nb) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	/* a copy of exactly len bytes: ASan sees a read past the input */
	{
		uint8_t *in = malloc(len ? len : 1);
		if (!in) {
			free(buf);
			return -1;
		}
		memcpy(in, buf, len);
		free(buf);
		fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
		LLVMFuzzerTestOneInput(in, len);
		free(in);
	}
	ran++;
	return 0;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
replay_dir(const char *dir)
{
	struct dirent **ents;
	char path[4096];
	int n, err = 0;

	if ((n = scandir(dir, &ents, NULL, by_name)) < 0) {
		fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    replay_file(path) < 0)
			err = -1;
		free(ents[i]);
	}
	free(ents);
	return err;
}

int
main(int argc, char **argv)
{
	int err = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;

		if (argv[i][0] == '-')
			continue;	/* libFuzzer's flags mean nothing here */
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			err |= replay_dir(argv[i]);
		else
			err |= replay_file(argv[i]);
	}
	fprintf(stderr, "replay: %zu inputs, %s\n", ran, err ? "some unreadable" : "all passed");
	return err ? 1 : 0;
}
