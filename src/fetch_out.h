/* SPDX-License-Identifier: ISC */
/*
 * Where `nomx fetch` puts the mail: a Maildir per mailbox, one mbox
 * file, an MDA command per message and mailbox, or a mail store over
 * LMTP (fetch_lmtp.h); and the state file
 * that remembers, per device, the last message durably delivered, so
 * a fetch repeated after a crash never delivers twice.
 */
#ifndef NOMX_FETCH_OUT_H
#define NOMX_FETCH_OUT_H

#include <stddef.h>
#include <stdint.h>

enum fetch_out_kind { OUT_MAILDIR, OUT_MBOX, OUT_MDA, OUT_LMTP };

struct fetch_msg {
	uint64_t seq;
	uint64_t t_ms;
	const unsigned char *env;	/* the spool envelope (spool_rec.h) */
	size_t env_len;
	int body_fd;			/* the message, body_len bytes from 0 */
	uint64_t body_len;
};

/* Set the output; state defaults to a file beside it.  Takes the state
 * file's lock: 0; 1 another fetch holds it (said on stderr); -1. */
int fetch_out_init(enum fetch_out_kind kind, const char *target, const char *state);

/* The last seq delivered from device dev (0 if none). */
uint64_t fetch_out_done(const char *dev);

/* Deliver one verified message durably, then record it in the state
 * file.  0, or -1 with the reason printed. */
int fetch_out_deliver(const char *dev, const struct fetch_msg *m);

/* After a failed delivery: the store refused the message for good
 * (LMTP 5xx), rather than "try again later". */
int fetch_out_refused(void);

/* End the output (LMTP: QUIT). */
void fetch_out_close(void);

#endif
