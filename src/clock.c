/* SPDX-License-Identifier: ISC */
/*
 * The clocks, read by the system call.  musl's clock_gettime() looks up
 * the kernel's vDSO first, code that takes 1.4 KB of a mipsel binary;
 * nomx reads a clock a few times per poll() round, where a system
 * call's fraction of a microsecond does not show.
 */
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

/* Clock id in seconds and nanoseconds; 0 if the kernel has neither call
 * (never on Linux). */
static int64_t
clock_read(clockid_t id, uint32_t *nsec)
{
#ifdef SYS_clock_gettime64
	/* 32-bit targets: the call with 64-bit seconds (Linux 5.1 on), or
	 * else the old one, whose seconds end in 2038, on older kernels. */
	struct { int64_t sec, nsec; } t64;
	struct { int32_t sec, nsec; } t32 = { 0, 0 };

	if (syscall(SYS_clock_gettime64, id, &t64) == 0) {
		*nsec = (uint32_t)t64.nsec;
		return t64.sec;
	}
	syscall(SYS_clock_gettime32, id, &t32);
	*nsec = (uint32_t)t32.nsec;
	return t32.sec;
#else
	struct { long sec, nsec; } t = { 0, 0 };

	syscall(SYS_clock_gettime, id, &t);
	*nsec = (uint32_t)t.nsec;
	return t.sec;
#endif
}

int64_t
clock_ms(void)
{
	uint32_t ns;
	int64_t s = clock_read(CLOCK_MONOTONIC, &ns);

	return s * 1000 + ns / 1000000;
}

uint64_t
clock_wall_ms(void)
{
	uint32_t ns;
	int64_t s = clock_read(CLOCK_REALTIME, &ns);

	return (uint64_t)s * 1000 + ns / 1000000;
}

time_t
clock_wall_s(void)
{
	uint32_t ns;

	return (time_t)clock_read(CLOCK_REALTIME, &ns);
}
