/*
 * fdtool creator: the privileged socket creator.  It keeps one capability,
 * CAP_NET_BIND_SERVICE, binds what its policy allows for the peers it
 * trusts, and hands the sockets over with SCM_RIGHTS.  Every peer is
 * untrusted input: a bad record gets an error reply, never a crash.
 */
const char creator_usage[] =
"usage: fdtool creator (--listen PATH | --fd N) [options]\n"
"\n"
"Binds UDP and TCP sockets on request and passes them to its peers.\n"
"\n"
"  --listen PATH       serve any number of peers on a SOCK_SEQPACKET socket at\n"
"                      PATH (mode 0660, owner --user, group the first\n"
"                      --allow-gid or --user's group); each peer is checked\n"
"                      with SO_PEERCRED\n"
"  --fd N              serve the one peer on inherited SOCK_SEQPACKET socket N;\n"
"                      exit when it goes away\n"
"  --allow SPEC        allow binding SPEC (repeatable), e.g. both:127.0.0.1:53,\n"
"                      udp:[::1]:8053-8060; with none, every request is refused\n"
"  --allow-uid UID     let peers with this uid connect (repeatable; root always may)\n"
"  --allow-gid GID     let peers in this group connect (repeatable)\n"
"  --user USER         started as root, run as USER (default nobody) keeping\n"
"                      only CAP_NET_BIND_SERVICE\n"
"  --max-sockets N     hold at most N sockets (default 64); past it: EDQUOT\n"
"  --max-peers N       at most N peers at once (default 32)\n"
"  --no-seccomp        run without the system-call filter (for debugging)\n"
"  --log-level LEVEL   error, warning, info (default) or debug\n"
"  --config FILE       read the [creator] section of FILE (default\n"
"                      " FDTOOL_CONFIG_FILE " if it exists);\n"
"                      the command line overrides it\n"
"  --no-config         read no configuration file\n"
"  --check-config      check the settings, print them, exit 0 or 1\n"
"  --version           the version\n"
"  --help              this text\n";

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/capability.h>

#include "common/daemon.h"
#include "common/endpoint.h"
#include "common/fdpass.h"
#include "common/log.h"
#include "common/notify.h"
#include "common/peercred.h"
#include "common/priv.h"
#include "common/spare.h"
#include "common/unixsock.h"
#include "roles/creator.h"
#include "roles/creator_seccomp.h"
#include "roles/options.h"
#include "roles/roles.h"
#include "roles/syscall_filter.h"

#define CREATOR_MAX_ALLOW	64
#define CREATOR_MAX_IDS		32

enum conn_kind { CONN_LISTENER, CONN_SIGNAL, CONN_PEER };

struct conn {
	enum conn_kind kind;
	int fd;			/* -1: free peer slot */
	pid_t pid;
	uid_t uid;
	gid_t gid;
};

struct creator {
	struct endpoint allow[CREATOR_MAX_ALLOW];
	size_t nallow;
	uid_t allow_uid[CREATOR_MAX_IDS];
	size_t nallow_uid;
	gid_t allow_gid[CREATOR_MAX_IDS];
	size_t nallow_gid;
	const char *listen_path;
	int inherited_fd;	/* --fd, or -1 */
	const char *user;
	size_t max_sockets;
	size_t max_peers;
	int log_level;
	int check_config;
	int no_seccomp;		/* --no-seccomp: no system-call filter */
	const char *config_file;	/* the file read, or NULL */

	struct creator_table table;
	int epfd;
	struct conn listener, signal;
	struct conn *peers;	/* max_peers slots */
	int spare_fd;		/* given up to turn a peer away at EMFILE, or -1 */
	uint64_t listener_paused_until;	/* ms; 0: the listener is watched */
	int quit;
};

#define CREATOR_LISTENER_PAUSE_MS	1000

enum { O_LISTEN = 256, O_FD, O_ALLOW, O_UID, O_GID, O_USER, O_MAXS, O_MAXP,
    O_LOG, O_CHECK, O_NOSECCOMP };

