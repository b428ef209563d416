/*
 * SipHash-1-3 (Aumasson and Bernstein): a keyed hash for tables whose
 * keys an attacker picks.
 */
#ifndef FDTOOL_SERVER_SIPHASH_H
#define FDTOOL_SERVER_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

uint64_t siphash13(const uint64_t k[2], const uint8_t *p, size_t len);

#endif
