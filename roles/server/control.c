/*
 * The server's control socket: its peers, their commands, the counters.
 * Commands that only read or change a little state are answered here, in
 * the loop; a dump or a load is a forked child's job (control_jobs.c).
 * We never open a path for writing; the sandbox would not let us.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/log.h"
#include "common/peercred.h"
#include "common/priv.h"
#include "common/spare.h"
#include "common/unixsock.h"
#include "common/wire.h"
#include "roles/server/control.h"

/* --- connections ------------------------------------------------------- */

int
server_control_open(struct server *s, uid_t uid, gid_t gid)
{
	gid_t group = gid;
	int fd;

	s->control.kind = K_CONTROL_LISTEN;
	s->control.fd = -1;
	s->control_spare = -1;
	s->control_paused = 0;
	s->run_uid = uid;
	s->control_gid = (gid_t)-1;
	for (size_t i = 0; i < SERVER_MAX_CONTROL; i++)
		s->ctl[i] = (struct ctl_conn){ .w = { K_CONTROL, -1 } };
	control_jobs_init(s);
	if (!s->cfg.control_path)
		return 0;
	if (s->cfg.control_group) {
		int r = priv_lookup_group(s->cfg.control_group, &group);
		if (r < 0)
			return r;
		s->control_gid = group;
	}
	fd = unixsock_listen(s->cfg.control_path, 0660,
	    geteuid() == 0 ? uid : (uid_t)-1, geteuid() == 0 ? group : (gid_t)-1);
	if (fd < 0)
		return fd;
	s->control.fd = fd;
	/* a copy of a descriptor we hold anyway: no path, nothing the sandbox refuses */
	spare_take(&s->control_spare, s->epfd);
	return loop_watch(s->epfd, &s->control, EPOLLIN, &s->control);
}

/* The listener unwatched for a second (control_resume re-arms it). */
static void
control_pause(struct server *s)
{
	struct epoll_event ev = { .events = 0, .data.ptr = &s->control };

	epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->control.fd, &ev);
	s->control_paused = s->clock.ms + 1000;
}

/*
 * accept4 failed with err: the waiting client would wake the
 * level-triggered listener forever.  Out of descriptors (EMFILE,
 * ENFILE), the spare takes it off the queue to tell it why; without a
 * spare, when even that fails, or on any other error (ENOMEM, ENOBUFS),
 * the listener is paused for a second rather than spun on.
 */
static void
control_accept_failed(struct server *s, int err)
{
	static struct log_limit rl;
	int r = -err;

	if (err == EMFILE || err == ENFILE)
		r = spare_turn_away(&s->control_spare, s->epfd, s->control.fd, err);
	errno = err;
	log_warn_limited(&rl, "control connection refused: %s",
	    err == EMFILE || err == ENFILE ? "out of descriptors" : "accept");
	if (r < 0 || s->control_spare < 0)
		control_pause(s);
}

/* After a pause: a spare again if we can, and the listener watched again. */
static void
control_resume(struct server *s)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &s->control };

	if (!s->control_paused || s->clock.ms < s->control_paused || s->control.fd < 0)
		return;
	s->control_paused = 0;
	spare_take(&s->control_spare, s->epfd);
	epoll_ctl(s->epfd, EPOLL_CTL_MOD, s->control.fd, &ev);
}

/*
 * A free slot for a client with these credentials, or NULL.  The last
 * free slot is kept for root and our own uid: other permitted users
 * cannot lock the operator out by holding connections.
 */
static struct ctl_conn *
ctl_slot(struct server *s, uid_t uid)
{
	struct ctl_conn *c = NULL;
	size_t nfree = 0;

	for (size_t i = 0; i < SERVER_MAX_CONTROL; i++)
		if (s->ctl[i].w.fd < 0 && !s->ctl[i].job && nfree++ == 0)
			c = &s->ctl[i];
	if (nfree == 1 && uid != 0 && uid != s->run_uid)
		return NULL;
	return c;
}

