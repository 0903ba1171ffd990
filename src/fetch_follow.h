/* SPDX-License-Identifier: ISC */
/*
 * `nomx fetch --follow`: stay linked to the device and deliver each
 * message within moments of its 250, acknowledging in batches, linking
 * again (with backoff) whenever the link fails; exactly once across any
 * cut.  Runs until SIGTERM, SIGINT or SIGHUP, then acks what is
 * delivered and returns 0; or returns an exit code (fetch.h) when the
 * mail store refuses a message for good or the device refuses an ack.
 */
#ifndef NOMX_FETCH_FOLLOW_H
#define NOMX_FETCH_FOLLOW_H

#include "fetch_link.h"
#include "fetch_stream.h"

struct follow_opts {
	int ack_n;		/* ack after this many messages delivered... */
	int ack_ms;		/* ... or this long after the first, whichever first */
};

int fetch_follow(struct fetch_link *lk, struct fetch_session *fs, const struct follow_opts *o);

#endif
