/* SPDX-License-Identifier: ISC */
/*
 * A finished transaction as the spool stores it: the envelope fields,
 * the flags, and our Received: header (RFC 5321 4.4) in front of the
 * body the session staged.  Pure formatting: the caller supplies the
 * sequence number and the time.
 */
#ifndef NOMX_MESSAGE_H
#define NOMX_MESSAGE_H

#include <stdint.h>
#include <time.h>

#include "smtp.h"
#include "spool.h"
#include "spool_rec.h"

struct message {
	unsigned char env[SPOOL_ENV_MAX];
	char received[1024];
	struct spool_msg rec;	/* points into the two above and the body */
};

/* Fill msg->rec from the session's transaction, to be stored as seq,
 * received at now.  A part that does not fit is left empty (length 0)
 * and the spool refuses the record. */
void message_build(struct message *msg, const struct smtp_session *s, uint64_t seq,
    time_t now);

#endif
