/* SPDX-License-Identifier: ISC */
/*
 * TLS engines (BearSSL) from a fixed pool, driven by the poll loop.
 * The engine sits between the socket and the session's plain in/out
 * buffers: tls_pump moves whatever can move without blocking, and
 * tls_events says what to poll for next.  With NOMX_TLS off these are
 * stubs and no BearSSL TLS code is linked.
 */
#ifndef NOMX_TLS_H
#define NOMX_TLS_H

#include <stddef.h>

struct tls;

/* Start-up, before privilege drop: check randomness and load the key
 * and certificate.  Returns 1 if TLS can be served. */
int tls_init(void);

/* The static RAM of one TLS engine (buffers included), for nomx -V. */
size_t tls_engine_bytes(void);

/* SIGHUP: reload key and certificate (the old ones stay on failure). */
void tls_reload(void);

/* Is TLS served (compiled in and a key loaded)? */
int tls_available(void);

/* An engine from the pool, or NULL if all are busy. */
struct tls *tls_take(void);

/* Begin a server handshake on a taken engine: 0, or -1. */
int tls_begin(struct tls *t);

/* Give the engine back (sends close_notify if it can, without waiting). */
void tls_release(struct tls *t, int wfd);

/* The plain-side buffers of the session using an engine. */
struct tls_buf {
	char *in;
	size_t *in_len;
	size_t in_cap;
	char *out;
	size_t *out_len;
};

/* Move bytes socket <-> engine <-> buffers.  Returns 1 if something
 * moved, 0 if nothing could, -1 if the connection is over (the peer
 * closed, an I/O error, or a TLS failure: see tls_error). */
int tls_pump(struct tls *t, int rfd, int wfd, const struct tls_buf *b);

/* poll() events the engine waits for; want_input: the session has room. */
short tls_events(const struct tls *t, int want_input);

/* Has the handshake finished?  Are encrypted bytes still to be sent?
 * Does the engine hold decrypted bytes the session has not taken yet
 * (a record carries up to 16 KiB, more than the session's input holds)? */
int tls_established(const struct tls *t);
int tls_sending(const struct tls *t);
int tls_holds_input(const struct tls *t);

/* "TLSv1.2 with cipher ECDHE-ECDSA-CHACHA20-POLY1305", for logs and
 * the Received: header. */
void tls_describe(const struct tls *t, char *buf, size_t cap);

/* Why the engine failed: BearSSL's error as text, or NULL if it did
 * not (a plain close). */
const char *tls_error(const struct tls *t, char *buf, size_t cap);

#endif
