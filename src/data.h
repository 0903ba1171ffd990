/* SPDX-License-Identifier: ISC */
/*
 * DATA and BDAT content decoding: end of data, dot-unstuffing, bare CR
 * and bare LF, and the count of Received: headers (loop detection).
 *
 * Only <CRLF>.<CRLF> ends DATA.  A bare CR or bare LF never ends it and
 * never starts a line (the SMTP smuggling attacks of 2023): the decoder
 * records that one was seen and the session refuses the message at its
 * end (550 5.6.0).  We refuse rather than normalise because a stored
 * message is later handed to other MTAs, and a message whose line
 * structure two parsers could read differently is exactly the
 * smuggling payload; well-behaved SMTP clients never send one.
 */
#ifndef NOMX_DATA_H
#define NOMX_DATA_H

#include <stddef.h>

/* Where decoded content goes: called with runs of message bytes. */
typedef void data_sink_fn(void *ctx, const char *p, size_t n);

struct data_dec {
	int state;		/* enum in data.c */
	int dot_stuffed;	/* DATA (1) or BDAT (0) */
	int bare_eol;		/* a bare CR or LF was seen */
	int in_header;		/* still in the header section */
	unsigned received;	/* Received: header fields seen */
	unsigned hdr_len;	/* bytes of this header line seen, up to 9 */
	char hdr[9];		/* its first bytes, for "Received:" */
};

/* Start a message: dot_stuffed = 1 for DATA, 0 for BDAT. */
void data_init(struct data_dec *d, int dot_stuffed);

/*
 * Decode in[0..len) into the sink.  Returns the bytes consumed; *done
 * is set when <CRLF>.<CRLF> was consumed (DATA only; nothing after it
 * is consumed).  BDAT chunks are fed whole and never set *done.
 */
size_t data_decode(struct data_dec *d, const char *in, size_t len, int *done,
    data_sink_fn *sink, void *ctx);

/* At the end of a BDAT message: a CR left pending is a bare CR. */
void data_finish(struct data_dec *d, data_sink_fn *sink, void *ctx);

#endif
