/* SPDX-License-Identifier: ISC */
/*
 *   nomx spool export [--from SEQ]   the framed stream (frame.h) on stdout
 *   nomx spool ack SEQ TOKEN         acknowledge, then remove what is done
 *
 * Export is read-only and deterministic: the same spool gives the same
 * bytes, so re-running it is always safe.  It runs beside the daemon:
 * records still being written fail their checks and are not there yet.
 * Ack makes the acknowledgement durable first and deletes sealed
 * segments second, so a crash in between only leaves extra segments,
 * which the next ack removes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "base64.h"
#include "crc32c.h"
#include "export.h"
#include "fault.h"
#include "frame.h"
#include "log.h"
#include "spool_ack.h"
#include "spool_scan.h"

struct export_ctx {
	uint64_t from, last, n;
	int emit;		/* pass 2: write the records */
	int failed;
};

/* Write one line, sealed with its CRC. */
static void
export_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
export_line(const char *fmt, ...)
{
	char line[FRAME_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 12, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(line) - 12) {
		fwrite(line, 1, frame_seal(line, (size_t)n), stdout);
	}
}

/* The D lines of one record: envelope then body, 57 bytes a line. */
static int
export_data(int fd, const struct spool_rec *r, const unsigned char *env, off_t body)
{
	static unsigned char buf[FRAME_DATA_BYTES * 256];
	char b64[BASE64_LEN(FRAME_DATA_BYTES) + 1];
	uint64_t total = (uint64_t)r->env_len + r->body_len, off = 0, lineno = 0;

	while (off < total) {
		size_t k = total - off < sizeof(buf) ? (size_t)(total - off) : sizeof(buf);
		/* Bytes [off, off + k) of env||body into buf. */
		for (size_t i = 0; i < k;) {
			uint64_t at = off + i;
			if (at < r->env_len) {
				size_t m = r->env_len - (size_t)at < k - i ? r->env_len - (size_t)at : k - i;
				memcpy(buf + i, env + at, m);
				i += m;
			} else {
				if (spool_pread_full(fd, buf + i, k - i,
				    body + (off_t)(at - r->env_len)) < 0) {
					return -1;
				}
				i = k;
			}
		}
		for (size_t i = 0; i < k; i += FRAME_DATA_BYTES) {
			size_t m = k - i < FRAME_DATA_BYTES ? k - i : FRAME_DATA_BYTES;
			base64_encode(buf + i, m, b64);
			export_line("@@NMX D %llu %llu %s", (unsigned long long)r->seq,
			    (unsigned long long)++lineno, b64);
		}
		off += k;
	}
	export_line("@@NMX EOM %llu lines=%llu", (unsigned long long)r->seq,
	    (unsigned long long)lineno);
	return 0;
}

static int
export_cb(void *vctx, int fd, const struct spool_rec *r, const unsigned char *env, off_t body)
{
	struct export_ctx *x = vctx;

	if (r->seq < x->from) {
		return 0;
	}
	if (!x->emit) {
		x->n++;
		x->last = r->seq;
		return 0;
	}
	if (r->seq > x->last) {
		return 1;	/* arrived after pass 1: the next export has it */
	}
	export_line("@@NMX MSG %llu env=%u body=%u crc=%08x t=%llu", (unsigned long long)r->seq,
	    r->env_len, r->body_len, r->data_crc, (unsigned long long)r->t_ms);
	if (export_data(fd, r, env, body) < 0) {
		x->failed = 1;
		return 1;
	}
	return 0;
}

static int
export_walk(int dirfd, struct export_ctx *x)
{
	return spool_scan_all(dirfd, x->from, 1, export_cb, x) < 0 || x->failed ? -1 : 0;
}

/* On a serial console: no output processing (no CR added, no stops
 * from a stray XOFF) while the stream runs; restored afterwards. */
static int
export_tty_raw(struct termios *saved)
{
	struct termios t;

	if (!isatty(STDOUT_FILENO) || tcgetattr(STDOUT_FILENO, saved) < 0) {
		return 0;
	}
	t = *saved;
	t.c_oflag &= ~(tcflag_t)OPOST;
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF);
	t.c_lflag &= ~(tcflag_t)ECHO;
	return tcsetattr(STDOUT_FILENO, TCSADRAIN, &t) == 0;
}

static int
export_open(const char *spooldir, int *dirfd, char dev[17], unsigned char key[SPOOL_SECRET_LEN])
{
	if ((*dirfd = open(spooldir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "nomx: spool %s: %s\n", spooldir, strerror(errno));
		return -1;
	}
	if (spool_dev_id(*dirfd, dev) < 0 || spool_secret(*dirfd, key) < 0) {
		fprintf(stderr, "nomx: spool %s has no ID or SECRET (start the daemon on it once): "
		    "%s\n", spooldir, strerror(errno));
		return -1;
	}
	return 0;
}

static int
export_parse_seq(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 10);
	return *end != '\0' || s[0] == '\0' || s[0] == '-' || errno != 0 ? -1 : 0;
}

