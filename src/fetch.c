/* SPDX-License-Identifier: ISC */
/*
 * `nomx fetch`, on the collecting machine: run `nomx spool export` on
 * the device, verify every line and every message, deliver (fetch_out.c),
 * and only then `nomx spool ack`.
 *
 * Transports: --ssh runs each device command through the system ssh;
 * --serial and --cmd talk to an interactive shell (a console, or any
 * command that is a byte pipe to one) by typing the command lines into
 * it and picking our framed lines out of whatever else comes back.
 *
 * A damaged or missing line spoils its message: everything before it is
 * delivered, and the export is re-run from there, a bounded number of
 * times.  The ack uses the first session's token (the one that began at
 * the device's first unacknowledged message), for what is delivered.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "fetch.h"
#include "fetch_out.h"
#include "frame.h"
#include "log.h"
#include "spool_rec.h"

#define FETCH_EXIT_TRANSPORT 2
#define FETCH_EXIT_DAMAGED 3
#define FETCH_EXIT_OUTPUT 4
#define FETCH_EXIT_ACK 5
/* fetch_read: the device said nothing for fx.timeout seconds. */
#define FETCH_SILENT (-2)
#define FETCH_MAX_SSH_OPTS 16

enum fetch_via { VIA_NONE, VIA_SSH, VIA_SERIAL, VIA_CMD };

static struct {
	enum fetch_via via;
	const char *where;		/* host, tty or command */
	const char *port;
	const char *ssh_opt[FETCH_MAX_SSH_OPTS];
	size_t nssh_opt;
	long baud;
	const char *remote;		/* how to run nomx on the device */
	int retries, timeout, quiet, no_ack;
	/* an interactive shell (serial, cmd): one for the whole run */
	int rfd, wfd;
	pid_t pid;
	/* progress */
	uint64_t msgs, bytes;
	struct timespec t0;
} fx = { .remote = "nomx", .retries = 5, .timeout = 30, .rfd = -1, .wfd = -1 };

/* What the ack needs of the first session. */
struct fetch_first {
	int begun;
	char dev[17];
	char token[FRAME_TOKEN_MAX];
	uint64_t from, last;
};

/* One export session as received. */
struct fetch_session {
	int begun, ended;
	char dev[17];
	char token[FRAME_TOKEN_MAX];
	uint64_t from, last, n;
	uint64_t delivered;	/* highest seq delivered from this session */
	int damaged;		/* stop delivering: re-fetch after `delivered` */
	/* the message being received */
	int in_msg;
	struct frame msg;
	uint64_t next_line, got;
	uint32_t crc;
	unsigned char env[SPOOL_ENV_MAX];
	int body_fd;
	int failed_output;
	int nak;
	uint64_t acked;
	int got_ack;
};

static double
fetch_elapsed(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - fx.t0.tv_sec) + (double)(t.tv_nsec - fx.t0.tv_nsec) / 1e9;
}

static void
fetch_progress(int final)
{
	double s = fetch_elapsed();

	if (fx.quiet || (!final && !isatty(STDERR_FILENO))) {
		return;
	}
	fprintf(stderr, "%snomx fetch: %llu messages, %llu bytes, %.1f KB/s%s",
	    isatty(STDERR_FILENO) ? "\r" : "", (unsigned long long)fx.msgs,
	    (unsigned long long)fx.bytes, s > 0 ? (double)fx.bytes / 1024 / s : 0.0,
	    final ? "\n" : "");
}

/* ---- frames into messages ---- */

static void
fetch_msg_begin(struct fetch_session *fs, const struct frame *f)
{
	fs->in_msg = 1;
	fs->msg = *f;
	fs->next_line = 1;
	fs->got = 0;
	fs->crc = 0;
	if (ftruncate(fs->body_fd, 0) < 0) {
		fs->failed_output = 1;
	}
	if (f->env_len > sizeof(fs->env)) {
		fs->damaged = 1;
	}
}

static void
fetch_msg_data(struct fetch_session *fs, const struct frame *f)
{
	const unsigned char *p = f->data;
	size_t n = f->data_len;
	uint64_t total = (uint64_t)fs->msg.env_len + fs->msg.body_len;

	if (f->seq != fs->msg.seq || f->n != fs->next_line || fs->got + n > total) {
		fs->damaged = 1;	/* a line went missing or out of order */
		return;
	}
	fs->next_line++;
	fs->crc = crc32c(fs->crc, p, n);
	if (fs->got < fs->msg.env_len) {
		size_t k = fs->msg.env_len - fs->got < n ? (size_t)(fs->msg.env_len - fs->got) : n;
		memcpy(fs->env + fs->got, p, k);
		fs->got += k;
		p += k;
		n -= k;
	}
	if (n > 0 && pwrite(fs->body_fd, p, n, (off_t)(fs->got - fs->msg.env_len)) != (ssize_t)n) {
		fs->failed_output = 1;
	}
	fs->got += n;
}

