/* SPDX-License-Identifier: ISC */
/*
 * The spool record codec and the recovery scan: a segment with three
 * records is damaged every way a crash or power cut can damage it
 * (truncated at every byte, zero-filled tail, garbage tail, a flipped
 * bit) and the scan must keep exactly the intact records.  Each test
 * opens and closes its own struct spool.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../config.h"
#include "check.h"
#include "spool.h"
#include "spool_rec.h"
#include "spool_dir.h"
#include "spool_scan.h"
#include "stage.h"

static char dir[200];

static void
make_dir(void)
{
	snprintf(dir, sizeof(dir), "%s/nomx-unit-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	CHECK(mkdtemp(dir) != NULL, "mkdtemp %s: %s", dir, strerror(errno));
}

static const char *
seg_path(const char *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s/seg/%016llx.nmx", d, 1ULL);
	return buf;
}

/* Open the spool at d, append n messages, sync (after each one with
 * sync_each, else once), close. */
static void
write_spool(const char *d, int n, int sync_each)
{
	struct spool sp;
	unsigned char env[128];
	size_t env_len = 0;
	uint64_t first;

	spool_open(&sp, d, 0);
	first = spool_next_seq(&sp);
	spool_env_put(env, sizeof(env), &env_len, SPOOL_ENV_FROM, "a@b", 3);
	spool_env_put(env, sizeof(env), &env_len, SPOOL_ENV_RCPT, "bob@x", 5);
	for (int i = 0; i < n; i++) {
		struct stage body = { 0 };
		char text[64];
		uint64_t seq = 0;
		int len = snprintf(text, sizeof(text), "Subject: %d\r\n\r\nbody %d\r\n", i, i);
		struct spool_msg m = { .env = env, .env_len = env_len, .received = "R: x\r\n",
		    .received_len = 6, .body = &body };
		stage_append(&body, text, (size_t)len);
		CHECK(spool_append(&sp, &m, &seq) == SPOOL_OK && seq == first + (uint64_t)i,
		    "append %d: seq %llu", i, (unsigned long long)seq);
		stage_reset(&body);
		if (sync_each) {
			spool_sync(&sp);
		}
	}
	spool_sync(&sp);
	CHECK_INT(spool_durable_seq(&sp), first + (uint64_t)n - 1);
	spool_close(&sp);
}

static char *
slurp(const char *path, size_t *len)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));

	if (fd >= 0) {
		close(fd);
	}
	*len = n < 0 ? 0 : (size_t)n;
	return buf;
}

static void
spit(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0600);

	CHECK(fd >= 0 && write(fd, p, len) == (ssize_t)len, "write %s: %s", path, strerror(errno));
	if (fd >= 0) {
		close(fd);
	}
}

struct scan_result {
	int records;
	int torn;
	off_t end;
	uint64_t last;
};

static struct scan_result
scan_file(const char *path)
{
	struct scan_result r = { 0 };
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st) < 0) {
		r.end = -2;
		return r;
	}
	r.end = spool_scan_seg(fd, st.st_size, NULL, NULL, &r.torn, &r.last);
	close(fd);
	r.records = (int)r.last;
	return r;
}

/* Sizes of the three records: from a clean spool. */
static off_t ends[4];
static char clean[1 << 16];
static size_t clean_len;

static void
setup_clean(void)
{
	char p[300];
	char *b;

	if (clean_len) {
		return;
	}
	make_dir();
	write_spool(dir, 3, 0);
	b = slurp(seg_path(dir, p, sizeof(p)), &clean_len);
	memcpy(clean, b, clean_len);
	ends[0] = SPOOL_ALIGN;	/* the header was synced alone: the records start a block */
	for (int i = 1; i <= 3; i++) {
		struct spool_rec r;
		spool_rec_get_hdr((unsigned char *)clean + ends[i - 1], &r);
		ends[i] = ends[i - 1] + (off_t)spool_rec_total(&r);
	}
}