void
server_dispatch_control_listen(struct server *s)
{
	static struct log_limit rl_denied, rl_full;
	struct peercred pc;
	struct ctl_conn *c;
	uint32_t gen;
	int fd = accept4(s->control.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			control_accept_failed(s, errno);
		return;
	}
	if (peercred_get(fd, &pc) < 0) {
		close(fd);
		return;
	}
	if (!peercred_allowed(&pc, &s->run_uid, 1, &s->control_gid,
	    s->control_gid == (gid_t)-1 ? 0 : 1)) {
		log_warnx_limited(&rl_denied, "refused control connection from pid %d uid %u: "
		    "not root, not us, not in the control group", (int)pc.pid, (unsigned)pc.uid);
		fdt_msg_refuse(fd, EACCES);
		return;
	}
	if (!(c = ctl_slot(s, pc.uid))) {
		log_warnx_limited(&rl_full, "refused control connection from pid %d uid %u: "
		    "too many at once", (int)pc.pid, (unsigned)pc.uid);
		fdt_msg_refuse(fd, EUSERS);
		return;
	}
	gen = c->gen + 1;
	*c = (struct ctl_conn){ .w = { K_CONTROL, fd }, .pid = pc.pid, .uid = pc.uid,
		.gen = gen, .last_active = s->clock.ms };
	if (loop_watch(s->epfd, &c->w, EPOLLIN, c) < 0)
		ctl_close(c);
}

/* --- commands ---------------------------------------------------------------- */

static void
ctl_wipe(struct server *s, struct ctl_conn *c, const char *text)
{
	char name[FDT_TEXT_MAX];
	uint8_t wire[DNS_NAME_MAX];
	size_t len = strlen(text);
	int subtree = len > 0 && text[len - 1] == '$', n;

	snprintf(name, sizeof(name), "%.*s", (int)(len - (subtree ? 1 : 0)), text);
	if ((n = dns_name_from_text(name, wire)) < 0) {
		ctl_reply(c, EINVAL, 0, "not a domain name: %s", name);
		return;
	}
	dns_name_fold(wire, (size_t)n);
	size_t gone = cache_wipe(s->cache, wire, (size_t)n, subtree);
	ctl_reply(c, 0, gone, "wiped %zu entries", gone);
}

/*
 * quit-nicely: no new clients.  The UDP sockets stay open, only unwatched:
 * the answers still upstream go out through them (and a closed number
 * could be reused by an upstream socket meanwhile).
 */
static void
stop_listening(struct server *s)
{
	for (size_t i = 0; i < s->nudp; i++)
		if (s->udp[i].fd >= 0)
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->udp[i].fd, NULL);
	for (size_t i = 0; i < s->ntcp; i++)
		if (s->tcp[i].fd >= 0) {
			close(s->tcp[i].fd);
			s->tcp[i].fd = -1;
		}
}

static void
ctl_command(struct server *s, struct ctl_conn *c, const struct fdt_msg *m, int fd)
{
	const char *name;
	uint64_t v;

	c->id = m->id;
	c->command = m->body.ctl.command;
	switch (m->body.ctl.command) {
	case FDT_CTL_PING:
		ctl_reply(c, 0, 0, "pong");
		break;
	case FDT_CTL_VERSION:
		ctl_reply(c, 0, 0, "fdtool %s", FDTOOL_VERSION);
		break;
	case FDT_CTL_DUMP_CACHE:
		if (fd < 0)
			ctl_reply(c, EINVAL, 0, "dump-cache needs a descriptor");
		else
			ctl_dump(s, c, fd);
		return;
	case FDT_CTL_LOAD_CACHE:
		if (fd < 0)
			ctl_reply(c, EINVAL, 0, "load-cache needs a descriptor");
		else
			ctl_load(s, c, fd);
		return;
	case FDT_CTL_WIPE_CACHE:
		ctl_wipe(s, c, m->body.ctl.text);
		break;
	case FDT_CTL_GET:
		if (server_counter_get(s, m->body.ctl.text, &v) < 0)
			ctl_reply(c, ENOENT, 0, "no such counter: %s", m->body.ctl.text);
		else
			ctl_reply(c, 0, v, "%llu", (unsigned long long)v);
		break;
	case FDT_CTL_GET_ALL:
		if (server_counter_at(s, (size_t)m->body.ctl.value, &name, &v) < 0)
			ctl_reply(c, ENOENT, 0, "no more counters");
		else
			ctl_reply(c, 0, v, "%s\t%llu", name, (unsigned long long)v);
		break;
	case FDT_CTL_QUIT:
		log_info("quit, asked by pid %d uid %u", (int)c->pid, (unsigned)c->uid);
		ctl_reply(c, 0, 0, "bye");
		s->quit = 1;
		break;
	case FDT_CTL_QUIT_NICELY:
		log_info("quit-nicely, asked by pid %d uid %u", (int)c->pid, (unsigned)c->uid);
		ctl_reply(c, 0, 0, "stopping once the queries in flight are answered");
		if (!s->quit_nicely) {
			stop_listening(s);
			s->quit_nicely = 1;
			s->quit_deadline = s->clock.ms + s->cfg.query_timeout_ms + 1000;
		}
		break;
	default:
		ctl_reply(c, EOPNOTSUPP, 0, "unknown command %u", m->body.ctl.command);
	}
	if (fd >= 0)
		close(fd);
}

