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

#endif
