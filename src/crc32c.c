/* SPDX-License-Identifier: ISC */
/*
 * CRC32C, reflected polynomial 0x82F63B78, slicing-by-8: eight 1 KiB
 * tables built on first use (8 KiB of RAM, no flash), eight bytes per
 * step.  Every stored byte passes through here twice (spool write and
 * export), so this is on the hot path: ~4x fewer instructions per byte
 * than the one-table loop.
 */
#include <stdint.h>

#include "crc32c.h"
#include "le.h"

static uint32_t crc32c_table[8][256];

static void
crc32c_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++) {
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		}
		crc32c_table[0][i] = c;
	}
	for (int k = 1; k < 8; k++) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = crc32c_table[k - 1][i];
			crc32c_table[k][i] = (c >> 8) ^ crc32c_table[0][c & 0xff];
		}
	}
}

uint32_t
crc32c(uint32_t crc, const void *buf, size_t len)
{
	const uint32_t (*t)[256] = crc32c_table;
	const unsigned char *p = buf;

	if (t[0][1] == 0) {
		crc32c_init();
	}
	crc = ~crc;
	for (; len >= 8; p += 8, len -= 8) {
		uint32_t lo = le_get32(p) ^ crc, hi = le_get32(p + 4);
		crc = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^
		    t[4][lo >> 24] ^ t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^
		    t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
	}
	while (len--) {
		crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	}
	return ~crc;
}
