/* SPDX-License-Identifier: ISC */
/*
 * A byte-level state machine over the transparency rules of RFC 5321
 * 4.5.2.  Ordinary bytes, and line ends between ordinary lines, are
 * passed to the sink in runs found with memchr.  A CR is held back
 * until the next byte shows whether it begins a CRLF.
 */
#include <string.h>

#include "data.h"
#include "text.h"

enum {
	DATA_BOL,	/* at the start of a line */
	DATA_DOT,	/* "." at the start of a line */
	DATA_DOT_CR,	/* ".\r" at the start of a line */
	DATA_MID,	/* inside a line */
	DATA_CR,	/* "\r" inside a line, not yet emitted */
};

void
data_init(struct data_dec *d, int dot_stuffed, enum data_lf lf)
{
	memset(d, 0, sizeof(*d));
	d->state = DATA_BOL;
	d->dot_stuffed = dot_stuffed;
	d->lf = lf;
	d->in_header = 1;
}

/* Watch the header section go by: count Received: fields.  Looks only
 * at the first bytes of each line until the empty line that ends it. */
static void
data_scan_header(struct data_dec *d, const char *p, size_t n)
{
	for (size_t i = 0; i < n && d->in_header; i++) {
		char c = p[i];
		if (c == '\n') {
			if (d->hdr_len == 1 && d->hdr[0] == '\r') {
				d->in_header = 0;
			}
			d->hdr_len = 0;
			continue;
		}
		if (d->hdr_len < sizeof(d->hdr)) {
			d->hdr[d->hdr_len++] = (char)ascii_lower((unsigned char)c);
			if (d->hdr_len == sizeof(d->hdr) && memcmp(d->hdr, "received:", 9) == 0) {
				d->received++;
			}
		}
	}
}

static void
data_emit(struct data_dec *d, const char *p, size_t n, data_sink_fn *sink, void *ctx)
{
	if (n == 0) {
		return;
	}
	if (d->in_header) {
		data_scan_header(d, p, n);
	}
	sink(ctx, p, n);
}

size_t
data_decode(struct data_dec *d, const char *in, size_t len, int *done,
    data_sink_fn *sink, void *ctx)
{
	size_t i = 0;

	*done = 0;
	while (i < len) {
		char c = in[i];
		switch (d->state) {
		case DATA_MID: {
			/* The hot path: one run up to the next byte that needs a
			 * look.  A CRLF followed by an ordinary byte (not ".", not
			 * CR) only ends a line, so the run goes on through it; a
			 * whole body of plain lines is one run, found by memchr. */
			size_t j = i, stop;
			for (;;) {
				const char *cr = memchr(in + j, '\r', len - j);
				const char *lf;
				stop = cr ? (size_t)(cr - in) : len;
				lf = memchr(in + j, '\n', stop - j);
				if (lf != NULL) {
					stop = (size_t)(lf - in);	/* a bare LF */
					break;
				}
				if (cr == NULL || stop + 2 >= len || in[stop + 1] != '\n' ||
				    in[stop + 2] == '.' || in[stop + 2] == '\r') {
					break;
				}
				j = stop + 2;
			}
			data_emit(d, in + i, stop - i, sink, ctx);
			i = stop;
			if (i < len) {
				if (in[i] == '\r') {
					d->state = DATA_CR;
				} else if (d->lf == DATA_LF_REFUSE) {
					d->bare_eol = 1;	/* bare LF: not a line end */
					data_emit(d, "\n", 1, sink, ctx);
				} else {
					/* Stored as CRLF; a line end only for an LF client. */
					data_emit(d, "\r\n", 2, sink, ctx);
					d->state = d->lf == DATA_LF_LINE_END ? DATA_BOL : DATA_MID;
				}
				i++;
			}
			continue;
		}
		case DATA_CR:
			if (c == '\n') {
				data_emit(d, "\r\n", 2, sink, ctx);
				d->state = DATA_BOL;
				i++;
			} else {
				d->bare_eol = 1;	/* bare CR */
				data_emit(d, "\r", 1, sink, ctx);
				d->state = DATA_MID;
				/* c is looked at again in DATA_MID (it may be CR). */
				if (c == '\r') {
					d->state = DATA_CR;
					i++;
				}
			}
			continue;
		case DATA_BOL:
			if (c == '.' && d->dot_stuffed) {
				d->state = DATA_DOT;
				i++;
			} else if (c == '\r') {
				d->state = DATA_CR;
				i++;
			} else {
				d->state = DATA_MID;
			}
			continue;
		case DATA_DOT:
			if (c == '\r') {
				d->state = DATA_DOT_CR;
				i++;
			} else if (c == '\n' && d->lf == DATA_LF_LINE_END) {
				*done = 1;	/* <LF>.<LF> from an LF client */
				return i + 1;
			} else {
				/* A stuffed dot: drop it, the line goes on. */
				d->state = DATA_MID;
			}
			continue;
		case DATA_DOT_CR:
			if (c == '\n') {
				*done = 1;
				return i + 1;
			}
			/* ".\r" then not LF: a bare CR after an unstuffed dot. */
			d->bare_eol = 1;
			data_emit(d, "\r", 1, sink, ctx);
			d->state = c == '\r' ? DATA_CR : DATA_MID;
			i += c == '\r';
			continue;
		}
	}
	return i;
}

void
data_finish(struct data_dec *d, data_sink_fn *sink, void *ctx)
{
	if (d->state == DATA_CR || d->state == DATA_DOT_CR) {
		d->bare_eol = 1;
		data_emit(d, "\r", 1, sink, ctx);
	}
	d->state = DATA_BOL;
}
