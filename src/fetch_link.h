/* SPDX-License-Identifier: ISC */
/*
 * How `nomx fetch` reaches the device: ssh, a serial console, or any
 * command that is a byte pipe to a shell (--cmd).  Open once, run
 * device commands (`nomx spool export`, `nomx spool ack`) with their
 * output fed line by line into an export session, close.
 */
#ifndef NOMX_FETCH_LINK_H
#define NOMX_FETCH_LINK_H

#include <sys/types.h>

#include "fetch_stream.h"

#define FETCH_MAX_SSH_OPTS 16

enum fetch_via { VIA_NONE, VIA_SSH, VIA_SERIAL, VIA_CMD };

struct fetch_link {
	enum fetch_via via;
	const char *where;		/* host, tty or command */
	const char *port;		/* ssh -p */
	const char *ssh_opt[FETCH_MAX_SSH_OPTS];
	size_t nssh_opt;
	long baud;
	const char *remote;		/* how to run nomx on the device */
	int timeout;			/* seconds of silence that end a command */
	int quiet;
	/* an interactive shell (serial, cmd): one for the whole run */
	int rfd, wfd;
	pid_t pid;
	/* a command left running (fetch_link_start) */
	int cmd_rfd, cmd_wfd;
	pid_t cmd_pid;
};

/* Reach the device (serial: open the tty at l->baud; cmd: start the
 * command) and wake its shell.  0, or -1 with the reason printed. */
int fetch_link_open(struct fetch_link *l);

/* Run `<remote> <remote_args>` on the device into fs, until its output
 * is complete, it ends, or it is silent for l->timeout seconds.  0 (fs
 * says how far it got), or -1 if the link failed or the device cannot
 * run nomx at all (trying again would not help). */
int fetch_link_run(struct fetch_link *l, const char *remote_args, struct fetch_session *fs);

void fetch_link_close(struct fetch_link *l);

/* For `fetch --follow`: reach the device and start `<remote>
 * <remote_args>` there, left running: read its output from l->cmd_rfd,
 * write its input to l->cmd_wfd.  0, or -1 with the reason printed. */
int fetch_link_start(struct fetch_link *l, const char *remote_args);

/* End what fetch_link_start started, and the link with it. */
void fetch_link_stop(struct fetch_link *l);

#endif
