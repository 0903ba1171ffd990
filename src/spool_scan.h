/* SPDX-License-Identifier: ISC */
/*
 * Reading the spool: walking the valid records of a segment, or of
 * all of them in order (the list is spool_dir.h's).  Used by recovery at start, by `nomx spool`, and
 * (read-only, no lock) while the daemon appends: a record still being
 * written fails its checks and is simply not there yet.
 */
#ifndef NOMX_SPOOL_SCAN_H
#define NOMX_SPOOL_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spool_dir.h"
#include "spool_rec.h"

/* Called for each valid record; env is valid during the call only and
 * the body is body_len bytes at body_off in fd.  Return 0 to go on,
 * non-zero to stop the walk. */
typedef int spool_rec_fn(void *ctx, int fd, const struct spool_rec *r,
    const unsigned char *env, off_t body_off);

/*
 * Walk the records of the segment open as fd (size bytes).  Returns
 * the offset just past the last valid record (SPOOL_SEG_HDR for none),
 * or -1 if the segment header is bad.  *torn is set when bytes follow
 * that offset (a torn or garbage tail).  *last_seq gets the highest
 * seq seen (unchanged if none).
 */
off_t spool_scan_seg(int fd, off_t size, spool_rec_fn *fn, void *ctx, int *torn,
    uint64_t *last_seq);

/* Walk every valid record of every segment that may hold seqs >= from
 * (0: all), in order, until fn returns non-zero.  0, or -1 with the
 * reason printed.  Segments removed meanwhile are skipped.  With sync,
 * the last (active) segment is synced first: what a reader sees is
 * durable.  Without, the caller reads only what it knows is. */
int spool_scan_all(int dirfd, uint64_t from, int sync, spool_rec_fn *fn, void *ctx);

/* What the quota counts: the segment headers and records of every
 * segment, not the gaps between syncs (holes: they take no flash);
 * and how many records are above acked.  0, or -1 as spool_scan_all. */
int spool_scan_usage(int dirfd, uint64_t acked, uint64_t *bytes, uint64_t *msgs);

/* Read exactly n bytes at off; 0 or -1. */
int spool_pread_full(int fd, void *buf, size_t n, off_t off);

#endif
