/* SPDX-License-Identifier: ISC */
/*
 * Log lines go to stderr (foreground, tests) or syslog (daemon).  Each
 * line is formatted into one bounded buffer and written with a single
 * call, so lines from a crash-test run never interleave mid-line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "../config.h"
#include "log.h"

static int log_syslog;

void
log_open(int to_syslog)
{
	log_syslog = to_syslog;
	if (to_syslog) {
		openlog("nomx", LOG_PID | LOG_NDELAY, NOMX_LOG_FACILITY);
	}
}

static void
log_emit(int prio, const char *err, const char *fmt, va_list ap)
{
	char line[1024] = "nomx: ";
	size_t n = log_syslog ? 0 : 6;
	int r;

	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	n += r < 0 ? 0 : (size_t)r >= sizeof(line) - n ? sizeof(line) - n - 1 : (size_t)r;
	if (err != NULL) {
		r = snprintf(line + n, sizeof(line) - n, ": %s", err);
		n += r < 0 ? 0 : (size_t)r >= sizeof(line) - n ? sizeof(line) - n - 1 : (size_t)r;
	}
	if (n >= sizeof(line) - 1) {
		n = sizeof(line) - 2;
	}
	if (log_syslog) {
		syslog(prio, "%s", line);
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
	exit(code);
}
