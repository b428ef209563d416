/*
 * SipHash-1-3 for the hash tables that hold names a client chose: the
 * cache and the upstream layer's table of questions in flight.
 */
#include "roles/server/siphash.h"

static uint64_t
get64le(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

/*
 * SipHash-1-3, not FNV: a seeded FNV or Murmur still has collisions an
 * attacker can build without knowing the seed (Aumasson and Bernstein,
 * "hash-flooding DoS reloaded"); SipHash was made against exactly that
 * and costs a few dozen cycles for a DNS name.
 */
uint64_t
siphash13(const uint64_t k[2], const uint8_t *p, size_t len)
{
	uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ k[0];
	uint64_t v1 = UINT64_C(0x646f72616e646f6d) ^ k[1];
	uint64_t v2 = UINT64_C(0x6c7967656e657261) ^ k[0];
	uint64_t v3 = UINT64_C(0x7465646279746573) ^ k[1];
	uint64_t m, last = (uint64_t)len << 56;
	size_t i;

	for (; len >= 8; p += 8, len -= 8) {
		m = get64le(p);
		v3 ^= m;
		SIPROUND;
		v0 ^= m;
	}
	for (i = 0; i < len; i++)
		last |= (uint64_t)p[i] << (8 * i);
	v3 ^= last;
	SIPROUND;
	v0 ^= last;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}
