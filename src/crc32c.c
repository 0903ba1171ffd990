/* SPDX-License-Identifier: ISC */
/*
 * CRC32C, reflected polynomial 0x82F63B78, with a 1 KiB table built on
 * first use (cheaper in flash than a constant table, and the build is
 * once per process).
 */
#include "crc32c.h"

static uint32_t crc32c_table[256];

static void
crc32c_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++) {
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		}
		crc32c_table[i] = c;
	}
}

uint32_t
crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (crc32c_table[1] == 0) {
		crc32c_init();
	}
	crc = ~crc;
	while (len--) {
		crc = crc32c_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	}
	return ~crc;
}
