/* SPDX-License-Identifier: ISC */
/*
 * mtdraw: a NAND chip's pages, raw (data and spare area together, no
 * ECC applied), for the emulated router's JFFS2 power cuts
 * (board/vm/flash, tests/README.md "On the emulated router").
 *
 *   mtdraw save DEV FILE       every page that is not blank (all 0xff),
 *                              as records: page number (u32), then the
 *                              page's data and spare bytes
 *   mtdraw load DEV FILE [LIST]
 *                              program the records of FILE onto DEV, raw;
 *                              with LIST, the operations it names instead,
 *                              in its order, one per line:
 *                                p PAGE FROM TO   program bytes FROM..TO-1
 *                                                 of the page as saved
 *                                                 (data, then spare area)
 *                                e BLOCK          erase an eraseblock
 *
 * A NAND program can only clear bits, so programming a page's saved
 * content over an older state of it gives that content.  A page FILE
 * does not have is programmed as blank (erased later in the recording).
 * Bytes outside FROM..TO are programmed as 0xff, which leaves them as
 * they were.
 *
 * The requests and ioctl numbers are spelled out as in ubimkvol.c: no
 * kernel headers in the musl cross build, and MIPS encodes the number
 * its own way (read|write = 6 in the top three bits).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* struct mtd_info_user, struct mtd_write_req and struct mtd_read_req of
 * <mtd/mtd-abi.h>. */
struct mtd_info {
	uint8_t type;
	uint32_t flags, size, erasesize, writesize, oobsize;
	uint64_t padding;
};
struct mtd_write {
	uint64_t start, len, ooblen, usr_data, usr_oob;
	uint8_t mode, padding[7];
};
struct mtd_read {
	uint64_t start, len, ooblen, usr_data, usr_oob;
	uint8_t mode, padding[7];
	uint32_t uncorrectable, corrected, max_bitflips;
};
struct erase_info {
	uint32_t start, length;
};
_Static_assert(sizeof(struct mtd_info) == 32, "struct mtd_info_user is 32 bytes");
_Static_assert(sizeof(struct mtd_write) == 48, "struct mtd_write_req is 48 bytes");
_Static_assert(sizeof(struct mtd_read) == 64, "struct mtd_read_req is 64 bytes");

#define MIPS_IOC(dir, nr, size) (((unsigned)(dir) << 29) | ((unsigned)(size) << 16) | ('M' << 8) | (nr))
#define MEMGETINFO MIPS_IOC(2, 1, sizeof(struct mtd_info))
#define MEMERASE MIPS_IOC(4, 2, sizeof(struct erase_info))
#define MEMWRITE MIPS_IOC(6, 24, sizeof(struct mtd_write))
#define MEMREAD MIPS_IOC(6, 26, sizeof(struct mtd_read))
#define MTD_OPS_RAW 2

enum { PAGE_MAX = 4096 + 256 };

static struct mtd_info info;
static int dev;

