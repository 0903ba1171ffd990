/* SPDX-License-Identifier: ISC */
#include "number.h"

int
number_parse(const char *s, unsigned base, uint64_t *v, const char **end)
{
	const char *p = s;
	uint64_t n = 0;

	for (;; p++) {
		int lower = *p | 0x20;
		unsigned d = *p >= '0' && *p <= '9' ? (unsigned)(*p - '0') :
		    base == 16 && lower >= 'a' && lower <= 'f' ? (unsigned)(lower - 'a' + 10) : base;
		if (d >= base) {
			break;
		}
		if (__builtin_mul_overflow(n, (uint64_t)base, &n) || __builtin_add_overflow(n, d, &n)) {
			return -1;
		}
	}
	*v = n;
	*end = p;
	return p == s ? -1 : 0;
}
