/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the DATA/BDAT decoder, fed the input whole and again
 * split at a fuzzer-chosen point.  Invariants: both feedings decode the
 * same bytes and agree on the end and on bare CR/LF; decoded output
 * never holds more than the input.
 */
#include <stdint.h>
#include <string.h>

#include "data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct out {
	unsigned char buf[1 << 16];
	size_t len;
};

static void
sink(void *ctx, const char *p, size_t n)
{
	struct out *o = ctx;

	if (o->len + n <= sizeof(o->buf)) {
		memcpy(o->buf + o->len, p, n);
	}
	o->len += n;
}

static size_t
feed(const uint8_t *data, size_t size, size_t split, int stuffed, struct out *o, int *bare)
{
	struct data_dec d;
	size_t used = 0;
	int done = 0;

	data_init(&d, stuffed);
	o->len = 0;
	used = data_decode(&d, (const char *)data, split, &done, sink, o);
	if (!done && used == split) {
		used += data_decode(&d, (const char *)data + split, size - split, &done, sink, o);
	}
	if (!stuffed) {
		data_finish(&d, sink, o);
	}
	*bare = d.bare_eol;
	return done ? used : (size_t)-1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct out a, b;
	size_t split;
	int bare_a, bare_b;

	if (size < 1 || size > 60000) {
		return 0;
	}
	split = data[0] % size;
	data++, size--;
	if (split > size) {
		split = size;
	}
	for (int stuffed = 0; stuffed < 2; stuffed++) {
		size_t ea = feed(data, size, size, stuffed, &a, &bare_a);
		size_t eb = feed(data, size, split, stuffed, &b, &bare_b);
		if (ea != eb || a.len != b.len || bare_a != bare_b || a.len > size + 1 ||
		    memcmp(a.buf, b.buf, a.len < sizeof(a.buf) ? a.len : sizeof(a.buf)) != 0) {
			__builtin_trap();
		}
	}
	return 0;
}
