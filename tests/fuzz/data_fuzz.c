/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the DATA/BDAT decoder, fed the input whole and again
 * split at a fuzzer-chosen point, in each of its three treatments of a
 * bare LF.  Invariants: both feedings decode the same bytes and agree
 * on the end and on bare CR/LF; decoded output never holds more than
 * the input (twice it where LFs become CRLF); and for a CRLF client,
 * storing bare LFs as CRLF never moves the end of data (the smuggling
 * defence holds whatever NOMX_BARE_LF_NORMALIZE says).
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
feed(const uint8_t *data, size_t size, size_t split, int stuffed, enum data_lf lf, struct out *o,
    int *bare)
{
	struct data_dec d;
	size_t used = 0;
	int done = 0;

	data_init(&d, stuffed, lf);
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
	size_t end_refused[2] = { 0, 0 };

	if (size < 1 || size > 60000) {
		return 0;
	}
	split = data[0] % size;
	data++, size--;
	if (split > size) {
		split = size;
	}
	for (int k = 0; k < 6; k++) {
		int stuffed = k & 1;
		enum data_lf lf = (enum data_lf)(k >> 1);
		size_t ea = feed(data, size, size, stuffed, lf, &a, &bare_a);
		size_t eb = feed(data, size, split, stuffed, lf, &b, &bare_b);
		/* A normalised LF grows by its CR; nothing else grows. */
		if (ea != eb || a.len != b.len || bare_a != bare_b ||
		    a.len > (lf == DATA_LF_REFUSE ? size + 1 : 2 * size + 1) ||
		    memcmp(a.buf, b.buf, a.len < sizeof(a.buf) ? a.len : sizeof(a.buf)) != 0) {
			__builtin_trap();
		}
		if (lf == DATA_LF_REFUSE) {
			end_refused[stuffed] = ea;
		} else if (lf == DATA_LF_NORMALIZE && ea != end_refused[stuffed]) {
			__builtin_trap();
		}
	}
	return 0;
}
