/* SPDX-License-Identifier: ISC */
/*
 * utc_format against the C library's strftime on gmtime, over random
 * instants from 1901 to 9999 and the edges the certificates use.
 */
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#include "utc.h"

static void
same_as_strftime(void)
{
	static const char *const fmts[] = { "%a, %d %b %Y %H:%M:%S +0000", "%y%m%d%H%M%SZ",
	    "%Y%m%d%H%M%SZ", "%Y-%m-%dT%H:%M:%SZ", "%a %b %e %H:%M:%S %Y", "100%%" };
	static const long long edges[] = { 0, -631152000LL, 2524607999LL, 2524608000LL,
	    253402300799LL, 951782400LL, 1709164800LL, -2208988800LL, 4107542400LL, -1LL };
	char got[64], want[64];

	srand(5321);
	for (int i = 0; i < 20000; i++) {
		long long t = i < 10 ? edges[i] : ((long long)rand() << 20 ^ rand()) % 253402300800LL
		    - 2145916800LL;
		time_t tt = (time_t)t;
		struct tm tm;
		gmtime_r(&tt, &tm);
		for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
			size_t n = utc_format(got, sizeof(got), fmts[f], tt);
			strftime(want, sizeof(want), fmts[f], &tm);
			CHECK(n == strlen(want) && strcmp(got, want) == 0, "t=%lld %s: \"%s\" not \"%s\"",
			    t, fmts[f], got, want);
		}
	}
}

static void
too_small_or_unknown(void)
{
	char buf[8];

	CHECK_INT(utc_format(buf, sizeof(buf), "%Y-%m-%d", 0), 0);	/* needs 11 */
	CHECK_INT(utc_format(buf, sizeof(buf), "%Y", 0), 4);
	CHECK_STR(buf, "1970");
	CHECK_INT(utc_format(buf, sizeof(buf), "%Z", 0), 0);
	/* Before 1900, and long before: no date. */
	CHECK_INT(utc_format(buf, sizeof(buf), "%Y", -2208988801LL), 0);
	CHECK_INT(utc_format(buf, sizeof(buf), "%Y", -11644473601LL), 0);
	CHECK_INT(utc_format(buf, sizeof(buf), "%Y", INT64_MIN), 0);
	CHECK_STR(buf, "");
	/* After 9999: no date either, however far. */
	CHECK_INT(utc_format(buf, sizeof(buf), "%Y", 253402300800LL), 0);
	CHECK_INT(utc_format(buf, sizeof(buf), "%Y", INT64_MAX), 0);
	CHECK_INT(utc_format(buf, sizeof(buf), "%Y", 253402300799LL), 4);
	CHECK_STR(buf, "9999");
	CHECK_INT(utc_format(buf, sizeof(buf), "%Y", -2208988800LL), 4);
	CHECK_STR(buf, "1900");
}

CHECK_MAIN(CASE(same_as_strftime), CASE(too_small_or_unknown))
