/* SPDX-License-Identifier: ISC */
/*
 *   nomx spool ls        one line per message: seq, time (UTC), size,
 *                        <sender>, <recipient>...
 *   nomx spool cat SEQ   the message as it will be delivered: a
 *                        Return-Path: line from the envelope, then the
 *                        stored bytes (our Received: first)
 *   nomx spool status    counts, bytes, oldest unacknowledged, quota use
 *   nomx spool fsck [--repair]
 *                        verify every segment and the ACK file; with
 *                        --repair (daemon stopped) cut torn tails
 *   nomx spool follow    a line like ls's, and the Subject, for each
 *                        message as it is answered 250: spool_follow.c
 *   nomx spool export, ack: see export.c
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "../config.h"
#include "export.h"
#include "fmt.h"
#include "log.h"
#include "number.h"
#include "spool_ack.h"
#include "spool_follow.h"
#include "spool_scan.h"
#include "spooltool.h"
#include "utc.h"


struct tool_ctx {
	uint64_t want;		/* cat: the seq; ls: 0 */
	int found;
	int failed;
	uint64_t acked;		/* status: count what is above it */
	uint64_t msgs, unacked, oldest_ms, last, bytes;
};

static void
tool_put(const char *p, size_t n)
{
	fmt_put(p, n);
}

/* The value of the first envelope field of a type ("" if none). */
static void
tool_env_first(const unsigned char *env, size_t len, int want, const char **v, size_t *n)
{
	size_t off = 0;
	int type;

	*v = "";
	*n = 0;
	while (spool_env_next(env, len, &off, &type, v, n) == 1) {
		if (type == want) {
			return;
		}
	}
	*v = "";
	*n = 0;
}

