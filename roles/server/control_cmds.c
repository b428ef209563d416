/*
 * The control commands: one table, one row and one handler per command,
 * dispatched from both control sockets (fdtool control's records and
 * rec_control's text).  A handler answers in the client's own protocol
 * through ctl_reply(), which frames it; where the two protocols want
 * different words, the handler asks c->proto.  We never open a path for
 * writing: output goes to a descriptor the client passed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/log.h"
#include "common/wire.h"
#include "roles/server/control.h"
#include "roles/server/dump.h"
#include "roles/server/job.h"
#include "roles/server/prom.h"

static void
cmd_ping(struct server *s, struct ctl_conn *c, struct ctl_args *a)
{
	(void)s;
	(void)a;
	ctl_reply(c, 0, 0, "pong");
}

/* rec_control prints pdns's bare version number; scripts parse it as such. */
static void
cmd_version(struct server *s, struct ctl_conn *c, struct ctl_args *a)
{
	(void)s;
	(void)a;
	ctl_reply(c, 0, 0, "%s%s", c->proto == CTL_REC ? "" : "fdtool ", FDTOOL_VERSION);
}

static void
cmd_help(struct server *s, struct ctl_conn *c, struct ctl_args *a);

/*
 * get NAME: native clients ask for one and hear ENOENT for a name we do
 * not have; rec_control asks for several and reads UNKNOWN, as from pdns.
 */
static void
cmd_get(struct server *s, struct ctl_conn *c, struct ctl_args *a)
{
	struct counter v;

	if (c->proto == CTL_NATIVE) {
		if (a->argc != 1 || server_counter_get(s, a->argv[0], &v) < 0)
			ctl_reply(c, ENOENT, 0, "no such counter: %s", a->argc ? a->argv[0] : "");
		else
			ctl_reply(c, 0, v.value, "%llu", (unsigned long long)v.value);
		return;
	}
	for (int i = 0; i < a->argc; i++) {
		if (server_counter_get(s, a->argv[i], &v) < 0)
			ctl_append(c, "UNKNOWN\n");
		else
			ctl_append(c, "%llu\n", (unsigned long long)v.value);
	}
	ctl_reply(c, 0, 0, "%s", "");
}

/* Native clients walk the counters by index, so no reply holds more than one. */
static void
cmd_get_all(struct server *s, struct ctl_conn *c, struct ctl_args *a)
{
	struct counter v;

	if (c->proto == CTL_NATIVE) {
		if (server_counter_at(s, (size_t)a->value, &v) < 0)
			ctl_reply(c, ENOENT, 0, "no more counters");
		else
			ctl_reply(c, 0, v.value, "%s\t%llu", v.name, (unsigned long long)v.value);
		return;
	}
	for (size_t i = 0; server_counter_at(s, i, &v) == 0; i++)
		ctl_append(c, "%s\t%llu\n", v.name, (unsigned long long)v.value);
	ctl_reply(c, 0, 0, "%s", "");
}

/* pdns's form: name="value", or "name not known". */
static void
cmd_get_parameter(struct server *s, struct ctl_conn *c, struct ctl_args *a)
{
	char value[2048];

	for (int i = 0; i < a->argc; i++) {
		if (server_config_value(&s->cfg, a->argv[i], value, sizeof(value)) < 0)
			ctl_append(c, "%s not known\n", a->argv[i]);
		else
			ctl_append(c, "%s=\"%s\"\n", a->argv[i], value);
	}
	ctl_reply(c, 0, 0, "%s", "");
}

static void
cmd_dump_cache(struct server *s, struct ctl_conn *c, struct ctl_args *a)
{
	job_write_start(s, c, a->fd, JOB_DUMP);
}

static void
cmd_load_cache(struct server *s, struct ctl_conn *c, struct ctl_args *a)
{
	job_load_start(s, c, a->fd);
}

/*
 * The counters as Prometheus text, written by a child into the passed
 * descriptor as a dump is (a reader that never reads stalls only its
 * child).  Made here, before the fork: CPU time and memory are ours.
 */
