/* SPDX-License-Identifier: ISC */
/*
 * Encoders and checkers for the spool's on-flash formats (all integers
 * little-endian, le.h).
 */
#include <string.h>

#include "crc32c.h"
#include "le.h"
#include "spool_rec.h"

void
spool_rec_put_hdr(const struct spool_rec *r, unsigned char out[SPOOL_REC_HDR])
{
	memset(out, 0, SPOOL_REC_HDR);
	memcpy(out, "NMX1", 4);
	out[4] = r->type;
	out[5] = r->flags;
	le_put16(out + 6, SPOOL_REC_HDR);
	le_put64(out + 8, r->seq);
	le_put64(out + 16, r->t_ms);
	le_put32(out + 24, r->env_len);
	le_put32(out + 28, r->body_len);
	le_put32(out + 36, r->data_crc);
	/* Over the whole header, this field counted as zero. */
	le_put32(out + 32, crc32c(0, out, SPOOL_REC_HDR));
}

int
spool_rec_get_hdr(const unsigned char in[SPOOL_REC_HDR], struct spool_rec *r)
{
	unsigned char h[SPOOL_REC_HDR];

	memcpy(h, in, sizeof(h));
	memset(h + 32, 0, 4);
	if (memcmp(in, "NMX1", 4) != 0 || le_get16(in + 6) != SPOOL_REC_HDR ||
	    le_get32(in + 32) != crc32c(0, h, sizeof(h))) {
		return -1;
	}
	r->type = in[4];
	r->flags = in[5];
	r->seq = le_get64(in + 8);
	r->t_ms = le_get64(in + 16);
	r->env_len = le_get32(in + 24);
	r->body_len = le_get32(in + 28);
	r->data_crc = le_get32(in + 36);
	return r->env_len <= SPOOL_ENV_MAX ? 0 : -1;
}

uint64_t
spool_rec_total(const struct spool_rec *r)
{
	return (uint64_t)SPOOL_REC_HDR + r->env_len + r->body_len + SPOOL_REC_TRL;
}

void
spool_rec_put_trl(const struct spool_rec *r, unsigned char out[SPOOL_REC_TRL])
{
	memcpy(out, "1XMN", 4);
	le_put32(out + 4, (uint32_t)spool_rec_total(r));
}

int
spool_rec_check_trl(const struct spool_rec *r, const unsigned char in[SPOOL_REC_TRL])
{
	return memcmp(in, "1XMN", 4) == 0 && le_get32(in + 4) == (uint32_t)spool_rec_total(r)
	    ? 0 : -1;
}

void
spool_seg_put_hdr(uint64_t first_seq, uint64_t created_ms, unsigned char out[SPOOL_SEG_HDR])
{
	memset(out, 0, SPOOL_SEG_HDR);
	memcpy(out, "NMXS", 4);
	le_put16(out + 4, SPOOL_VERSION);
	le_put64(out + 8, first_seq);
	le_put64(out + 16, created_ms);
	le_put32(out + 28, crc32c(0, out, 28));
}

int
spool_seg_get_hdr(const unsigned char in[SPOOL_SEG_HDR], uint64_t *first_seq)
{
	if (memcmp(in, "NMXS", 4) != 0 || le_get16(in + 4) != SPOOL_VERSION ||
	    le_get32(in + 28) != crc32c(0, in, 28)) {
		return -1;
	}
	*first_seq = le_get64(in + 8);
	return 0;
}

int
spool_env_put(unsigned char *buf, size_t cap, size_t *off, int type, const char *v, size_t n)
{
	if (n > 0xffff || *off + 3 + n > cap) {
		return -1;
	}
	buf[*off] = (unsigned char)type;
	le_put16(buf + *off + 1, (uint32_t)n);
	memcpy(buf + *off + 3, v, n);
	*off += 3 + n;
	return 0;
}

int
spool_env_next(const unsigned char *env, size_t len, size_t *off, int *type,
    const char **v, size_t *n)
{
	if (*off == len) {
		return 0;
	}
	if (len - *off < 3) {
		return -1;
	}
	*type = env[*off];
	*n = le_get16(env + *off + 1);
	if (len - *off - 3 < *n) {
		return -1;
	}
	*v = (const char *)env + *off + 3;
	*off += 3 + *n;
	return 1;
}
