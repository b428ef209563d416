/*
 * The server's control sockets: fdtool control's (SEQPACKET, one record
 * per request) and, with --rec-control, rec_control's (a stream in
 * PowerDNS's framing, control_rec.c).  Both take the same peers, by
 * SO_PEERCRED, into slots of their own and dispatch through one command
 * table (control_cmds.c); a dump or a load is a forked child's job
 * (job.h).  We never open a path for writing; the sandbox would
 * not let us.
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

/* --- listeners ----------------------------------------------------------- */

static void
listener_init(struct ctl_listener *l, enum server_kind kind, enum ctl_proto proto,
    const char *path, struct ctl_conn *conn, size_t nconn)
{
	*l = (struct ctl_listener){ .w = { kind, -1 }, .proto = proto, .path = path,
		.spare = -1, .conn = conn, .nconn = nconn };
	for (size_t i = 0; i < nconn; i++)
		conn[i] = (struct ctl_conn){
			.w = { proto == CTL_REC ? K_REC_CONTROL : K_CONTROL, -1 }, .proto = proto };
}

static int
listener_open(struct server *s, struct ctl_listener *l, uid_t uid, gid_t group)
{
	uid_t u = geteuid() == 0 ? uid : (uid_t)-1;
	gid_t g = geteuid() == 0 ? group : (gid_t)-1;
	int fd = l->proto == CTL_REC ? unixsock_listen_stream(l->path, 0660, u, g) :
	    unixsock_listen(l->path, 0660, u, g);

	if (fd < 0)
		return fd;
	l->w.fd = fd;
	/* a copy of a descriptor we hold anyway: no path, nothing the sandbox refuses */
	spare_take(&l->spare, s->epfd);
	return loop_watch(s->epfd, &l->w, EPOLLIN, l);
}

int
server_control_open(struct server *s, uid_t uid, gid_t gid)
{
	gid_t group = gid;
	int r;

	s->run_uid = uid;
	s->control_gid = (gid_t)-1;
	listener_init(&s->control, K_CONTROL_LISTEN, CTL_NATIVE, s->cfg.control_path,
	    s->ctl, SERVER_MAX_CONTROL);
	listener_init(&s->rec_control, K_REC_CONTROL_LISTEN, CTL_REC, s->cfg.rec_control_path,
	    s->rec, SERVER_MAX_REC_CONTROL);
	control_jobs_init(s);
	if (s->cfg.control_group) {
		if ((r = priv_lookup_group(s->cfg.control_group, &group)) < 0)
			return r;
		s->control_gid = group;
	}
	/* asked for by name (it has no default), so failing to make it is fatal */
	if (s->cfg.rec_control_path && (r = listener_open(s, &s->rec_control, uid, group)) < 0)
		fatalx("--rec-control %s: %s", s->cfg.rec_control_path, strerror(-r));
	if (!s->cfg.control_path)
		return 0;
	return listener_open(s, &s->control, uid, group);
}

/* The listener unwatched for a second (listener_resume re-arms it). */
static void
listener_pause(struct server *s, struct ctl_listener *l)
{
	struct epoll_event ev = { .events = 0, .data.ptr = l };

	epoll_ctl(s->epfd, EPOLL_CTL_MOD, l->w.fd, &ev);
	l->paused = s->clock.ms + 1000;
}

/*
 * accept4 failed with err: the waiting client would wake the
 * level-triggered listener forever.  Out of descriptors (EMFILE,
 * ENFILE), the spare takes it off the queue to tell it why (a native
 * client reads an ERROR record; rec_control, which has no such thing, a
 * closed connection); without a spare, when even that fails, or on any
 * other error (ENOMEM, ENOBUFS), the listener is paused for a second
 * rather than spun on.
 */