static void
cmd_metrics(struct server *s, struct ctl_conn *c, struct ctl_args *a)
{
	size_t len;
	char *text = prom_render_alloc(s, &len);

	if (!text) {
		int e = errno;
		if (e == EFBIG)
			ctl_reply(c, e, 0, "the counters do not fit in %d bytes", PROM_TEXT_MAX);
		else
			ctl_reply(c, e, 0, "the counters: %s", strerror(e));
		close(a->fd);
		return;
	}
	s->job_text = text;
	s->job_text_len = len;
	job_write_start(s, c, a->fd, JOB_TEXT);
	s->job_text = NULL;
	s->job_text_len = 0;
	free(text);
}

/* A name to wipe: NAME, or NAME$ for it and everything below it. */
struct wipe_name {
	uint8_t wire[DNS_NAME_MAX];
	size_t len;
	int subtree;
};

static int
wipe_parse(const char *text, struct wipe_name *w)
{
	char name[FDT_TEXT_MAX];
	size_t len = strlen(text);
	int n;

	w->subtree = len > 0 && text[len - 1] == '$';
	snprintf(name, sizeof(name), "%.*s", (int)(len - (w->subtree ? 1 : 0)), text);
	if ((n = dns_name_from_text(name, w->wire)) < 0)
		return -EINVAL;
	dns_name_fold(w->wire, (size_t)n);
	w->len = (size_t)n;
	return 0;
}

/*
 * Every name is read before any is wiped: one bad name wipes nothing.
 * fdtool's cache holds whole answers, which pdns calls packets; it has
 * no record or negative cache, so those counts are 0 for rec_control,
 * and a bad name is pdns's "Error: ..., nothing wiped" (status 0, as
 * pdns answers it).
 */
static void
wipe(struct server *s, struct ctl_conn *c, struct ctl_args *a, int first, uint16_t qtype)
{
	static struct wipe_name names[CTL_MAX_ARGS];
	size_t gone = 0;
	int n = 0;

	if (c->proto == CTL_NATIVE && a->argc <= first) {
		ctl_reply(c, EINVAL, 0, "wipe-cache needs a name");
		return;
	}
	for (int i = first; i < a->argc; i++, n++)
		if (wipe_parse(a->argv[i], &names[n]) < 0) {
			if (c->proto == CTL_REC)
				ctl_reply(c, 0, 0, "Error: not a domain name: %s, nothing wiped",
				    a->argv[i]);
			else
				ctl_reply(c, EINVAL, 0, "not a domain name: %s", a->argv[i]);
			return;
		}
	for (int i = 0; i < n; i++)
		gone += cache_wipe_typed(s->cache, names[i].wire, names[i].len,
		    names[i].subtree, qtype);
	if (c->proto == CTL_REC)
		ctl_reply(c, 0, gone, "wiped 0 records, 0 negative records, %zu packets", gone);
	else
		ctl_reply(c, 0, gone, "wiped %zu entries", gone);
}

static void
cmd_wipe_cache(struct server *s, struct ctl_conn *c, struct ctl_args *a)
{
	wipe(s, c, a, 0, 0);
}

static void
cmd_wipe_cache_typed(struct server *s, struct ctl_conn *c, struct ctl_args *a)
{
	uint16_t qtype;

	if (a->argc < 1 || dump_type_from_text(a->argv[0], &qtype) < 0 || qtype == 0) {
		ctl_reply(c, EINVAL, 0, "wipe-cache-typed: the first argument is a record type");
		return;
	}
	wipe(s, c, a, 1, qtype);
}

