/*
 * What every fuzz target shares: the libFuzzer entry point's prototype
 * (the targets define it; libFuzzer or replay.c calls it), and the one
 * way an invariant fails: a line on stderr and abort(), which libFuzzer
 * reports as a crash and saves the input for.
 */
#ifndef FDTOOL_FUZZ_H
#define FDTOOL_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((noreturn, format(printf, 3, 4)))
void fuzz_fail(const char *file, int line, const char *fmt, ...);

#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond))							\
		fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);		\
} while (0)

/* A file descriptor whose /proc/self/fd path reads back data (memfd). */
int fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t pathsize);

#endif
