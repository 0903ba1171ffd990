/* SPDX-License-Identifier: ISC */
/*
 * DATA and BDAT content decoding: end of data, dot-unstuffing, bare CR
 * and bare LF, and the count of Received: headers (loop detection).
 *
 * For a client that speaks CRLF only <CRLF>.<CRLF> ends DATA.  A bare
 * CR or bare LF never ends it and never starts a line (the SMTP
 * smuggling attacks of 2023): the decoder records that one was seen and
 * the session refuses the message at its end (550 5.6.0), or, for a
 * bare LF with NOMX_BARE_LF_NORMALIZE, stores it as CRLF, still inside
 * its line.  A message whose line structure two parsers could read
 * differently is exactly the smuggling payload.
 *
 * An LF client (its command lines end in a bare LF: a device's SMTP
 * code, never a relaying MTA) gets what it means: a bare LF ends a
 * line, <LF>.<LF> (and <CRLF>.<LF>, <LF>.<CRLF>) ends DATA, and the
 * stored message has CRLF line ends, so no later reader can see its
 * lines differently.  A bare CR is refused from every client.
 */
#ifndef NOMX_DATA_H
#define NOMX_DATA_H

#include <stddef.h>

/* Where decoded content goes: called with runs of message bytes. */
typedef void data_sink_fn(void *ctx, const char *p, size_t n);

/* What a bare LF in the content is. */
enum data_lf {
	DATA_LF_REFUSE,		/* CRLF client: inside the line; refuse the message */
	DATA_LF_NORMALIZE,	/* CRLF client: inside the line; stored as CRLF */
	DATA_LF_LINE_END,	/* LF client: a line end, stored as CRLF */
};

struct data_dec {
	int state;		/* enum in data.c */
	int dot_stuffed;	/* DATA (1) or BDAT (0) */
	enum data_lf lf;
	int bare_eol;		/* a bare CR, or a bare LF to refuse, was seen */
	int in_header;		/* still in the header section */
	unsigned received;	/* Received: header fields seen */
	unsigned hdr_len;	/* bytes of this header line seen, up to 9 */
	char hdr[9];		/* its first bytes, for "Received:" */
};

/* Start a message: dot_stuffed = 1 for DATA, 0 for BDAT. */
void data_init(struct data_dec *d, int dot_stuffed, enum data_lf lf);

/*
 * Decode in[0..len) into the sink.  Returns the bytes consumed; *done
 * is set when the end of data was consumed (DATA only; nothing after it
 * is consumed).  BDAT chunks are fed whole and never set *done.
 */
size_t data_decode(struct data_dec *d, const char *in, size_t len, int *done,
    data_sink_fn *sink, void *ctx);

/* At the end of a BDAT message: a CR left pending is a bare CR. */
void data_finish(struct data_dec *d, data_sink_fn *sink, void *ctx);

#endif
