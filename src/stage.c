/* SPDX-License-Identifier: ISC */
/*
 * Blocks are linked through a side table (stage_next) rather than a
 * header inside each block, so a block is exactly NOMX_STAGE_BLOCK
 * bytes of message and writev can hand whole blocks to the kernel.
 */
#include <string.h>

#include "../config.h"
#include "stage.h"

_Static_assert(NOMX_STAGE_NBLOCKS < UINT32_MAX, "too many staging blocks");

static unsigned char stage_arena[NOMX_STAGE_NBLOCKS][NOMX_STAGE_BLOCK];
/* Next block + 1 in a chain or in the free list; 0 ends it. */
static uint32_t stage_next[NOMX_STAGE_NBLOCKS];
static uint32_t stage_free;	/* free list head + 1 */
static size_t stage_used;
static int stage_ready;

static void
stage_init(void)
{
	for (uint32_t b = 0; b < NOMX_STAGE_NBLOCKS; b++) {
		stage_next[b] = b + 2 <= NOMX_STAGE_NBLOCKS ? b + 2 : 0;
	}
	stage_free = 1;
	stage_ready = 1;
}

static uint32_t
stage_take(void)
{
	uint32_t b;

	if (!stage_ready) {
		stage_init();
	}
	if (stage_free == 0) {
		return 0;
	}
	b = stage_free;
	stage_free = stage_next[b - 1];
	stage_next[b - 1] = 0;
	stage_used++;
	return b;
}

int
stage_append(struct stage *m, const void *p, size_t n)
{
	const unsigned char *src = p;
	/* Free bytes in the tail block (0 when it is full or absent). */
	size_t room = m->len % NOMX_STAGE_BLOCK ? NOMX_STAGE_BLOCK - m->len % NOMX_STAGE_BLOCK : 0;
	size_t need, len0 = m->len;
	uint32_t tail0 = m->tail;

	/* Reserve every block first, so a failure leaves the chain whole. */
	need = n > room ? (n - room + NOMX_STAGE_BLOCK - 1) / NOMX_STAGE_BLOCK : 0;
	for (size_t k = 0; k < need; k++) {
		uint32_t b = stage_take();
		if (b == 0) {
			/* Give back what this call took; the old chain stays. */
			uint32_t extra = tail0 ? stage_next[tail0 - 1] : m->head;
			if (tail0) {
				stage_next[tail0 - 1] = 0;
			} else {
				m->head = 0;
			}
			while (extra) {
				uint32_t nx = stage_next[extra - 1];
				stage_next[extra - 1] = stage_free;
				stage_free = extra;
				stage_used--;
				extra = nx;
			}
			m->tail = tail0;
			m->len = len0;
			return -1;
		}
		if (m->tail) {
			stage_next[m->tail - 1] = b;
		} else {
			m->head = b;
		}
		m->tail = b;
	}
	/* Copy, walking from the old tail. */
	uint32_t b = tail0 && room ? tail0 : (tail0 ? stage_next[tail0 - 1] : m->head);
	size_t off = room ? m->len % NOMX_STAGE_BLOCK : 0;
	while (n > 0) {
		size_t k = NOMX_STAGE_BLOCK - off < n ? NOMX_STAGE_BLOCK - off : n;
		memcpy(&stage_arena[b - 1][off], src, k);
		src += k;
		n -= k;
		m->len += k;
		off = 0;
		b = stage_next[b - 1];
	}
	return 0;
}

void
stage_reset(struct stage *m)
{
	uint32_t b = m->head;

	while (b) {
		uint32_t nx = stage_next[b - 1];
		stage_next[b - 1] = stage_free;
		stage_free = b;
		stage_used--;
		b = nx;
	}
	memset(m, 0, sizeof(*m));
}

size_t
stage_iov(const struct stage *m, struct iovec *iov, size_t max)
{
	size_t n = 0, left = m->len;

	for (uint32_t b = m->head; b && left > 0 && n < max; b = stage_next[b - 1]) {
		size_t k = left < NOMX_STAGE_BLOCK ? left : NOMX_STAGE_BLOCK;
		iov[n].iov_base = stage_arena[b - 1];
		iov[n].iov_len = k;
		left -= k;
		n++;
	}
	return n;
}

size_t
stage_blocks_used(void)
{
	return stage_used;
}