static void
die(const char *what)
{
	fprintf(stderr, "mtdraw: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void
page_io(unsigned long request, uint32_t page, uint8_t *buf)
{
	/* The two requests share their first fields. */
	struct mtd_read req;

	memset(&req, 0, sizeof(req));
	req.start = (uint64_t)page * info.writesize;
	req.len = info.writesize;
	req.ooblen = info.oobsize;
	req.usr_data = (uintptr_t)buf;
	req.usr_oob = (uintptr_t)(buf + info.writesize);
	req.mode = MTD_OPS_RAW;
	if (ioctl(dev, request, &req) < 0)
		die(request == MEMREAD ? "read" : "program");
}

static int
blank(const uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (buf[i] != 0xff)
			return 0;
	return 1;
}

static void
save(FILE *out)
{
	uint8_t buf[PAGE_MAX];
	size_t n = info.writesize + info.oobsize;

	for (uint32_t page = 0; page < info.size / info.writesize; page++) {
		page_io(MEMREAD, page, buf);
		if (!blank(buf, n) && (fwrite(&page, sizeof(page), 1, out) != 1 || fwrite(buf, n, 1, out) != 1))
			die("write");
	}
	if (fflush(out) != 0)
		die("write");
}

/* The saved pages of a FILE, in memory: a few MiB on the chip sizes the
 * tests use (a page number, then its bytes, per record). */
static uint8_t *saved;
static size_t saved_n;

static void
read_saved(FILE *in)
{
	size_t rec = sizeof(uint32_t) + info.writesize + info.oobsize, cap = 0;

	for (;;) {
		if (saved_n == cap) {
			uint8_t *more = realloc(saved, (cap = cap ? cap * 2 : 64) * rec);
			if (!more)
				die("memory");
			saved = more;
		}
		size_t got = fread(saved + saved_n * rec, 1, rec, in);
		if (got == 0)
			return;
		if (got != rec) {
			errno = EINVAL;
			die("a short record");
		}
		saved_n++;
	}
}

static const uint8_t *
saved_page(uint32_t page)
{
	size_t rec = sizeof(uint32_t) + info.writesize + info.oobsize;

	for (size_t i = 0; i < saved_n; i++) {
		uint32_t p;
		memcpy(&p, saved + i * rec, sizeof(p));
		if (p == page)
			return saved + i * rec + sizeof(p);
	}
	return NULL;
}

static void
program(uint32_t page, const uint8_t *content, size_t from, size_t to)
{
	uint8_t buf[PAGE_MAX];

	memset(buf, 0xff, info.writesize + info.oobsize);
	memcpy(buf + from, content + from, to - from);
	page_io(MEMWRITE, page, buf);
}

static uint8_t blank_page[PAGE_MAX];

static void
erase(uint32_t block)
{
	struct erase_info req = { block * info.erasesize, info.erasesize };

	if (ioctl(dev, MEMERASE, &req) < 0)
		die("erase");
}

static void
load(FILE *list)
{
	size_t n = info.writesize + info.oobsize, rec = sizeof(uint32_t) + n;
	unsigned long at, from, to;
	const uint8_t *content;
	char line[80];

	if (!list) {
		for (size_t i = 0; i < saved_n; i++) {
			uint32_t p;
			memcpy(&p, saved + i * rec, sizeof(p));
			program(p, saved + i * rec + sizeof(p), 0, n);
		}
		return;
	}
	while (fgets(line, sizeof(line), list)) {
		if (sscanf(line, "e %lu", &at) == 1 && at < info.size / info.erasesize) {
			erase((uint32_t)at);
		} else if (sscanf(line, "p %lu %lu %lu", &at, &from, &to) == 3 && from <= to && to <= n) {
			/* Not saved: blank at the end, erased after this
			 * program; the erase is replayed too. */
			content = saved_page((uint32_t)at);
			program((uint32_t)at, content ? content : blank_page, from, to);
		} else {
			fprintf(stderr, "mtdraw: cannot do: %s", line);
			exit(1);
		}
	}
}

int
main(int argc, char **argv)
{
	FILE *f, *list = NULL;
	int saving = argc == 4 && strcmp(argv[1], "save") == 0;

	if (!saving && !((argc == 4 || argc == 5) && strcmp(argv[1], "load") == 0)) {
		fprintf(stderr, "usage: mtdraw save DEV FILE | mtdraw load DEV FILE [LIST]\n");
		return 2;
	}
	if ((dev = open(argv[2], saving ? O_RDONLY : O_RDWR)) < 0 || ioctl(dev, MEMGETINFO, &info) < 0)
		die(argv[2]);
	if (info.writesize + info.oobsize > PAGE_MAX) {
		errno = EINVAL;
		die("page size");
	}
	memset(blank_page, 0xff, sizeof(blank_page));
	if (!(f = fopen(argv[3], saving ? "wb" : "rb")))
		die(argv[3]);
	if (saving) {
		save(f);
		return fclose(f) != 0;
	}
	read_saved(f);
	if (argc == 5 && !(list = fopen(argv[4], "r")))
		die(argv[4]);
	load(list);
	return 0;
}
