/* SPDX-License-Identifier: ISC */
/*
 * `nomx fetch`, on the collecting machine: its command line and the
 * run.  Export from the device (over fetch_link.c), reassemble and
 * verify (fetch_stream.c), deliver (fetch_out.c), and only then
 * `nomx spool ack`.
 *
 * A damaged or missing line spoils its message: everything before it is
 * delivered, and the export is re-run from there, a bounded number of
 * times.  The ack uses the first session's token (the one that began at
 * the device's first unacknowledged message), for what is delivered.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../config.h"
#include "clock.h"
#include "fetch.h"
#include "fetch_follow.h"
#include "fmt.h"
#include "log.h"
#include "fetch_link.h"
#include "fetch_out.h"

#if NOMX_FETCH	/* the collector's side: not on a router (board/router.h) */

/* The way to the device, from the command line. */
static struct fetch_link lk = { .remote = "nomx", .timeout = 30, .rfd = -1, .wfd = -1 };

static struct {
	int retries, no_ack, follow;
	struct follow_opts fo;
	uint64_t msgs, bytes;	/* progress */
	int64_t t0_ms;
} fx = { .retries = 5, .fo = { .ack_n = 100, .ack_ms = 10000 } };

/* What the ack needs of the first session. */
struct fetch_first {
	int begun;
	char dev[17];
	char token[FRAME_TOKEN_MAX];
	uint64_t from, last;
};

static double
fetch_elapsed(void)
{
	return (double)(clock_ms() - fx.t0_ms) / 1e3;
}

static void
fetch_progress(int final)
{
	double s = fetch_elapsed(), kb = (double)fx.bytes / 1024;
	unsigned long long tenths = s > 0 ? (unsigned long long)(kb * 10 / s + 0.5) : 0;	/* of KB/s */

	if (lk.quiet || (!final && !isatty(STDERR_FILENO))) {
		return;
	}
	fmt_err("%snomx fetch: %llu messages, %llu bytes, %llu.%llu KB/s%s",
	    isatty(STDERR_FILENO) ? "\r" : "", (unsigned long long)fx.msgs,
	    (unsigned long long)fx.bytes, tenths / 10, tenths % 10, final ? "\n" : "");
}

/* Each verified message: into the output, and counted. */
static int
fetch_deliver(void *ctx, const char *dev, const struct fetch_msg *m)
{
	(void)ctx;
	if (fetch_out_deliver(dev, m) < 0) {
		return -1;
	}
	fx.msgs++;
	fx.bytes += m->body_len;
	fetch_progress(0);
	return 0;
}