static void
clean_segment(void)
{
	char p[300];
	struct scan_result r;

	setup_clean();
	CHECK_INT(ends[3], (off_t)clean_len);
	r = scan_file(seg_path(dir, p, sizeof(p)));
	CHECK_INT(r.last, 3);
	CHECK_INT(r.torn, 0);
	CHECK_INT(r.end, clean_len);
}

static void
truncated_at_every_byte(void)
{
	char p[300];

	setup_clean();
	snprintf(p, sizeof(p), "%s/cut.nmx", dir);
	for (off_t cut = ends[2]; cut <= ends[3]; cut++) {
		struct scan_result r;
		spit(p, clean, (size_t)cut);
		r = scan_file(p);
		CHECK(r.last == (cut == ends[3] ? 3 : 2) && r.end == (cut == ends[3] ? ends[3] : ends[2]) &&
		    r.torn == (cut != ends[2] && cut != ends[3]),
		    "cut at %lld: last %llu end %lld torn %d", (long long)cut,
		    (unsigned long long)r.last, (long long)r.end, r.torn);
	}
}

static void
zero_and_garbage_tails(void)
{
	char p[300], buf[sizeof(clean) + 8192];
	struct scan_result r;

	setup_clean();
	snprintf(p, sizeof(p), "%s/tail.nmx", dir);
	/* UBIFS leaves zero-filled holes at the end after a power cut. */
	memcpy(buf, clean, clean_len);
	memset(buf + clean_len, 0, 4096);
	spit(p, buf, clean_len + 4096);
	r = scan_file(p);
	CHECK(r.last == 3 && r.torn && r.end == ends[3], "zeros: last %llu", (unsigned long long)r.last);
	/* The last record's bytes replaced by zeros (size grew, data lost). */
	memset(buf + ends[2], 0, (size_t)(ends[3] - ends[2]));
	spit(p, buf, clean_len);
	r = scan_file(p);
	CHECK(r.last == 2 && r.torn && r.end == ends[2], "zeroed record: last %llu", (unsigned long long)r.last);
	/* Garbage after the last record. */
	memcpy(buf, clean, clean_len);
	for (size_t i = 0; i < 4096; i++) {
		buf[clean_len + i] = (char)(i * 131 + 7);
	}
	spit(p, buf, clean_len + 4096);
	r = scan_file(p);
	CHECK(r.last == 3 && r.torn && r.end == ends[3], "garbage: last %llu", (unsigned long long)r.last);
}

static void
flipped_bits(void)
{
	char p[300], buf[sizeof(clean)];

	setup_clean();
	snprintf(p, sizeof(p), "%s/flip.nmx", dir);
	/* Every single flipped bit of the last record, in every one of its
	 * bytes (header, envelope, body, CRC, trailer), must drop exactly
	 * that record. */
	for (off_t at = ends[2]; at < ends[3]; at++) {
		for (int bit = 0; bit < 8; bit++) {
			struct scan_result r;
			memcpy(buf, clean, clean_len);
			buf[at] ^= (char)(1 << bit);
			spit(p, buf, clean_len);
			r = scan_file(p);
			CHECK(r.last == 2 && r.end == ends[2], "bit %d flipped at %lld: last %llu", bit,
			    (long long)at, (unsigned long long)r.last);
		}
	}
}

static void
recovery_cuts_tail_and_continues(void)
{
	char d2[256], p[300], buf[sizeof(clean)];
	struct spool sp;
	struct stat st;

	setup_clean();
	snprintf(d2, sizeof(d2), "%s/recover", dir);
	mkdir(d2, 0700);
	snprintf(p, sizeof(p), "%s/seg", d2);
	mkdir(p, 0700);
	memcpy(buf, clean, clean_len);
	spit(seg_path(d2, p, sizeof(p)), buf, (size_t)ends[3] - 5);	/* torn record 3 */
	spool_open(&sp, d2, 0);
	CHECK_INT(spool_next_seq(&sp), 3);
	spool_close(&sp);
	CHECK(stat(seg_path(d2, p, sizeof(p)), &st) == 0 && st.st_size == ends[2],
	    "after recovery size %lld, want %lld", (long long)st.st_size, (long long)ends[2]);
}

/* Three messages, a sync after each: each starts a fresh block, with
 * zeros (a hole) before it. */
