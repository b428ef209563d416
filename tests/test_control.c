/*
 * The control protocol below the integration tests: every command's
 * encoding through the one message format, the descriptor-flag rules
 * that decide what travels with it, and the counter table the get
 * commands read.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/wire.h"
#include "roles/server/server.h"
#include "tests/helpers.h"

static void
make(struct fdt_msg *m, uint16_t command, uint16_t flags, const char *text)
{
	fdt_msg_init(m, FDT_MSG_CTL_REQ, 42);
	m->body.ctl.command = command;
	m->body.ctl.flags = flags;
	m->body.ctl.value = 7;
	snprintf(m->body.ctl.text, sizeof(m->body.ctl.text), "%s", text);
}

Test(control, every_command_round_trips)
{
	for (uint16_t cmd = FDT_CTL_PING; cmd <= FDT_CTL_COMMAND_MAX; cmd++) {
		int fd_cmd = cmd == FDT_CTL_DUMP_CACHE || cmd == FDT_CTL_LOAD_CACHE;
		struct fdt_msg m, back;
		struct fdt_wire w;

		make(&m, cmd, fd_cmd ? FDT_CTL_F_FD : 0, "example.test$");
		cr_assert_eq(fdt_msg_pack(&m, &w), 0, "command %u", cmd);
		cr_assert_eq(fdt_msg_unpack(&w, sizeof(w), &back), 0, "command %u", cmd);
		cr_assert_eq(back.body.ctl.command, cmd);
		cr_assert_eq(back.body.ctl.value, 7);
		cr_assert_str_eq(back.body.ctl.text, "example.test$");
		cr_assert_eq(fdt_msg_nfds(&back), fd_cmd ? 1u : 0u, "command %u", cmd);
	}
}

Test(control, progress_replies_round_trip)
{
	struct fdt_msg m, back;
	struct fdt_wire w;

	fdt_msg_init(&m, FDT_MSG_CTL_REP, 9);
	m.body.ctl.command = FDT_CTL_DUMP_CACHE;
	m.body.ctl.flags = FDT_CTL_F_PROGRESS;
	m.body.ctl.value = 123456;
	cr_assert_eq(fdt_msg_pack(&m, &w), 0);
	cr_assert_eq(fdt_msg_unpack(&w, sizeof(w), &back), 0);
	cr_assert_eq(back.body.ctl.flags, FDT_CTL_F_PROGRESS);
	cr_assert_eq(back.body.ctl.value, 123456);
	cr_assert_eq(fdt_msg_nfds(&back), 0, "a reply never carries a descriptor");
}

Test(control, descriptor_must_match_the_flag, .init = pair_open, .timeout = 10)
{
	struct fdt_msg m, back;
	struct fdt_wire w;
	int fds[FDT_MAX_FDS], devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

	/* a dump request that says "descriptor attached" but has none */
	make(&m, FDT_CTL_DUMP_CACHE, FDT_CTL_F_FD, "");
	cr_assert_eq(fdt_msg_send(pair[0], &m, NULL, 0), -EINVAL, "the sender refuses it");
	cr_assert_eq(fdt_msg_pack(&m, &w), 0);
	cr_assert_eq(fdpass_send(pair[0], &w, sizeof(w), NULL, 0), 0);
	cr_assert_eq(fdt_msg_recv(pair[1], &back, fds, 0), -EBADMSG);

	/* a ping with a descriptor smuggled along */
	make(&m, FDT_CTL_PING, 0, "");
	cr_assert_eq(fdt_msg_pack(&m, &w), 0);
	cr_assert_eq(fdpass_send(pair[0], &w, sizeof(w), &devnull, 1), 0);
	cr_assert_eq(fdt_msg_recv(pair[1], &back, fds, 0), -EBADMSG);

	/* and the honest one */
	make(&m, FDT_CTL_LOAD_CACHE, FDT_CTL_F_FD, "");
	cr_assert_eq(fdt_msg_send(pair[0], &m, &devnull, 1), 0);
	cr_assert_eq(fdt_msg_recv(pair[1], &back, fds, 0), 0);
	cr_assert_eq(fd_inode(fds[0]), fd_inode(devnull));
	close(fds[0]);
	close(devnull);
	pair_assert_no_leak();
}

Test(control, command_text_must_end)
{
	struct fdt_msg m, back;
	struct fdt_wire w;

	make(&m, FDT_CTL_WIPE_CACHE, 0, "www.example.test");
	cr_assert_eq(fdt_msg_pack(&m, &w), 0);
	memset(w.body.ctl.text, 'a', sizeof(w.body.ctl.text));
	cr_assert_eq(fdt_msg_unpack(&w, sizeof(w), &back), -EBADMSG);
}

Test(control, counters_have_unique_names_and_agree)
{
	static struct server s;
	struct counter c, d;
	char name[128];
	size_t n = 0;

	cr_assert_not_null(s.cache = cache_new(4));
	s.stats.questions = 11;
	s.stats.packetcache_hits = 22;
	for (size_t i = 0; server_counter_at(&s, i, &c) == 0; i++, n++) {
		snprintf(name, sizeof(name), "%s", c.name);
		cr_assert_not_null(c.help, "%s has no help", name);
		cr_assert_eq(server_counter_get(&s, name, &d), 0, "%s", name);
		/* CPU time moves between two calls */
		if (strcmp(name, "user-msec") != 0 && strcmp(name, "sys-msec") != 0)
			cr_assert_eq(c.value, d.value, "%s", name);
		for (size_t j = 0; j < i; j++) {
			cr_assert_eq(server_counter_at(&s, j, &d), 0);
			cr_assert_str_neq(name, d.name, "counter %s twice", name);
		}
	}
	cr_assert_geq(n, 20, "only %zu counters", n);
	cr_assert_eq(server_counter_get(&s, "questions", &c), 0);
	cr_assert_eq(c.value, 11);
	cr_assert_eq(server_counter_get(&s, "packetcache-hits", &c), 0);
	cr_assert_eq(c.value, 22);
	cr_assert_eq(server_counter_get(&s, "packetcache-entries", &c), 0);
	cr_assert_eq(c.gauge, 1);
	cr_assert_eq(server_counter_get(&s, "no-such-counter", &c), -ENOENT);
	cache_free(s.cache);
}