static int
creator_apply(void *arg, int id, const struct opt_ctx *o)
{
	struct creator *c = arg;
	unsigned long v;
	const char *why;
	uid_t uid;
	gid_t gid;
	int r;

	switch (id) {
	case O_LISTEN:
		c->listen_path = o->arg;
		return 0;
	case O_FD:
		if ((r = opt_number(o, 3, INT_MAX, &v)) == 0)
			c->inherited_fd = (int)v;
		return r;
	case O_ALLOW:
		if (c->nallow == CREATOR_MAX_ALLOW)
			return opt_error(o, "too many (at most %d)", CREATOR_MAX_ALLOW);
		if (endpoint_parse(o->arg, 0, 0, &c->allow[c->nallow], &why) < 0)
			return opt_error(o, "%s", why);
		c->nallow++;
		return 0;
	case O_UID:
		if (c->nallow_uid == CREATOR_MAX_IDS)
			return opt_error(o, "too many (at most %d)", CREATOR_MAX_IDS);
		if (priv_lookup_user(o->arg, &uid, &gid) < 0)
			return opt_error(o, "no such user");
		c->allow_uid[c->nallow_uid++] = uid;
		return 0;
	case O_GID:
		if (c->nallow_gid == CREATOR_MAX_IDS)
			return opt_error(o, "too many (at most %d)", CREATOR_MAX_IDS);
		if (priv_lookup_group(o->arg, &c->allow_gid[c->nallow_gid]) < 0)
			return opt_error(o, "no such group");
		c->nallow_gid++;
		return 0;
	case O_USER:
		c->user = o->arg;
		return 0;
	case O_MAXS:
		if ((r = opt_number(o, 0, 65536, &v)) == 0)
			c->max_sockets = v;
		return r;
	case O_MAXP:
		if ((r = opt_number(o, 1, 4096, &v)) == 0)
			c->max_peers = v;
		return r;
	case O_LOG:
		return opt_log_level(o, &c->log_level);
	case O_CHECK:
		c->check_config = 1;
		return 0;
	case O_NOSECCOMP:
		c->no_seccomp = 1;
		return 0;
	}
	return opt_error(o, "not handled");
}

static void
creator_reset(void *arg, int id)
{
	struct creator *c = arg;

	if (id == O_ALLOW)
		c->nallow = 0;
	else if (id == O_UID)
		c->nallow_uid = 0;
	else if (id == O_GID)
		c->nallow_gid = 0;
}

static int
creator_parse(struct creator *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "fd", required_argument, NULL, O_FD },
		{ "allow", required_argument, NULL, O_ALLOW },
		{ "allow-uid", required_argument, NULL, O_UID },
		{ "allow-gid", required_argument, NULL, O_GID },
		{ "user", required_argument, NULL, O_USER },
		{ "max-sockets", required_argument, NULL, O_MAXS },
		{ "max-peers", required_argument, NULL, O_MAXP },
		{ "log-level", required_argument, NULL, O_LOG },
		{ "no-seccomp", no_argument, NULL, O_NOSECCOMP },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "no-config", no_argument, NULL, OPT_NO_CONFIG },
		{ "check-config", no_argument, NULL, O_CHECK },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const repeatable[] = { "allow", "allow-uid", "allow-gid", NULL };
	static const char *const cmdline_only[] = { "fd", "check-config", NULL };
	const struct role_options ro = {
		.role = "creator",
		.longopts = opts,
		.repeatable = repeatable,
		.cmdline_only = cmdline_only,
		.default_file = FDTOOL_CONFIG_FILE,
		.apply = creator_apply,
		.reset = creator_reset,
	};
	int r;

	if ((r = role_options_parse(&ro, c, argc, argv, &c->config_file)) != 0)
		return r;
	/* --check-config may show settings that name neither */
	if ((c->listen_path && c->inherited_fd >= 0) ||
	    (!c->listen_path && c->inherited_fd < 0 && !c->check_config))
		return role_usage_error("creator", "give exactly one of --listen PATH and --fd N");
	return 0;
}

