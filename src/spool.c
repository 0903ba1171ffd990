/* SPDX-License-Identifier: ISC */
/*
 * The append side of the spool log (see spool.h and README "Spool").
 *
 * Flash cost per message: one pwritev and (shared with every other
 * message of the same loop pass) one fdatasync; no file is created,
 * renamed or rewritten per message.  Per segment (~NOMX_SEG_MAX): one
 * create, one header write, one fdatasync, one directory fsync.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../config.h"
#include "clock.h"
#include "crc32c.h"
#include "fault.h"
#include "fmt.h"
#include "log.h"
#include "spool.h"
#include "spool_dir.h"
#include "spool_scan.h"

/* Recover one segment: cut a torn tail if it is the active (last) one.
 * Returns its size after recovery, or -1 to skip. */
static int64_t
spool_recover_seg(struct spool *sp, uint64_t first, int last)
{
	char name[40];
	struct stat st;
	int torn, fd;
	uint64_t seq = 0;
	off_t end;

	spool_seg_name(first, name, sizeof(name));
	fd = openat(sp->dirfd, name, (last ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "spool: cannot open %s: %s", name, strerror(errno));
	}
	end = spool_scan_seg(fd, st.st_size, NULL, NULL, &torn, &seq);
	if (end < 0) {
		/* A crash while creating the segment leaves no header: the
		 * segment never held anything. */
		close(fd);
		log_warnx("spool: %s has no valid header: removed", name);
		if (unlinkat(sp->dirfd, name, 0) < 0 ||
		    (fault_crash("recover-unlinked"), fsync(sp->segdirfd) < 0)) {
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
			if (spool_dir_cut(fd, end) < 0) {
				log_die(NOMX_EXIT_SYSTEM, "spool: cannot cut torn tail of %s: %s",
				    name, strerror(errno));
			}
			st.st_size = end;
		}
	}
	if (seq >= sp->next_seq) {
		sp->next_seq = seq + 1;
	}
	if (first >= sp->next_seq) {
		sp->next_seq = first;	/* an empty segment still uses its name */
	}
	if (last && (uint64_t)st.st_size < NOMX_SEG_MAX) {
		sp->fd = fd;
		sp->size = sp->synced = (uint64_t)st.st_size;
	} else {
		close(fd);
	}
	return st.st_size;
}

void
spool_open(struct spool *sp, const char *dir, int wait)
{
	const struct spool_segs *segs;
	size_t n;

	*sp = (struct spool){ .fd = -1, .next_seq = 1 };
	sp->dirfd = spool_dir_setup(dir, wait, &sp->segdirfd, &sp->lockfd);
	sp->followfd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (spool_ack_read(sp->dirfd, &sp->ack) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "spool: cannot read %s/%s: %s", dir, SPOOL_ACK_FILE,
		    strerror(errno));
	}
	segs = spool_dir_segments(sp->dirfd);
	n = segs->n;
	if (n == SPOOL_MAX_SEGS) {
		log_die(NOMX_EXIT_SYSTEM, "spool: more than %d segments", SPOOL_MAX_SEGS);
	}
	for (size_t i = 0; i < n; i++) {
		spool_recover_seg(sp, segs->first[i], i + 1 == n);
	}
	/* The quota counts records (not the gaps between syncs) and what
	 * is not acked. */
	if (spool_scan_usage(sp->dirfd, sp->ack.acked, &sp->bytes, &sp->msgs) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "spool: cannot read %s", dir);
	}
	/* Sequence numbers are never reused, even when every segment that
	 * held them has been acknowledged and removed.  Where they jump,
	 * the next record starts a new segment: in one, a record after a
	 * gap must carry the seq that follows (spool_rec.h). */
	if (sp->ack.acked >= sp->next_seq) {
		sp->next_seq = sp->ack.acked + 1;
		sp->rotate = 1;
	}
	sp->durable_seq = sp->written_seq = sp->announced_seq = sp->next_seq - 1;
	log_info("spool dir=%s segments=%zu unacked=%llu bytes=%llu acked=%llu next=%llu", dir, n,
	    (unsigned long long)sp->msgs, (unsigned long long)sp->bytes,
	    (unsigned long long)sp->ack.acked, (unsigned long long)sp->next_seq);
}

