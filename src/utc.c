/* SPDX-License-Identifier: ISC */
#include <stdio.h>
#include <string.h>

#include "utc.h"

size_t
utc_format(char *buf, size_t len, const char *fmt, time_t t)
{
	static const char days[] = "SunMonTueWedThuFriSat";
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	struct tm tm;
	size_t n = 0;

	if (len == 0 || gmtime_r(&t, &tm) == NULL) {
		return 0;
	}
	for (; *fmt != '\0'; fmt++) {
		char part[8];
		int w;

		if (*fmt != '%') {
			w = snprintf(part, sizeof(part), "%c", *fmt);
		} else {
			switch (*++fmt) {
			case 'a': w = snprintf(part, sizeof(part), "%.3s", days + 3 * tm.tm_wday); break;
			case 'b': w = snprintf(part, sizeof(part), "%.3s", months + 3 * tm.tm_mon); break;
			case 'd': w = snprintf(part, sizeof(part), "%02d", tm.tm_mday); break;
			case 'e': w = snprintf(part, sizeof(part), "%2d", tm.tm_mday); break;
			case 'H': w = snprintf(part, sizeof(part), "%02d", tm.tm_hour); break;
			case 'M': w = snprintf(part, sizeof(part), "%02d", tm.tm_min); break;
			case 'S': w = snprintf(part, sizeof(part), "%02d", tm.tm_sec); break;
			case 'm': w = snprintf(part, sizeof(part), "%02d", tm.tm_mon + 1); break;
			case 'Y': w = snprintf(part, sizeof(part), "%04d", tm.tm_year + 1900); break;
			case 'y': w = snprintf(part, sizeof(part), "%02d", tm.tm_year % 100); break;
			case '%': w = snprintf(part, sizeof(part), "%%"); break;
			default: return 0;	/* not one of ours: a bug, caught by the tests */
			}
		}
		if (w < 0 || n + (size_t)w >= len) {
			return 0;
		}
		memcpy(buf + n, part, (size_t)w);
		n += (size_t)w;
	}
	buf[n] = '\0';
	return n;
}
