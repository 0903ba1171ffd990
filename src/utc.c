/* SPDX-License-Identifier: ISC */
/*
 * Unix time as a UTC date, formatted for the few strftime conversions
 * nomx writes (see utc.h for why not strftime itself).
 */
#include <stdint.h>
#include <string.h>

#include "number.h"
#include "utc.h"

/* v in decimal, at least width digits, padded with pad; into part. */
static size_t
utc_num(char *part, long v, int width, char pad)
{
	char digits[12];
	size_t n = 0, k = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0 && n < sizeof(digits));
	for (; (int)(n + k) < width; k++) {
		part[k] = pad;
	}
	while (n > 0) {
		part[k++] = digits[--n];
	}
	return k;
}

/* Seconds from 1601-01-01, where a 400-year Gregorian cycle begins, to
 * the epoch.  Times are shifted by it so that the arithmetic below is
 * unsigned: gmtime_r's signed 64-bit divisions are libgcc routines of
 * more than a kilobyte each on 32-bit MIPS. */
#define UTC_1601 11644473600ULL
/* Days from 0000-03-01 to 1601-01-01: the civil calendar below counts
 * years from March, so that the leap day ends a year. */
#define UTC_MARCH_0_TO_1601 584694u

/* t as a UTC date in tm's fields (those utc_format uses); -1 outside
 * the years 1900 to 9999.  The calendar is H. Hinnant's days-to-civil, in 32 bits. */
static int
utc_split(time_t t, struct tm *tm)
{
	if (t < -(time_t)UTC_1601) {
		return -1;
	}
	uint64_t s = (uint64_t)t + UTC_1601;
	uint32_t sec = number_div(&s, 86400);

	if (s > 4000000) {	/* beyond 9999, and days stay in 32 bits */
		return -1;
	}
	uint32_t days = (uint32_t)s;
	uint32_t z = days + UTC_MARCH_0_TO_1601;
	uint32_t era = z / 146097, doe = z - era * 146097;
	uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint32_t mp = (5 * doy + 2) / 153;
	uint32_t year = era * 400 + yoe + (mp >= 10);

	if (year < 1900 || year > 9999) {
		return -1;
	}
	tm->tm_year = (int)(year - 1900);
	tm->tm_mon = (int)(mp < 10 ? mp + 2 : mp - 10);
	tm->tm_mday = (int)(doy - (153 * mp + 2) / 5 + 1);
	tm->tm_wday = (int)((days + 1) % 7);	/* 1601-01-01 was a Monday */
	tm->tm_hour = (int)(sec / 3600);
	tm->tm_min = (int)(sec / 60 % 60);
	tm->tm_sec = (int)(sec % 60);
	return 0;
}

size_t
utc_format(char *buf, size_t len, const char *fmt, time_t t)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;
	size_t n = 0;

	if (len == 0) {
		return 0;
	}
	buf[0] = '\0';	/* what a failure leaves */
	if (utc_split(t, &tm) < 0) {
		return 0;
	}
	for (; *fmt != '\0'; fmt++) {
		char part[16];
		size_t w;

		if (*fmt != '%') {
			part[0] = *fmt;
			w = 1;
		} else {
			switch (*++fmt) {
			case 'a': memcpy(part, days + 3 * tm.tm_wday, 3), w = 3; break;
			case 'b': memcpy(part, months + 3 * tm.tm_mon, 3), w = 3; break;
			case 'd': w = utc_num(part, tm.tm_mday, 2, '0'); break;
			case 'e': w = utc_num(part, tm.tm_mday, 2, ' '); break;
			case 'H': w = utc_num(part, tm.tm_hour, 2, '0'); break;
			case 'M': w = utc_num(part, tm.tm_min, 2, '0'); break;
			case 'S': w = utc_num(part, tm.tm_sec, 2, '0'); break;
			case 'm': w = utc_num(part, tm.tm_mon + 1, 2, '0'); break;
			case 'Y': w = utc_num(part, tm.tm_year + 1900L, 4, '0'); break;
			case 'y': w = utc_num(part, tm.tm_year % 100, 2, '0'); break;
			case '%': part[0] = '%', w = 1; break;
			default: buf[0] = '\0'; return 0;	/* not one of ours: a bug, caught by the tests */
			}
		}
		if (n + w >= len) {
			buf[0] = '\0';
			return 0;
		}
		memcpy(buf + n, part, w);
		n += w;
	}
	buf[n] = '\0';
	return n;
}