static void
fetch_msg_end(struct fetch_session *fs, const struct frame *f)
{
	struct fetch_msg m;

	fs->in_msg = 0;
	if (fs->damaged || f->seq != fs->msg.seq || f->n != fs->next_line - 1 ||
	    fs->got != (uint64_t)fs->msg.env_len + fs->msg.body_len || fs->crc != fs->msg.crc) {
		fs->damaged = 1;
		return;
	}
	if (fs->failed_output) {
		return;
	}
	m = (struct fetch_msg){ fs->msg.seq, fs->msg.t_ms, fs->env, fs->msg.env_len,
		fs->body_fd, fs->msg.body_len };
	if (fetch_out_deliver(fs->dev, &m) < 0) {
		fs->failed_output = 1;
		return;
	}
	fs->delivered = fs->msg.seq;
	fx.msgs++;
	fx.bytes += fs->msg.body_len;
	fetch_progress(0);
}

/* One received line.  Returns 1 when the command's output is complete. */
static int
fetch_line(struct fetch_session *fs, const char *line, size_t len)
{
	struct frame f;
	int r = frame_parse(line, len, &f);

	if (r == 0) {
		return 0;		/* a prompt, echo, a kernel message: not ours */
	}
	if (r < 0) {
		if (fs->begun) {
			fs->damaged |= fs->in_msg || fs->begun;	/* this line is lost */
		}
		return 0;
	}
	switch (f.type) {
	case FRAME_BEGIN:
		memset(fs->dev, 0, sizeof(fs->dev));
		memcpy(fs->dev, f.dev, sizeof(fs->dev) - 1);
		snprintf(fs->token, sizeof(fs->token), "%s", f.token);
		fs->from = f.seq;
		fs->last = f.last;
		fs->n = f.n;
		fs->begun = 1;
		break;
	case FRAME_MSG:
		if (fs->begun && !fs->damaged) {
			if (fs->in_msg) {
				fs->damaged = 1;	/* the EOM went missing */
			} else {
				fetch_msg_begin(fs, &f);
			}
		}
		break;
	case FRAME_D:
		if (fs->in_msg && !fs->damaged) {
			fetch_msg_data(fs, &f);
		}
		break;
	case FRAME_EOM:
		if (fs->in_msg && !fs->damaged) {
			fetch_msg_end(fs, &f);
		}
		break;
	case FRAME_END:
		if (fs->begun) {
			if (fs->in_msg || f.last != fs->last || f.n != fs->n) {
				fs->damaged = 1;
			}
			fs->ended = 1;
			return 1;
		}
		break;
	case FRAME_ACKED:
		fs->acked = f.seq;
		fs->got_ack = 1;
		return 1;
	case FRAME_NAK:
		fprintf(stderr, "nomx fetch: the device refused the ack: %s\n", f.reason);
		fs->nak = 1;
		return 1;
	}
	return 0;
}

/* ---- transports ---- */

static pid_t
fetch_spawn(char *const argv[], int *rfd, int *wfd)
{
	int in[2], out[2];
	pid_t pid;

	if (pipe(in) < 0 || pipe(out) < 0 || (pid = fork()) < 0) {
		return -1;
	}
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]), close(in[1]), close(out[0]), close(out[1]);
		execvp(argv[0], argv);
		fprintf(stderr, "nomx fetch: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	*wfd = in[1];
	*rfd = out[0];
	return pid;
}

/* Read lines from fd into the session until it is complete, EOF, or
 * fx.timeout seconds of silence.  1 complete, 0 EOF, FETCH_SILENT after
 * the silence, -1 error. */
static int
fetch_read(int fd, struct fetch_session *fs)
{
	static char buf[8192];
	size_t n = 0;
	int discard = 0;

	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t r;
		int pr = poll(&p, 1, fx.timeout * 1000);
		if (pr < 0 && errno == EINTR) {
			continue;
		}
		if (pr <= 0) {
			if (!fx.quiet) {
				fprintf(stderr, "nomx fetch: no answer from the device for %d s\n",
				    fx.timeout);
			}
			return FETCH_SILENT;
		}
		r = read(fd, buf + n, sizeof(buf) - n);
		if (r <= 0) {
			return r < 0 && errno != EIO ? -1 : 0;
		}
		n += (size_t)r;
		for (;;) {
			char *nl = memchr(buf, '\n', n);
			size_t len;
			if (nl == NULL) {
				if (n == sizeof(buf)) {
					n = 0;		/* not a line of ours: drop it */
					discard = 1;
				}
				break;
			}
			len = (size_t)(nl - buf);
			if (!discard && fetch_line(fs, buf, len)) {
				return 1;
			}
			discard = 0;
			memmove(buf, nl + 1, n - len - 1);
			n -= len + 1;
		}
	}
}

