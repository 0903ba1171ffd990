/* SPDX-License-Identifier: ISC */
/*
 * The clocks.  The monotonic one, in milliseconds, for everything that
 * waits: deadlines, the spool's refresh interval and fetch's timers
 * never read the wall clock, which a router without RTC sets late and
 * steps.  The wall clock only dates things: Received: headers, records,
 * certificates.
 */
#ifndef NOMX_CLOCK_H
#define NOMX_CLOCK_H

#include <stdint.h>
#include <time.h>

int64_t clock_ms(void);
uint64_t clock_wall_ms(void);
time_t clock_wall_s(void);

#endif
