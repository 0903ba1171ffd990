/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the recovery scanner on arbitrary segment files
 * (what a power cut or a bad flash block can leave).  Invariants: the
 * valid prefix it reports is within the file and ends where the last
 * record it accepts ends (a gap before a torn tail is not kept), and
 * every record it accepts lies inside it, after the one before.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "spool_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
	off_t size;
	off_t end;	/* of the last record accepted */
};

static int
check(void *ctx, int fd, const struct spool_rec *r, const unsigned char *env, off_t body)
{
	struct seen *s = ctx;

	(void)fd, (void)env;
	if (body < 0 || body + (off_t)r->body_len > s->size ||
	    body - (off_t)r->env_len - SPOOL_REC_HDR < s->end) {
		__builtin_trap();
	}
	s->end = body + (off_t)r->body_len + SPOOL_REC_TRL;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct seen s = { (off_t)size, SPOOL_SEG_HDR };
	uint64_t last = 0;
	int torn = 0;
	off_t end;

	if (fd < 0 && (fd = memfd_create("seg", 0)) < 0) {
		return 0;
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size) {
		return 0;
	}
	end = spool_scan_seg(fd, (off_t)size, check, &s, &torn, &last);
	if (end > (off_t)size || (end >= 0 && (torn != (end < (off_t)size) || end != s.end))) {
		__builtin_trap();
	}
	return 0;
}