static int
fetch_ssh(const char *remote_args, struct fetch_session *fs)
{
	char *argv[8 + 2 * FETCH_MAX_SSH_OPTS], cmd[1024];
	size_t a = 0;
	int rfd, wfd, status, r;
	pid_t pid;

	snprintf(cmd, sizeof(cmd), "%s %s", fx.remote, remote_args);
	argv[a++] = "ssh";
	argv[a++] = "-T";
	if (fx.port) {
		argv[a++] = "-p";
		argv[a++] = (char *)fx.port;
	}
	for (size_t i = 0; i < fx.nssh_opt; i++) {
		argv[a++] = "-o";
		argv[a++] = (char *)fx.ssh_opt[i];
	}
	argv[a++] = (char *)fx.where;
	argv[a++] = cmd;
	argv[a] = NULL;
	if ((pid = fetch_spawn(argv, &rfd, &wfd)) < 0) {
		return -1;
	}
	close(wfd);
	r = fetch_read(rfd, fs);
	close(rfd);
	if (r == FETCH_SILENT || r < 0) {
		kill(pid, SIGTERM);	/* at EOF it is ending anyway: let it say how */
	}
	waitpid(pid, &status, 0);
	if (r == 0 && WIFEXITED(status) && (WEXITSTATUS(status) == 127 || WEXITSTATUS(status) == 126)) {
		/* The device's shell could not run it: trying again won't help. */
		fprintf(stderr, "nomx fetch: %s could not run `%s` (ssh exit %d); name nomx on the device "
		    "with --remote '/usr/sbin/nomx -s /var/spool/nomx'\n", fx.where, fx.remote,
		    WEXITSTATUS(status));
		return -1;
	}
	return r == -1 ? -1 : 0;
}

/* Type a command line into the device's shell and read its output. */
static int
fetch_shell(const char *remote_args, struct fetch_session *fs)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "%s %s\n", fx.remote, remote_args);

	if (write(fx.wfd, line, (size_t)n) != n) {
		return -1;
	}
	if (fetch_read(fx.rfd, fs) != 1) {
		/* Stop whatever still runs there (^C), so its output does not
		 * mix with the next command's. */
		if (write(fx.wfd, "\003\n", 2) < 0) {
			return -1;
		}
		return 0;
	}
	return 0;
}

static int
fetch_run(const char *remote_args, struct fetch_session *fs)
{
	if (fx.via == VIA_SSH) {
		return fetch_ssh(remote_args, fs);
	}
	return fetch_shell(remote_args, fs);
}

static int
fetch_open_serial(void)
{
	static const struct {
		long baud;
		speed_t speed;
	} speeds[] = {
		{ 9600, B9600 }, { 19200, B19200 }, { 38400, B38400 }, { 57600, B57600 },
		{ 115200, B115200 }, { 230400, B230400 }, { 460800, B460800 }, { 921600, B921600 },
	};
	struct termios t;
	speed_t sp = 0;
	int fd = open(fx.where, O_RDWR | O_NOCTTY | O_CLOEXEC);

	for (size_t i = 0; i < sizeof(speeds) / sizeof(speeds[0]); i++) {
		if (speeds[i].baud == fx.baud) {
			sp = speeds[i].speed;
		}
	}
	if (fd < 0 || sp == 0 || tcgetattr(fd, &t) < 0) {
		fprintf(stderr, "nomx fetch: %s: %s\n", fx.where, sp == 0 ? "unsupported --baud" :
		    strerror(errno));
		return -1;
	}
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, sp);
	cfsetospeed(&t, sp);
	if (tcsetattr(fd, TCSANOW, &t) < 0) {
		fprintf(stderr, "nomx fetch: %s: %s\n", fx.where, strerror(errno));
		return -1;
	}
	fx.rfd = fx.wfd = fd;
	return 0;
}

