/* SPDX-License-Identifier: ISC */
/* The export stream's lines, the session tokens and the ACK file. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"

#include "crc32c.h"
#include "frame.h"
#include "spool_ack.h"

static int
parse(const char *s, struct frame *f)
{
	return frame_parse(s, strlen(s), f);
}

static size_t
seal(char *buf, const char *text)
{
	strcpy(buf, text);
	return frame_seal(buf, strlen(text));
}

static void
round_trip(void)
{
	char line[FRAME_LINE_MAX];
	struct frame f;

	seal(line, "@@NMX BEGIN v1 dev=0123456789abcdef sess=1-3-00aa from=1 last=3 n=3");
	CHECK_INT(parse(line, &f), 1);
	CHECK_INT(f.type, FRAME_BEGIN);
	CHECK_STR(f.dev, "0123456789abcdef");
	CHECK_STR(f.token, "1-3-00aa");
	CHECK_INT(f.seq, 1);
	CHECK_INT(f.last, 3);
	CHECK_INT(f.n, 3);
	seal(line, "@@NMX MSG 7 env=60 body=384 crc=0206d7dc t=1795694381049");
	CHECK_INT(parse(line, &f), 1);
	CHECK_INT(f.type, FRAME_MSG);
	CHECK_INT(f.seq, 7);
	CHECK_INT(f.env_len, 60);
	CHECK_INT(f.body_len, 384);
	CHECK_INT(f.crc, 0x0206d7dc);
	seal(line, "@@NMX D 7 2 aGVsbG8=");
	CHECK_INT(parse(line, &f), 1);
	CHECK_INT(f.n, 2);
	CHECK_INT(f.data_len, 5);
	CHECK(memcmp(f.data, "hello", 5) == 0, "data");
	seal(line, "@@NMX EOM 7 lines=2");
	CHECK_INT(parse(line, &f), 1);
	CHECK_INT(f.type, FRAME_EOM);
	seal(line, "@@NMX END last=7 n=1");
	CHECK_INT(parse(line, &f), 1);
	CHECK_INT(f.type, FRAME_END);
	seal(line, "@@NMX ACKED 7");
	CHECK_INT(parse(line, &f), 1);
	CHECK_INT(f.type, FRAME_ACKED);
	seal(line, "@@NMX NAK gap");
	CHECK_INT(parse(line, &f), 1);
	CHECK_STR(f.reason, "gap");
	seal(line, "@@NMX ALIVE last=12");
	CHECK_INT(parse(line, &f), 1);
	CHECK_INT(f.type, FRAME_ALIVE);
	CHECK_INT(f.last, 12);
	seal(line, "@@NMX ALIVE");
	CHECK_INT(parse(line, &f), -1);
}

/* Console noise: CR added, a prompt before the tag, echo, printk. */
static void
noise_tolerated(void)
{
	char line[FRAME_LINE_MAX], noisy[FRAME_LINE_MAX + 32];
	struct frame f;
	size_t n = seal(line, "@@NMX EOM 9 lines=1");

	line[n - 1] = '\0';	/* without the LF */
	snprintf(noisy, sizeof(noisy), "root@router:~# %s\r\r", line);
	CHECK_INT(parse(noisy, &f), 1);
	CHECK_INT(parse("[ 12.345] usb 1-1: new high-speed USB device", &f), 0);
	CHECK_INT(parse("root@router:~# nomx spool export", &f), 0);
	CHECK_INT(parse("", &f), 0);
}

/* Every single changed byte of a line is caught. */
static void
every_corruption_detected(void)
{
	char line[FRAME_LINE_MAX], bad[FRAME_LINE_MAX];
	struct frame f;
	size_t n = seal(line, "@@NMX D 12 34 QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=") - 1;

	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(bad, line, n);
			bad[i] ^= (char)(1 << bit);
			int r = frame_parse(bad, n, &f);
			/* Damaging the tag itself makes it "not ours", also fine. */
			CHECK(r != 1, "flip of bit %d at %zu accepted", bit, i);
		}
	}
	for (size_t cut = 0; cut < n; cut++) {
		CHECK(frame_parse(line, cut, &f) != 1, "line cut at %zu accepted", cut);
	}
}