void
server_dispatch_control(struct server *s, struct ctl_conn *c)
{
	struct fdt_msg m;
	int fds[FDT_MAX_FDS];
	int r;

	if (c->w.fd < 0)
		return;
	r = fdt_msg_recv(c->w.fd, &m, fds, MSG_DONTWAIT);
	if (r == -EAGAIN)
		return;
	if (r == 1) {
		ctl_close(c);
		return;
	}
	if (r < 0 || m.type != FDT_MSG_CTL_REQ) {
		/* an operator's client that speaks garbage is dropped; its
		 * descriptors were closed by fdt_msg_recv */
		if (r == 0)
			fdpass_close_all(fds, fdt_msg_nfds(&m));
		log_warnx("control client pid %d uid %u: %s; dropped", (int)c->pid,
		    (unsigned)c->uid, r < 0 ? strerror(-r) : "not a control request");
		ctl_close(c);
		return;
	}
	c->last_active = s->clock.ms;
	if (c->job) {
		/* answered under its own id; the job's replies keep theirs */
		uint32_t id = c->id;
		uint16_t command = c->command;

		fdpass_close_all(fds, fdt_msg_nfds(&m));
		c->id = m.id;
		c->command = m.body.ctl.command;
		ctl_reply(c, EBUSY, 0, "a dump or load is still running on this connection");
		c->id = id;
		c->command = command;
		return;
	}
	ctl_command(s, c, &m, fdt_msg_nfds(&m) ? fds[0] : -1);
}

/*
 * Clients silent for --control-idle-timeout are closed (one waiting on its
 * dump or load is not silent: the job timeout watches that), so holding
 * connections cannot keep the slots.
 */
static void
ctl_idle_tick(struct server *s)
{
	uint64_t idle = (uint64_t)s->cfg.control_idle_s * 1000;

	for (size_t i = 0; i < SERVER_MAX_CONTROL; i++) {
		struct ctl_conn *c = &s->ctl[i];
		if (c->w.fd >= 0 && !c->job && s->clock.ms - c->last_active >= idle) {
			log_debug("control client pid %d uid %u: idle for %u s; closed",
			    (int)c->pid, (unsigned)c->uid, s->cfg.control_idle_s);
			ctl_drop(c, ETIMEDOUT);
		}
	}
}

/* Once per loop turn: jobs, idle clients, a paused listener, quit-nicely. */
void
server_control_tick(struct server *s)
{
	control_jobs_tick(s);
	ctl_idle_tick(s);
	control_resume(s);
	if (s->quit_nicely) {
		if (upstreams_inflight(resolver_upstreams(s->resolver)) == 0 ||
		    s->clock.ms >= s->quit_deadline)
			s->quit = 1;
	}
}

/* When server_control_tick next has something to do; UINT64_MAX: nothing. */
uint64_t
server_control_deadline(const struct server *s)
{
	uint64_t next = control_jobs_deadline(s), idle = (uint64_t)s->cfg.control_idle_s * 1000;

	for (size_t i = 0; i < SERVER_MAX_CONTROL; i++) {
		const struct ctl_conn *c = &s->ctl[i];
		if (c->w.fd >= 0 && !c->job && c->last_active + idle < next)
			next = c->last_active + idle;
	}
	if (s->control_paused && s->control_paused < next)
		next = s->control_paused;
	return next;
}

void
server_control_close(struct server *s)
{
	for (size_t i = 0; i < SERVER_MAX_CONTROL; i++)
		ctl_close(&s->ctl[i]);
	control_jobs_close(s);
	spare_close(&s->control_spare);
	if (s->control.fd >= 0) {
		close(s->control.fd);
		/* the sandbox forbids removing files: a next start replaces
		 * the stale socket, which nobody answers on meanwhile */
		if (unlink(s->cfg.control_path) != 0)
			log_debug("%s left behind: %s", s->cfg.control_path, strerror(errno));
	}
	s->control.fd = -1;
}
