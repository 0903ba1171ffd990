/* SPDX-License-Identifier: ISC */
/*
 * The one monotonic clock, in milliseconds: deadlines, the spool's
 * refresh interval and fetch's timers all read it, never the wall
 * clock, which a router without RTC sets late and steps.
 */
#ifndef NOMX_CLOCK_H
#define NOMX_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t
clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
