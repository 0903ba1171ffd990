/* SPDX-License-Identifier: ISC */
/*
 * The append side of the spool log (see spool.h and README "Spool").
 *
 * Flash cost per message: one writev and (shared with every other
 * message of the same loop pass) one fdatasync; no file is created,
 * renamed or rewritten per message.  Per segment (~NOMX_SEG_MAX): one
 * create, one header write, one fdatasync, one directory fsync.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../config.h"
#include "crc32c.h"
#include "fault.h"
#include "log.h"
#include "rand.h"
#include "spool.h"
#include "spool_ack.h"
#include "spool_scan.h"

#define TMPFS_MAGIC_ 0x01021994
#define RAMFS_MAGIC_ 0x858458f6

static struct {
	int dirfd;
	int segdirfd;
	int fd;			/* active segment, -1 = none (make one) */
	uint64_t size;		/* its size */
	uint64_t synced;	/* its durable size */
	uint64_t next_seq;
	uint64_t written_seq;	/* last appended */
	uint64_t durable_seq;	/* last made durable */
	uint64_t pending_msgs;	/* appended since the last sync */
	uint64_t bytes;		/* all segments */
	uint64_t msgs;		/* all records */
	int rotate;		/* start a new segment before the next append */
	struct spool_ack ack;	/* what the collector has acknowledged */
	int64_t refreshed_ms;	/* when usage was last re-read from disk */
} sp = { .dirfd = -1, .segdirfd = -1, .fd = -1, .next_seq = 1 };

static uint64_t segs[SPOOL_MAX_SEGS];

static uint64_t
spool_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
spool_mkdirs(const char *dir)
{
	char path[512];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] == '/' || path[i] == '\0') {
			char c = path[i];
			path[i] = '\0';
			if (mkdir(path, 0700) < 0 && errno != EEXIST) {
				return -1;
			}
			path[i] = c;
		}
	}
	return 0;
}

/* A file of n random bytes in hex, made once per spool: written to a
 * temporary name and renamed, the only renames the spool ever does,
 * once in its life.  ID names this spool's mail at the collector;
 * SECRET keys the export session tokens (0600, never shown). */
static void
spool_make_random_file(const char *name, size_t n)
{
	unsigned char r[32];
	char line[2 * sizeof(r) + 2], tmp[16];
	size_t len = 2 * n + 1;
	int fd;

	if (faccessat(sp.dirfd, name, F_OK, 0) == 0) {
		return;
	}
	if (n > sizeof(r) || rand_bytes(r, n) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "spool: no randomness from the kernel");
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(line + 2 * i, 3, "%02x", r[i]);
	}
	line[2 * n] = '\n';
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	fd = openat(sp.dirfd, tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, line, len) != (ssize_t)len || fsync(fd) < 0 || close(fd) < 0 ||
	    renameat(sp.dirfd, tmp, sp.dirfd, name) < 0 || fsync(sp.dirfd) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "spool: cannot write %s: %s", name, strerror(errno));
	}
}

static void
spool_check_volatile(void)
{
	struct statfs fs;

	if (fstatfs(sp.dirfd, &fs) < 0) {
		return;
	}
	if ((unsigned long)fs.f_type == TMPFS_MAGIC_ || (unsigned long)fs.f_type == RAMFS_MAGIC_) {
		if (!NOMX_ALLOW_VOLATILE) {
			log_die(NOMX_EXIT_SYSTEM, "spool: on tmpfs/ramfs, mail would not survive "
			    "power loss; move NOMX_SPOOL_DIR to flash or build with NOMX_ALLOW_VOLATILE=1");
		}
		log_warnx("spool: volatile spool (tmpfs): 250 does not survive power loss");
	}
}

/* The spool holds mail and the export secret: refuse a folder anyone
 * may write to, and (not root) one that belongs to another user.  As
 * root, spool_chown() checks the owner against the run user. */
static void
spool_check_owner(const char *dir)
{
	struct stat st;

	if (fstat(sp.dirfd, &st) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "spool: cannot stat %s: %s", dir, strerror(errno));
	}
	if (st.st_mode & S_IWOTH) {
		log_die(NOMX_EXIT_SYSTEM, "spool: %s is writable by everyone (mode %04o): "
		    "chmod 700 it", dir, (unsigned)(st.st_mode & 07777));
	}
	if (geteuid() != 0 && st.st_uid != geteuid()) {
		log_die(NOMX_EXIT_SYSTEM, "spool: %s belongs to uid %u, not to the user nomx "
		    "runs as (uid %u)", dir, (unsigned)st.st_uid, (unsigned)geteuid());
	}
}

