/* SPDX-License-Identifier: ISC */
/*
 * Base64 (RFC 4648), strict: the standard alphabet with padding, no
 * whitespace.  Used by AUTH (and the spool export).
 */
#ifndef NOMX_BASE64_H
#define NOMX_BASE64_H

#include <stddef.h>

/* Encoded length of n bytes (without a NUL). */
#define BASE64_LEN(n) (((n) + 2) / 3 * 4)

/* Encode n bytes into out (BASE64_LEN(n) + 1 bytes, NUL-ended). */
void base64_encode(const void *in, size_t n, char *out);

/* Decode; returns the byte count, or -1 if malformed or over cap. */
long base64_decode(const char *in, size_t n, unsigned char *out, size_t cap);

#endif