/* Wake the shell and swallow its banner and prompt. */
static void
fetch_drain(void)
{
	char buf[4096];
	struct pollfd p = { fx.rfd, POLLIN, 0 };

	if (write(fx.wfd, "\n", 1) < 0) {
		return;
	}
	while (poll(&p, 1, 300) == 1 && read(fx.rfd, buf, sizeof(buf)) > 0) {
	}
}

static int
fetch_open(void)
{
	if (fx.via == VIA_SERIAL) {
		if (fetch_open_serial() < 0) {
			return -1;
		}
	} else if (fx.via == VIA_CMD) {
		char *argv[] = { "/bin/sh", "-c", (char *)fx.where, NULL };
		if ((fx.pid = fetch_spawn(argv, &fx.rfd, &fx.wfd)) < 0) {
			return -1;
		}
	}
	if (fx.via != VIA_SSH) {
		fetch_drain();
	}
	return 0;
}

static void
fetch_close(void)
{
	if (fx.via == VIA_CMD) {
		if (write(fx.wfd, "exit\n", 5) < 0) {
			/* gone already */
		}
		close(fx.wfd);
		close(fx.rfd);
		kill(fx.pid, SIGTERM);
		waitpid(fx.pid, NULL, 0);
	} else if (fx.via == VIA_SERIAL) {
		close(fx.rfd);
	}
}

/* ---- the whole run ---- */

static int
fetch_usage(void)
{
	fprintf(stderr,
	    "usage: nomx fetch (--ssh [user@]host [-p PORT] [--ssh-opt OPT]... |\n"
	    "                   --serial /dev/ttyX [--baud N] | --cmd 'COMMAND')\n"
	    "                  (--maildir DIR | --mbox FILE | --mda 'COMMAND' --state FILE)\n"
	    "                  [--remote 'nomx -s /spool'] [--state FILE] [--retries N]\n"
	    "                  [--timeout S] [--quiet] [--no-ack]\n");
	return NOMX_EXIT_USAGE;
}

static int
fetch_tmpfile(void)
{
	char path[] = "/tmp/nomx-fetch-XXXXXX";
	const char *dir = getenv("TMPDIR");
	char buf[512];
	int fd;

	if (dir != NULL) {
		snprintf(buf, sizeof(buf), "%s/nomx-fetch-XXXXXX", dir);
		fd = mkstemp(buf);
		if (fd >= 0) {
			unlink(buf);
			return fd;
		}
	}
	fd = mkstemp(path);
	if (fd >= 0) {
		unlink(path);
	}
	return fd;
}

static int
fetch_ack(const struct fetch_first *first, uint64_t seq)
{
	static struct fetch_session fs;
	char args[160];

	memset(&fs, 0, sizeof(fs));
	snprintf(args, sizeof(args), "spool ack %llu %s", (unsigned long long)seq, first->token);
	for (int tries = 0; tries <= fx.retries; tries++) {
		if (fetch_run(args, &fs) < 0) {
			return FETCH_EXIT_TRANSPORT;
		}
		if (fs.nak) {
			return FETCH_EXIT_ACK;
		}
		if (fs.got_ack) {
			if (!fx.quiet) {
				fprintf(stderr, "nomx fetch: device %s acknowledged up to %llu\n", first->dev,
				    (unsigned long long)fs.acked);
			}
			return 0;
		}
	}
	fprintf(stderr, "nomx fetch: no answer to the ack (it is safe to run fetch again)\n");
	return FETCH_EXIT_TRANSPORT;
}

