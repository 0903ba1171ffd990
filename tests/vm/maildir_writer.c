/* SPDX-License-Identifier: ISC */
/*
 * maildir-writer DIR COUNT SIZE PROCS: the reference the flash-wear
 * table sets nomx beside.  It stores COUNT messages of SIZE bytes as a
 * Maildir delivery agent does when it must not lose mail, the same
 * durability nomx gives before its 250: the file written in tmp/ and
 * fsync'd, renamed into new/, and new/ fsync'd.  PROCS processes share
 * the work, as concurrent deliveries would.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char body[1024 * 1024];

static int
deliver(const char *dir, int proc, int n, size_t size)
{
	char tmp[256], cur[256], new_dir[256];
	int fd, dfd;

	snprintf(tmp, sizeof(tmp), "%s/tmp/%d.%d.router", dir, proc, n);
	snprintf(cur, sizeof(cur), "%s/new/%d.%d.router", dir, proc, n);
	snprintf(new_dir, sizeof(new_dir), "%s/new", dir);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0 ||
	    write(fd, body, size) != (ssize_t)size || fsync(fd) < 0 || close(fd) < 0 ||
	    rename(tmp, cur) < 0 || (dfd = open(new_dir, O_RDONLY | O_DIRECTORY)) < 0) {
		perror(tmp);
		return -1;
	}
	if (fsync(dfd) < 0) {
		perror(new_dir);
		return -1;
	}
	close(dfd);
	return 0;
}

int
main(int argc, char **argv)
{
	char sub[256];
	int count, procs, failed = 0;
	size_t size;

	if (argc != 5 || (size = strtoul(argv[3], NULL, 10)) > sizeof(body) ||
	    (count = atoi(argv[2])) < 1 || (procs = atoi(argv[4])) < 1) {
		fprintf(stderr, "usage: maildir-writer DIR COUNT SIZE PROCS (SIZE at most 1 MiB)\n");
		return 2;
	}
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned x = 2463534242u;
	for (size_t i = 0; i < size; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		body[i] = (i % 78 == 77) ? '\n' : (i % 78 == 76) ? '\r' : b64[x % 64];
	}
	mkdir(argv[1], 0700);
	snprintf(sub, sizeof(sub), "%s/tmp", argv[1]);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/new", argv[1]);
	mkdir(sub, 0700);
	for (int p = 0; p < procs; p++) {
		if (fork() == 0) {
			for (int n = p; n < count; n += procs) {
				if (deliver(argv[1], p, n, size) < 0)
					_exit(1);
			}
			_exit(0);
		}
	}
	for (int p = 0; p < procs; p++) {
		int st;
		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed = 1;
	}
	return failed;
}
