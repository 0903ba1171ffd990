/* SPDX-License-Identifier: ISC */
/*
 * `nomx fetch --lmtp`: delivery into a mail store (Dovecot, Cyrus,
 * Postfix's lmtp) over LMTP (RFC 2033), one transaction per message.
 * The store is the final delivery: it adds Return-Path and
 * Delivered-To itself.
 */
#ifndef NOMX_FETCH_LMTP_H
#define NOMX_FETCH_LMTP_H

#include <stddef.h>
#include <stdint.h>

enum lmtp_result {
	LMTP_OK = 0,
	LMTP_TEMP = -1,		/* try again later: nothing recorded */
	LMTP_PERM = -2,		/* the store refused it for good */
};

/* Where the store listens: "HOST:PORT", "[IPV6]:PORT" or a socket path
 * (starting with "/" or "."). Connected at the first message.  0 or -1. */
int fetch_lmtp_init(const char *where);

/* One message: MAIL, one RCPT per address, DATA with the body (CRLF
 * lines, body_len bytes of body_fd) dot-stuffed.  A recipient refused
 * at RCPT ends the transaction unsent (RSET): then nobody has it.  The
 * reason is printed. */
enum lmtp_result fetch_lmtp_deliver(uint64_t seq, const char *from, const char *const *rcpt,
    size_t nrcpt, int body_fd, uint64_t body_len);

/* QUIT, if connected. */
void fetch_lmtp_close(void);

#endif
