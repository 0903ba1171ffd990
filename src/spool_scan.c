/* SPDX-License-Identifier: ISC */
/*
 * Record validation reads every byte (the data CRC covers envelope and
 * body), in bounded chunks through one static buffer: the reader needs
 * no memory proportional to a message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "fmt.h"
#include "spool_dir.h"
#include "spool_scan.h"

static unsigned char scan_env[SPOOL_ENV_MAX];
static unsigned char scan_buf[64 * 1024];

int
spool_pread_full(int fd, void *buf, size_t n, off_t off)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t r = pread(fd, p, n, off);
		if (r < 0 && errno == EINTR) {
			continue;
		}
		if (r <= 0) {
			return -1;
		}
		p += r;
		n -= (size_t)r;
		off += r;
	}
	return 0;
}

/* Check the record at off; 0 and *r if it is whole and intact. */
static int
scan_record(int fd, off_t off, off_t size, struct spool_rec *r)
{
	unsigned char hdr[SPOOL_REC_HDR], trl[SPOOL_REC_TRL];
	uint32_t crc;
	uint64_t left;
	off_t pos;

	if (size - off < SPOOL_REC_HDR + SPOOL_REC_TRL ||
	    spool_pread_full(fd, hdr, sizeof(hdr), off) < 0 || spool_rec_get_hdr(hdr, r) < 0 ||
	    r->type != SPOOL_TYPE_MSG || spool_rec_total(r) > (uint64_t)(size - off)) {
		return -1;
	}
	pos = off + SPOOL_REC_HDR;
	if (spool_pread_full(fd, scan_env, r->env_len, pos) < 0) {
		return -1;
	}
	crc = crc32c(0, scan_env, r->env_len);
	pos += r->env_len;
	for (left = r->body_len; left > 0;) {
		size_t k = left < sizeof(scan_buf) ? (size_t)left : sizeof(scan_buf);
		if (spool_pread_full(fd, scan_buf, k, pos) < 0) {
			return -1;
		}
		crc = crc32c(crc, scan_buf, k);
		pos += (off_t)k;
		left -= k;
	}
	if (crc != r->data_crc || spool_pread_full(fd, trl, sizeof(trl), pos) < 0 ||
	    spool_rec_check_trl(r, trl) < 0) {
		return -1;
	}
	return 0;
}

off_t
spool_scan_seg(int fd, off_t size, spool_rec_fn *fn, void *ctx, int *torn, uint64_t *last_seq)
{
	unsigned char seg[SPOOL_SEG_HDR];
	uint64_t first, prev = 0;
	off_t off = SPOOL_SEG_HDR;
	struct spool_rec r;

	*torn = 0;
	if (size < SPOOL_SEG_HDR || spool_pread_full(fd, seg, sizeof(seg), 0) < 0 ||
	    spool_seg_get_hdr(seg, &first) < 0) {
		return -1;
	}
	while (off < size && scan_record(fd, off, size, &r) == 0) {
		/* Sequence numbers only grow; a record that goes back is not ours. */
		if (r.seq < first || (prev != 0 && r.seq <= prev)) {
			break;
		}
		prev = *last_seq = r.seq;
		if (fn != NULL && fn(ctx, fd, &r, scan_env, off + SPOOL_REC_HDR + (off_t)r.env_len) != 0) {
			return off + (off_t)spool_rec_total(&r);
		}
		off += (off_t)spool_rec_total(&r);
	}
	*torn = off < size;
	return off;
}

/* Stops the whole walk once the callback asks to. */
struct scan_all {
	spool_rec_fn *fn;
	void *ctx;
	int stop;
};

static int
scan_all_cb(void *vctx, int fd, const struct spool_rec *r, const unsigned char *env, off_t body)
{
	struct scan_all *a = vctx;

	a->stop = a->fn(a->ctx, fd, r, env, body);
	return a->stop;
}

int
spool_scan_all(int dirfd, uint64_t from, int sync, spool_rec_fn *fn, void *ctx)
{
	const struct spool_segs *segs = spool_dir_segments(dirfd);
	struct scan_all a = { fn, ctx, 0 };
	size_t n = segs->n;
	char name[40];

	for (size_t i = 0; i < n && !a.stop; i++) {
		struct stat st;
		uint64_t seq = 0;
		int torn, fd;

		if (i + 1 < n && segs->first[i + 1] <= from) {
			continue;	/* wholly before from */
		}
		spool_seg_name(segs->first[i], name, sizeof(name));
		if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC)) < 0) {
			if (errno == ENOENT) {
				continue;	/* acknowledged and removed meanwhile */
			}
			fmt_err("nomx: %s: %s\n", name, strerror(errno));
			return -1;
		}
		/* The active segment may hold records the daemon has written
		 * but not yet synced.  Sync before reading: a record a
		 * collector has seen must survive a power cut, or its
		 * sequence number could be given again to other mail. */
		if (fstat(fd, &st) < 0 || (sync && i + 1 == n && fdatasync(fd) < 0)) {
			fmt_err("nomx: %s: %s\n", name, strerror(errno));
			close(fd);
			return -1;
		}
		spool_scan_seg(fd, st.st_size, scan_all_cb, &a, &torn, &seq);
		close(fd);
	}
	return 0;
}
