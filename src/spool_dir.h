/* SPDX-License-Identifier: ISC */
/*
 * The spool folder: every name in it, the lock, the device's ID and
 * SECRET, who owns it, the list of segments, removing the ones the
 * collector has acknowledged, and cutting a torn tail.  The daemon's
 * log (spool.c), the tools (spooltool.c, export.c) and fsck all go
 * through here, so each of these is done one way.
 *
 *   LOCK     flock()ed by the daemon, and by fsck --repair
 *   ID       the device id, 16 hex digits (names its mail at the collector)
 *   SECRET   keys the export tokens (spool_ack.h), 0600
 *   ACK      what the collector has acknowledged (spool_ack.h)
 *   seg/     the log: segments named by their first seq, "%016llx.nmx"
 */
#ifndef NOMX_SPOOL_DIR_H
#define NOMX_SPOOL_DIR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SPOOL_LOCK_FILE "LOCK"
#define SPOOL_ID_FILE "ID"
#define SPOOL_ID_LEN 8		/* bytes; 16 hex digits */
#define SPOOL_SECRET_FILE "SECRET"
#define SPOOL_SECRET_LEN 16
#define SPOOL_ACK_FILE "ACK"
#define SPOOL_SEG_DIR "seg"
/* Where `nomx spool follow` listens for the daemon's word of what just
 * became durable (a datagram socket; spool_follow.h). */
#define SPOOL_FOLLOW_SOCK "follow.sock"
/* ... and where `nomx spool export --follow` listens for the same. */
#define SPOOL_EXPORT_SOCK "export.sock"
/* Most segments a spool may hold (segments are ~NOMX_SEG_MAX each). */
#define SPOOL_MAX_SEGS 4096

/* The segments, sorted by first seq.  One list per process: each call
 * of spool_dir_segments() refreshes it, so callers walk it to the end
 * before listing again. */
struct spool_segs {
	size_t n;
	uint64_t first[SPOOL_MAX_SEGS];
};
const struct spool_segs *spool_dir_segments(int dirfd);

/* "seg/%016llx.nmx" into buf (at least 32 bytes). */
void spool_seg_name(uint64_t first_seq, char *buf, size_t len);

/* Make the folder ready for the daemon: dir (created with its parents
 * if need be) must be nobody else's and not writable by all; seg/ is
 * made; LOCK is taken (waiting for it with wait); ID and SECRET are
 * made once in the spool's life.  Returns the folder's descriptor and
 * sets *segdirfd and *lockfd; dies with a message on failure. */
int spool_dir_setup(const char *dir, int wait, int *segdirfd, int *lockfd);

/* Take LOCK without waiting, for fsck --repair; the descriptor, or -1
 * if the daemon holds it. */
int spool_dir_lock(int dirfd);

/* Give the folder and everything in it to uid/gid (before a privilege
 * drop); 0 or -1 with errno (EPERM: the folder is someone else's). */
int spool_dir_chown(int dirfd, int segdirfd, unsigned uid, unsigned gid);

/* Remove the segments whose every record is acknowledged (<= acked);
 * the last segment, a running daemon's active one, always stays.
 * Returns how many went. */
unsigned spool_dir_remove_acked(int dirfd, uint64_t acked);

/* Cut a segment's torn tail at end, durably: recovery and fsck
 * --repair.  0 or -1 with errno. */
int spool_dir_cut(int fd, off_t end);

#endif
