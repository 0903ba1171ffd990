/* SPDX-License-Identifier: ISC */
/*
 *   nomx spool ls        one line per message: seq, time (UTC), size,
 *                        <sender>, <recipient>...
 *   nomx spool cat SEQ   the message as it will be delivered: a
 *                        Return-Path: line from the envelope, then the
 *                        stored bytes (our Received: first)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "spool_scan.h"
#include "spooltool.h"

static uint64_t tool_segs[SPOOL_MAX_SEGS];

struct tool_ctx {
	uint64_t want;		/* cat: the seq; ls: 0 */
	int found;
	int failed;
};

static void
tool_put(const char *p, size_t n)
{
	fwrite(p, 1, n, stdout);
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

static int
tool_ls_cb(void *vctx, int fd, const struct spool_rec *r, const unsigned char *env, off_t body)
{
	time_t t = (time_t)(r->t_ms / 1000);
	struct tm tm;
	char when[32];
	const char *v;
	size_t n, off = 0;
	int type;

	(void)vctx, (void)fd, (void)body;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	tool_env_first(env, r->env_len, SPOOL_ENV_FROM, &v, &n);
	printf("%llu %s %u <%.*s>", (unsigned long long)r->seq, when, r->body_len, (int)n, v);
	while (spool_env_next(env, r->env_len, &off, &type, &v, &n) == 1) {
		if (type == SPOOL_ENV_RCPT) {
			printf(" <%.*s>", (int)n, v);
		}
	}
	putchar('\n');
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
	printf("Return-Path: <%.*s>\r\n", (int)n, v);
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
	size_t n = spool_scan_list(dirfd, tool_segs, SPOOL_MAX_SEGS);
	char name[40];

	for (size_t i = 0; i < n; i++) {
		struct stat st;
		uint64_t seq = 0;
		int torn, fd;

		/* cat: skip segments that start after the wanted seq's one. */
		if (ctx->want && i + 1 < n && tool_segs[i + 1] <= ctx->want) {
			continue;
		}
		spool_seg_name(tool_segs[i], name, sizeof(name));
		if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC)) < 0) {
			if (errno == ENOENT) {
				continue;	/* acknowledged and removed meanwhile */
			}
			fprintf(stderr, "nomx: %s: %s\n", name, strerror(errno));
			return -1;
		}
		if (fstat(fd, &st) == 0) {
			spool_scan_seg(fd, st.st_size, fn, ctx, &torn, &seq);
		}
		close(fd);
		if (ctx->found) {
			break;
		}
	}
	return 0;
}

int
spooltool_main(const char *spooldir, int argc, char **argv)
{
	struct tool_ctx ctx = { 0 };
	int dirfd;
	char *end;

	if (argc < 1) {
		fprintf(stderr, "usage: nomx spool ls | cat SEQ\n");
		return NOMX_EXIT_USAGE;
	}
	if ((dirfd = open(spooldir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "nomx: spool %s: %s\n", spooldir, strerror(errno));
		return NOMX_EXIT_SYSTEM;
	}
	if (strcmp(argv[0], "ls") == 0 && argc == 1) {
		if (tool_walk(dirfd, tool_ls_cb, &ctx) < 0) {
			return NOMX_EXIT_SYSTEM;
		}
	} else if (strcmp(argv[0], "cat") == 0 && argc == 2) {
		ctx.want = strtoull(argv[1], &end, 10);
		if (*end != '\0' || ctx.want == 0) {
			fprintf(stderr, "nomx: spool cat: not a sequence number: %s\n", argv[1]);
			return NOMX_EXIT_USAGE;
		}
		if (tool_walk(dirfd, tool_cat_cb, &ctx) < 0 || ctx.failed) {
			return NOMX_EXIT_SYSTEM;
		}
		if (!ctx.found) {
			fprintf(stderr, "nomx: spool cat: no message %s\n", argv[1]);
			return 1;
		}
	} else {
		fprintf(stderr, "usage: nomx spool ls | cat SEQ\n");
		return NOMX_EXIT_USAGE;
	}
	if (fflush(stdout) != 0) {
		return NOMX_EXIT_SYSTEM;
	}
	return 0;
}
