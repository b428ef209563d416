/*
 * fuzz_wire: the one message of every channel (common/wire.[ch]).
 * Invariants: a record fdt_msg_unpack() accepts packs back to the very
 * same 1024 bytes (it accepts only what is canonical); one it rejects
 * leaves an errno fdt_msg_unpack documents; a host-form message that
 * fdt_msg_pack() accepts unpacks to one that packs the same; and a record
 * received through fdt_msg_recv() (a socketpair, no descriptors) is
 * judged exactly as fdt_msg_unpack() judges it.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/wire.h"
#include "tests/fuzz/fuzz.h"

static void
check_unpack(const uint8_t *data, size_t size)
{
	struct fdt_msg m;
	struct fdt_wire w;
	int r = fdt_msg_unpack(data, size, &m);

	if (r < 0) {
		FUZZ_CHECK(r == -EMSGSIZE || r == -EPROTO || r == -EPROTONOSUPPORT ||
		    r == -EBADMSG, "unpack returned %d", r);
		FUZZ_CHECK(r != -EMSGSIZE || size != FDT_MSG_SIZE, "EMSGSIZE at 1024 bytes");
		return;
	}
	FUZZ_CHECK(size == FDT_MSG_SIZE, "accepted %zu bytes", size);
	FUZZ_CHECK(fdt_msg_nfds(&m) <= FDT_MAX_FDS, "more descriptors than any message");
	FUZZ_CHECK(fdt_msg_type_name(m.type) != NULL, "an accepted type has no name");
	FUZZ_CHECK(fdt_msg_pack(&m, &w) == 0, "an accepted message does not pack");
	FUZZ_CHECK(memcmp(&w, data, FDT_MSG_SIZE) == 0, "unpack then pack changed the bytes");
}

/* Host form straight from the input: padding and all. */
static void
check_pack(const uint8_t *data, size_t size)
{
	struct fdt_msg m, m2;
	struct fdt_wire w, w2;

	memset(&m, 0, sizeof(m));
	memcpy(&m, data, size < sizeof(m) ? size : sizeof(m));
	if (fdt_msg_pack(&m, &w) < 0)
		return;
	FUZZ_CHECK(fdt_msg_unpack(&w, sizeof(w), &m2) == 0, "a packed message does not unpack");
	FUZZ_CHECK(fdt_msg_pack(&m2, &w2) == 0, "an unpacked message does not pack");
	FUZZ_CHECK(memcmp(&w, &w2, sizeof(w)) == 0, "pack, unpack, pack is not stable");
}

static void
check_recv(const uint8_t *data, size_t size)
{
	static int sv[2] = { -1, -1 };
	struct fdt_msg m, m2;
	int fds[FDT_MAX_FDS], r, u;

	if (sv[0] < 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
		return;
	if (size > 4096 || send(sv[0], data, size, MSG_DONTWAIT) != (ssize_t)size)
		return;
	r = fdt_msg_recv(sv[1], &m, fds, MSG_DONTWAIT);
	if (size == 0) {
		/* a zero-length record reads as the end of the stream */
		FUZZ_CHECK(r == 1 || r < 0, "an empty record gave %d", r);
		return;
	}
	if (size > FDT_MSG_SIZE) {
		FUZZ_CHECK(r < 0, "a %zu-byte record was accepted", size);
		return;
	}
	u = fdt_msg_unpack(data, size, &m2);
	if (u == 0 && fdt_msg_nfds(&m2) > 0)
		FUZZ_CHECK(r == -EBADMSG, "a record missing its descriptor gave %d", r);
	else
		FUZZ_CHECK(r == u, "recv says %d, unpack says %d", r, u);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_unpack(data, size);
	check_pack(data, size);
	check_recv(data, size);
	return 0;
}
