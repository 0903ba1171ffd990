/* SPDX-License-Identifier: ISC */
/*
 * The collector's reassembly of an export stream (frame.h): lines in,
 * in whatever order a console delivered them, whole and verified
 * messages out, each handed to a delivery function as soon as its last
 * line checks.  No transport and no output here: the caller feeds
 * lines and says where a message goes, so this is fuzzed on its own.
 *
 * A damaged or missing line spoils its message and stops delivery for
 * the rest of the session: the caller exports again from after what
 * was delivered.
 */
#ifndef NOMX_FETCH_STREAM_H
#define NOMX_FETCH_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "fetch_out.h"
#include "frame.h"
#include "spool_rec.h"

/* Deliver one verified message from device dev; 0, or -1 to stop. */
typedef int fetch_deliver_fn(void *ctx, const char *dev, const struct fetch_msg *m);

/* One export session (or the answer to an ack) as received. */
struct fetch_session {
	/* set by the caller before the first line */
	int body_fd;			/* scratch file for the message body */
	fetch_deliver_fn *deliver;
	void *ctx;

	int begun, ended;
	char dev[17];
	char token[FRAME_TOKEN_MAX];
	uint64_t from, last, n;
	uint64_t next_seq;	/* the seq the next MSG must carry, at least */
	uint64_t spare;		/* seqs the device's spool itself lacks in from..last */
	uint64_t seen;		/* MSG lines so far */
	uint64_t delivered;	/* highest seq delivered from this session */
	int damaged;		/* stop delivering: re-fetch after `delivered` */
	int failed_output;	/* the scratch file or the delivery failed */
	int nak;		/* the device refused an ack, */
	char nak_reason[64];	/* ... saying why */
	uint64_t acked;
	int got_ack;

	/* the message being received */
	int in_msg;
	struct frame msg;
	uint64_t next_line, got;
	uint32_t crc;
	unsigned char env[SPOOL_ENV_MAX];
};

/* Start over for a new command's output, keeping the caller's fields. */
void fetch_stream_reset(struct fetch_session *fs);

/* One received line (without its LF).  Returns 1 when the command's
 * output is complete (END, ACKED or NAK seen), else 0. */
int fetch_stream_line(struct fetch_session *fs, const char *line, size_t len);

#endif
