/* SPDX-License-Identifier: ISC */
/*
 * `nomx fetch --follow` (fetch_follow.h).  One link at a time runs
 * `nomx spool export --follow` on the device: each message is delivered
 * as its last line checks, and acknowledged in batches by writing
 * "ACK SEQ" to the command's input, after ack_n messages or ack_ms,
 * whichever comes first.  What is acked is only ever what the state
 * file says is delivered, within what this link showed.
 *
 * A link that goes quiet (no line, not even ALIVE, for --timeout
 * seconds), ends, or brings a damaged line is dropped and made again,
 * after a wait that doubles up to FOLLOW_BACKOFF_MAX_S; so is one whose
 * delivery failed for now (a mail store restarting, a full disk).  The device
 * starts each link at its first unacknowledged message; what the state
 * file has already is skipped, so nothing is delivered twice and
 * nothing is acked unseen across any cut.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "../config.h"
#include "clock.h"
#include "fetch.h"
#include "fetch_follow.h"
#include "fmt.h"

#if NOMX_FETCH	/* the collector's side: not on a router (board/router.h) */

#define FOLLOW_BACKOFF_MAX_S 60

static volatile sig_atomic_t follow_stop;

static void
follow_on_signal(int sig)
{
	(void)sig;
	follow_stop = 1;
}

/* What one link has shown and what is acknowledged. */
struct follow_link {
	char dev[17];
	uint64_t shown;		/* highest seq the device showed on this link */
	uint64_t acked;		/* the highest ack asked for */
	uint64_t confirmed;	/* the device's ack, as it last said */
	int64_t pending_ms;	/* when delivered-not-acked mail began, or 0 */
	int began;		/* a BEGIN came: the link works */
	int stalled;		/* ... but delivery failed: keep backing off */
};

/* Delivered and within what this link showed: what an ACK may cover. */
static uint64_t
follow_ackable(const struct follow_link *fl)
{
	uint64_t done;

	if (fl->dev[0] == '\0') {
		return 0;
	}
	done = fetch_out_done(fl->dev);
	return done < fl->shown ? done : fl->shown;
}

static int
follow_send_ack(struct fetch_link *lk, struct follow_link *fl, uint64_t upto)
{
	char line[40];
	int n = fmt_buf(line, sizeof(line), "ACK %llu\n", (unsigned long long)upto);

	fl->pending_ms = 0;
	fl->acked = upto;	/* asked for; ACKED confirms */
	return write(lk->cmd_wfd, line, (size_t)n) == n ? 0 : -1;
}

/* One whole line from the device.  0 go on; 1 drop the link; an exit
 * code to stop. */
static int
follow_line(struct fetch_link *lk, struct fetch_session *fs, struct follow_link *fl,
    const char *line, size_t len)
{
	int complete = fetch_stream_line(fs, line, len);

	if (fs->failed_output) {
		if (fetch_out_refused()) {
			return FETCH_EXIT_REFUSED;
		}
		/* A store down, a disk full: again later, from the device. */
		fl->stalled = 1;
		if (!lk->quiet) {
			fmt_err("nomx fetch: delivery failed; trying again\n");
		}
		return 1;
	}
	if (fs->damaged) {
		if (!lk->quiet) {
			fmt_err("nomx fetch: damaged in transit after seq %llu; linking again\n",
			    (unsigned long long)(fs->delivered ? fs->delivered : fs->from - 1));
		}
		return 1;
	}
	if (fs->begun && !fl->began) {
		fl->began = 1;
		memcpy(fl->dev, fs->dev, sizeof(fl->dev));
		fl->acked = fl->confirmed = fs->from - 1;
		if (!lk->quiet) {
			fmt_err("nomx fetch: following device %s from seq %llu\n", fl->dev,
			    (unsigned long long)fs->from);
		}
	}
	if (fs->begun && fs->last > fl->shown) {
		fl->shown = fs->last;
	}
	if (!complete) {
		return 0;
	}
	if (fs->nak) {
		fmt_err("nomx fetch: the device refused the ack: %s\n", fs->nak_reason);
		return FETCH_EXIT_ACK;
	}
	if (fs->got_ack) {
		fl->confirmed = fs->acked;
	}
	if (fs->got_ack && !lk->quiet) {
		fmt_err("nomx fetch: device %s acknowledged up to %llu\n", fl->dev,
		    (unsigned long long)fs->acked);
	}
	fetch_stream_reset(fs);		/* the next session, or ack answer */
	return 0;
}

