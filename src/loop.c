/* SPDX-License-Identifier: ISC */
/*
 * Each pass: enforce deadlines, rebuild the poll set from slot state,
 * poll with the nearest deadline as timeout, accept, serve, and then
 * (Redis's beforesleep) run the group commit so every message finished
 * in this pass shares one fdatasync before its 250 goes out.  While
 * other sessions are about to finish theirs, the commit waits a few ms
 * for them (conn_commit_due): on flash each sync programs at least a
 * page, so fewer syncs are less wear.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "../config.h"
#include "clock.h"
#include "conn.h"
#include "log.h"
#include "loop.h"
#include "spool.h"
#include "tls.h"

#define LOOP_MAX_LISTEN 4

static int loop_pipe[2] = { -1, -1 };

static void
loop_on_signal(int sig)
{
	int saved = errno;
	char c = sig == SIGHUP ? 'H' : 'T';

	if (write(loop_pipe[1], &c, 1) < 0) {
		/* the pipe is full: a wake-up is already pending */
	}
	errno = saved;
}

void
loop_signals(void)
{
	struct sigaction sa;

	if (pipe2(loop_pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "pipe: %s", strerror(errno));
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = loop_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

/* Drain the self-pipe; returns 1 if a stop was asked for. */
static int
loop_read_signals(void)
{
	char buf[16];
	ssize_t n;
	int stop = 0;

	while ((n = read(loop_pipe[0], buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == 'T') {
				stop = 1;
			} else {
				/* SIGHUP: new key and certificate for new
				 * handshakes (syslog reconnects by itself). */
				log_info("sighup: reloading the TLS key and certificate");
				tls_reload();
			}
		}
	}
	return stop;
}

void
loop_run(const struct loop_listener *l, size_t n, struct spool *sp)
{
	struct pollfd pfd[1 + LOOP_MAX_LISTEN + 2 * NOMX_MAX_CONN];
	int stopping = 0, listening = n > 0;
	int64_t stop_at = 0;

	for (;;) {
		int64_t now = clock_ms(), next = conn_deadlines(now), due = conn_commit_due(now);
		size_t np = 0, nl = 0;
		int timeout;

		if (due >= 0 && (next < 0 || due < next)) {
			next = due;
		}

		if (stopping) {
			conn_shutdown(now >= stop_at, now);
			if (conn_active() == 0 || now >= stop_at + 1000) {
				break;
			}
			if (next < 0 || next > stop_at) {
				next = stop_at;
			}
		} else if (!listening && conn_active() == 0) {
			break;	/* inetd mode: the one session is over */
		}
		pfd[np++] = (struct pollfd){ loop_pipe[0], POLLIN, 0 };
		for (size_t i = 0; !stopping && i < n && i < LOOP_MAX_LISTEN; i++) {
			pfd[np++] = (struct pollfd){ l[i].fd, POLLIN, 0 };
			nl++;
		}
		size_t base = np;
		np += conn_poll_set(pfd + base, sizeof(pfd) / sizeof(pfd[0]) - base);
		if (conn_has_work()) {
			timeout = 0;
		} else if (next < 0) {
			timeout = -1;
		} else {
			timeout = next > now ? (int)(next - now) : 0;
		}
		if (poll(pfd, np, timeout) < 0 && errno != EINTR) {
			log_die(NOMX_EXIT_SYSTEM, "poll: %s", strerror(errno));
		}
		now = clock_ms();
		if ((pfd[0].revents & POLLIN) && loop_read_signals() && !stopping) {
			log_info("stopping: finishing messages in progress (up to %d s)",
			    NOMX_SHUTDOWN_GRACE);
			stopping = 1;
			stop_at = now + NOMX_SHUTDOWN_GRACE * 1000LL;
			for (size_t i = 0; i < n; i++) {
				close(l[i].fd);
			}
		}
		for (size_t i = 0; i < nl; i++) {
			if (!stopping && (pfd[1 + i].revents & POLLIN)) {
				conn_accept(l[i].fd, l[i].tls, now);
			}
		}
		conn_handle_all(pfd + base, np - base, now);
		due = conn_commit_due(now);
		if (due >= 0 && (due <= now || stopping)) {
			spool_sync(sp);
			conn_after_commit(now);
			spool_announce(sp);
		}
	}
	spool_sync(sp);
	log_info("stopped");
}
