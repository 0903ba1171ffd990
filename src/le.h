/* SPDX-License-Identifier: ISC */
/*
 * Little-endian integers, byte by byte, so the spool, the ACK file and
 * the CRC read the same on every board (a mipsel router's spool can be
 * checked on an x86 collector).
 */
#ifndef NOMX_LE_H
#define NOMX_LE_H

#include <stdint.h>

static inline void
le_put16(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
}

static inline void
le_put32(unsigned char *p, uint32_t v)
{
	le_put16(p, v);
	le_put16(p + 2, v >> 16);
}

static inline void
le_put64(unsigned char *p, uint64_t v)
{
	le_put32(p, (uint32_t)v);
	le_put32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t
le_get16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static inline uint32_t
le_get32(const unsigned char *p)
{
	return le_get16(p) | le_get16(p + 2) << 16;
}

static inline uint64_t
le_get64(const unsigned char *p)
{
	return (uint64_t)le_get32(p) | (uint64_t)le_get32(p + 4) << 32;
}

#endif
