/*
 * rec_control's socket: PowerDNS Recursor 4.x's control protocol, so the
 * real rec_control, Telegraf's powerdns_recursor input and the scripts
 * around them drive fdtool.  A request is an int status (0), a size_t
 * length and that many bytes of text, in the host's sizes and byte order
 * (both ends run on this machine); a command that writes to a file is
 * followed by a 1-byte message carrying the descriptor (SCM_RIGHTS).  The
 * answer has the same framing, and then we close: rec_control sends one
 * command per connection.
 *
 * pdns reads a request, and then the descriptor, blocking; here each
 * stage is read as it arrives, from the loop, and a client that does not
 * finish its request (or does not take its answer) within
 * --control-idle-timeout is dropped.  A descriptor anywhere but in its
 * place, or a length beyond REC_TEXT_MAX, drops the client too.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/log.h"
#include "common/wire.h"
#include "roles/server/control.h"

#define REC_HEAD_LEN	(sizeof(int) + sizeof(size_t))
#define REC_TEXT_MAX	(16 * 1024)	/* a command and some names to wipe */
#define REC_REPLY_MAX	(1024 * 1024)	/* get-all with every upstream's counters */

static struct log_limit rl_bad;	/* what hostile clients make us say */

enum rec_state {
	REC_HEAD,		/* reading status and length */
	REC_TEXT,		/* reading the command */
	REC_FD,			/* waiting for the descriptor it writes to */
	REC_BUSY,		/* its dump runs */
	REC_WRITING,		/* answering; closed once the answer is out */
};

struct rec_io {
	enum rec_state state;
	uint8_t head[REC_HEAD_LEN];
	size_t have;		/* bytes of head, then of text */
	size_t len;		/* the text's, from head */
	char text[REC_TEXT_MAX + 1];
	const struct ctl_cmd *cmd;	/* REC_FD: what the descriptor is for */
	struct ctl_args args;
	char *out;		/* the answer, framed: head, then text */
	size_t outlen, outcap, sent;
	int cut;		/* an answer past REC_REPLY_MAX: the rest dropped */
	int epfd;
	const struct loop_clock *clock;
	uint64_t idle_ms;
	uint64_t deadline;	/* ms: request read and answer taken by then */
};

int
rec_io_new(struct ctl_conn *c, int epfd, const struct loop_clock *clock, uint64_t idle_ms)
{
	struct rec_io *io = calloc(1, sizeof(*io));

	if (!io)
		return -ENOMEM;
	io->epfd = epfd;
	io->clock = clock;
	io->idle_ms = idle_ms;
	io->deadline = clock->ms + idle_ms;
	io->outlen = REC_HEAD_LEN;
	c->rec = io;
	return 0;
}

void
rec_io_free(struct ctl_conn *c)
{
	if (!c->rec)
		return;
	if (c->rec->state == REC_FD && c->rec->args.fd >= 0)
		close(c->rec->args.fd);
	free(c->rec->out);
	free(c->rec);
	c->rec = NULL;
}

uint64_t
rec_deadline(const struct ctl_conn *c)
{
	return c->rec ? c->rec->deadline : UINT64_MAX;
}

/* Room for n more bytes of answer; 0, or -ENOSPC past limit. */
static int
out_reserve(struct rec_io *io, size_t n, size_t limit)
{
	size_t cap = io->outcap ? io->outcap : 4096;
	char *p;

	if (io->outlen + n <= io->outcap)
		return 0;
	if (io->outlen + n > limit)
		return -ENOSPC;
	while (cap < io->outlen + n)
		cap *= 2;
	if (cap > limit)
		cap = limit;
	if (!(p = realloc(io->out, cap)))
		return -ENOMEM;
	io->out = p;
	io->outcap = cap;
	return 0;
}

/*
 * More of the answer, formatted in place (a line of any length stays
 * whole).  Past REC_REPLY_MAX the rest is dropped, not holed, and the
 * answer ends saying so: 1 MiB is far more than every counter of the
 * most upstreams we take.
 */
void
rec_vappend(struct ctl_conn *c, const char *fmt, va_list ap)
{
	struct rec_io *io = c->rec;
	va_list aq;
	int n;

	if (!io || io->state == REC_WRITING || io->cut)
		return;
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return;
	if (out_reserve(io, (size_t)n + 1, REC_REPLY_MAX) < 0) {
		io->cut = 1;
		return;
	}
	vsnprintf(io->out + io->outlen, (size_t)n + 1, fmt, ap);
	io->outlen += (size_t)n;
}