static off_t starts[4];
static char gapped[4 * SPOOL_ALIGN];
static size_t gapped_len;

static int
note_start(void *ctx, int fd, const struct spool_rec *r, const unsigned char *env, off_t body)
{
	(void)ctx, (void)fd;
	(void)env;
	starts[r->seq] = body - (off_t)r->env_len - SPOOL_REC_HDR;
	return 0;
}

static void
setup_gapped(void)
{
	char d[256], p[300];
	struct stat st;
	int torn, fd;
	uint64_t last = 0;

	setup_clean();
	if (gapped_len) {
		return;
	}
	snprintf(d, sizeof(d), "%s/gapped", dir);
	write_spool(d, 3, 1);
	memcpy(gapped, slurp(seg_path(d, p, sizeof(p)), &gapped_len), sizeof(gapped));
	fd = open(p, O_RDONLY);
	CHECK(fd >= 0 && fstat(fd, &st) == 0, "open %s", p);
	CHECK_INT(spool_scan_seg(fd, st.st_size, note_start, NULL, &torn, &last), st.st_size);
	close(fd);
	CHECK(last == 3 && !torn, "gapped: last %llu torn %d", (unsigned long long)last, torn);
}

static void
records_of_each_commit_start_a_block(void)
{
	char d[256];
	uint64_t bytes, msgs;
	int dfd;

	setup_gapped();
	for (int i = 1; i <= 3; i++) {
		CHECK_INT(starts[i], i * SPOOL_ALIGN);
	}
	CHECK_INT(gapped_len, (size_t)(3 * SPOOL_ALIGN + ends[1] - ends[0]));
	/* The quota counts the header and records, not the holes. */
	snprintf(d, sizeof(d), "%s/gapped", dir);
	dfd = open(d, O_RDONLY | O_DIRECTORY);
	CHECK_INT(spool_scan_usage(dfd, 1, &bytes, &msgs), 0);
	CHECK_INT(bytes, (uint64_t)(SPOOL_SEG_HDR + ends[3] - ends[0]));
	CHECK_INT(msgs, 2);
	close(dfd);
}

/* A gap that is not all zeros, or a record after it that does not
 * carry the next seq, ends the valid records there. */
static void
a_gap_is_zeros_then_the_next_seq(void)
{
	char p[300], buf[sizeof(gapped)];
	unsigned char *h = (unsigned char *)buf + starts[3];
	struct spool_rec rec;
	struct scan_result r;
	static const uint64_t wrong[] = { 2, 5, 1 };

	setup_gapped();
	snprintf(p, sizeof(p), "%s/gap.nmx", dir);
	memcpy(buf, gapped, gapped_len);
	buf[starts[3] - 1] = 1;
	spit(p, buf, gapped_len);
	r = scan_file(p);
	CHECK(r.last == 2 && r.torn && r.end == starts[2] + ends[1] - ends[0],
	    "a byte in the gap: last %llu end %lld", (unsigned long long)r.last, (long long)r.end);
	for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
		memcpy(buf, gapped, gapped_len);
		CHECK_INT(spool_rec_get_hdr(h, &rec), 0);
		rec.seq = wrong[i];
		spool_rec_put_hdr(&rec, h);
		spit(p, buf, gapped_len);
		r = scan_file(p);
		CHECK(r.last == 2 && r.torn, "seq %llu after the gap: last %llu",
		    (unsigned long long)wrong[i], (unsigned long long)r.last);
	}
}

/* An ACK beyond the last record (its segments lost or removed by
 * hand): the sequence jumps, so the next message starts a segment of
 * its own, where the scan can find it. */
