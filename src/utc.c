/* SPDX-License-Identifier: ISC */
/*
 * Unix time as a UTC date, formatted for the few strftime conversions
 * nomx writes (see utc.h for why not strftime itself).
 */
#include <string.h>

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

size_t
utc_format(char *buf, size_t len, const char *fmt, time_t t)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;
	size_t n = 0;

	if (len == 0 || gmtime_r(&t, &tm) == NULL || tm.tm_year < 0) {	/* before 1900 */
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
			default: return 0;	/* not one of ours: a bug, caught by the tests */
			}
		}
		if (n + w >= len) {
			return 0;
		}
		memcpy(buf + n, part, w);
		n += w;
	}
	buf[n] = '\0';
	return n;
}
