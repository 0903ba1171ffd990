/* SPDX-License-Identifier: ISC */
/*
 * ubimkvol DEVICE NAME BYTES: make a dynamic UBI volume, the one ioctl
 * the emulated router needs that Debian's BusyBox lacks (mtd-utils for
 * mipsel is linked dynamically).  Built static for mipsel with the
 * board's compiler.
 *
 * The request and its ioctl number are spelled out here because the
 * musl cross headers carry no kernel headers, and the host's would
 * encode the number for x86: MIPS puts the direction in the top three
 * bits (write = 4) and the size in the 13 below them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* struct ubi_mkvol_req of <mtd/ubi-user.h>, packed, 152 bytes. */
struct __attribute__((packed)) mkvol_req {
	int32_t vol_id;
	int32_t alignment;
	int64_t bytes;
	int8_t vol_type;
	uint8_t flags;
	int16_t name_len;
	int8_t padding[4];
	char name[128];
};
_Static_assert(sizeof(struct mkvol_req) == 152, "struct ubi_mkvol_req is 152 bytes");

#define UBI_VOL_NUM_AUTO (-1)
#define UBI_DYNAMIC_VOLUME 3
#define MIPS_IOC_WRITE 4u
#define UBI_IOCMKVOL ((MIPS_IOC_WRITE << 29) | ((unsigned)sizeof(struct mkvol_req) << 16) | ('o' << 8) | 0)

int
main(int argc, char **argv)
{
	struct mkvol_req req;
	int fd;

	if (argc != 4 || strlen(argv[2]) >= sizeof(req.name)) {
		fprintf(stderr, "usage: ubimkvol /dev/ubiN NAME BYTES\n");
		return 2;
	}
	memset(&req, 0, sizeof(req));
	req.vol_id = UBI_VOL_NUM_AUTO;
	req.alignment = 1;
	req.bytes = strtoll(argv[3], NULL, 10);
	req.vol_type = UBI_DYNAMIC_VOLUME;
	req.name_len = (int16_t)strlen(argv[2]);
	memcpy(req.name, argv[2], (size_t)req.name_len);
	if ((fd = open(argv[1], O_RDONLY)) < 0 || ioctl(fd, UBI_IOCMKVOL, &req) < 0) {
		fprintf(stderr, "ubimkvol: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	close(fd);
	return 0;
}