static void
a_jump_in_the_sequence_starts_a_segment(void)
{
	char d[256], p[300];
	struct spool_ack a;
	struct spool sp;
	uint64_t bytes, msgs;
	int dfd;

	setup_clean();
	snprintf(d, sizeof(d), "%s/jump", dir);
	write_spool(d, 2, 0);
	dfd = open(d, O_RDONLY | O_DIRECTORY);
	CHECK_INT(spool_ack_read(dfd, &a), 0);
	CHECK_INT(spool_ack_write(dfd, &a, 5, 0), 0);
	spool_open(&sp, d, 0);
	CHECK_INT(spool_next_seq(&sp), 6);
	spool_close(&sp);
	write_spool(d, 1, 0);
	snprintf(p, sizeof(p), "%s/seg/%016llx.nmx", d, 6ULL);
	CHECK(access(p, F_OK) == 0, "no segment %s", p);
	CHECK_INT(spool_scan_usage(dfd, 0, &bytes, &msgs), 0);
	CHECK_INT(msgs, 3);
	close(dfd);
}

static void
envelope_fields(void)
{
	unsigned char env[16];
	size_t off = 0, n;
	const char *v;
	int type;

	CHECK_INT(spool_env_put(env, sizeof(env), &off, 'F', "abc", 3), 0);
	CHECK_INT(spool_env_put(env, sizeof(env), &off, 'T', "0123456789", 10), -1);
	CHECK_INT(off, 6);
	off = 0;
	CHECK_INT(spool_env_next(env, 6, &off, &type, &v, &n), 1);
	CHECK_INT(type, 'F');
	CHECK(n == 3 && memcmp(v, "abc", 3) == 0, "value");
	CHECK_INT(spool_env_next(env, 6, &off, &type, &v, &n), 0);
	off = 0;
	CHECK_INT(spool_env_next(env, 5, &off, &type, &v, &n), -1);
}

static void
stage_exhaustion(void)
{
	struct stage a = { 0 }, b = { 0 };
	static char chunk[NOMX_STAGE_BLOCK];
	size_t total = 0;

	memset(chunk, 'x', sizeof(chunk));
	while (stage_append(&a, chunk, 1000) == 0) {
		total += 1000;
	}
	CHECK_INT(a.len, total);
	CHECK_INT(stage_blocks_used(), NOMX_STAGE_NBLOCKS);
	CHECK_INT(stage_append(&b, "y", 1), -1);
	stage_reset(&a);
	CHECK_INT(stage_blocks_used(), 0);
	CHECK_INT(stage_append(&b, chunk, sizeof(chunk)), 0);
	CHECK_INT(stage_append(&b, "z", 1), 0);
	CHECK_INT(stage_blocks_used(), 2);
	stage_reset(&b);
}

/* The segment list comes sorted, whatever order the directory gives,
 * and ignores every name that is not a segment's; more than fit in one
 * getdents buffer. */
static void
segment_list_sorted(void)
{
	const struct spool_segs *segs;
	static const char *const junk[] = { "seg/x.nmx", "seg/00000000000000zz.nmx",
	    "seg/0000000000000001.nmx.tmp", "seg/000000000000001.nmx", "seg/README" };
	char path[300];
	int dfd;
	size_t n;

	make_dir();
	snprintf(path, sizeof(path), "%s/seg", dir);
	mkdir(path, 0700);
	srand(7);
	for (int i = 0; i < 300; i++) {
		snprintf(path, sizeof(path), "%s/seg/%016llx.nmx", dir,
		    (unsigned long long)(i * 1000 + rand() % 999 + 1));
		close(open(path, O_CREAT | O_WRONLY, 0600));
	}
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, junk[i]);
		close(open(path, O_CREAT | O_WRONLY, 0600));
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	segs = spool_dir_segments(dfd);
	n = segs->n;
	CHECK_INT(n, 300);
	for (size_t i = 1; i < n; i++) {
		CHECK(segs->first[i - 1] < segs->first[i], "out of order at %zu", i);
		CHECK(segs->first[i] / 1000 == i, "segment %zu missing", i);
	}
	close(dfd);
}

CHECK_MAIN(CASE(clean_segment), CASE(segment_list_sorted), CASE(truncated_at_every_byte), CASE(zero_and_garbage_tails),
    CASE(flipped_bits), CASE(recovery_cuts_tail_and_continues), CASE(envelope_fields),
    CASE(stage_exhaustion), CASE(records_of_each_commit_start_a_block),
    CASE(a_gap_is_zeros_then_the_next_seq), CASE(a_jump_in_the_sequence_starts_a_segment))
