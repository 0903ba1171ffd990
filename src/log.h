/* SPDX-License-Identifier: ISC */
/*
 * Logging: one line per event, "event key=value ...", to stderr or
 * syslog.  log_warn appends strerror(errno), log_warnx does not
 * (OpenSMTPD's log.h).  log_die logs and exits with the given code.
 */
#ifndef NOMX_LOG_H
#define NOMX_LOG_H

#include <stdnoreturn.h>

/* Exit codes (skarnet style), documented in the README. */
#define NOMX_EXIT_OK 0
#define NOMX_EXIT_USAGE 100
#define NOMX_EXIT_SYSTEM 111

/* to_syslog: 1 = syslog (opened now, so it works after chroot). */
void log_open(int to_syslog);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void log_die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