/* --check-config: the settings it would run with, as a [creator] section. */
static int
creator_check(const struct creator *c)
{
	char buf[ENDPOINT_STRLEN];
	uid_t uid;
	gid_t gid;

	if (priv_lookup_user(c->user, &uid, &gid) < 0) {
		fprintf(stderr, "fdtool creator: user %s: no such user\n", c->user);
		return EXIT_RUNTIME;
	}
	printf("# fdtool creator: effective settings (from %s and the command line)\n",
	    c->config_file ? c->config_file : "no configuration file");
	printf("[creator]\n");
	if (c->listen_path)
		printf("listen = %s\n", c->listen_path);
	else if (c->inherited_fd >= 0)
		printf("# fd = %d (command line only)\n", c->inherited_fd);
	else
		printf("# no listen: it must be given (--listen PATH or --fd N) to run\n");
	if (c->nallow == 0)
		printf("# no allow: every request will be refused\n");
	for (size_t i = 0; i < c->nallow; i++)
		printf("allow = %s\n", endpoint_format(&c->allow[i], buf, sizeof(buf)));
	for (size_t i = 0; i < c->nallow_uid; i++)
		printf("allow-uid = %u\n", (unsigned)c->allow_uid[i]);
	for (size_t i = 0; i < c->nallow_gid; i++)
		printf("allow-gid = %u\n", (unsigned)c->allow_gid[i]);
	printf("user = %s\nmax-sockets = %zu\nmax-peers = %zu\nlog-level = %s\n",
	    c->user, c->max_sockets, c->max_peers, log_level_name(c->log_level));
	printf("no-seccomp = %s\n", c->no_seccomp ? "yes" : "no");
	return EXIT_OK;
}

static int
watch(struct creator *c, struct conn *conn)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = conn };

	return epoll_ctl(c->epfd, EPOLL_CTL_ADD, conn->fd, &ev) == 0 ? 0 : -errno;
}

static void
peer_close(struct conn *p, const char *why)
{
	log_info("peer pid %d uid %u: closed (%s)", (int)p->pid, (unsigned)p->uid, why);
	close(p->fd);	/* also takes it out of the epoll set */
	p->fd = -1;
}

/* Send a reply; a peer that cannot take it (not reading, gone) is dropped. */
static void
reply(struct conn *p, const struct fdt_msg *m, const int *fds, size_t nfds)
{
	int r = fdt_msg_send(p->fd, m, fds, nfds);

	if (r == -EAGAIN)
		peer_close(p, "does not read its replies");
	else if (r < 0)
		peer_close(p, strerror(-r));
}

static void
reply_error(struct conn *p, uint32_t id, int err)
{
	struct fdt_msg m;

	fdt_msg_init(&m, FDT_MSG_ERROR, id);
	m.status = (uint32_t)err;
	reply(p, &m, NULL, 0);
}

static int
policy_allows(const struct creator *c, const struct fdt_bind *b)
{
	for (size_t i = 0; i < c->nallow; i++)
		if (endpoint_allows(&c->allow[i], b))
			return 1;
	return 0;
}

static void
creator_handle_bind(struct creator *c, struct conn *p, const struct fdt_msg *req)
{
	struct fdt_msg rep;
	char what[ENDPOINT_STRLEN];
	int fds[FDT_MAX_FDS];
	int fresh = 0, n;

	bind_format(&req->body.bind, what, sizeof(what));
	fdt_msg_init(&rep, FDT_MSG_BIND_REP, req->id);
	rep.body.bind = req->body.bind;
	if (!policy_allows(c, &req->body.bind))
		n = -EACCES;
	else
		n = creator_table_get(&c->table, &req->body.bind, fds, &fresh);
	if (n < 0) {
		log_warnx("refused %s to pid %d uid %u: %s%s", what, (int)p->pid,
		    (unsigned)p->uid, strerror(-n),
		    n == -EACCES ? " (not allowed by --allow)" :
		    n == -EDQUOT ? " (--max-sockets reached)" : "");
		rep.status = (uint32_t)-n;
		reply(p, &rep, NULL, 0);
		return;
	}
	/* reply first: the peer waits on it, the log line waits on nobody */
	reply(p, &rep, fds, (size_t)n);
	log_info("granted %s to pid %d uid %u (%s)", what, (int)p->pid,
	    (unsigned)p->uid, fresh == n ? "new" : fresh ? "partly held" : "held");
}