/* Recover one segment: count its records, cut a torn tail if it is the
 * active (last) one.  Returns its size after recovery, or -1 to skip. */
static int64_t
spool_recover_seg(uint64_t first, int last)
{
	char name[40];
	struct stat st;
	int torn, fd;
	uint64_t seq = 0;
	off_t end;

	spool_seg_name(first, name, sizeof(name));
	fd = openat(sp.dirfd, name, (last ? O_RDWR | O_APPEND : O_RDONLY) | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "spool: cannot open %s: %s", name, strerror(errno));
	}
	end = spool_scan_seg(fd, st.st_size, NULL, NULL, &torn, &seq);
	if (end < 0) {
		/* A crash while creating the segment leaves no header: the
		 * segment never held anything. */
		close(fd);
		log_warnx("spool: %s has no valid header: removed", name);
		if (unlinkat(sp.dirfd, name, 0) < 0 ||
		    (fault_crash("recover-unlinked"), fsync(sp.segdirfd) < 0)) {
			log_die(NOMX_EXIT_SYSTEM, "spool: cannot remove %s: %s", name, strerror(errno));
		}
		return -1;
	}
	if (torn) {
		if (!last) {
			log_warnx("spool: %s: %lld bytes after the last valid record left alone",
			    name, (long long)(st.st_size - end));
		} else {
			log_warnx("recover seg=%s cut=%lld at=%lld", name,
			    (long long)(st.st_size - end), (long long)end);
			if (ftruncate(fd, end) < 0 ||
			    (fault_crash("recover-cut"), fdatasync(fd) < 0)) {
				log_die(NOMX_EXIT_SYSTEM, "spool: cannot cut torn tail of %s: %s",
				    name, strerror(errno));
			}
			st.st_size = end;
		}
	}
	if (seq >= sp.next_seq) {
		sp.next_seq = seq + 1;
	}
	if (first >= sp.next_seq) {
		sp.next_seq = first;	/* an empty segment still uses its name */
	}
	sp.bytes += (uint64_t)st.st_size;
	if (last && (uint64_t)st.st_size < NOMX_SEG_MAX) {
		sp.fd = fd;
		sp.size = sp.synced = (uint64_t)st.st_size;
	} else {
		close(fd);
	}
	return st.st_size;
}

static int
spool_count_cb(void *ctx, int fd, const struct spool_rec *r, const unsigned char *env, off_t off)
{
	(void)ctx, (void)fd, (void)env, (void)off;
	sp.msgs += r->seq > sp.ack.acked;	/* the quota counts what is not acked */
	return 0;
}

static void
spool_count(void)
{
	char name[40];
	struct stat st;
	int torn;

	for (size_t i = 0, n = spool_scan_list(sp.dirfd, segs, SPOOL_MAX_SEGS); i < n; i++) {
		uint64_t seq = 0;
		int fd;
		spool_seg_name(segs[i], name, sizeof(name));
		if ((fd = openat(sp.dirfd, name, O_RDONLY | O_CLOEXEC)) < 0) {
			continue;
		}
		if (fstat(fd, &st) == 0) {
			spool_scan_seg(fd, st.st_size, spool_count_cb, NULL, &torn, &seq);
		}
		close(fd);
	}
}

void
spool_open(const char *dir, int wait)
{
	int lock;
	size_t n;

	if (spool_mkdirs(dir) < 0 ||
	    (sp.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "spool: cannot open %s: %s", dir, strerror(errno));
	}
	spool_check_owner(dir);
	spool_check_volatile();
	if ((mkdirat(sp.dirfd, SPOOL_SEG_DIR, 0700) < 0 && errno != EEXIST) ||
	    (sp.segdirfd = openat(sp.dirfd, SPOOL_SEG_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "spool: cannot open %s/seg: %s", dir, strerror(errno));
	}
	lock = openat(sp.dirfd, "LOCK", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "spool: %s is in use by another nomx (LOCK): %s", dir,
		    strerror(errno));
	}
	spool_make_random_file("ID", 8);
	spool_make_random_file(SPOOL_SECRET_FILE, SPOOL_SECRET_LEN);
	if (spool_ack_read(sp.dirfd, &sp.ack) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "spool: cannot read %s/ACK: %s", dir, strerror(errno));
	}
	n = spool_scan_list(sp.dirfd, segs, SPOOL_MAX_SEGS);
	if (n == SPOOL_MAX_SEGS) {
		log_die(NOMX_EXIT_SYSTEM, "spool: more than %d segments", SPOOL_MAX_SEGS);
	}
	for (size_t i = 0; i < n; i++) {
		spool_recover_seg(segs[i], i + 1 == n);
	}
	spool_count();
	/* Sequence numbers are never reused, even when every segment that
	 * held them has been acknowledged and removed. */
	if (sp.ack.acked >= sp.next_seq) {
		sp.next_seq = sp.ack.acked + 1;
	}
	sp.durable_seq = sp.written_seq = sp.next_seq - 1;
	log_info("spool dir=%s segments=%zu unacked=%llu bytes=%llu acked=%llu next=%llu", dir, n,
	    (unsigned long long)sp.msgs, (unsigned long long)sp.bytes,
	    (unsigned long long)sp.ack.acked, (unsigned long long)sp.next_seq);
}

