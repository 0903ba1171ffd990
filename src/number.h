/* SPDX-License-Identifier: ISC */
/*
 * Unsigned numbers in text, strictly: digits only (no space, sign or
 * "0x" as strtoull would take, so "-1" is not 2^64-1), and an overflow
 * is an error, not a saturated value.  One small function where the C
 * library's strtoull brings 3.5 KiB of scanner into the router build.
 */
#ifndef NOMX_NUMBER_H
#define NOMX_NUMBER_H

#include <stdint.h>

/* The digits of base 10 or 16 (either case) at s as *v; *end is the
 * first byte after them.  0, or -1 if there are none or *v would not
 * fit in 64 bits. */
int number_parse(const char *s, unsigned base, uint64_t *v, const char **end);

/* *n /= d, returning the remainder; d below 2^24.  A 64-bit division
 * on a 32-bit board links libgcc's __udivdi3 and __umoddi3 (2 KB on
 * MIPS); there this divides 8 bits at a time in 32-bit arithmetic. */
static inline uint32_t
number_div(uint64_t *n, uint32_t d)
{
#if UINTPTR_MAX > 0xffffffffu && !defined(NUMBER_DIV_32)	/* (the unit test's switch) */
	uint32_t r = (uint32_t)(*n % d);

	*n /= d;
	return r;
#else
	uint64_t q = 0;
	uint32_t r = 0;

	for (int shift = 56; shift >= 0; shift -= 8) {
		uint32_t part = r << 8 | (uint32_t)(*n >> shift & 0xff);
		q = q << 8 | part / d;
		r = part % d;
	}
	*n = q;
	return r;
#endif
}

#endif
