/* SPDX-License-Identifier: ISC */
/*
 * The spool folder (names and jobs in spool_dir.h).  Only the daemon
 * creates things here, once: the folder, seg/, LOCK, and ID and SECRET
 * (the only renames the spool ever does).  Segments come and go through
 * the log (spool.c) and `spool ack`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../config.h"
#include "fault.h"
#include "fmt.h"
#include "log.h"
#include "number.h"
#include "rand.h"
#include "spool_dir.h"
#include "text.h"

#define TMPFS_MAGIC_ 0x01021994
#define RAMFS_MAGIC_ 0x858458f6

static int
spool_dir_mkdirs(const char *dir)
{
	char path[512];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] == '/' || path[i] == '\0') {
			char c = path[i];
			path[i] = '\0';
			if (mkdir(path, 0700) < 0 && errno != EEXIST) {
				return -1;
			}
			path[i] = c;
		}
	}
	return 0;
}

/* A file of n random bytes in hex, made once per spool: written to a
 * temporary name and renamed, the only renames the spool ever does,
 * once in its life.  ID names this spool's mail at the collector;
 * SECRET keys the export session tokens (0600, never shown). */
static void
spool_dir_random_file(int dirfd, const char *name, size_t n)
{
	unsigned char r[32];
	char line[2 * sizeof(r) + 2], tmp[16];
	size_t len = 2 * n + 1;
	struct stat st;
	int fd;

	/* fstatat, not faccessat: the daemon links it anyway, and musl's
	 * faccessat is a kilobyte on MIPS. */
	if (fstatat(dirfd, name, &st, 0) == 0) {
		return;
	}
	if (n > sizeof(r) || rand_bytes(r, n) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "spool: no randomness from the kernel");
	}
	hex_put(line, r, n);
	line[2 * n] = '\n';
	fmt_buf(tmp, sizeof(tmp), "%s.tmp", name);
	fd = openat(dirfd, tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, line, len) != (ssize_t)len || fsync(fd) < 0 || close(fd) < 0 ||
	    renameat(dirfd, tmp, dirfd, name) < 0 || fsync(dirfd) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "spool: cannot write %s: %s", name, strerror(errno));
	}
}

static void
spool_dir_check_volatile(int dirfd)
{
	struct statfs fs;

	if (fstatfs(dirfd, &fs) < 0) {
		return;
	}
	if ((unsigned long)fs.f_type == TMPFS_MAGIC_ || (unsigned long)fs.f_type == RAMFS_MAGIC_) {
		if (!NOMX_ALLOW_VOLATILE) {
			log_die(NOMX_EXIT_SYSTEM, "spool: on tmpfs/ramfs, mail would not survive "
			    "power loss; move NOMX_SPOOL_DIR to flash or build with NOMX_ALLOW_VOLATILE=1");
		}
		log_warnx("spool: volatile spool (tmpfs): 250 does not survive power loss");
	}
}

/* The spool holds mail and the export secret: refuse a folder anyone
 * may write to, and (not root) one that belongs to another user.  As
 * root, spool_dir_chown() checks the owner against the run user. */
static void
spool_dir_check_owner(int dirfd, const char *dir)
{
	struct stat st;

	if (fstat(dirfd, &st) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "spool: cannot stat %s: %s", dir, strerror(errno));
	}
	if (st.st_mode & S_IWOTH) {
		log_die(NOMX_EXIT_SYSTEM, "spool: %s is writable by everyone (mode %04o): "
		    "chmod 700 it", dir, (unsigned)(st.st_mode & 07777));
	}
	if (geteuid() != 0 && st.st_uid != geteuid()) {
		log_die(NOMX_EXIT_SYSTEM, "spool: %s belongs to uid %u, not to the user nomx "
		    "runs as (uid %u)", dir, (unsigned)st.st_uid, (unsigned)geteuid());
	}
}

/* getdents64's record, read straight from the kernel: opendir() would
 * bring malloc and qsort() more code than the sort below. */
