/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the export-stream decoder `nomx fetch` runs on
 * whatever a serial line or ssh hands it.  Input is split into lines
 * and each goes through frame_parse; a valid frame must re-encode to a
 * line that parses to the same frame.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		struct frame f;
		int r = frame_parse(p, len, &f);
		if (r == 1 && f.type == FRAME_EOM) {
			/* Re-encode a simple frame and parse it back. */
			char line[FRAME_LINE_MAX];
			struct frame g;
			int n = snprintf(line, sizeof(line) - 12, "@@NMX EOM %llu lines=%llu",
			    (unsigned long long)f.seq, (unsigned long long)f.n);
			size_t m = frame_seal(line, (size_t)n);
			if (frame_parse(line, m, &g) != 1 || g.seq != f.seq || g.n != f.n) {
				__builtin_trap();
			}
		}
		p += len + (nl != NULL);
	}
	return 0;
}