void
spool_close(struct spool *sp)
{
	int *fds[] = { &sp->fd, &sp->segdirfd, &sp->lockfd, &sp->dirfd, &sp->followfd };

	spool_sync(sp);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
	}
}

int
spool_chown(struct spool *sp, unsigned uid, unsigned gid)
{
	return spool_dir_chown(sp->dirfd, sp->segdirfd, uid, gid);
}

/* `nomx spool ack` (another process) moves the ACK on and removes
 * acknowledged segments: count again once it has, so a full spool
 * accepts mail again as soon as the collector has fetched, without a
 * restart.  (Only then: counting reads the whole spool.) */
static void
spool_refresh(struct spool *sp)
{
	struct spool_ack a;
	uint64_t bytes, msgs;

	if (spool_ack_read(sp->dirfd, &a) == 0 && a.acked > sp->ack.acked &&
	    spool_scan_usage(sp->dirfd, a.acked, &bytes, &msgs) == 0) {
		sp->ack = a;
		sp->bytes = bytes;
		sp->msgs = msgs;
	}
}

static int
spool_over(const struct spool *sp, uint64_t n)
{
	struct statvfs vfs;

	if (sp->bytes + n + SPOOL_REC_HDR + SPOOL_REC_TRL > NOMX_QUOTA_BYTES ||
	    sp->msgs >= NOMX_QUOTA_MSGS) {
		return 1;
	}
	return fstatvfs(sp->dirfd, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < n + NOMX_FS_RESERVE;
}

enum spool_err
spool_room(struct spool *sp, uint64_t n)
{
	int64_t now;

	if (!spool_over(sp, n)) {
		return SPOOL_OK;
	}
	/* Full: perhaps acks freed space since.  At most once a second. */
	now = clock_ms();
	if (now - sp->refreshed_ms < 1000 && sp->refreshed_ms != 0) {
		return SPOOL_EQUOTA;
	}
	sp->refreshed_ms = now;
	spool_refresh(sp);
	return spool_over(sp, n) ? SPOOL_EQUOTA : SPOOL_OK;
}

uint64_t
spool_next_seq(const struct spool *sp)
{
	return sp->next_seq;
}

uint64_t
spool_durable_seq(const struct spool *sp)
{
	return sp->durable_seq;
}

void
spool_usage(const struct spool *sp, uint64_t *bytes, uint64_t *msgs)
{
	*bytes = sp->bytes;
	*msgs = sp->msgs;
}

/* Give up the active segment after a failed sync: cut what was not
 * durable, and never touch this file's page cache again. */
static void
spool_drop_active(struct spool *sp)
{
	if (sp->fd < 0) {
		return;
	}
	if (ftruncate(sp->fd, (off_t)sp->synced) < 0) {
		log_warn("spool: cannot cut back the failed tail");
	}
	sp->bytes -= sp->pending_bytes;
	sp->msgs -= sp->pending_msgs;
	sp->pending_msgs = sp->pending_bytes = 0;
	close(sp->fd);
	sp->fd = -1;
}

void
spool_announce(struct spool *sp)
{
	static const char *const listeners[] = { SPOOL_FOLLOW_SOCK, SPOOL_EXPORT_SOCK };
	char word[48];
	int n;

	if (sp->durable_seq <= sp->announced_seq) {
		return;
	}
	n = fmt_buf(word, sizeof(word), "%llu %llu\n", (unsigned long long)sp->announced_seq + 1,
	    (unsigned long long)sp->durable_seq);
	sp->announced_seq = sp->durable_seq;
	for (size_t i = 0; sp->followfd >= 0 && i < sizeof(listeners) / sizeof(listeners[0]); i++) {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		memcpy(sa.sun_path, listeners[i], strlen(listeners[i]));
		(void)sendto(sp->followfd, word, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL,
		    (const struct sockaddr *)&sa, sizeof(sa));
	}
}

void
spool_sync(struct spool *sp)
{
	if (sp->written_seq == sp->durable_seq || sp->fd < 0) {
		return;
	}
	fault_crash("sync");
	if (fault_hit("fdatasync") ? (errno = EIO, 1) : fdatasync(sp->fd) < 0) {
		log_warn("spool: fdatasync failed, %llu message(s) refused",
		    (unsigned long long)sp->pending_msgs);
		spool_drop_active(sp);
		return;
	}
	fault_crash("synced");	/* durable, not yet answered */
	sp->durable_seq = sp->written_seq;
	sp->synced = sp->size;
	sp->pending_msgs = sp->pending_bytes = 0;
}

static enum spool_err
spool_errno(void)
{
	return errno == ENOSPC || errno == EDQUOT ? SPOOL_ENOSPC : SPOOL_EIO;
}

static enum spool_err
spool_new_segment(struct spool *sp)
{
	unsigned char hdr[SPOOL_SEG_HDR];
	char name[40];
	int fd;

	if (sp->fd >= 0) {
		spool_sync(sp);	/* seal: what the old segment holds is durable */
		if (sp->fd >= 0) {
			close(sp->fd);
			sp->fd = -1;
		}
	}
	spool_seg_name(sp->next_seq, name, sizeof(name));
	spool_seg_put_hdr(sp->next_seq, clock_wall_ms(), hdr);
	fd = openat(sp->dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warn("spool: cannot create %s", name);
		return spool_errno();
	}
	fault_crash("segment-created");	/* an empty file, no header */
	if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) || fdatasync(fd) < 0 ||
	    (fault_crash("segment-headed"), fsync(sp->segdirfd) < 0)) {
		enum spool_err e = spool_errno();
		log_warn("spool: cannot start %s", name);
		close(fd);
		unlinkat(sp->dirfd, name, 0);
		return e;
	}
	sp->fd = fd;
	sp->size = sp->synced = SPOOL_SEG_HDR;
	sp->bytes += SPOOL_SEG_HDR;
	sp->rotate = 0;
	log_info("spool segment=%s", name);
	return SPOOL_OK;
}

