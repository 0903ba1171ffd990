/* SPDX-License-Identifier: ISC */
/*
 * The one poll() loop: listeners, sessions, deadlines from the
 * monotonic clock, signals through a self-pipe, and the group commit
 * once per pass just before sleeping.
 */
#ifndef NOMX_LOOP_H
#define NOMX_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "spool.h"

/* Install the signal handlers (SIGTERM/SIGINT stop, SIGHUP reloads the
 * TLS key and certificate, SIGPIPE ignored).  Call before loop_run. */
void loop_signals(void);

struct loop_listener {
	int fd;
	int tls;	/* implicit TLS (the SMTPS port) */
};

/* Serve until stopped: listening sockets l[0..n) (n = 0 in inetd
 * mode, where the loop ends with the last session), committing the
 * sessions' messages to sp (conn_init() lent it to them). */
void loop_run(const struct loop_listener *l, size_t n, struct spool *sp);

#endif
