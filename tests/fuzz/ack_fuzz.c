/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the ACK file reader on arbitrary file contents, and
 * the export token check on arbitrary strings.  Invariants: a slot is
 * taken only if it checks, and a write after any read makes the new
 * value the one read back.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool_ack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char key[SPOOL_SECRET_LEN] = "fuzz-key-0123456";
	static int dirfd = -1;
	struct spool_ack a, b;
	char token[80];
	uint64_t from, last;
	int fd;

	if (dirfd < 0) {
		char dir[] = "/tmp/nomx-fuzz-ack-XXXXXX";
		if (mkdtemp(dir) == NULL || (dirfd = open(dir, O_RDONLY | O_DIRECTORY)) < 0) {
			abort();
		}
	}
	fd = openat(dirfd, SPOOL_ACK_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		abort();
	}
	close(fd);
	if (spool_ack_read(dirfd, &a) == 0) {
		if (a.slot > 1 || (a.slot < 0 && a.acked != 0)) {
			__builtin_trap();
		}
		if (size <= 2 * SPOOL_ACK_SLOT && spool_ack_write(dirfd, &a, a.acked + 1, 7) == 0 &&
		    (spool_ack_read(dirfd, &b) != 0 || b.acked != a.acked)) {
			__builtin_trap();
		}
	}
	size = size < sizeof(token) - 1 ? size : sizeof(token) - 1;
	memcpy(token, data, size);
	token[size] = '\0';
	if (spool_token_check(key, "0011223344556677", token, &from, &last) == 0 &&
	    last + 1 < from) {
		__builtin_trap();
	}
	return 0;
}