static void
creator_handle_release(struct creator *c, struct conn *p, const struct fdt_msg *req)
{
	struct fdt_msg rep;
	char what[ENDPOINT_STRLEN];
	int r;

	bind_format(&req->body.bind, what, sizeof(what));
	fdt_msg_init(&rep, FDT_MSG_RELEASE_REP, req->id);
	rep.body.bind = req->body.bind;
	if (!policy_allows(c, &req->body.bind))
		r = -EACCES;
	else
		r = creator_table_release(&c->table, &req->body.bind);
	if (r < 0)
		log_warnx("refused release of %s to pid %d uid %u: %s", what,
		    (int)p->pid, (unsigned)p->uid, strerror(-r));
	else
		log_info("released %s for pid %d uid %u", what, (int)p->pid,
		    (unsigned)p->uid);
	rep.status = (uint32_t)(r < 0 ? -r : 0);
	reply(p, &rep, NULL, 0);
}

/* Errors that condemn one record, after which the channel is still fine. */
static int
is_bad_record(int r)
{
	return r == -EMSGSIZE || r == -EBADMSG || r == -EPROTO ||
	    r == -EPROTONOSUPPORT;
}

static void
creator_dispatch_peer(struct creator *c, struct conn *p)
{
	struct fdt_msg m;
	int fds[FDT_MAX_FDS];
	int r = fdt_msg_recv(p->fd, &m, fds, MSG_DONTWAIT);

	if (r == -EAGAIN)
		return;
	if (r == 1) {
		peer_close(p, "end of stream");
		return;
	}
	if (is_bad_record(r)) {
		log_warnx("pid %d uid %u: rejected a record: %s", (int)p->pid,
		    (unsigned)p->uid, strerror(-r));
		reply_error(p, m.id, -r);
		return;
	}
	if (r < 0) {
		peer_close(p, strerror(-r));
		return;
	}
	switch (m.type) {
	case FDT_MSG_BIND_REQ:
		creator_handle_bind(c, p, &m);
		break;
	case FDT_MSG_RELEASE_REQ:
		creator_handle_release(c, p, &m);
		break;
	default:
		/* well-formed, but not a request a creator serves */
		fdpass_close_all(fds, fdt_msg_nfds(&m));
		log_warnx("pid %d uid %u: unexpected %s message", (int)p->pid,
		    (unsigned)p->uid, fdt_msg_type_name(m.type));
		reply_error(p, m.id, EOPNOTSUPP);
	}
}

static struct conn *
peer_slot(struct creator *c)
{
	for (size_t i = 0; i < c->max_peers; i++)
		if (c->peers[i].fd < 0)
			return &c->peers[i];
	return NULL;
}

static int
peer_add(struct creator *c, int fd, int check)
{
	struct peercred pc;
	struct conn *p = peer_slot(c);
	int r;

	if ((r = peercred_get(fd, &pc)) < 0) {
		close(fd);
		return r;
	}
	if (check && !peercred_allowed(&pc, c->allow_uid, c->nallow_uid,
	    c->allow_gid, c->nallow_gid)) {
		log_warnx("refused connection from pid %d uid %u gid %u: not root, "
		    "not in --allow-uid or --allow-gid", (int)pc.pid,
		    (unsigned)pc.uid, (unsigned)pc.gid);
		fdt_msg_refuse(fd, EACCES);
		return 0;
	}
	if (!p) {
		log_warnx("refused connection from pid %d uid %u: --max-peers reached",
		    (int)pc.pid, (unsigned)pc.uid);
		fdt_msg_refuse(fd, EUSERS);
		return 0;
	}
	*p = (struct conn){ .kind = CONN_PEER, .fd = fd, .pid = pc.pid,
		.uid = pc.uid, .gid = pc.gid };
	if ((r = watch(c, p)) < 0) {
		close(fd);
		p->fd = -1;
		return r;
	}
	log_info("peer pid %d uid %u: connected", (int)p->pid, (unsigned)p->uid);
	return 0;
}

/*
 * Out of descriptors with a peer waiting: the spare takes the peer off
 * the backlog, refused with why (EMFILE, ENFILE), so it reads the reason
 * rather than waiting for its timeout.  0 when the backlog moved, else
 * -errno.
 */