static void
listener_accept_failed(struct server *s, struct ctl_listener *l, int err)
{
	static struct log_limit rl;
	int r = -err;

	if (err == EMFILE || err == ENFILE)
		r = spare_turn_away(&l->spare, s->epfd, l->w.fd,
		    l->proto == CTL_NATIVE ? err : 0);
	errno = err;
	log_warn_limited(&rl, "control connection refused: %s",
	    err == EMFILE || err == ENFILE ? "out of descriptors" : "accept");
	if (r < 0 || l->spare < 0)
		listener_pause(s, l);
}

/* After a pause: a spare again if we can, and the listener watched again. */
static void
listener_resume(struct server *s, struct ctl_listener *l)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = l };

	if (!l->paused || s->clock.ms < l->paused || l->w.fd < 0)
		return;
	l->paused = 0;
	spare_take(&l->spare, s->epfd);
	epoll_ctl(s->epfd, EPOLL_CTL_MOD, l->w.fd, &ev);
}

/*
 * A free slot for a client with these credentials, or NULL.  The last
 * free slot is kept for root and our own uid: other permitted users
 * cannot lock the operator out by holding connections.
 */
static struct ctl_conn *
ctl_slot(struct server *s, struct ctl_listener *l, uid_t uid)
{
	struct ctl_conn *c = NULL;
	size_t nfree = 0;

	for (size_t i = 0; i < l->nconn; i++)
		if (l->conn[i].w.fd < 0 && !l->conn[i].job && nfree++ == 0)
			c = &l->conn[i];
	if (nfree == 1 && uid != 0 && uid != s->run_uid)
		return NULL;
	return c;
}

/* A refusal the client can read: an ERROR record, or rec_control's framed text. */
static void
refuse(struct ctl_listener *l, int fd, int err)
{
	if (l->proto == CTL_NATIVE) {
		fdt_msg_refuse(fd, err);
		return;
	}
	rec_refuse(fd, err == EACCES ? "refused: not root, not the server's user, "
	    "not in its control group" : "refused: too many rec_control clients at once");
}

void
server_dispatch_control_listen(struct server *s, struct ctl_listener *l)
{
	static struct log_limit rl_denied, rl_full;
	struct peercred pc;
	struct ctl_conn *c;
	uint32_t gen;
	int fd = accept4(l->w.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			listener_accept_failed(s, l, errno);
		return;
	}
	if (peercred_get(fd, &pc) < 0) {
		close(fd);
		return;
	}
	if (!peercred_allowed(&pc, &s->run_uid, 1, &s->control_gid,
	    s->control_gid == (gid_t)-1 ? 0 : 1)) {
		log_warnx_limited(&rl_denied, "refused %scontrol connection from pid %d uid %u: "
		    "not root, not us, not in the control group",
		    l->proto == CTL_REC ? "rec_" : "", (int)pc.pid, (unsigned)pc.uid);
		refuse(l, fd, EACCES);
		return;
	}
	if (!(c = ctl_slot(s, l, pc.uid))) {
		log_warnx_limited(&rl_full, "refused %scontrol connection from pid %d uid %u: "
		    "too many at once", l->proto == CTL_REC ? "rec_" : "", (int)pc.pid,
		    (unsigned)pc.uid);
		refuse(l, fd, EUSERS);
		return;
	}
	gen = c->gen + 1;
	*c = (struct ctl_conn){ .w = { c->w.kind, fd }, .proto = l->proto, .pid = pc.pid,
		.uid = pc.uid, .gen = gen, .last_active = s->clock.ms };
	if ((l->proto == CTL_REC && rec_io_new(c, s->epfd, &s->clock,
	    (uint64_t)s->cfg.control_idle_s * 1000) < 0) ||
	    loop_watch(s->epfd, &c->w, EPOLLIN, c) < 0)
		ctl_close(c);
}

/* --- fdtool control's records ------------------------------------------------ */

/* The record's text as the command's one argument (a name), if it has one. */
static void
native_args(const struct fdt_msg *m, int fd, struct ctl_args *a)
{
	static char text[FDT_TEXT_MAX];

	snprintf(text, sizeof(text), "%s", m->body.ctl.text);
	*a = (struct ctl_args){ .argc = text[0] != '\0', .value = m->body.ctl.value, .fd = fd };
	a->argv[0] = text;
}

