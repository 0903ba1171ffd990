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

/* The record after a sync's gap (spool_rec.h): zeros from off to the
 * next SPOOL_ALIGN boundary, then a record with the seq that comes
 * next.  Its offset, or -1.  (The seq check keeps a message's own bytes
 * from being read as a record when a torn write zeroed what led up to
 * them.) */
static off_t
scan_after_gap(int fd, off_t off, off_t size, uint64_t want, struct spool_rec *r)
{
	off_t next = (off + SPOOL_ALIGN - 1) / SPOOL_ALIGN * SPOOL_ALIGN;
	size_t n = (size_t)(next - off);

	if (n == 0 || next >= size || spool_pread_full(fd, scan_buf, n, off) < 0) {
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (scan_buf[i] != 0) {
			return -1;
		}
	}
	return scan_record(fd, next, size, r) == 0 && r->seq == want ? next : -1;
}

off_t
spool_scan_seg(int fd, off_t size, spool_rec_fn *fn, void *ctx, int *torn, uint64_t *last_seq)
{
	unsigned char seg[SPOOL_SEG_HDR];
	uint64_t first, prev = 0;
	off_t off = SPOOL_SEG_HDR, at;
	struct spool_rec r;

	*torn = 0;
	if (size < SPOOL_SEG_HDR || spool_pread_full(fd, seg, sizeof(seg), 0) < 0 ||
	    spool_seg_get_hdr(seg, &first) < 0) {
		return -1;
	}
	while (off < size) {
		if (scan_record(fd, off, size, &r) == 0) {
			at = off;
		} else if ((at = scan_after_gap(fd, off, size, prev != 0 ? prev + 1 : first, &r)) < 0) {
			break;
		}
		/* Sequence numbers only grow; a record that goes back is not ours. */
		if (r.seq < first || (prev != 0 && r.seq <= prev)) {
			break;
		}
		prev = *last_seq = r.seq;
		off = at + (off_t)spool_rec_total(&r);
		if (fn != NULL && fn(ctx, fd, &r, scan_env, at + SPOOL_REC_HDR + (off_t)r.env_len) != 0) {
			return off;
		}
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

struct scan_usage {
	uint64_t acked, bytes, msgs;
};

static int
scan_usage_cb(void *vctx, int fd, const struct spool_rec *r, const unsigned char *env, off_t body)
{
	struct scan_usage *u = vctx;

	(void)fd, (void)env, (void)body;
	u->bytes += spool_rec_total(r);
	u->msgs += r->seq > u->acked;
	return 0;
}

int
spool_scan_usage(int dirfd, uint64_t acked, uint64_t *bytes, uint64_t *msgs)
{
	struct scan_usage u = { .acked = acked };
	int rc = spool_scan_all(dirfd, 0, 0, scan_usage_cb, &u);

	*bytes = u.bytes + spool_dir_segments(dirfd)->n * SPOOL_SEG_HDR;
	*msgs = u.msgs;
	return rc;
}