static int
turn_away(struct creator *c, int why)
{
	int r = spare_turn_away(&c->spare_fd, c->epfd, c->listener.fd, why);

	return r == -EAGAIN || r == -ECONNABORTED ? 0 : r;
}

/*
 * The last resort when accepting fails and no spare helps (ENFILE took
 * our slot, ENOMEM): stop watching the listener for a while rather than
 * wake for it in a loop.  The waiting peer stays in the backlog.
 */
static void
listener_pause(struct creator *c)
{
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->listener.fd, NULL);
	c->listener_paused_until = daemon_now_ms() + CREATOR_LISTENER_PAUSE_MS;
}

static void
listener_resume(struct creator *c)
{
	if (!c->listener_paused_until || daemon_now_ms() < c->listener_paused_until)
		return;
	spare_take(&c->spare_fd, c->epfd);
	c->listener_paused_until = 0;
	if (watch(c, &c->listener) < 0)
		listener_pause(c);
}

/* How long epoll_wait may sleep: for ever, unless the listener is paused. */
static int
loop_timeout(const struct creator *c)
{
	uint64_t now;

	if (!c->listener_paused_until)
		return -1;
	now = daemon_now_ms();
	return now >= c->listener_paused_until ? 0 :
	    (int)(c->listener_paused_until - now);
}

static void
creator_dispatch_listener(struct creator *c)
{
	static struct log_limit rl;	/* a full table repeats this at will */
	int fd = accept4(c->listener.fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	int err = errno, r;

	if (fd >= 0) {
		if ((r = peer_add(c, fd, 1)) < 0)
			log_warnx("new peer: %s", strerror(-r));
		return;
	}
	if (err == EAGAIN || err == EINTR || err == ECONNABORTED)
		return;
	log_warn_limited(&rl, "accept");
	if ((err == EMFILE || err == ENFILE) && turn_away(c, err) == 0)
		return;
	listener_pause(c);
}

static void
creator_dispatch_signal(struct creator *c)
{
	struct signalfd_siginfo si;

	if (read(c->signal.fd, &si, sizeof(si)) != sizeof(si))
		return;
	if (si.ssi_signo == SIGHUP) {
		/* its policy holds only what root decided at start */
		log_info("SIGHUP: nothing to re-read; restart the creator to change its policy");
		return;
	}
	log_info("signal %u: exiting", si.ssi_signo);
	c->quit = 1;
}

static int
setup_signals(struct creator *c)
{
	c->signal.kind = CONN_SIGNAL;
	if ((c->signal.fd = daemon_signalfd(1)) < 0)
		return c->signal.fd;
	return watch(c, &c->signal);
}

/* The inherited --fd must be the kind of channel we speak. */
static int
adopt_fd(int fd)
{
	int type;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0)
		return -errno;
	if (type != SOCK_SEQPACKET)
		return -EPROTOTYPE;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
		return -errno;
	return 0;
}

static void
drop_privileges(const struct creator *c, uid_t uid, gid_t gid)
{
	int r;

	if (geteuid() != 0) {
		log_info("not started as root: running as uid %u with what it holds",
		    (unsigned)geteuid());
		return;
	}
	if ((r = priv_drop(uid, gid, PRIV_CAP(CAP_NET_BIND_SERVICE))) < 0)
		fatalx("cannot become %s keeping only CAP_NET_BIND_SERVICE: %s",
		    c->user, strerror(-r));
	log_info("running as %s (uid %u) with CAP_NET_BIND_SERVICE only",
	    c->user, (unsigned)uid);
}

static void
log_policy(const struct creator *c)
{
	char buf[ENDPOINT_STRLEN];

	if (c->nallow == 0)
		log_warnx("no --allow given: every request will be refused");
	for (size_t i = 0; i < c->nallow; i++)
		log_info("allowing %s", endpoint_format(&c->allow[i], buf, sizeof(buf)));
}

