/* SPDX-License-Identifier: ISC */
/*
 * The on-flash formats: segment header, record header and trailer, and
 * the envelope (a list of type-length-value fields).  All integers are
 * little-endian.  See nomx-spool(5).
 *
 *  segment header (32): "NMXS" u16 version u16 flags u64 first_seq
 *                       u64 created_ms u32 reserved u32 crc32c(0..27)
 *  record header (48):  "NMX1" u8 type u8 flags u16 hdr_len(48)
 *                       u64 seq u64 t_ms u32 env_len u32 body_len
 *                       u32 hdr_crc u32 data_crc(env||body)
 *                       u64 reserved (zero)
 *                       (hdr_crc covers all 48 bytes, itself as zero)
 *  then env_len bytes of envelope, body_len bytes of message,
 *  trailer (8):         "1XMN" u32 total record length
 *
 * A record counts only if the magic, header CRC, lengths, data CRC and
 * trailer all check: zeros, garbage and short tails never do.
 *
 * The records of one sync start at a multiple of SPOOL_ALIGN; the bytes
 * before them, after the last record (or the segment header), are zero
 * (a hole: never written).  A record after such a gap must carry the
 * next seq.  A sync then programs only its own records' blocks: on
 * UBIFS, appending inside a 4 KiB block rewrites the whole block.
 */
#ifndef NOMX_SPOOL_REC_H
#define NOMX_SPOOL_REC_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_SEG_HDR 32
#define SPOOL_REC_HDR 48
#define SPOOL_REC_TRL 8
#define SPOOL_VERSION 1
#define SPOOL_ALIGN 4096

/* Envelope fields. */
#define SPOOL_ENV_FROM 'F'	/* reverse-path, "" for <> */
#define SPOOL_ENV_RCPT 'T'	/* forward-path as given */
#define SPOOL_ENV_MBOX 'M'	/* the mailbox the preceding RCPT resolved to */
#define SPOOL_ENV_CLIENT 'C'	/* client address */
#define SPOOL_ENV_HELO 'H'	/* EHLO/HELO name */
#define SPOOL_ENV_TLS 'S'	/* TLS version and cipher, absent if none */

/* Record flags. */
#define SPOOL_F_8BITMIME 0x01
#define SPOOL_F_SMTPUTF8 0x02
#define SPOOL_F_TLS 0x04

#define SPOOL_TYPE_MSG 1

/* Largest envelope a record may carry: bounds the reader's buffer. */
#define SPOOL_ENV_MAX 65536

struct spool_rec {
	uint8_t type;
	uint8_t flags;
	uint64_t seq;
	uint64_t t_ms;
	uint32_t env_len;
	uint32_t body_len;
	uint32_t data_crc;
};

void spool_rec_put_hdr(const struct spool_rec *r, unsigned char out[SPOOL_REC_HDR]);
/* 0 if magic, header length and header CRC check, else -1. */
int spool_rec_get_hdr(const unsigned char in[SPOOL_REC_HDR], struct spool_rec *r);
uint64_t spool_rec_total(const struct spool_rec *r);
void spool_rec_put_trl(const struct spool_rec *r, unsigned char out[SPOOL_REC_TRL]);
int spool_rec_check_trl(const struct spool_rec *r, const unsigned char in[SPOOL_REC_TRL]);

void spool_seg_put_hdr(uint64_t first_seq, uint64_t created_ms, unsigned char out[SPOOL_SEG_HDR]);
int spool_seg_get_hdr(const unsigned char in[SPOOL_SEG_HDR], uint64_t *first_seq);

/* Append a field to buf[0..cap) at *off; -1 if it does not fit. */
int spool_env_put(unsigned char *buf, size_t cap, size_t *off, int type,
    const char *v, size_t n);
/* Next field of env[0..len) at *off: 1 and the field, 0 at the end,
 * -1 if malformed. */
int spool_env_next(const unsigned char *env, size_t len, size_t *off, int *type,
    const char **v, size_t *n);

#endif