void
spooltool_ls_line(const struct spool_rec *r, const unsigned char *env)
{
	char when[32];
	const char *v;
	size_t n, off = 0;
	uint64_t t = r->t_ms;
	int type;

	number_div(&t, 1000);
	utc_format(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", (time_t)t);
	tool_env_first(env, r->env_len, SPOOL_ENV_FROM, &v, &n);
	fmt_out("%llu %s %u <%.*s>", (unsigned long long)r->seq, when, r->body_len, (int)n, v);
	while (spool_env_next(env, r->env_len, &off, &type, &v, &n) == 1) {
		if (type == SPOOL_ENV_RCPT) {
			fmt_out(" <%.*s>", (int)n, v);
		}
	}
}

static int
tool_ls_cb(void *vctx, int fd, const struct spool_rec *r, const unsigned char *env, off_t body)
{
	(void)vctx, (void)fd, (void)body;
	spooltool_ls_line(r, env);
	fmt_put("\n", 1);
	return 0;
}

static int
tool_cat_cb(void *vctx, int fd, const struct spool_rec *r, const unsigned char *env, off_t body)
{
	struct tool_ctx *ctx = vctx;
	static char buf[64 * 1024];
	const char *v;
	size_t n;

	if (r->seq != ctx->want) {
		return r->seq > ctx->want;
	}
	ctx->found = 1;
	tool_env_first(env, r->env_len, SPOOL_ENV_FROM, &v, &n);
	fmt_out("Return-Path: <%.*s>\r\n", (int)n, v);
	for (uint64_t left = r->body_len; left > 0;) {
		size_t k = left < sizeof(buf) ? (size_t)left : sizeof(buf);
		if (spool_pread_full(fd, buf, k, body) < 0) {
			ctx->failed = 1;
			return 1;
		}
		tool_put(buf, k);
		body += (off_t)k;
		left -= k;
	}
	return 1;
}

static int
tool_walk(int dirfd, spool_rec_fn *fn, struct tool_ctx *ctx)
{
	return spool_scan_all(dirfd, ctx->want, 1, fn, ctx);
}

static int
tool_status_cb(void *vctx, int fd, const struct spool_rec *r, const unsigned char *env, off_t body)
{
	struct tool_ctx *ctx = vctx;

	(void)fd, (void)env, (void)body;
	ctx->msgs++;
	ctx->bytes += spool_rec_total(r);
	ctx->last = r->seq;
	if (r->seq > ctx->acked) {
		if (ctx->unacked++ == 0) {
			ctx->oldest_ms = r->t_ms;
		}
	}
	return 0;
}

/* part of whole in percent, rounded; whole > 0.  By subtraction, not
 * a 64-bit division (number.h): a spool holds about its quota, so the
 * loop runs about a hundred times. */
static uint64_t
tool_percent(uint64_t part, uint64_t whole)
{
	uint64_t x = part * 100 + whole / 2, p = 0;

	for (; x >= whole; x -= whole) {
		p++;
	}
	return p;
}

static int
tool_status(int dirfd)
{
	struct tool_ctx ctx = { 0 };
	struct spool_ack ack;
	struct statvfs vfs;
	char dev[17] = "(none)", when[32] = "-";
	uint64_t bytes;
	size_t n = spool_dir_segments(dirfd)->n;

	if (spool_ack_read(dirfd, &ack) < 0) {
		fmt_err("nomx: spool ACK: %s\n", strerror(errno));
		return NOMX_EXIT_SYSTEM;
	}
	spool_dev_id(dirfd, dev);
	ctx.acked = ack.acked;
	if (tool_walk(dirfd, tool_status_cb, &ctx) < 0) {
		return NOMX_EXIT_SYSTEM;
	}
	bytes = ctx.bytes + n * SPOOL_SEG_HDR;	/* as the quota counts (spool_scan.h) */
	if (ctx.unacked > 0) {
		number_div(&ctx.oldest_ms, 1000);
		utc_format(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", (time_t)ctx.oldest_ms);
	}
	fmt_out("device      %s\n"
	    "segments    %zu, %llu bytes (quota %llu, %llu%%)\n"
	    "messages    %llu stored, %llu not acknowledged (quota %llu)\n"
	    "oldest      %s (oldest not acknowledged)\n"
	    "acked       %llu\n"
	    "last        %llu\n",
	    dev, n, (unsigned long long)bytes, (unsigned long long)NOMX_QUOTA_BYTES,
	    (unsigned long long)tool_percent(bytes, NOMX_QUOTA_BYTES),
	    (unsigned long long)ctx.msgs,
	    (unsigned long long)ctx.unacked, (unsigned long long)NOMX_QUOTA_MSGS, when,
	    (unsigned long long)ack.acked, (unsigned long long)(ctx.last > ack.acked ? ctx.last :
	    ack.acked));
	if (fstatvfs(dirfd, &vfs) == 0) {
		fmt_out("free        %llu bytes (reserve %llu)\n",
		    (unsigned long long)vfs.f_bavail * vfs.f_frsize,
		    (unsigned long long)NOMX_FS_RESERVE);
	}
	return 0;
}

/* Verify every segment (and cut torn tails with repair). */
static int
tool_fsck(int dirfd, int repair)
{
	const struct spool_segs *segs = spool_dir_segments(dirfd);
	struct spool_ack ack;
	int problems = 0, lock = -1;
	char name[40];

	if (repair) {
		if ((lock = spool_dir_lock(dirfd)) < 0) {
			fmt_err("nomx: spool fsck --repair: the daemon is running (LOCK); "
			    "stop it first\n");
			return NOMX_EXIT_SYSTEM;
		}
	}
	for (size_t i = 0; i < segs->n; i++) {
		struct stat st;
		uint64_t seq = 0;
		int torn = 0, fd;
		off_t end;

		spool_seg_name(segs->first[i], name, sizeof(name));
		if ((fd = openat(dirfd, name, (repair ? O_RDWR : O_RDONLY) | O_CLOEXEC)) < 0 ||
		    fstat(fd, &st) < 0) {
			fmt_out("%s: cannot open: %s\n", name, strerror(errno));
			problems++;
			continue;
		}
		end = spool_scan_seg(fd, st.st_size, NULL, NULL, &torn, &seq);
		if (end < 0) {
			fmt_out("%s: bad segment header\n", name);
			problems++;
		} else if (torn) {
			fmt_out("%s: %lld bytes after the last valid record (seq %llu)%s\n", name,
			    (long long)(st.st_size - end), (unsigned long long)seq,
			    repair ? ": cut" : "");
			if (repair && spool_dir_cut(fd, end) < 0) {
				fmt_out("%s: cannot cut: %s\n", name, strerror(errno));
				problems++;
			}
			problems += !repair;
		} else {
			fmt_out("%s: ok, %lld bytes, last seq %llu\n", name, (long long)st.st_size,
			    (unsigned long long)seq);
		}
		close(fd);
	}
	if (spool_ack_read(dirfd, &ack) < 0) {
		fmt_out("ACK: cannot read: %s\n", strerror(errno));
		problems++;
	} else if (ack.bad_slots > 0) {
		fmt_out("ACK: %d damaged slot%s; acked %llu from the other\n", ack.bad_slots,
		    ack.bad_slots > 1 ? "s" : "", (unsigned long long)ack.acked);
		problems += ack.slot < 0;
	} else {
		fmt_out("ACK: ok, acked %llu\n", (unsigned long long)ack.acked);
	}
	if (lock >= 0) {
		close(lock);
	}
	fmt_out("%s\n", problems ? "problems found" : "clean");
	return problems ? 1 : 0;
}

static void
tool_usage(void)
{
	fmt_err("usage: nomx spool ls | cat SEQ | status | fsck [--repair] | follow |\n"
	    "                  export [--from SEQ] | ack SEQ TOKEN\n");
}

int
spooltool_main(const char *spooldir, int argc, char **argv)
{
	struct tool_ctx ctx = { 0 };
	int dirfd, rc = 0;
	const char *end;

	if (argc < 1) {
		tool_usage();
		return NOMX_EXIT_USAGE;
	}
	if (strcmp(argv[0], "export") == 0) {
		return export_main(spooldir, argc - 1, argv + 1);
	}
	if (strcmp(argv[0], "ack") == 0) {
		return export_ack_main(spooldir, argc - 1, argv + 1);
	}
	if (strcmp(argv[0], "follow") == 0 && argc == 1) {
		return spool_follow_main(spooldir);
	}
	if ((dirfd = open(spooldir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fmt_err("nomx: spool %s: %s\n", spooldir, strerror(errno));
		return NOMX_EXIT_SYSTEM;
	}
	if (strcmp(argv[0], "ls") == 0 && argc == 1) {
		if (tool_walk(dirfd, tool_ls_cb, &ctx) < 0) {
			return NOMX_EXIT_SYSTEM;
		}
	} else if (strcmp(argv[0], "cat") == 0 && argc == 2) {
		if (number_parse(argv[1], 10, &ctx.want, &end) < 0 || *end != '\0' || ctx.want == 0) {
			fmt_err("nomx: spool cat: not a sequence number: %s\n", argv[1]);
			return NOMX_EXIT_USAGE;
		}
		if (tool_walk(dirfd, tool_cat_cb, &ctx) < 0 || ctx.failed) {
			return NOMX_EXIT_SYSTEM;
		}
		if (!ctx.found) {
			fmt_err("nomx: spool cat: no message %s\n", argv[1]);
			return 1;
		}
	} else if (strcmp(argv[0], "status") == 0 && argc == 1) {
		rc = tool_status(dirfd);
	} else if (strcmp(argv[0], "fsck") == 0 &&
	    (argc == 1 || (argc == 2 && strcmp(argv[1], "--repair") == 0))) {
		rc = tool_fsck(dirfd, argc == 2);
	} else {
		tool_usage();
		return NOMX_EXIT_USAGE;
	}
	if (fmt_flush() != 0) {
		return NOMX_EXIT_SYSTEM;
	}
	return rc;
}