static void
malformed_refused(void)
{
	char line[FRAME_LINE_MAX];
	struct frame f;

	seal(line, "@@NMX D 1 1 not-base64!");
	CHECK_INT(parse(line, &f), -1);
	seal(line, "@@NMX MSG 1 env=99999999999 body=1 crc=00000000 t=0");
	CHECK_INT(parse(line, &f), -1);
	seal(line, "@@NMX FOO 1");
	CHECK_INT(parse(line, &f), -1);
	seal(line, "@@NMX END last=1 n=1 extra");
	CHECK_INT(parse(line, &f), -1);
	seal(line, "@@NMX MSG 99999999999999999999999 env=1 body=1 crc=00000000 t=0");
	CHECK_INT(parse(line, &f), -1);
}

static void
tokens(void)
{
	unsigned char key[SPOOL_SECRET_LEN] = "0123456789abcde", other[SPOOL_SECRET_LEN] = { 1 };
	char tok[FRAME_TOKEN_MAX];
	uint64_t from, last;

	spool_token(key, "0011223344556677", 5, 9, tok, sizeof(tok));
	CHECK_INT(spool_token_check(key, "0011223344556677", tok, &from, &last), 0);
	CHECK_INT(from, 5);
	CHECK_INT(last, 9);
	CHECK_INT(spool_token_check(other, "0011223344556677", tok, &from, &last), -1);
	CHECK_INT(spool_token_check(key, "0011223344556678", tok, &from, &last), -1);
	tok[0] = '4';	/* claim an earlier start */
	CHECK_INT(spool_token_check(key, "0011223344556677", tok, &from, &last), -1);
	CHECK_INT(spool_token_check(key, "0011223344556677", "5-9", &from, &last), -1);
	CHECK_INT(spool_token_check(key, "0011223344556677", "", &from, &last), -1);
	spool_token(key, "0011223344556677", 5, 4, tok, sizeof(tok));	/* an empty export */
	CHECK_INT(spool_token_check(key, "0011223344556677", tok, &from, &last), 0);
}

/* Two slots: a torn newest slot leaves the previous state. */
static void
ack_slots(void)
{
	char dir[] = "/tmp/nomx-ack-XXXXXX";
	struct spool_ack a;
	int dirfd, fd;
	unsigned char junk[8] = { 0xde, 0xad };

	CHECK(mkdtemp(dir) != NULL, "mkdtemp");
	dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK_INT(spool_ack_read(dirfd, &a), 0);
	CHECK_INT(a.acked, 0);
	CHECK_INT(a.slot, -1);
	CHECK_INT(spool_ack_write(dirfd, &a, 5, 1), 0);
	CHECK_INT(spool_ack_write(dirfd, &a, 9, 2), 0);
	CHECK_INT(spool_ack_read(dirfd, &a), 0);
	CHECK_INT(a.acked, 9);
	CHECK_INT(a.epoch, 2);
	CHECK_INT(a.bad_slots, 0);
	/* Tear the newest slot: the older one (5) stands. */
	fd = openat(dirfd, "ACK", O_WRONLY);
	CHECK_INT(pwrite(fd, junk, sizeof(junk), a.slot * SPOOL_ACK_SLOT + 16), 8);
	close(fd);
	CHECK_INT(spool_ack_read(dirfd, &a), 0);
	CHECK_INT(a.acked, 5);
	CHECK_INT(a.bad_slots, 1);
	/* The next write goes over the torn slot, with a higher epoch. */
	CHECK_INT(spool_ack_write(dirfd, &a, 12, 3), 0);
	CHECK_INT(spool_ack_read(dirfd, &a), 0);
	CHECK_INT(a.acked, 12);
	CHECK_INT(a.bad_slots, 0);
	unlinkat(dirfd, "ACK", 0);
	rmdir(dir);
}

CHECK_MAIN(CASE(round_trip), CASE(noise_tolerated), CASE(every_corruption_detected),
    CASE(malformed_refused), CASE(tokens), CASE(ack_slots))