int
export_main(const char *spooldir, int argc, char **argv)
{
	unsigned char key[SPOOL_SECRET_LEN];
	char dev[17], token[FRAME_TOKEN_MAX];
	struct export_ctx x = { 0 };
	struct spool_ack ack;
	struct termios saved;
	int dirfd, raw, rc = 0;

	if (!(argc == 0 || (argc == 2 && strcmp(argv[0], "--from") == 0 &&
	    export_parse_seq(argv[1], &x.from) == 0 && x.from > 0))) {
		fprintf(stderr, "usage: nomx spool export [--from SEQ]\n");
		return NOMX_EXIT_USAGE;
	}
	if (export_open(spooldir, &dirfd, dev, key) < 0) {
		return NOMX_EXIT_SYSTEM;
	}
	if (spool_ack_read(dirfd, &ack) < 0) {
		fprintf(stderr, "nomx: spool ACK: %s\n", strerror(errno));
		return NOMX_EXIT_SYSTEM;
	}
	if (argc == 0) {
		x.from = ack.acked + 1;
	}
	x.last = x.from - 1;
	if (export_walk(dirfd, &x) < 0) {
		return NOMX_EXIT_SYSTEM;
	}
	spool_token(key, dev, x.from, x.last, token, sizeof(token));
	raw = export_tty_raw(&saved);
	export_line("@@NMX BEGIN v1 dev=%s sess=%s from=%llu last=%llu n=%llu", dev, token,
	    (unsigned long long)x.from, (unsigned long long)x.last, (unsigned long long)x.n);
	x.emit = 1;
	if (export_walk(dirfd, &x) < 0) {
		rc = NOMX_EXIT_SYSTEM;	/* no END line: the collector sees it */
	} else {
		export_line("@@NMX END last=%llu n=%llu", (unsigned long long)x.last,
		    (unsigned long long)x.n);
	}
	if (fflush(stdout) != 0) {
		rc = NOMX_EXIT_SYSTEM;
	}
	if (raw) {
		tcsetattr(STDOUT_FILENO, TCSADRAIN, &saved);
	}
	return rc;
}

static int
ack_refuse(const char *why)
{
	export_line("@@NMX NAK %s", why);
	fflush(stdout);
	fprintf(stderr, "nomx: spool ack refused: %s\n", why);
	return 1;
}

int
export_ack_main(const char *spooldir, int argc, char **argv)
{
	unsigned char key[SPOOL_SECRET_LEN];
	char dev[17];
	uint64_t seq, from, last;
	struct spool_ack ack;
	int dirfd;

	if (argc != 2 || export_parse_seq(argv[0], &seq) < 0) {
		fprintf(stderr, "usage: nomx spool ack SEQ TOKEN\n");
		return NOMX_EXIT_USAGE;
	}
	if (export_open(spooldir, &dirfd, dev, key) < 0) {
		return NOMX_EXIT_SYSTEM;
	}
	if (spool_token_check(key, dev, argv[1], &from, &last) < 0) {
		return ack_refuse("token-invalid (not from an export of this spool)");
	}
	/* One ack at a time: the read-modify-write of ACK is ours alone. */
	if (flock(dirfd, LOCK_EX) < 0 || spool_ack_read(dirfd, &ack) < 0) {
		fprintf(stderr, "nomx: spool ACK: %s\n", strerror(errno));
		return NOMX_EXIT_SYSTEM;
	}
	if (seq > last) {
		return ack_refuse("beyond-export (that session showed no such message)");
	}
	if (seq > ack.acked && from > ack.acked + 1) {
		/* The session began after unacknowledged mail: acking would
		 * cover messages it never showed. */
		return ack_refuse("gap (the session did not start at the first unacknowledged "
		    "message)");
	}
	if (seq > ack.acked && spool_ack_write(dirfd, &ack, seq, crc32c(0, argv[1],
	    strlen(argv[1]))) < 0) {
		fprintf(stderr, "nomx: spool ack: cannot write ACK: %s\n", strerror(errno));
		return NOMX_EXIT_SYSTEM;
	}
	fault_crash("ack-written");	/* durable, nothing removed yet */
	spool_dir_remove_acked(dirfd, ack.acked);
	export_line("@@NMX ACKED %llu", (unsigned long long)ack.acked);
	return fflush(stdout) == 0 ? 0 : NOMX_EXIT_SYSTEM;
}
