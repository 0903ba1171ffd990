/* SPDX-License-Identifier: ISC */
/*
 * IP addresses from text (see ip_parse.h).  Both parsers read the whole
 * string or fail; nothing they accept is ambiguous.
 */
#include <string.h>

#include "ip_parse.h"

int
ip4_parse(const char *s, unsigned char out[4])
{
	for (int part = 0; part < 4; part++) {
		const char *p = s;
		unsigned v = 0;

		while (*p >= '0' && *p <= '9' && p - s < 3) {
			v = v * 10 + (unsigned)(*p++ - '0');
		}
		if (p == s || v > 255 || (p - s > 1 && *s == '0')) {
			return 0;
		}
		out[part] = (unsigned char)v;
		if (*p != (part == 3 ? '\0' : '.')) {
			return 0;
		}
		s = p + 1;
	}
	return 1;
}

static int
ip_hex_digit(char c)
{
	if (c >= '0' && c <= '9') {
		return c - '0';
	}
	c |= 0x20;	/* lower case */
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int
ip6_parse(const char *s, unsigned char out[16])
{
	unsigned char b[16];
	int n = 0;	/* bytes read so far */
	int gap = -1;	/* where "::" stands, in bytes */

	if (s[0] == ':') {	/* only as the start of "::" */
		if (s[1] != ':') {
			return 0;
		}
		gap = 0;
		s += 2;
	}
	while (*s != '\0' || gap < 0) {
		const char *p = s;
		unsigned v = 0;
		int d;

		while (p - s < 4 && (d = ip_hex_digit(*p)) >= 0) {
			v = v * 16 + (unsigned)d;
			p++;
		}
		if (p == s) {
			return 0;
		}
		if (*p == '.') {	/* the dotted-quad tail: the last 4 bytes */
			if (n > 12 || !ip4_parse(s, b + n)) {
				return 0;
			}
			n += 4;
			break;
		}
		if (n == 16) {
			return 0;
		}
		b[n++] = (unsigned char)(v >> 8);
		b[n++] = (unsigned char)v;
		if (*p == '\0') {
			break;
		}
		if (*p != ':') {
			return 0;
		}
		s = p + 1;
		if (*s == ':') {
			if (gap >= 0) {
				return 0;
			}
			gap = n;
			s++;
		} else if (*s == '\0') {
			return 0;	/* a trailing single colon */
		}
	}
	/* Without "::" all 8 groups; with it, it stands for at least one. */
	if (gap < 0 ? n != 16 : n > 14) {
		return 0;
	}
	if (gap < 0) {
		gap = n;
	}
	memset(out, 0, 16);
	memcpy(out, b, (size_t)gap);
	memcpy(out + 16 - (n - gap), b + gap, (size_t)(n - gap));
	return 1;
}