void
server_dispatch_control(struct server *s, struct ctl_conn *c)
{
	const struct ctl_cmd *cmd;
	struct ctl_args a;
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
	c->id = m.id;
	c->command = m.body.ctl.command;
	if (!(cmd = ctl_cmd_native(m.body.ctl.command))) {
		fdpass_close_all(fds, fdt_msg_nfds(&m));
		ctl_reply(c, EOPNOTSUPP, 0, "unknown command %u", m.body.ctl.command);
		return;
	}
	native_args(&m, fdt_msg_nfds(&m) ? fds[0] : -1, &a);
	ctl_cmd_run(s, c, cmd, &a);
}

/* --- time ---------------------------------------------------------------------- */

/* When a client is due to be closed: silent native ones, rec_control's stalled ones. */
static uint64_t
conn_deadline(const struct server *s, const struct ctl_conn *c)
{
	if (c->w.fd < 0 || c->job)
		return UINT64_MAX;
	if (c->proto == CTL_REC)
		return rec_deadline(c);
	return c->last_active + (uint64_t)s->cfg.control_idle_s * 1000;
}

/*
 * Clients silent for --control-idle-timeout are closed (one waiting on its
 * dump or load is not silent: the job timeout watches that), so holding
 * connections cannot keep the slots; so are rec_control clients that do
 * not finish their request, or do not read its answer, within it.
 */
static void
ctl_idle_tick(struct server *s, struct ctl_listener *l)
{
	for (size_t i = 0; i < l->nconn; i++) {
		struct ctl_conn *c = &l->conn[i];
		if (s->clock.ms >= conn_deadline(s, c)) {
			log_debug("%scontrol client pid %d uid %u: idle for %u s; closed",
			    c->proto == CTL_REC ? "rec_" : "", (int)c->pid, (unsigned)c->uid,
			    s->cfg.control_idle_s);
			ctl_drop(c, ETIMEDOUT);
		}
	}
}

/* Once per loop turn: jobs, idle clients, a paused listener, quit-nicely. */
void
server_control_tick(struct server *s)
{
	control_jobs_tick(s);
	ctl_idle_tick(s, &s->control);
	ctl_idle_tick(s, &s->rec_control);
	listener_resume(s, &s->control);
	listener_resume(s, &s->rec_control);
	if (s->quit_nicely) {
		if (upstreams_inflight(resolver_upstreams(s->resolver)) == 0 ||
		    s->clock.ms >= s->quit_deadline)
			s->quit = 1;
	}
}

static uint64_t
listener_deadline(const struct server *s, const struct ctl_listener *l, uint64_t next)
{
	uint64_t t;

	for (size_t i = 0; i < l->nconn; i++)
		if ((t = conn_deadline(s, &l->conn[i])) < next)
			next = t;
	if (l->paused && l->paused < next)
		next = l->paused;
	return next;
}

/* When server_control_tick next has something to do; UINT64_MAX: nothing. */
uint64_t
server_control_deadline(const struct server *s)
{
	uint64_t next = control_jobs_deadline(s);

	next = listener_deadline(s, &s->control, next);
	return listener_deadline(s, &s->rec_control, next);
}

static void
listener_close(struct ctl_listener *l)
{
	for (size_t i = 0; i < l->nconn; i++)
		ctl_close(&l->conn[i]);
	spare_close(&l->spare);
	if (l->w.fd >= 0) {
		close(l->w.fd);
		/* the sandbox forbids removing files: a next start replaces
		 * the stale socket, which nobody answers on meanwhile */
		if (unlink(l->path) != 0)
			log_debug("%s left behind: %s", l->path, strerror(errno));
	}
	l->w.fd = -1;
}

void
server_control_close(struct server *s)
{
	listener_close(&s->control);
	listener_close(&s->rec_control);
	control_jobs_close(s);
}
