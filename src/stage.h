/* SPDX-License-Identifier: ISC */
/*
 * The RAM staging arena: messages in flight live here until they are
 * accepted, so flash only ever sees committed mail.  A static arena of
 * NOMX_STAGE_BYTES cut into NOMX_STAGE_BLOCK blocks; each message is a
 * chain of blocks.  No allocation: running out is a transient error
 * (452 4.3.1) for that one transaction.
 */
#ifndef NOMX_STAGE_H
#define NOMX_STAGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* One message's chain.  Zero-initialised = empty. */
struct stage {
	uint32_t head;		/* first block + 1, 0 = none */
	uint32_t tail;		/* last block + 1 */
	size_t len;		/* bytes held */
};

/* Append n bytes; 0, or -1 when the arena is exhausted (nothing of
 * this call is kept then; what was appended before stays). */
int stage_append(struct stage *m, const void *p, size_t n);

/* Give all blocks back.  The chain is empty afterwards. */
void stage_reset(struct stage *m);

/* Fill iov[0..max) with the chain's pieces; returns how many.  The
 * chain must fit (NOMX_MSG_NBLOCKS pieces at most). */
size_t stage_iov(const struct stage *m, struct iovec *iov, size_t max);

/* Blocks in use, for nomx status and the tests of exhaustion. */
size_t stage_blocks_used(void);

#endif
