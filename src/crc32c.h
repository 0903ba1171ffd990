/* SPDX-License-Identifier: ISC */
/*
 * CRC32C (Castagnoli): the checksum of spool records and, later, of
 * every export line.  Chosen over CRC32 for its better error detection
 * on the short bursts flash and serial lines produce.
 */
#ifndef NOMX_CRC32C_H
#define NOMX_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: start with crc = 0; the result of one call is the
 * crc argument of the next over the following bytes. */
uint32_t crc32c(uint32_t crc, const void *buf, size_t len);

#endif