static void
creator_loop(struct creator *c)
{
	struct epoll_event evs[16];

	while (!c->quit) {
		int n = epoll_wait(c->epfd, evs, 16, loop_timeout(c));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fatal("epoll_wait");
		listener_resume(c);
		for (int i = 0; i < n && !c->quit; i++) {
			struct conn *conn = evs[i].data.ptr;
			if (conn->kind == CONN_LISTENER)
				creator_dispatch_listener(c);
			else if (conn->kind == CONN_SIGNAL)
				creator_dispatch_signal(c);
			else if (conn->fd >= 0)
				creator_dispatch_peer(c, conn);
		}
		/* --fd: our one peer is our reason to live */
		if (c->inherited_fd >= 0 && c->peers[0].fd < 0)
			c->quit = 1;
	}
}

int
creator_main(int argc, char **argv)
{
	struct creator c = {
		.inherited_fd = -1,
		.user = "nobody",
		.max_sockets = 64,
		.max_peers = 32,
		.log_level = LOG_LVL_INFO,
		.spare_fd = -1,
	};
	uid_t uid = (uid_t)-1;
	gid_t gid = (gid_t)-1;
	int r;

	log_init("fdtool creator", LOG_LVL_INFO);
	if ((r = creator_parse(&c, argc, argv)) != 0)
		return r;
	if (c.check_config)
		return creator_check(&c);
	log_init("fdtool creator", (enum log_level)c.log_level);
	if (c.inherited_fd >= 0)
		c.max_peers = 1;

	/* setup: everything that needs root happens here */
	if ((r = notify_open()) < 0)
		log_warnx("NOTIFY_SOCKET: %s: systemd will not hear from us", strerror(-r));
	if (geteuid() == 0 && (r = priv_lookup_user(c.user, &uid, &gid)) < 0)
		fatalx("--user %s: %s", c.user, r == -ENOENT ? "no such user" : strerror(-r));
	if (creator_table_init(&c.table, c.max_sockets) < 0 ||
	    !(c.peers = calloc(c.max_peers, sizeof(*c.peers))))
		fatalx("out of memory");
	for (size_t i = 0; i < c.max_peers; i++)
		c.peers[i] = (struct conn){ .kind = CONN_PEER, .fd = -1 };
	if ((c.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		fatal("epoll_create1");
	if ((r = setup_signals(&c)) < 0)
		fatalx("signals: %s", strerror(-r));
	if (c.listen_path) {
		gid_t sgid = c.nallow_gid ? c.allow_gid[0] : gid;
		r = unixsock_listen(c.listen_path, 0660, uid, sgid);
		if (r < 0)
			fatalx("--listen %s: %s", c.listen_path, strerror(-r));
		c.listener = (struct conn){ .kind = CONN_LISTENER, .fd = r };
		if ((r = watch(&c, &c.listener)) < 0)
			fatalx("epoll: %s", strerror(-r));
		if ((r = spare_take(&c.spare_fd, c.epfd)) < 0)
			fatalx("cannot hold a spare descriptor: %s", strerror(-r));
	} else {
		if ((r = adopt_fd(c.inherited_fd)) < 0)
			fatalx("--fd %d: %s", c.inherited_fd, strerror(-r));
		if ((r = peer_add(&c, c.inherited_fd, 0)) < 0)
			fatalx("--fd %d: %s", c.inherited_fd, strerror(-r));
	}

	/* drop */
	drop_privileges(&c, uid, gid);
	log_policy(&c);
	role_seccomp_enter(creator_syscalls, c.no_seccomp);
	notify_send("READY=1\nSTATUS=%zu address(es) allowed", c.nallow);

	/* loop */
	creator_loop(&c);
	notify_send("STOPPING=1");

	if (c.listen_path && unlink(c.listen_path) != 0) {
		if (errno == EACCES || errno == EPERM)	/* a directory not ours */
			log_info("left %s behind (its directory is not writable by us); "
			    "the next start replaces it", c.listen_path);
		else
			log_warn("cannot remove %s", c.listen_path);
	}
	for (size_t i = 0; i < c.max_peers; i++)
		if (c.peers[i].fd >= 0)
			close(c.peers[i].fd);
	spare_close(&c.spare_fd);
	creator_table_free(&c.table);
	free(c.peers);
	return EXIT_OK;
}
