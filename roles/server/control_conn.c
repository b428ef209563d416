/*
 * Answering a control client, in its own protocol: a native client gets
 * a CTL_REP record per reply (progress included), rec_control one framed
 * text per command (control_rec.c), built from ctl_append()ed lines and
 * the final ctl_reply().  A reply goes out whole at once or the client is
 * dropped: one that does not take it is not reading, and no client may
 * make the loop wait.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "common/wire.h"
#include "roles/server/control.h"

/*
 * The connection goes; the slot stays taken while a job hangs on it
 * (c->job): job.c ends that job first, within this loop turn,
 * and only then may the slot serve someone else.
 */
void
ctl_close(struct ctl_conn *c)
{
	if (c->w.fd >= 0)
		close(c->w.fd);
	c->w.fd = -1;
	rec_io_free(c);
}

/* Closed with a reason about the connection (an ERROR record, id 0), if it still reads. */
void
ctl_drop(struct ctl_conn *c, int err)
{
	if (c->proto == CTL_NATIVE && c->w.fd >= 0)
		fdt_msg_refuse(c->w.fd, err);
	else if (c->w.fd >= 0)
		close(c->w.fd);
	c->w.fd = -1;
	rec_io_free(c);
}

static void
ctl_send(struct ctl_conn *c, int status, uint16_t flags, uint64_t value, const char *text)
{
	struct fdt_msg m;

	if (c->w.fd < 0)
		return;
	fdt_msg_init(&m, FDT_MSG_CTL_REP, c->id);
	m.status = (uint32_t)status;
	m.body.ctl.command = c->command;
	m.body.ctl.flags = flags;
	m.body.ctl.value = value;
	snprintf(m.body.ctl.text, sizeof(m.body.ctl.text), "%s", text);
	if (fdt_msg_send(c->w.fd, &m, NULL, 0) < 0)
		ctl_close(c);
}

/* The answer to the command being worked on: status 0 or an errno. */
void
ctl_reply(struct ctl_conn *c, int status, uint64_t value, const char *fmt, ...)
{
	char text[FDT_TEXT_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (c->proto == CTL_REC)
		rec_reply(c, status, value, text);
	else
		ctl_send(c, status, 0, value, text);
}

/* A line of a longer answer (rec_control's get-all, help ...); native clients ask line by line. */
void
ctl_append(struct ctl_conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->proto != CTL_REC)
		return;
	va_start(ap, fmt);
	rec_vappend(c, fmt, ap);
	va_end(ap);
}

/*
 * An interim reply: still working, value done so far (pushes the client's
 * timeout out).  rec_control waits for one answer only.
 */
void
ctl_progress(struct ctl_conn *c, uint64_t value)
{
	if (c->proto == CTL_NATIVE)
		ctl_send(c, 0, FDT_CTL_F_PROGRESS, value, "");
}