/* Read one link until it is to be dropped (1), or an exit code. */
static int
follow_link_run(struct fetch_link *lk, struct fetch_session *fs, const struct follow_opts *o,
    struct follow_link *fl)
{
	static char buf[8192];
	size_t n = 0;
	int64_t heard = clock_ms(), stopping = 0;

	for (;;) {
		int64_t now = clock_ms(), wait = heard + lk->timeout * 1000LL - now;
		uint64_t upto = follow_ackable(fl);
		struct pollfd p = { lk->cmd_rfd, POLLIN, 0 };
		ssize_t r;
		int pr;

		if (upto > fl->acked && fl->pending_ms == 0) {
			fl->pending_ms = now;
		}
		if (follow_stop && !stopping) {
			/* Ack what is delivered, and wait for its answer. */
			stopping = now;
			if (upto > fl->acked && follow_send_ack(lk, fl, upto) < 0) {
				return 0;
			}
		}
		if (stopping && (fl->confirmed >= fl->acked || now - stopping > lk->timeout * 1000LL)) {
			return 0;
		}
		if (!stopping && fl->pending_ms && (upto - fl->acked >= (uint64_t)o->ack_n ||
		    now - fl->pending_ms >= o->ack_ms)) {
			if (follow_send_ack(lk, fl, upto) < 0) {
				return 1;
			}
		}
		if (fl->pending_ms && fl->pending_ms + o->ack_ms - now < wait) {
			wait = fl->pending_ms + o->ack_ms - now;
		}
		pr = poll(&p, 1, wait > 0 ? (int)wait : 0);
		if (pr < 0 && errno == EINTR) {
			continue;
		}
		if (pr == 0 && clock_ms() - heard >= lk->timeout * 1000LL) {
			if (!lk->quiet) {
				fmt_err("nomx fetch: no word from the device for %d s; linking again\n",
				    lk->timeout);
			}
			return 1;
		}
		if (pr <= 0) {
			continue;
		}
		if ((r = read(lk->cmd_rfd, buf + n, sizeof(buf) - n)) <= 0) {
			if (!lk->quiet && !stopping) {
				fmt_err("nomx fetch: the link ended; linking again\n");
			}
			return 1;
		}
		heard = clock_ms();
		n += (size_t)r;
		for (char *nl; (nl = memchr(buf, '\n', n)) != NULL;) {
			size_t len = (size_t)(nl - buf);
			int rc = follow_line(lk, fs, fl, buf, len);
			if (rc != 0) {
				return rc;
			}
			memmove(buf, nl + 1, n - len - 1);
			n -= len + 1;
		}
		n = n == sizeof(buf) ? 0 : n;	/* not a line of ours: dropped */
	}
}

int
fetch_follow(struct fetch_link *lk, struct fetch_session *fs, const struct follow_opts *o)
{
	struct sigaction sa = { .sa_handler = follow_on_signal };
	char args[64];
	int backoff = 1;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	fmt_buf(args, sizeof(args), "spool export --follow --keepalive %d",
	    lk->timeout > 3 ? lk->timeout / 3 : 1);
	while (!follow_stop) {
		struct follow_link fl = { .dev = "" };
		int rc = 1;

		fetch_stream_reset(fs);
		if (fetch_link_start(lk, args) == 0) {
			rc = follow_link_run(lk, fs, o, &fl);
			fetch_link_stop(lk);
		}
		if (rc > 1) {
			return rc;
		}
		backoff = fl.began && !fl.stalled ? 1 : backoff;
		for (int64_t until = clock_ms() + backoff * 1000LL; !follow_stop && clock_ms() < until;) {
			poll(NULL, 0, (int)(until - clock_ms()));
		}
		backoff = backoff * 2 > FOLLOW_BACKOFF_MAX_S ? FOLLOW_BACKOFF_MAX_S : backoff * 2;
	}
	return 0;
}

#endif
