/* SPDX-License-Identifier: ISC */
/*
 * Connection slots: the fixed pool of NOMX_MAX_CONN sessions, accept,
 * non-blocking reads and writes, deadlines and backpressure.
 */
#ifndef NOMX_CONN_H
#define NOMX_CONN_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "peer.h"
#include "spool.h"

/* Free every slot; finished messages go to sp (the caller's, open). */
void conn_init(struct spool *sp);

/* The static RAM of one connection slot, for nomx -V. */
size_t conn_slot_bytes(void);

/* Accept every pending connection on the listening socket lfd; with
 * implicit_tls, each begins with a TLS handshake (the SMTPS port). */
void conn_accept(int lfd, int implicit_tls, int64_t now);

/* Inetd mode: one session reading rfd and writing wfd, for client p. */
void conn_add_inetd(int rfd, int wfd, const struct peer *p, int64_t now);

/* Fill pfd with the descriptors that want I/O; returns the count.  Slot
 * i of the pool goes to pfd[base + k] in order, remembered for
 * conn_handle_all. */
size_t conn_poll_set(struct pollfd *pfd, size_t max);

/* After poll: read, process, write every slot given to conn_poll_set. */
void conn_handle_all(const struct pollfd *pfd, size_t n, int64_t now);

/* When the group commit is due (monotonic ms), or -1 if no message
 * waits for it.  Due at once, unless other sessions are in the middle
 * of a transaction: then at most NOMX_COMMIT_WINDOW_MS after the first
 * message began to wait, so that one sync covers them too. */
int64_t conn_commit_due(int64_t now);

/* After spool_sync: answer sessions waiting for the commit. */
void conn_after_commit(int64_t now);

/* Enforce deadlines; returns the nearest one still pending (or -1). */
int64_t conn_deadlines(int64_t now);

/* Does some session have work without waiting for input? */
int conn_has_work(void);

/* Shutdown: close idle sessions now; with force, all of them. */
void conn_shutdown(int force, int64_t now);

/* Sessions open. */
size_t conn_active(void);

#endif