int
fetch_main(int argc, char **argv)
{
	static struct fetch_session fs;
	struct fetch_first first = { 0 };
	enum fetch_out_kind kind = OUT_MAILDIR;
	const char *target = NULL, *state = NULL;
	uint64_t next = 0;
	int stalled = 0, rc;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;
		if (strcmp(a, "--ssh") == 0 && v) {
			fx.via = VIA_SSH, fx.where = v;
		} else if (strcmp(a, "--serial") == 0 && v) {
			fx.via = VIA_SERIAL, fx.where = v;
		} else if (strcmp(a, "--cmd") == 0 && v) {
			fx.via = VIA_CMD, fx.where = v;
		} else if ((strcmp(a, "--port") == 0 || strcmp(a, "-p") == 0) && v) {
			fx.port = v;
		} else if (strcmp(a, "--ssh-opt") == 0 && v && fx.nssh_opt < FETCH_MAX_SSH_OPTS) {
			fx.ssh_opt[fx.nssh_opt++] = v;
		} else if (strcmp(a, "--baud") == 0 && v) {
			fx.baud = atol(v);
		} else if (strcmp(a, "--remote") == 0 && v) {
			fx.remote = v;
		} else if (strcmp(a, "--maildir") == 0 && v) {
			kind = OUT_MAILDIR, target = v;
		} else if (strcmp(a, "--mbox") == 0 && v) {
			kind = OUT_MBOX, target = v;
		} else if (strcmp(a, "--mda") == 0 && v) {
			kind = OUT_MDA, target = v;
		} else if (strcmp(a, "--state") == 0 && v) {
			state = v;
		} else if (strcmp(a, "--retries") == 0 && v) {
			fx.retries = atoi(v);
		} else if (strcmp(a, "--timeout") == 0 && v) {
			fx.timeout = atoi(v);
		} else if (strcmp(a, "--quiet") == 0) {
			fx.quiet = 1, takes = 0;
		} else if (strcmp(a, "--no-ack") == 0) {
			fx.no_ack = 1, takes = 0;
		} else {
			return fetch_usage();
		}
		i += takes;
	}
	if (fx.via == VIA_NONE || target == NULL || fx.retries < 0 || fx.timeout <= 0) {
		return fetch_usage();
	}
	if (kind == OUT_MDA && state == NULL) {
		/* No folder to keep it in: where the command's progress is
		 * recorded must be said. */
		fprintf(stderr, "nomx fetch: --mda needs --state FILE (what the command has taken)\n");
		return fetch_usage();
	}
	if (fx.via == VIA_SERIAL && fx.baud == 0) {
		fx.baud = 115200;
	}
	signal(SIGPIPE, SIG_IGN);
	clock_gettime(CLOCK_MONOTONIC, &fx.t0);
	if (fetch_out_init(kind, target, state) < 0) {
		return FETCH_EXIT_OUTPUT;
	}
	if ((fs.body_fd = fetch_tmpfile()) < 0) {
		fprintf(stderr, "nomx fetch: temporary file: %s\n", strerror(errno));
		return FETCH_EXIT_OUTPUT;
	}
	if (fetch_open() < 0) {
		return FETCH_EXIT_TRANSPORT;
	}
	/* Export until one session runs clean to its end; each round
	 * starts after what is delivered. */
	for (;;) {
		char args[64];
		int body_fd = fs.body_fd;

		memset(&fs, 0, sizeof(fs));
		fs.body_fd = body_fd;
		if (next == 0) {
			snprintf(args, sizeof(args), "spool export");
		} else {
			snprintf(args, sizeof(args), "spool export --from %llu", (unsigned long long)next);
		}
		if (fetch_run(args, &fs) < 0) {
			rc = FETCH_EXIT_TRANSPORT;
			goto out;
		}
		if (fs.failed_output) {
			rc = FETCH_EXIT_OUTPUT;
			goto out;
		}
		if (fs.begun && !first.begun) {
			/* Its token acks from the first unacknowledged message. */
			first.begun = 1;
			memcpy(first.dev, fs.dev, sizeof(first.dev));
			memcpy(first.token, fs.token, sizeof(first.token));
			first.from = fs.from;
			first.last = fs.last;
		}
		if (fs.begun && fs.ended && !fs.damaged) {
			break;
		}
		/* Damaged or cut short: again from after what was delivered. */
		if (!fx.quiet && fs.begun) {
			fprintf(stderr, "%snomx fetch: %s in transit after seq %llu; fetching again\n",
			    isatty(STDERR_FILENO) ? "\n" : "", fs.damaged ? "damaged" : "cut short",
			    (unsigned long long)(fs.delivered ? fs.delivered : fs.from - 1));
		}
		if (fs.begun && fs.delivered > 0) {
			next = fs.delivered + 1;
			stalled = 0;
		} else {
			if (fs.begun && next == 0) {
				next = fs.from;
			}
			if (++stalled > fx.retries) {
				fprintf(stderr, "nomx fetch: %s after %d tries; nothing more acknowledged\n",
				    fs.begun ? "a message stayed damaged" : "no export stream from the device",
				    fx.retries + 1);
				rc = fs.begun ? FETCH_EXIT_DAMAGED : FETCH_EXIT_TRANSPORT;
				goto ack_what_we_have;
			}
		}
	}
	rc = 0;
ack_what_we_have:
	/* Acknowledge what is durably delivered, within what the first
	 * session showed. */
	if (first.begun && !fx.no_ack) {
		uint64_t done = fetch_out_done(first.dev), upto = done < first.last ? done : first.last;
		if (upto >= first.from) {
			int r = fetch_ack(&first, upto);
			rc = rc ? rc : r;
		}
	}
out:
	fetch_progress(1);
	fetch_close();
	return rc;
}