enum spool_err
spool_append(struct spool *sp, const struct spool_msg *m, uint64_t *seq)
{
	static struct iovec iov[NOMX_IOV_MAX];
	unsigned char hdr[SPOOL_REC_HDR], trl[SPOOL_REC_TRL];
	struct spool_rec r = { .type = SPOOL_TYPE_MSG, .flags = m->flags };
	size_t niov = 0, body;
	uint64_t total, at;
	ssize_t w;
	enum spool_err e;

	r.env_len = (uint32_t)m->env_len;
	r.body_len = (uint32_t)(m->received_len + m->body->len);
	total = spool_rec_total(&r);
	if ((e = spool_room(sp, total)) != SPOOL_OK) {
		return e;
	}
	if (sp->fd < 0 || sp->rotate ||
	    (sp->size > SPOOL_SEG_HDR && sp->size + total > NOMX_SEG_MAX)) {
		if ((e = spool_new_segment(sp)) != SPOOL_OK) {
			return e;
		}
	}
	/* The first record since the last sync starts a fresh block
	 * (spool_rec.h): a sync then leaves every block it does not
	 * write alone. */
	at = sp->size;
	if (sp->pending_msgs == 0) {
		at = (at + SPOOL_ALIGN - 1) / SPOOL_ALIGN * SPOOL_ALIGN;
	}
	r.seq = sp->next_seq;
	r.t_ms = clock_wall_ms();
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
		w = pwritev(sp->fd, iov, 1, (off_t)at);
		errno = ENOSPC;
	} else {
		w = pwritev(sp->fd, iov, (int)niov, (off_t)at);
	}
	if (w != (ssize_t)total) {
		e = w < 0 ? spool_errno() : SPOOL_ENOSPC;
		log_warn("spool: append of %llu bytes failed (wrote %zd)",
		    (unsigned long long)total, w);
		if (ftruncate(sp->fd, (off_t)sp->size) < 0) {
			log_warn("spool: cannot cut back the failed append");
		}
		sp->rotate = e == SPOOL_EIO;
		return e;
	}
	fault_crash("appended");	/* in the page cache, not synced */
	sp->size = at + total;
	sp->bytes += total;
	sp->pending_bytes += total;
	sp->msgs++;
	sp->pending_msgs++;
	sp->written_seq = r.seq;
	*seq = sp->next_seq++;
	return SPOOL_OK;
}