static void
cmd_quit(struct server *s, struct ctl_conn *c, struct ctl_args *a)
{
	(void)a;
	log_info("quit, asked by pid %d uid %u", (int)c->pid, (unsigned)c->uid);
	ctl_reply(c, 0, 0, "bye");
	s->quit = 1;
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
cmd_quit_nicely(struct server *s, struct ctl_conn *c, struct ctl_args *a)
{
	(void)a;
	log_info("quit-nicely, asked by pid %d uid %u", (int)c->pid, (unsigned)c->uid);
	if (c->proto == CTL_REC)
		ctl_reply(c, 0, 0, "bye nicely");
	else
		ctl_reply(c, 0, 0, "stopping once the queries in flight are answered");
	if (!s->quit_nicely) {
		stop_listening(s);
		s->quit_nicely = 1;
		s->quit_deadline = s->clock.ms + s->cfg.query_timeout_ms + 1000;
	}
}

static const struct ctl_cmd commands[] = {
	{ "ping", FDT_CTL_PING, CTL_CMD_REC, "", "check that the server answers", cmd_ping },
	{ "version", FDT_CTL_VERSION, CTL_CMD_REC, "", "fdtool's version", cmd_version },
	{ "help", 0, CTL_CMD_REC, "", "get this list", cmd_help },
	{ "get", FDT_CTL_GET, CTL_CMD_REC, "[key1] [key2] ..", "get specific statistics",
	    cmd_get },
	{ "get-all", FDT_CTL_GET_ALL, CTL_CMD_REC, "", "get all statistics", cmd_get_all },
	{ "get-parameter", 0, CTL_CMD_REC, "[key1] [key2] ..",
	    "get configuration parameters (fdtool's option names)", cmd_get_parameter },
	{ "dump-cache", FDT_CTL_DUMP_CACHE, CTL_CMD_REC | CTL_CMD_FD, "<filename>",
	    "dump cache contents to the named file (fdtool's dump format)", cmd_dump_cache },
	{ "load-cache", FDT_CTL_LOAD_CACHE, CTL_CMD_FD, "", "", cmd_load_cache },
	{ "wipe-cache", FDT_CTL_WIPE_CACHE, CTL_CMD_REC, "domain0 [domain1] ..",
	    "wipe domain data from cache; domain$ for its subtree too", cmd_wipe_cache },
	{ "wipe-cache-typed", 0, CTL_CMD_REC, "type domain0 [domain1] ..",
	    "wipe domain data with qtype from cache", cmd_wipe_cache_typed },
	{ "metrics", FDT_CTL_METRICS, CTL_CMD_FD, "", "", cmd_metrics },
	{ "quit", FDT_CTL_QUIT, CTL_CMD_REC, "", "stop the server", cmd_quit },
	{ "quit-nicely", FDT_CTL_QUIT_NICELY, CTL_CMD_REC, "",
	    "stop the server once the queries in flight are answered", cmd_quit_nicely },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* rec_control's help, in its layout: usage padded to 33 columns, then what it does. */
static void
cmd_help(struct server *s, struct ctl_conn *c, struct ctl_args *a)
{
	char usage[96];

	(void)s;
	(void)a;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (!(commands[i].flags & CTL_CMD_REC))
			continue;
		snprintf(usage, sizeof(usage), "%s%s%s", commands[i].name,
		    *commands[i].usage ? " " : "", commands[i].usage);
		ctl_append(c, "%-32s %s\n", usage, commands[i].help);
	}
	ctl_reply(c, 0, 0, "%s", "");
}

const struct ctl_cmd *
ctl_cmd_native(uint16_t command)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].native && commands[i].native == command)
			return &commands[i];
	return NULL;
}

/* name is already lower-cased (rec_control's words are, as pdns does). */
const struct ctl_cmd *
ctl_cmd_named(const char *name, enum ctl_proto proto)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0 &&
		    (proto == CTL_NATIVE ? commands[i].native != 0 :
		    (commands[i].flags & CTL_CMD_REC) != 0))
			return &commands[i];
	return NULL;
}

void
ctl_cmd_run(struct server *s, struct ctl_conn *c, const struct ctl_cmd *cmd, struct ctl_args *a)
{
	c->command = cmd->native;
	if ((cmd->flags & CTL_CMD_FD) && a->fd < 0) {
		ctl_reply(c, EINVAL, 0, "%s needs a descriptor", cmd->name);
		return;
	}
	if (!(cmd->flags & CTL_CMD_FD) && a->fd >= 0) {
		close(a->fd);
		a->fd = -1;
	}
	cmd->run(s, c, a);
}
