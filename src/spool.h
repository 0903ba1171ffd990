/* SPDX-License-Identifier: ISC */
/*
 * The daemon's side of the spool: one append-only log of segments in
 * the spool folder (spool_dir.h).  The caller owns the struct spool;
 * nothing here is global, so a process (or a test) may hold several.
 *
 * Contract: spool_append() writes a whole record with one pwritev but
 * does not sync; spool_sync() (once per loop pass: group commit) makes
 * every record appended since durable with one fdatasync.  A record
 * whose seq is <= spool_durable_seq() after that may be answered 250;
 * any other waiting record failed and gets 451.  Nothing is ever
 * rewritten; a failed write or sync cuts the tail back and moves the
 * log to a new segment (a failed fsync is never retried on the same
 * file: the page cache state is unknown after it).
 */
#ifndef NOMX_SPOOL_H
#define NOMX_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "spool_ack.h"
#include "stage.h"

enum spool_err {
	SPOOL_OK,
	SPOOL_EQUOTA,	/* quota or free-space reserve: 452 4.3.1 */
	SPOOL_ENOSPC,	/* the filesystem is full: 452 4.3.1 */
	SPOOL_EIO,	/* write failed: 451 4.3.0 */
};

struct spool {
	int dirfd, segdirfd, lockfd;
	int followfd;		/* datagrams to SPOOL_FOLLOW_SOCK, -1 = none */
	int fd;			/* active segment, -1 = none (make one) */
	uint64_t size;		/* its size */
	uint64_t synced;	/* its durable size */
	uint64_t next_seq;
	uint64_t written_seq;	/* last appended */
	uint64_t durable_seq;	/* last made durable */
	uint64_t announced_seq;	/* last told to a follower (spool_announce) */
	uint64_t pending_msgs;	/* appended since the last sync */
	uint64_t pending_bytes;	/* their records' bytes */
	uint64_t bytes;		/* all segments' headers and records (the quota's) */
	uint64_t msgs;		/* all records not acknowledged */
	int rotate;		/* start a new segment before the next append */
	struct spool_ack ack;	/* what the collector has acknowledged */
	int64_t refreshed_ms;	/* when usage was last re-read from disk */
};

struct spool_msg {
	uint8_t flags;			/* SPOOL_F_* */
	const unsigned char *env;	/* envelope fields (spool_env_put) */
	size_t env_len;
	const char *received;		/* our Received: header */
	size_t received_len;
	const struct stage *body;	/* the message as received */
};

/*
 * Open (creating if needed) the spool folder dir, take its lock and
 * recover: cut a torn tail of the active segment, continue the
 * sequence.  All later access is relative to the folder's descriptor,
 * so the process may chroot into it.  Dies with a message on failure.
 * With wait, waits for the lock (inetd mode: one short session after
 * another) instead of refusing.
 */
void spool_open(struct spool *sp, const char *dir, int wait);

/* Sync what is pending, let go of the lock and the descriptors. */
void spool_close(struct spool *sp);

/* Give the spool folder and everything in it to uid/gid (before a
 * privilege drop); 0 or -1 with errno (EPERM: the folder belongs to
 * someone other than root or uid). */
int spool_chown(struct spool *sp, unsigned uid, unsigned gid);

/* Is there room for a message of about n bytes?  SPOOL_OK or
 * SPOOL_EQUOTA.  Checks quota and the free-space reserve. */
enum spool_err spool_room(struct spool *sp, uint64_t n);

/* The seq the next spool_append will use (for the Received: header). */
uint64_t spool_next_seq(const struct spool *sp);

/* Append a record; *seq gets its sequence number.  Not yet durable. */
enum spool_err spool_append(struct spool *sp, const struct spool_msg *m, uint64_t *seq);

/* Group commit: one fdatasync for everything appended since the last
 * call.  Cheap when nothing is pending. */
void spool_sync(struct spool *sp);

/* Once the 250s of what spool_sync made durable are out: tell a
 * `nomx spool follow` and a `nomx spool export --follow` listening in
 * the folder (the working directory: main.c) which messages those
 * were, as one datagram "FIRST LAST\n" to each.
 * Never waits and writes nothing to flash; with nobody listening it
 * fails unseen.  A lost one is covered by the next: the follower goes
 * on from the last message it showed. */
void spool_announce(struct spool *sp);

/* Highest seq known durable. */
uint64_t spool_durable_seq(const struct spool *sp);

/* Usage, for status lines and the tests. */
void spool_usage(const struct spool *sp, uint64_t *bytes, uint64_t *msgs);

#endif