static int
fetch_usage(void)
{
	fmt_err(
	    "usage: nomx fetch (--ssh [user@]host [-p PORT] [--ssh-opt OPT]... |\n"
	    "                   --serial /dev/ttyX [--baud N] | --cmd 'COMMAND')\n"
	    "                  (--maildir DIR | --mbox FILE | --mda 'COMMAND' --state FILE |\n"
	    "                   --lmtp HOST:PORT|/SOCKET --state FILE)\n"
	    "                  [--remote 'nomx -s /spool'] [--state FILE] [--retries N]\n"
	    "                  [--timeout S] [--quiet] [--no-ack]\n"
	    "                  [--follow [--ack-every N] [--ack-after S]]\n");
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
		fmt_buf(buf, sizeof(buf), "%s/nomx-fetch-XXXXXX", dir);
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
fetch_ack(struct fetch_session *fs, const struct fetch_first *first, uint64_t seq)
{
	char args[160];

	fetch_stream_reset(fs);
	fmt_buf(args, sizeof(args), "spool ack %llu %s", (unsigned long long)seq, first->token);
	for (int tries = 0; tries <= fx.retries; tries++) {
		if (fetch_link_run(&lk, args, fs) < 0) {
			return FETCH_EXIT_TRANSPORT;
		}
		if (fs->nak) {
			fmt_err("nomx fetch: the device refused the ack: %s\n", fs->nak_reason);
			return FETCH_EXIT_ACK;
		}
		if (fs->got_ack) {
			if (!lk.quiet) {
				fmt_err("nomx fetch: device %s acknowledged up to %llu\n", first->dev,
				    (unsigned long long)fs->acked);
			}
			return 0;
		}
	}
	fmt_err("nomx fetch: no answer to the ack (it is safe to run fetch again)\n");
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
			lk.via = VIA_SSH, lk.where = v;
		} else if (strcmp(a, "--serial") == 0 && v) {
			lk.via = VIA_SERIAL, lk.where = v;
		} else if (strcmp(a, "--cmd") == 0 && v) {
			lk.via = VIA_CMD, lk.where = v;
		} else if ((strcmp(a, "--port") == 0 || strcmp(a, "-p") == 0) && v) {
			lk.port = v;
		} else if (strcmp(a, "--ssh-opt") == 0 && v && lk.nssh_opt < FETCH_MAX_SSH_OPTS) {
			lk.ssh_opt[lk.nssh_opt++] = v;
		} else if (strcmp(a, "--baud") == 0 && v) {
			lk.baud = atol(v);
		} else if (strcmp(a, "--remote") == 0 && v) {
			lk.remote = v;
		} else if (strcmp(a, "--maildir") == 0 && v) {
			kind = OUT_MAILDIR, target = v;
		} else if (strcmp(a, "--mbox") == 0 && v) {
			kind = OUT_MBOX, target = v;
		} else if (strcmp(a, "--mda") == 0 && v) {
			kind = OUT_MDA, target = v;
		} else if (strcmp(a, "--lmtp") == 0 && v) {
			kind = OUT_LMTP, target = v;
		} else if (strcmp(a, "--state") == 0 && v) {
			state = v;
		} else if (strcmp(a, "--retries") == 0 && v) {
			fx.retries = atoi(v);
		} else if (strcmp(a, "--timeout") == 0 && v) {
			lk.timeout = atoi(v);
		} else if (strcmp(a, "--quiet") == 0) {
			lk.quiet = 1, takes = 0;
		} else if (strcmp(a, "--no-ack") == 0) {
			fx.no_ack = 1, takes = 0;
		} else if (strcmp(a, "--follow") == 0) {
			fx.follow = 1, takes = 0;
		} else if (strcmp(a, "--ack-every") == 0 && v) {
			fx.fo.ack_n = atoi(v);
		} else if (strcmp(a, "--ack-after") == 0 && v) {
			fx.fo.ack_ms = (int)(atof(v) * 1000);
		} else {
			return fetch_usage();
		}
		i += takes;
	}
	if (lk.via == VIA_NONE || target == NULL || fx.retries < 0 || lk.timeout <= 0 ||
	    fx.fo.ack_n < 1 || fx.fo.ack_ms < 0 || (fx.follow && fx.no_ack)) {
		return fetch_usage();
	}
	if ((kind == OUT_MDA || kind == OUT_LMTP) && state == NULL) {
		/* No folder to keep it in: where the progress is recorded
		 * must be said. */
		fmt_err("nomx fetch: --%s needs --state FILE (what it has taken)\n",
		    kind == OUT_MDA ? "mda" : "lmtp");
		return fetch_usage();
	}
	if (lk.via == VIA_SERIAL && lk.baud == 0) {
		lk.baud = 115200;
	}
	signal(SIGPIPE, SIG_IGN);
	fx.t0_ms = clock_ms();
	if ((rc = fetch_out_init(kind, target, state)) != 0) {
		return rc < 0 ? FETCH_EXIT_OUTPUT : FETCH_EXIT_BUSY;
	}
	fs.deliver = fetch_deliver;
	if ((fs.body_fd = fetch_tmpfile()) < 0) {
		fmt_err("nomx fetch: temporary file: %s\n", strerror(errno));
		return FETCH_EXIT_OUTPUT;
	}
	if (fx.follow) {
		rc = fetch_follow(&lk, &fs, &fx.fo);
		fetch_out_close();
		fetch_progress(1);
		return rc;
	}
	if (fetch_link_open(&lk) < 0) {
		return FETCH_EXIT_TRANSPORT;
	}
	/* Export until one session runs clean to its end; each round
	 * starts after what is delivered. */
	for (;;) {
		char args[64];

		fetch_stream_reset(&fs);
		if (next == 0) {
			fmt_buf(args, sizeof(args), "spool export");
		} else {
			fmt_buf(args, sizeof(args), "spool export --from %llu", (unsigned long long)next);
		}
		if (fetch_link_run(&lk, args, &fs) < 0) {
			rc = FETCH_EXIT_TRANSPORT;
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
		if (fs.failed_output) {
			/* What was delivered before it is acked. */
			rc = fetch_out_refused() ? FETCH_EXIT_REFUSED : FETCH_EXIT_OUTPUT;
			goto ack_what_we_have;
		}
		if (fs.begun && fs.ended && !fs.damaged) {
			break;
		}
		/* Damaged or cut short: again from after what was delivered. */
		if (!lk.quiet && fs.begun) {
			fmt_err("%snomx fetch: %s in transit after seq %llu; fetching again\n",
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
				fmt_err("nomx fetch: %s after %d tries; nothing more acknowledged\n",
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
			int r = fetch_ack(&fs, &first, upto);
			rc = rc ? rc : r;
		}
	}
out:
	fetch_out_close();
	fetch_progress(1);
	fetch_link_close(&lk);
	return rc;
}

#endif
