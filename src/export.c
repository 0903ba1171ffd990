/* SPDX-License-Identifier: ISC */
/*
 *   nomx spool export [--from SEQ]   the framed stream (frame.h) on stdout
 *   nomx spool export --follow       ... and then each message as it is
 *                                    answered 250, acks read from stdin
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
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "base64.h"
#include "crc32c.h"
#include "export.h"
#include "fault.h"
#include "fmt.h"
#include "frame.h"
#include "log.h"
#include "number.h"
#include "spool_ack.h"
#include "spool_dir.h"
#include "spool_follow.h"
#include "spool_scan.h"

struct export_ctx {
	uint64_t from, to;	/* the records to export: from..to, as far as there are */
	uint64_t last, n;
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
	n = fmt_vbuf(line, sizeof(line) - 12, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(line) - 12) {
		fmt_put(line, frame_seal(line, (size_t)n));
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
	if (r->seq > x->to) {
		return 1;	/* not known durable yet: a later session has it */
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

/* The terminal's settings by the ioctls themselves: musl's tcgetattr and
 * tcsetattr go through its ioctl(), which carries 1.6 KB of time64
 * conversions on 32-bit targets that TCGETS never needs.  (Its struct
 * termios is the kernel's with room to spare, as musl passes it too.)
 * TCGETS fails on anything but a terminal. */
static int
export_tty_get(struct termios *t)
{
	return syscall(SYS_ioctl, STDOUT_FILENO, TCGETS, t) == 0 ? 0 : -1;
}

/* Once what is queued has gone out (tcsetattr's TCSADRAIN). */
static void
export_tty_set(const struct termios *t)
{
	syscall(SYS_ioctl, STDOUT_FILENO, TCSETSW, t);
}

/* On a serial console: no output processing (no CR added, no stops
 * from a stray XOFF) while the stream runs; restored afterwards. */
static int
export_tty_raw(struct termios *saved)
{
	struct termios t;

	if (export_tty_get(saved) < 0) {
		return 0;
	}
	t = *saved;
	t.c_oflag &= ~(tcflag_t)OPOST;
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF);
	t.c_lflag &= ~(tcflag_t)ECHO;
	export_tty_set(&t);
	return 1;
}

static int
export_open(const char *spooldir, int *dirfd, char dev[17], unsigned char key[SPOOL_SECRET_LEN])
{
	if ((*dirfd = open(spooldir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		fmt_err("nomx: spool %s: %s\n", spooldir, strerror(errno));
		return -1;
	}
	if (spool_dev_id(*dirfd, dev) < 0 || spool_secret(*dirfd, key) < 0) {
		fmt_err("nomx: spool %s has no ID or SECRET (start the daemon on it once): "
		    "%s\n", spooldir, strerror(errno));
		return -1;
	}
	return 0;
}

static int
export_parse_seq(const char *s, uint64_t *v)
{
	const char *end;

	return number_parse(s, 10, v, &end) < 0 || *end != '\0' ? -1 : 0;
}

/* One session: BEGIN, the records from x->from up to x->to, END.  0, or
 * -1 (no END line: the collector sees it). */
static int
export_session(int dirfd, const char *dev, const unsigned char *key, struct export_ctx *x,
    char token[FRAME_TOKEN_MAX])
{
	x->last = x->from - 1;
	x->n = 0;
	x->emit = 0;
	if (export_walk(dirfd, x) < 0) {
		return -1;
	}
	spool_token(key, dev, x->from, x->last, token, FRAME_TOKEN_MAX);
	export_line("@@NMX BEGIN v1 dev=%s sess=%s from=%llu last=%llu n=%llu", dev, token,
	    (unsigned long long)x->from, (unsigned long long)x->last, (unsigned long long)x->n);
	x->emit = 1;
	if (export_walk(dirfd, x) < 0) {
		return -1;
	}
	export_line("@@NMX END last=%llu n=%llu", (unsigned long long)x->last,
	    (unsigned long long)x->n);
	return 0;
}

static int
ack_refuse(const char *why)
{
	export_line("@@NMX NAK %s", why);
	fmt_flush();
	fmt_err("nomx: spool ack refused: %s\n", why);
	return 1;
}

/* Record an ack of everything up to seq, for a session that showed
 * from..last, under tag (the session token's CRC), then remove the
 * segments wholly acknowledged and answer ACKED.  0; 1 refused (NAK
 * answered); NOMX_EXIT_SYSTEM. */
static int
export_ack(int dirfd, uint64_t seq, uint64_t from, uint64_t last, uint32_t tag)
{
	struct spool_ack ack;
	int rc = 0;

	/* One ack at a time: the read-modify-write of ACK is ours alone. */
	if (flock(dirfd, LOCK_EX) < 0 || spool_ack_read(dirfd, &ack) < 0) {
		fmt_err("nomx: spool ACK: %s\n", strerror(errno));
		return NOMX_EXIT_SYSTEM;
	}
	if (seq > last) {
		rc = ack_refuse("beyond-export (that session showed no such message)");
	} else if (seq > ack.acked && from > ack.acked + 1) {
		/* The session began after unacknowledged mail: acking would
		 * cover messages it never showed. */
		rc = ack_refuse("gap (the session did not start at the first unacknowledged "
		    "message)");
	} else if (seq > ack.acked && spool_ack_write(dirfd, &ack, seq, tag) < 0) {
		fmt_err("nomx: spool ack: cannot write ACK: %s\n", strerror(errno));
		rc = NOMX_EXIT_SYSTEM;
	} else {
		fault_crash("ack-written");	/* durable, nothing removed yet */
		spool_dir_remove_acked(dirfd, ack.acked);
		export_line("@@NMX ACKED %llu", (unsigned long long)ack.acked);
		rc = fmt_flush() == 0 ? 0 : NOMX_EXIT_SYSTEM;
	}
	flock(dirfd, LOCK_UN);
	return rc;
}

/* --follow: the unacknowledged mail as one session, then a session for
 * each group of messages the daemon says are durable (spool_announce),
 * "ALIVE" after `keepalive` seconds of nothing, and "ACK SEQ" lines
 * read from stdin answered as `spool ack` would, without a token: this
 * process knows what it showed.  Ends when stdin ends or stdout is
 * gone. */
static int
export_follow(int dirfd, const char *dev, const unsigned char *key, uint64_t from, int keepalive)
{
	char token[FRAME_TOKEN_MAX], in[64];
	struct export_ctx x = { .to = UINT64_MAX };
	struct spool_ack ack;
	uint64_t first_from;
	size_t inlen = 0;
	uint32_t tag = 0;
	int sock;

	if (fchdir(dirfd) < 0 || (sock = spool_follow_listen(SPOOL_EXPORT_SOCK)) < 0) {
		fmt_err("nomx: spool export --follow: %s\n", errno == EADDRINUSE ?
		    "another fetch is following this spool" : strerror(errno));
		return NOMX_EXIT_SYSTEM;
	}
	if (spool_ack_read(dirfd, &ack) < 0) {
		fmt_err("nomx: spool ACK: %s\n", strerror(errno));
		return NOMX_EXIT_SYSTEM;
	}
	x.from = first_from = from ? from : ack.acked + 1;
	signal(SIGPIPE, SIG_DFL);	/* the collector is gone: so are we */
	for (int first = 1;; first = 0) {
		struct pollfd p[2] = { { sock, POLLIN, 0 }, { STDIN_FILENO, POLLIN, 0 } };
		int pr;

		if (first || x.to >= x.from) {
			if (export_session(dirfd, dev, key, &x, token) < 0 || fmt_flush() != 0) {
				return NOMX_EXIT_SYSTEM;
			}
			tag = first ? crc32c(0, token, strlen(token)) : tag;
			x.from = x.last + 1;
		}
		x.to = 0;
		pr = poll(p, 2, keepalive * 1000);
		if (pr < 0 && errno != EINTR) {
			return NOMX_EXIT_SYSTEM;
		}
		if (pr == 0) {
			export_line("@@NMX ALIVE last=%llu", (unsigned long long)x.from - 1);
			if (fmt_flush() != 0) {
				return NOMX_EXIT_SYSTEM;
			}
		}
		if (p[0].revents & POLLIN) {
			char word[64];
			uint64_t a, b;
			ssize_t n = recv(sock, word, sizeof(word) - 1, MSG_DONTWAIT);
			if (n > 0 && spool_follow_word(word, (size_t)n, &a, &b) == 0) {
				x.to = b;
			}
		}
		if (p[1].revents & (POLLIN | POLLHUP)) {
			ssize_t n = read(STDIN_FILENO, in + inlen, sizeof(in) - 1 - inlen);
			char *nl;
			if (n <= 0) {
				return n == 0 ? 0 : NOMX_EXIT_SYSTEM;	/* the collector hung up */
			}
			inlen += (size_t)n;
			in[inlen] = '\0';
			while ((nl = memchr(in, '\n', inlen)) != NULL) {
				uint64_t seq;
				*nl = '\0';
				if (nl > in && nl[-1] == '\r') {
					nl[-1] = '\0';
				}
				if (strncmp(in, "ACK ", 4) == 0 && export_parse_seq(in + 4, &seq) == 0 &&
				    export_ack(dirfd, seq, first_from, x.from - 1, tag) == NOMX_EXIT_SYSTEM) {
					return NOMX_EXIT_SYSTEM;
				}
				inlen -= (size_t)(nl + 1 - in);
				memmove(in, nl + 1, inlen);
			}
			inlen = inlen == sizeof(in) - 1 ? 0 : inlen;	/* no line of ours */
		}
	}
}

int
export_main(const char *spooldir, int argc, char **argv)
{
	unsigned char key[SPOOL_SECRET_LEN];
	char dev[17], token[FRAME_TOKEN_MAX];
	struct export_ctx x = { .to = UINT64_MAX };
	struct spool_ack ack;
	struct termios saved;
	int dirfd, raw, follow = 0, keepalive = 10, rc = 0;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--from") == 0 && i + 1 < argc &&
		    export_parse_seq(argv[i + 1], &x.from) == 0 && x.from > 0) {
			i++;
		} else if (strcmp(argv[i], "--follow") == 0) {
			follow = 1;
		} else if (strcmp(argv[i], "--keepalive") == 0 && i + 1 < argc &&
		    (keepalive = atoi(argv[i + 1])) > 0) {
			i++;
		} else {
			fmt_err("usage: nomx spool export [--from SEQ] "
			    "[--follow [--keepalive SECONDS]]\n");
			return NOMX_EXIT_USAGE;
		}
	}
	if (export_open(spooldir, &dirfd, dev, key) < 0) {
		return NOMX_EXIT_SYSTEM;
	}
	if (follow) {
		struct termios saved_f;
		int raw_f = export_tty_raw(&saved_f);
		rc = export_follow(dirfd, dev, key, x.from, keepalive);
		if (raw_f) {
			export_tty_set(&saved_f);
		}
		return rc;
	}
	if (spool_ack_read(dirfd, &ack) < 0) {
		fmt_err("nomx: spool ACK: %s\n", strerror(errno));
		return NOMX_EXIT_SYSTEM;
	}
	if (x.from == 0) {
		x.from = ack.acked + 1;
	}
	raw = export_tty_raw(&saved);
	if (export_session(dirfd, dev, key, &x, token) < 0) {
		rc = NOMX_EXIT_SYSTEM;
	}
	if (fmt_flush() != 0) {
		rc = NOMX_EXIT_SYSTEM;
	}
	if (raw) {
		export_tty_set(&saved);
	}
	return rc;
}

int
export_ack_main(const char *spooldir, int argc, char **argv)
{
	unsigned char key[SPOOL_SECRET_LEN];
	char dev[17];
	uint64_t seq, from, last;
	int dirfd;

	if (argc != 2 || export_parse_seq(argv[0], &seq) < 0) {
		fmt_err("usage: nomx spool ack SEQ TOKEN\n");
		return NOMX_EXIT_USAGE;
	}
	if (export_open(spooldir, &dirfd, dev, key) < 0) {
		return NOMX_EXIT_SYSTEM;
	}
	if (spool_token_check(key, dev, argv[1], &from, &last) < 0) {
		return ack_refuse("token-invalid (not from an export of this spool)");
	}
	return export_ack(dirfd, seq, from, last, crc32c(0, argv[1], strlen(argv[1])));
}
