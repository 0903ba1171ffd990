/* SPDX-License-Identifier: ISC */
/*
 * What the collector has acknowledged, and the export session tokens
 * that make an ack acceptable.
 *
 * ACK file: two 32-byte slots, each
 *   "NMXA" u32 reserved u64 epoch u64 acked_seq u32 token_crc u32 crc32c(0..27)
 * An ack writes the slot not holding the newest valid epoch, with
 * epoch + 1 (pwrite + fdatasync: fixed size, no rename), so a torn
 * write leaves the other slot, the previous state, valid.
 *
 * Token: "<from>-<last>-<mac>", mac = the first 8 bytes of
 * HMAC-SHA256(SECRET, "nmx-export <dev> <from> <last>") in hex.  The
 * export stays read-only, and an ack can still prove which sequence
 * numbers its session showed.
 */
#ifndef NOMX_SPOOL_ACK_H
#define NOMX_SPOOL_ACK_H

#include <stddef.h>
#include <stdint.h>

#include "spool_dir.h"

#define SPOOL_ACK_SLOT 32

struct spool_ack {
	uint64_t epoch;
	uint64_t acked;		/* every seq <= acked is acknowledged */
	uint32_t token_crc;
	int slot;		/* the slot holding it; -1: no ACK yet */
	int bad_slots;		/* slots that did not check (fsck reports) */
};

/* Read the ACK file of the spool folder dirfd.  No file: acked = 0.
 * 0, or -1 with errno. */
int spool_ack_read(int dirfd, struct spool_ack *a);

/* Make acked durable (cur from spool_ack_read, updated).  0 or -1. */
int spool_ack_write(int dirfd, struct spool_ack *cur, uint64_t acked, uint32_t token_crc);

/* The spool's secret (made by the daemon with the ID).  0 or -1. */
int spool_secret(int dirfd, unsigned char key[SPOOL_SECRET_LEN]);

/* The device id from the ID file (16 hex digits).  0 or -1. */
int spool_dev_id(int dirfd, char id[17]);

/* Make a token for an export session into out (FRAME_TOKEN_MAX). */
void spool_token(const unsigned char key[SPOOL_SECRET_LEN], const char *dev, uint64_t from,
    uint64_t last, char *out, size_t cap);

/* Check a token; 0 and its from/last, or -1 if forged or malformed. */
int spool_token_check(const unsigned char key[SPOOL_SECRET_LEN], const char *dev,
    const char *token, uint64_t *from, uint64_t *last);

#endif