int
spool_chown(unsigned uid, unsigned gid)
{
	static const char *const files[] = { "ID", SPOOL_SECRET_FILE, "LOCK" };
	char name[40];
	struct stat st;

	/* Never give away a folder that is somebody else's (-s /home/x). */
	if (fstat(sp.dirfd, &st) < 0) {
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != uid) {
		errno = EPERM;
		return -1;
	}
	if (fchown(sp.dirfd, uid, gid) < 0 || fchown(sp.segdirfd, uid, gid) < 0) {
		return -1;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (fchownat(sp.dirfd, files[i], uid, gid, 0) < 0) {
			return -1;
		}
	}
	if (fchownat(sp.dirfd, SPOOL_ACK_FILE, uid, gid, 0) < 0 && errno != ENOENT) {
		return -1;
	}
	for (size_t i = 0, n = spool_scan_list(sp.dirfd, segs, SPOOL_MAX_SEGS); i < n; i++) {
		spool_seg_name(segs[i], name, sizeof(name));
		if (fchownat(sp.dirfd, name, uid, gid, 0) < 0) {
			return -1;
		}
	}
	return 0;
}

/* `nomx spool ack` (another process) removes acknowledged segments:
 * re-read the segment sizes and the ACK file, so a full spool accepts
 * mail again as soon as the collector has fetched, without a restart. */
static void
spool_refresh(void)
{
	struct spool_ack a;
	struct stat st;
	char name[40];
	uint64_t bytes = 0;
	size_t n = spool_scan_list(sp.dirfd, segs, SPOOL_MAX_SEGS);

	for (size_t i = 0; i < n; i++) {
		spool_seg_name(segs[i], name, sizeof(name));
		if (fstatat(sp.dirfd, name, &st, 0) == 0) {
			bytes += (uint64_t)st.st_size;
		}
	}
	sp.bytes = bytes;
	if (spool_ack_read(sp.dirfd, &a) == 0 && a.acked > sp.ack.acked) {
		uint64_t gone = a.acked - sp.ack.acked;
		sp.msgs = sp.msgs > gone ? sp.msgs - gone : 0;
		sp.ack = a;
	}
}

static int
spool_over(uint64_t n)
{
	struct statvfs vfs;

	if (sp.bytes + n + SPOOL_REC_HDR + SPOOL_REC_TRL > NOMX_QUOTA_BYTES ||
	    sp.msgs >= NOMX_QUOTA_MSGS) {
		return 1;
	}
	return fstatvfs(sp.dirfd, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < n + NOMX_FS_RESERVE;
}

enum spool_err
spool_room(uint64_t n)
{
	struct timespec ts;
	int64_t now;

	if (!spool_over(n)) {
		return SPOOL_OK;
	}
	/* Full: perhaps acks freed space since.  At most once a second. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (now - sp.refreshed_ms < 1000 && sp.refreshed_ms != 0) {
		return SPOOL_EQUOTA;
	}
	sp.refreshed_ms = now;
	spool_refresh();
	return spool_over(n) ? SPOOL_EQUOTA : SPOOL_OK;
}

uint64_t
spool_next_seq(void)
{
	return sp.next_seq;
}

uint64_t
spool_durable_seq(void)
{
	return sp.durable_seq;
}

void
spool_usage(uint64_t *bytes, uint64_t *msgs)
{
	*bytes = sp.bytes;
	*msgs = sp.msgs;
}

/* Give up the active segment after a failed sync: cut what was not
 * durable, and never touch this file's page cache again. */
static void
spool_drop_active(void)
{
	if (sp.fd < 0) {
		return;
	}
	if (ftruncate(sp.fd, (off_t)sp.synced) < 0) {
		log_warn("spool: cannot cut back the failed tail");
	}
	sp.bytes -= sp.size - sp.synced;
	sp.msgs -= sp.pending_msgs;
	sp.pending_msgs = 0;
	close(sp.fd);
	sp.fd = -1;
}

void
spool_sync(void)
{
	if (sp.written_seq == sp.durable_seq || sp.fd < 0) {
		return;
	}
	fault_crash("sync");
	if (fault_hit("fdatasync") ? (errno = EIO, 1) : fdatasync(sp.fd) < 0) {
		log_warn("spool: fdatasync failed, %llu message(s) refused",
		    (unsigned long long)sp.pending_msgs);
		spool_drop_active();
		return;
	}
	fault_crash("synced");	/* durable, not yet answered */
	sp.durable_seq = sp.written_seq;
	sp.synced = sp.size;
	sp.pending_msgs = 0;
}

static enum spool_err
spool_errno(void)
{
	return errno == ENOSPC || errno == EDQUOT ? SPOOL_ENOSPC : SPOOL_EIO;
}

static enum spool_err
spool_new_segment(void)
{
	unsigned char hdr[SPOOL_SEG_HDR];
	char name[40];
	int fd;

	if (sp.fd >= 0) {
		spool_sync();	/* seal: what the old segment holds is durable */
		if (sp.fd >= 0) {
			close(sp.fd);
			sp.fd = -1;
		}
	}
	spool_seg_name(sp.next_seq, name, sizeof(name));
	spool_seg_put_hdr(sp.next_seq, spool_now_ms(), hdr);
	fd = openat(sp.dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warn("spool: cannot create %s", name);
		return spool_errno();
	}
	fault_crash("segment-created");	/* an empty file, no header */
	if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) || fdatasync(fd) < 0 ||
	    (fault_crash("segment-headed"), fsync(sp.segdirfd) < 0)) {
		enum spool_err e = spool_errno();
		log_warn("spool: cannot start %s", name);
		close(fd);
		unlinkat(sp.dirfd, name, 0);
		return e;
	}
	sp.fd = fd;
	sp.size = sp.synced = SPOOL_SEG_HDR;
	sp.bytes += SPOOL_SEG_HDR;
	sp.rotate = 0;
	log_info("spool segment=%s", name);
	return SPOOL_OK;
}

