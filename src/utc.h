/* SPDX-License-Identifier: ISC */
/*
 * UTC dates for the Received: header, certificates and `spool status`,
 * without strftime(): nomx only writes UTC, and strftime brings musl's
 * time-zone and locale code (about 9 KB of a router's flash) with it.
 */
#ifndef NOMX_UTC_H
#define NOMX_UTC_H

#include <stddef.h>
#include <time.h>

/* Format t into buf like strftime, for the conversions %a %b %d %e %H
 * %M %S %Y %y %m and %% (years 1900 to 9999).  Returns the length; 0,
 * with buf empty, if buf is too small or t outside those years. */
size_t utc_format(char *buf, size_t len, const char *fmt, time_t t);

#endif