struct scan_dirent {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* Segment names are "%016llx.nmx"; anything else in seg/ is ignored. */
static int
scan_seg_first(const char *name, uint64_t *first)
{
	const char *end;

	if (strlen(name) != 20 || strcmp(name + 16, ".nmx") != 0) {
		return 0;
	}
	return number_parse(name, 16, first, &end) == 0 && end == name + 16;
}

const struct spool_segs *
spool_dir_segments(int dirfd)
{
	static struct spool_segs segs;
	static _Alignas(8) char buf[2048];
	uint64_t *firsts = segs.first;
	int fd = openat(dirfd, SPOOL_SEG_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t n = 0, max = SPOOL_MAX_SEGS;
	long got;

	segs.n = 0;
	if (fd < 0) {
		return &segs;
	}
	while (n < max && (got = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < got && n < max;) {
			struct scan_dirent *e = (struct scan_dirent *)(buf + off);
			uint64_t v;

			if (scan_seg_first(e->name, &v)) {
				/* insertion sort: little code, and n <= SPOOL_MAX_SEGS */
				size_t i = n++;
				for (; i > 0 && firsts[i - 1] > v; i--) {
					firsts[i] = firsts[i - 1];
				}
				firsts[i] = v;
			}
			off += e->reclen;
		}
	}
	close(fd);
	segs.n = n;
	return &segs;
}

void
spool_seg_name(uint64_t first_seq, char *buf, size_t len)
{
	fmt_buf(buf, len, SPOOL_SEG_DIR "/%016llx.nmx", (unsigned long long)first_seq);
}

int
spool_dir_lock(int dirfd)
{
	int fd = openat(dirfd, SPOOL_LOCK_FILE, O_RDWR | O_CLOEXEC);

	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
spool_dir_setup(const char *dir, int wait, int *segdirfd, int *lockfd)
{
	int dirfd;

	if (spool_dir_mkdirs(dir) < 0 ||
	    (dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "spool: cannot open %s: %s", dir, strerror(errno));
	}
	spool_dir_check_owner(dirfd, dir);
	spool_dir_check_volatile(dirfd);
	if ((mkdirat(dirfd, SPOOL_SEG_DIR, 0700) < 0 && errno != EEXIST) ||
	    (*segdirfd = openat(dirfd, SPOOL_SEG_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "spool: cannot open %s/%s: %s", dir, SPOOL_SEG_DIR,
		    strerror(errno));
	}
	*lockfd = openat(dirfd, SPOOL_LOCK_FILE, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (*lockfd < 0 || flock(*lockfd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "spool: %s is in use by another nomx (%s): %s", dir,
		    SPOOL_LOCK_FILE, strerror(errno));
	}
	spool_dir_random_file(dirfd, SPOOL_ID_FILE, SPOOL_ID_LEN);
	spool_dir_random_file(dirfd, SPOOL_SECRET_FILE, SPOOL_SECRET_LEN);
	return dirfd;
}

int
spool_dir_chown(int dirfd, int segdirfd, unsigned uid, unsigned gid)
{
	static const char *const files[] = { SPOOL_ID_FILE, SPOOL_SECRET_FILE, SPOOL_LOCK_FILE };
	const struct spool_segs *segs;
	char name[40];
	struct stat st;

	/* Never give away a folder that is somebody else's (-s /home/x). */
	if (fstat(dirfd, &st) < 0) {
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != uid) {
		errno = EPERM;
		return -1;
	}
	if (fchown(dirfd, uid, gid) < 0 || fchown(segdirfd, uid, gid) < 0) {
		return -1;
	}
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (fchownat(dirfd, files[i], uid, gid, 0) < 0) {
			return -1;
		}
	}
	if (fchownat(dirfd, SPOOL_ACK_FILE, uid, gid, 0) < 0 && errno != ENOENT) {
		return -1;
	}
	segs = spool_dir_segments(dirfd);
	for (size_t i = 0; i < segs->n; i++) {
		spool_seg_name(segs->first[i], name, sizeof(name));
		if (fchownat(dirfd, name, uid, gid, 0) < 0) {
			return -1;
		}
	}
	return 0;
}

/* Segment i holds seqs [first_i, first_{i+1} - 1]. */
unsigned
spool_dir_remove_acked(int dirfd, uint64_t acked)
{
	const struct spool_segs *segs = spool_dir_segments(dirfd);
	unsigned removed = 0;
	char name[40];
	int segfd;

	for (size_t i = 0; i + 1 < segs->n; i++) {
		if (segs->first[i + 1] - 1 > acked) {
			break;
		}
		spool_seg_name(segs->first[i], name, sizeof(name));
		if (unlinkat(dirfd, name, 0) == 0) {
			fault_crash("ack-removing");	/* some removed, not all */
			removed++;
		} else if (errno != ENOENT) {
			log_warn("spool: cannot remove %s", name);
		}
	}
	if (removed > 0 &&
	    (segfd = openat(dirfd, SPOOL_SEG_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(segfd);
		close(segfd);
	}
	return removed;
}

int
spool_dir_cut(int fd, off_t end)
{
	if (ftruncate(fd, end) < 0) {
		return -1;
	}
	fault_crash("recover-cut");	/* cut in the page cache, not yet durable */
	return fdatasync(fd);
}