static void
rec_append(struct ctl_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
rec_append(struct ctl_conn *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	rec_vappend(c, fmt, ap);
	va_end(ap);
}

/* Send what is left of the answer; once it is all out, the connection's work is done. */
static void
rec_flush(struct ctl_conn *c)
{
	struct rec_io *io = c->rec;

	while (io->sent < io->outlen) {
		ssize_t n = send(c->w.fd, io->out + io->sent, io->outlen - io->sent,
		    MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
			epoll_ctl(io->epfd, EPOLL_CTL_MOD, c->w.fd, &ev);
			return;
		}
		if (n <= 0)
			break;
		io->sent += (size_t)n;
	}
	ctl_close(c);
}

/*
 * The answer: status 0 or 1 (rec_control's exit status; pdns answers 1
 * to whatever failed), the lines appended, then text.  A dump's last
 * word is pdns's, which scripts look for.
 */
void
rec_reply(struct ctl_conn *c, int status, uint64_t value, const char *text)
{
	struct rec_io *io = c->rec;
	size_t len = strlen(text);
	int st = status ? 1 : 0;

	if (!io || c->w.fd < 0 || io->state == REC_WRITING)
		return;
	if (c->command == FDT_CTL_DUMP_CACHE && status == 0)
		rec_append(c, "dumped %llu records\n", (unsigned long long)value);
	else if (len)
		rec_append(c, "%s%s", text, text[len - 1] == '\n' ? "" : "\n");
	if (io->cut) {
		static const char cut[] = "(the rest is cut: the answer passed 1 MiB)\n";
		if (out_reserve(io, sizeof(cut), REC_REPLY_MAX + sizeof(cut)) == 0) {
			memcpy(io->out + io->outlen, cut, sizeof(cut) - 1);
			io->outlen += sizeof(cut) - 1;
		}
		st = 1;
	}
	if (out_reserve(io, 0, REC_REPLY_MAX + 64) < 0) {	/* nothing appended: the head */
		ctl_close(c);
		return;
	}
	len = io->outlen - REC_HEAD_LEN;
	memcpy(io->out, &st, sizeof(st));
	memcpy(io->out + sizeof(st), &len, sizeof(len));
	io->state = REC_WRITING;
	io->deadline = io->clock->ms + io->idle_ms;	/* to take it, from now */
	rec_flush(c);
}

/* A refusal before the client has a slot: framed as any answer, then closed. */
void
rec_refuse(int fd, const char *why)
{
	char buf[512];
	int st = 1;
	size_t len = strlen(why) + 1;

	if (len + REC_HEAD_LEN > sizeof(buf))
		len = sizeof(buf) - REC_HEAD_LEN;
	memcpy(buf, &st, sizeof(st));
	memcpy(buf + sizeof(st), &len, sizeof(len));
	memcpy(buf + REC_HEAD_LEN, why, len - 1);
	buf[REC_HEAD_LEN + len - 1] = '\n';
	send(fd, buf, REC_HEAD_LEN + len, MSG_DONTWAIT | MSG_NOSIGNAL);
	/* what it sent unread would make our close a reset it may see first */
	shutdown(fd, SHUT_RD);
	while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	close(fd);
}

/* The command line: its words, the first lower-cased as pdns does. */
static int
split_words(struct rec_io *io, char **cmd)
{
	char *save = NULL, *w;

	io->args = (struct ctl_args){ .fd = -1 };
	if (memchr(io->text, '\0', io->len))
		return -EINVAL;
	io->text[io->len] = '\0';
	if (!(*cmd = strtok_r(io->text, " \t\r\n", &save)))
		return -EINVAL;
	for (char *p = *cmd; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	while ((w = strtok_r(NULL, " \t\r\n", &save))) {
		if (io->args.argc == CTL_MAX_ARGS)
			return -E2BIG;
		io->args.argv[io->args.argc++] = w;
	}
	return 0;
}

static void
rec_command(struct server *s, struct ctl_conn *c)
{
	struct rec_io *io = c->rec;
	char *name;
	int r;

	c->command = 0;
	if ((r = split_words(io, &name)) < 0) {
		ctl_reply(c, r, 0, r == -E2BIG ? "too many arguments" : "invalid command");
		return;
	}
	if (!(io->cmd = ctl_cmd_named(name, CTL_REC))) {
		ctl_reply(c, ENOENT, 0, "Unknown command '%s', try 'help'", name);
		return;
	}
	if (io->cmd->flags & CTL_CMD_FD) {
		if (io->args.argc > 0) {
			/* rec_control before 4.5 sent the name for the server to open */
			ctl_reply(c, EINVAL, 0, "fdtool opens no files: use a rec_control that "
			    "passes the file's descriptor (4.5 or later)");
			return;
		}
		c->command = io->cmd->native;
		io->state = REC_FD;
		return;
	}
	ctl_cmd_run(s, c, io->cmd, &io->args);
}

/* What is still to read in this state, and where it goes. */
static size_t
want(struct rec_io *io, char **dst)
{
	static char fdbyte;

	switch (io->state) {
	case REC_HEAD:
		*dst = (char *)io->head + io->have;
		return REC_HEAD_LEN - io->have;
	case REC_TEXT:
		*dst = io->text + io->have;
		return io->len - io->have;
	default:
		*dst = &fdbyte;
		return 1;
	}
}

/* The stage just read is whole: on to the next. */
static void
stage_done(struct server *s, struct ctl_conn *c, int fd)
{
	struct rec_io *io = c->rec;

	switch (io->state) {
	case REC_HEAD:
		memcpy(&io->len, io->head + sizeof(int), sizeof(io->len));
		if (io->len > REC_TEXT_MAX) {
			log_warnx_limited(&rl_bad, "rec_control client pid %d uid %u: "
			    "a command of %zu bytes; dropped",
			    (int)c->pid, (unsigned)c->uid, io->len);
			ctl_close(c);
			return;
		}
		io->state = REC_TEXT;
		io->have = 0;
		if (io->len == 0)
			stage_done(s, c, -1);
		return;
	case REC_TEXT:
		io->state = REC_BUSY;
		rec_command(s, c);
		return;
	default:
		io->state = REC_BUSY;
		io->args.fd = fd;
		ctl_cmd_run(s, c, io->cmd, &io->args);
		return;
	}
}

/*
 * Read the request as far as it has come.  A busy client (its dump runs)
 * has nothing more to say: its hanging up is noticed here (and ends the
 * dump), and anything it sends drops it.
 */
void
server_dispatch_rec_control(struct server *s, struct ctl_conn *c, uint32_t events)
{
	struct rec_io *io = c->rec;

	if (c->w.fd < 0 || !io)
		return;
	if (io->state == REC_WRITING) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			rec_flush(c);
		return;
	}
	if (io->state == REC_BUSY && (events & (EPOLLHUP | EPOLLERR))) {
		ctl_close(c);	/* gone both ways: its job ends with it */
		return;
	}
	while (c->w.fd >= 0 && c->rec && io->state != REC_WRITING) {
		int fds[1];
		size_t nfds = 0;
		char *dst;
		size_t n = io->state == REC_BUSY ? 1 : want(io, &dst);
		char sink;
		ssize_t r;

		if (io->state == REC_BUSY)
			dst = &sink;
		r = fdpass_recv(c->w.fd, dst, n, fds, 1, &nfds, MSG_DONTWAIT);
		if (r == -EAGAIN || r == -EINTR)
			return;
		if (r == 0 && io->state == REC_BUSY) {
			/* only its sending side shut (socat does that): its
			 * dump goes on, and only a hang-up (EPOLLHUP) or a
			 * failed answer says it has gone */
			struct epoll_event ev = { .events = 0, .data.ptr = c };
			epoll_ctl(io->epfd, EPOLL_CTL_MOD, c->w.fd, &ev);
			return;
		}
		if (r == 0) {
			ctl_close(c);
			return;
		}
		if (r < 0 || io->state == REC_BUSY || (nfds > 0) != (io->state == REC_FD)) {
			fdpass_close_all(fds, nfds);
			log_warnx_limited(&rl_bad, "rec_control client pid %d uid %u: %s; dropped",
			    (int)c->pid,
			    (unsigned)c->uid, r < 0 ? strerror((int)-r) :
			    io->state == REC_BUSY ? "more than one command" :
			    nfds ? "a descriptor it should not send" : "no descriptor");
			ctl_close(c);
			return;
		}
		c->last_active = s->clock.ms;
		io->have += (size_t)r;
		if (io->state == REC_FD || io->have == (io->state == REC_HEAD ?
		    REC_HEAD_LEN : io->len))
			stage_done(s, c, nfds ? fds[0] : -1);
	}
}