enum spool_err
spool_append(const struct spool_msg *m, uint64_t *seq)
{
	static struct iovec iov[NOMX_IOV_MAX];
	unsigned char hdr[SPOOL_REC_HDR], trl[SPOOL_REC_TRL];
	struct spool_rec r = { .type = SPOOL_TYPE_MSG, .flags = m->flags };
	size_t niov = 0, body;
	uint64_t total;
	ssize_t w;
	enum spool_err e;

	r.env_len = (uint32_t)m->env_len;
	r.body_len = (uint32_t)(m->received_len + m->body->len);
	total = spool_rec_total(&r);
	if ((e = spool_room(total)) != SPOOL_OK) {
		return e;
	}
	if (sp.fd < 0 || sp.rotate ||
	    (sp.size > SPOOL_SEG_HDR && sp.size + total > NOMX_SEG_MAX)) {
		if ((e = spool_new_segment()) != SPOOL_OK) {
			return e;
		}
	}
	r.seq = sp.next_seq;
	r.t_ms = spool_now_ms();
	iov[niov++] = (struct iovec){ hdr, sizeof(hdr) };
	iov[niov++] = (struct iovec){ (void *)m->env, m->env_len };
	iov[niov++] = (struct iovec){ (void *)m->received, m->received_len };
	body = stage_iov(m->body, iov + niov, NOMX_IOV_MAX - niov - 1);
	r.data_crc = crc32c(0, m->env, m->env_len);
	for (size_t i = 2; i < niov + body; i++) {
		r.data_crc = crc32c(r.data_crc, iov[i].iov_base, iov[i].iov_len);
	}
	niov += body;
	spool_rec_put_hdr(&r, hdr);
	spool_rec_put_trl(&r, trl);
	iov[niov++] = (struct iovec){ trl, sizeof(trl) };

	fault_crash("append");
	if (fault_hit("writev")) {
		/* A disk filling up mid-record: part of it lands, then ENOSPC. */
		w = write(sp.fd, hdr, sizeof(hdr));
		errno = ENOSPC;
	} else {
		w = writev(sp.fd, iov, (int)niov);
	}
	if (w != (ssize_t)total) {
		e = w < 0 ? spool_errno() : SPOOL_ENOSPC;
		log_warn("spool: append of %llu bytes failed (wrote %zd)",
		    (unsigned long long)total, w);
		if (ftruncate(sp.fd, (off_t)sp.size) < 0) {
			log_warn("spool: cannot cut back the failed append");
		}
		sp.rotate = e == SPOOL_EIO;
		return e;
	}
	fault_crash("appended");	/* in the page cache, not synced */
	sp.size += total;
	sp.bytes += total;
	sp.msgs++;
	sp.pending_msgs++;
	sp.written_seq = r.seq;
	*seq = sp.next_seq++;
	return SPOOL_OK;
}
