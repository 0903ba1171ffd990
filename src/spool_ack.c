/* SPDX-License-Identifier: ISC */
/*
 * The acknowledgement file, the device's ID and SECRET, and the export
 * tokens (formats in spool_ack.h): reading the newest valid slot,
 * writing the other one durably, and checking that an ack names an
 * export this device made.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bearssl.h>

#include "crc32c.h"
#include "fault.h"
#include "fmt.h"
#include "frame.h"
#include "le.h"
#include "number.h"
#include "spool_ack.h"
#include "text.h"

int
spool_ack_read(int dirfd, struct spool_ack *a)
{
	unsigned char buf[2 * SPOOL_ACK_SLOT];
	ssize_t n;
	int fd = openat(dirfd, SPOOL_ACK_FILE, O_RDONLY | O_CLOEXEC);

	memset(a, 0, sizeof(*a));
	a->slot = -1;
	if (fd < 0) {
		return errno == ENOENT ? 0 : -1;
	}
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n < 0) {
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		const unsigned char *s = buf + i * SPOOL_ACK_SLOT;
		if (n < (i + 1) * SPOOL_ACK_SLOT || memcmp(s, "NMXA", 4) != 0 ||
		    le_get32(s + 28) != crc32c(0, s, 28)) {
			/* A never-written slot is all zeros: not damage. */
			int zero = n >= (i + 1) * SPOOL_ACK_SLOT;
			for (int k = 0; zero && k < SPOOL_ACK_SLOT; k++) {
				zero = s[k] == 0;
			}
			a->bad_slots += !zero;
			continue;
		}
		if (a->slot < 0 || le_get64(s + 8) > a->epoch) {
			a->slot = i;
			a->epoch = le_get64(s + 8);
			a->acked = le_get64(s + 16);
			a->token_crc = le_get32(s + 24);
		}
	}
	return 0;
}

/* A new ACK file: both slots zero, durable, its name too. */
static int
spool_ack_create(int dirfd)
{
	unsigned char zero[2 * SPOOL_ACK_SLOT] = { 0 };
	int fd = openat(dirfd, SPOOL_ACK_FILE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	struct stat st;

	if (fd < 0) {
		return errno == EEXIST ? 0 : -1;
	}
	/* Whoever writes it first (root, running `nomx spool ack` by hand),
	 * the file is the spool's: a collector logging in as the spool's
	 * owner must be able to write the next ack. */
	if (geteuid() == 0 && (fstat(dirfd, &st) < 0 || fchown(fd, st.st_uid, st.st_gid) < 0)) {
		close(fd);
		return -1;
	}
	if (pwrite(fd, zero, sizeof(zero), 0) != (ssize_t)sizeof(zero) || fsync(fd) < 0) {
		close(fd);
		return -1;
	}
	close(fd);
	return fsync(dirfd);
}

int
spool_ack_write(int dirfd, struct spool_ack *cur, uint64_t acked, uint32_t token_crc)
{
	unsigned char s[SPOOL_ACK_SLOT] = { 'N', 'M', 'X', 'A' };
	int slot = cur->slot == 0 ? 1 : 0, fd;

	if (spool_ack_create(dirfd) < 0 ||
	    (fd = openat(dirfd, SPOOL_ACK_FILE, O_WRONLY | O_CLOEXEC)) < 0) {
		return -1;
	}
	le_put64(s + 8, cur->epoch + 1);
	le_put64(s + 16, acked);
	le_put32(s + 24, token_crc);
	le_put32(s + 28, crc32c(0, s, 28));
	if (pwrite(fd, s, sizeof(s), slot * SPOOL_ACK_SLOT) != (ssize_t)sizeof(s) ||
	    (fault_crash("ack-pwritten"), fdatasync(fd) < 0)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	cur->epoch++;
	cur->acked = acked;
	cur->token_crc = token_crc;
	cur->slot = slot;
	return 0;
}

static int
spool_read_hex(int dirfd, const char *name, unsigned char *out, size_t n)
{
	char buf[2 * SPOOL_SECRET_LEN + 2];
	ssize_t r;
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		return -1;
	}
	r = read(fd, buf, sizeof(buf));
	close(fd);
	if (r < (ssize_t)(2 * n)) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		char h[3] = { buf[2 * i], buf[2 * i + 1], 0 };
		const char *end;
		uint64_t byte;
		if (number_parse(h, 16, &byte, &end) < 0 || *end != '\0') {
			errno = EINVAL;
			return -1;
		}
		out[i] = (unsigned char)byte;
	}
	return 0;
}

int
spool_secret(int dirfd, unsigned char key[SPOOL_SECRET_LEN])
{
	return spool_read_hex(dirfd, SPOOL_SECRET_FILE, key, SPOOL_SECRET_LEN);
}

int
spool_dev_id(int dirfd, char id[17])
{
	unsigned char raw[SPOOL_ID_LEN];

	if (spool_read_hex(dirfd, SPOOL_ID_FILE, raw, sizeof(raw)) < 0) {
		return -1;
	}
	hex_put(id, raw, sizeof(raw));
	return 0;
}

static void
spool_token_mac(const unsigned char key[SPOOL_SECRET_LEN], const char *dev, uint64_t from,
    uint64_t last, char hex[17])
{
	br_hmac_key_context kc;
	br_hmac_context hc;
	unsigned char mac[32];
	char msg[96];
	int n = fmt_buf(msg, sizeof(msg), "nmx-export %s %llu %llu", dev,
	    (unsigned long long)from, (unsigned long long)last);

	br_hmac_key_init(&kc, &br_sha256_vtable, key, SPOOL_SECRET_LEN);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, msg, (size_t)n);
	br_hmac_out(&hc, mac);
	hex_put(hex, mac, 8);
}

void
spool_token(const unsigned char key[SPOOL_SECRET_LEN], const char *dev, uint64_t from,
    uint64_t last, char *out, size_t cap)
{
	char hex[17];

	spool_token_mac(key, dev, from, last, hex);
	fmt_buf(out, cap, "%llu-%llu-%s", (unsigned long long)from, (unsigned long long)last, hex);
}

int
spool_token_check(const unsigned char key[SPOOL_SECRET_LEN], const char *dev,
    const char *token, uint64_t *from, uint64_t *last)
{
	char want[FRAME_TOKEN_MAX];
	const char *end;
	unsigned diff = 0;
	size_t n;

	if (number_parse(token, 10, from, &end) < 0 || *end != '-') {
		return -1;
	}
	if (number_parse(end + 1, 10, last, &end) < 0 || *end != '-' || *last < *from - 1) {
		return -1;
	}
	spool_token(key, dev, *from, *last, want, sizeof(want));
	n = strlen(want);
	if (strlen(token) != n) {
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		diff |= (unsigned)(want[i] ^ token[i]);
	}
	return diff == 0 ? 0 : -1;
}
