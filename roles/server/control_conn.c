/*
 * Answering a control client.  A reply goes out whole at once or the
 * client is dropped: one that does not take it is not reading, and no
 * client may make the loop wait.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "common/wire.h"
#include "roles/server/control.h"

void
ctl_close(struct ctl_conn *c)
{
	if (c->w.fd >= 0)
		close(c->w.fd);
	c->w.fd = -1;
	c->busy = 0;
}

/* A reply the client cannot take now means it is not reading: drop it. */
void
ctl_reply(struct ctl_conn *c, int status, uint64_t value, const char *fmt, ...)
{
	struct fdt_msg m;
	va_list ap;

	fdt_msg_init(&m, FDT_MSG_CTL_REP, c->id);
	m.status = (uint32_t)status;
	m.body.ctl.command = c->command;
	m.body.ctl.value = value;
	va_start(ap, fmt);
	vsnprintf(m.body.ctl.text, sizeof(m.body.ctl.text), fmt, ap);
	va_end(ap);
	if (fdt_msg_send(c->w.fd, &m, NULL, 0) < 0)
		ctl_close(c);
}
