/* SPDX-License-Identifier: ISC */
/*
 * Log lines go to stderr (foreground, tests) or syslog (daemon).  Each
 * line is formatted into one bounded buffer and written with a single
 * call, so lines from a crash-test run never interleave mid-line.
 *
 * Syslog is a datagram to /dev/log, connected at start (before the
 * chroot) and written here: "<PRI>nomx[PID]: line".  No timestamp:
 * syslogd, BusyBox's and OpenWrt's logd stamp what comes without one,
 * and the C library's syslog() would bring its time-zone code along.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "../config.h"
#include "fmt.h"
#include "log.h"

static int log_syslog;
static int log_fd = -1;		/* datagram socket connected to /dev/log */

static void
log_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX, .sun_path = "/dev/log" };

	if (log_fd < 0) {
		log_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	}
	if (log_fd >= 0 && connect(log_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(log_fd);
		log_fd = -1;
	}
}

void
log_open(int to_syslog)
{
	log_syslog = to_syslog;
	if (to_syslog) {
		log_connect();
	}
}

/* One datagram, never blocking: a busy syslogd must not stall mail.
 * Lines it cannot take are counted and the count reported once it
 * takes lines again (as OpenBSD's syslog_r does). */
static int
log_dgram(int prio, const char *line)
{
	char dgram[1100];
	int n = fmt_buf(dgram, sizeof(dgram), "<%d>nomx[%d]: %s", NOMX_LOG_FACILITY | prio,
	    (int)getpid(), line);

	n = n < 0 ? 0 : n < (int)sizeof(dgram) ? n : (int)sizeof(dgram) - 1;
	if (log_fd >= 0) {
		if (send(log_fd, dgram, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == n) {
			return 0;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			return -1;
		}
	}
	/* syslogd restarted: reconnect once (only possible if not chrooted). */
	log_connect();
	return log_fd >= 0 && send(log_fd, dgram, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == n ? 0 : -1;
}

static void
log_send(int prio, const char *line)
{
	static unsigned long dropped;

	if (dropped > 0) {
		char note[64];
		fmt_buf(note, sizeof(note), "%lu log lines dropped: syslog busy", dropped);
		if (log_dgram(LOG_WARNING, note) < 0) {
			dropped++;
			return;
		}
		dropped = 0;
	}
	if (log_dgram(prio, line) < 0) {
		dropped++;
	}
}

static void
log_emit(int prio, const char *err, const char *fmt, va_list ap)
{
	char line[1024] = "nomx: ";
	size_t n = log_syslog ? 0 : 6;
	int r;

	r = fmt_vbuf(line + n, sizeof(line) - n, fmt, ap);
	n += r < 0 ? 0 : (size_t)r >= sizeof(line) - n ? sizeof(line) - n - 1 : (size_t)r;
	if (err != NULL) {
		r = fmt_buf(line + n, sizeof(line) - n, ": %s", err);
		n += r < 0 ? 0 : (size_t)r >= sizeof(line) - n ? sizeof(line) - n - 1 : (size_t)r;
	}
	if (n >= sizeof(line) - 1) {
		n = sizeof(line) - 2;
	}
	if (log_syslog) {
		line[n] = '\0';
		log_send(prio, line);
		return;
	}
	line[n++] = '\n';
	/* Best effort: a log line that cannot be written is not an error. */
	if (write(STDERR_FILENO, line, n) < 0) {
		return;
	}
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_INFO, NULL, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;
	const char *err = strerror(errno);

	va_start(ap, fmt);
	log_emit(LOG_WARNING, err, fmt, ap);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_WARNING, NULL, fmt, ap);
	va_end(ap);
}

void
log_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_ERR, NULL, fmt, ap);
	va_end(ap);
	fmt_flush();
	exit(code);
}
