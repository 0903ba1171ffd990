/* SPDX-License-Identifier: ISC */
/*
 * Base64 (RFC 4648) both ways, strict on input: the decoder refuses
 * whitespace, a wrong alphabet and bad padding, because everything it
 * reads comes from a client or a console that may have mangled it.
 */
#include "base64.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void
base64_encode(const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < n) {
			v |= (unsigned)p[i + 1] << 8;
		}
		if (i + 2 < n) {
			v |= p[i + 2];
		}
		out[o++] = b64_alphabet[v >> 18];
		out[o++] = b64_alphabet[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64_alphabet[v & 63] : '=';
	}
	out[o] = '\0';
}

static int
b64_value(char c)
{
	if (c >= 'A' && c <= 'Z') {
		return c - 'A';
	}
	if (c >= 'a' && c <= 'z') {
		return c - 'a' + 26;
	}
	if (c >= '0' && c <= '9') {
		return c - '0' + 52;
	}
	return c == '+' ? 62 : c == '/' ? 63 : -1;
}

long
base64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
	size_t o = 0;

	if (n % 4 != 0) {
		return -1;
	}
	for (size_t i = 0; i < n; i += 4) {
		int pad = (in[i + 3] == '=') + (in[i + 2] == '=');
		int v[4];
		if (pad > 0 && i + 4 != n) {
			return -1;	/* padding only at the end */
		}
		if (pad == 1 && in[i + 2] == '=') {
			return -1;	/* "x=y=" */
		}
		for (int k = 0; k < 4 - pad; k++) {
			if ((v[k] = b64_value(in[i + k])) < 0) {
				return -1;
			}
		}
		for (int k = 4 - pad; k < 4; k++) {
			v[k] = 0;
		}
		unsigned w = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 | (unsigned)v[2] << 6 | (unsigned)v[3];
		if ((size_t)(3 - pad) > cap - o) {
			return -1;
		}
		out[o++] = (unsigned char)(w >> 16);
		if (pad < 2) {
			out[o++] = (unsigned char)(w >> 8);
		}
		if (pad < 1) {
			out[o++] = (unsigned char)w;
		}
	}
	return (long)o;
}
