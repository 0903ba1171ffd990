/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the formatter (fmt.c) beside the C library's
 * snprintf.  The input is read as a list of pieces: literal text, then
 * one conversion of the subset fmt.h promises (a flag, a width, a
 * precision for strings, a size, an argument), then more text; each
 * piece is formatted by both into buffers of an input-chosen size.
 * Invariant: the same return value and the same bytes, always.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "fmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The next byte of the input, 0 once it is used up. */
static uint8_t
next(const uint8_t **p, const uint8_t *end)
{
	return *p < end ? *(*p)++ : 0;
}

/* Literal text of up to 15 bytes, without '%' or NUL. */
static void
literal(const uint8_t **p, const uint8_t *end, char *out)
{
	size_t n = next(p, end) % 16, k = 0;

	for (size_t i = 0; i < n; i++) {
		char c = (char)next(p, end);
		if (c != '%' && c != '\0') {
			out[k++] = c;
		}
	}
	out[k] = '\0';
}

#define BOTH(...) do { \
	gn = fmt_buf(got, cap, f, __VA_ARGS__); \
	wn = snprintf(want, cap, f, __VA_ARGS__); \
} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const convs[] = { "d", "i", "u", "x", "X", "o", "ld", "lu", "lx", "lld",
	    "llu", "llX", "zu", "zd", "s", "c", "%" };
	static const char *const flags[] = { "", "-", "0", "-0" };
	const uint8_t *p = data, *end = data + size;

	while (p < end) {
		char f[96], before[16], after[16], str[32], got[512], want[512];
		const char *c = convs[next(&p, end) % (sizeof(convs) / sizeof(convs[0]))];
		int textual = c[0] == 's' || c[0] == 'c' || c[0] == '%';
		const char *flag = flags[next(&p, end) % (textual ? 2 : 4)];
		unsigned width = next(&p, end), prec = next(&p, end) % 40, how = next(&p, end);
		size_t cap = (size_t)next(&p, end) * 2 % sizeof(got), slen = next(&p, end) % sizeof(str);
		unsigned long long v = 0;
		int gn, wn;

		for (int i = 0; i < 8; i++) {
			v = v << 8 | next(&p, end);
		}
		literal(&p, end, before);
		literal(&p, end, after);
		for (size_t i = 0; i < slen; i++) {
			str[i] = (char)('a' + (v >> (i % 60) & 15));
		}
		str[slen] = '\0';
		if (c[0] == '%') {
			/* "%%" takes no flag, width or argument */
			snprintf(f, sizeof(f), "%s%%%%%s", before, after);
			gn = fmt_buf(got, cap, f, 0);
			wn = snprintf(want, cap, f, 0);
		} else {
			/* how: bit 0 a width, bit 1 given as '*', bit 2 a precision
			 * (strings), bit 3 given as '*' */
			char w[8] = "", pr[8] = "";
			int star_w = (how & 3) == 3, star_p = c[0] == 's' && (how & 12) == 12;
			if ((how & 3) == 1) {
				snprintf(w, sizeof(w), "%u", width);
			} else if (star_w) {
				snprintf(w, sizeof(w), "*");
			}
			if (c[0] == 's' && (how & 12) == 4) {
				snprintf(pr, sizeof(pr), ".%u", prec);
			} else if (star_p) {
				snprintf(pr, sizeof(pr), ".*");
			}
			snprintf(f, sizeof(f), "%s%%%s%s%s%s%s", before, flag, w, pr, c, after);
			int wa = (int)width - 128, pa = (int)prec - 8;	/* '*' may be negative */
			if (c[0] == 's') {
				if (star_w && star_p) BOTH(wa, pa, str);
				else if (star_w) BOTH(wa, str);
				else if (star_p) BOTH(pa, str);
				else BOTH(str);
			} else if (c[0] == 'c') {
				int ch = (int)(v & 0x7f) | 1;
				if (star_w) BOTH(wa, ch); else BOTH(ch);
			} else if (strncmp(c, "ll", 2) == 0) {
				if (star_w) BOTH(wa, v); else BOTH(v);
			} else if (c[0] == 'l') {
				if (star_w) BOTH(wa, (long)v); else BOTH((long)v);
			} else if (c[0] == 'z' && c[1] == 'u') {
				if (star_w) BOTH(wa, (size_t)v); else BOTH((size_t)v);
			} else if (c[0] == 'z') {
				if (star_w) BOTH(wa, (ssize_t)v); else BOTH((ssize_t)v);
			} else {
				if (star_w) BOTH(wa, (int)v); else BOTH((int)v);
			}
		}
		if (gn != wn || (cap > 0 && strcmp(got, want) != 0)) {
			fprintf(stderr, "format \"%s\", cap %zu: \"%s\" (%d), snprintf \"%s\" (%d)\n", f,
			    cap, got, gn, want, wn);
			abort();
		}
	}
	return 0;
}
