/* SPDX-License-Identifier: ISC */
/*
 * IP addresses from text, in exactly the forms inet_pton() takes (musl's
 * inet_pton is a kilobyte of a mipsel binary): the listen addresses,
 * the compiled-in literals and the [IPv6:...] of an SMTP address.
 */
#ifndef NOMX_IP_PARSE_H
#define NOMX_IP_PARSE_H

/* Dotted-quad IPv4 ("192.0.2.1": four decimal parts of 0 to 255, no
 * leading zeros) into out.  1 if s is one, else 0. */
int ip4_parse(const char *s, unsigned char out[4]);

/* IPv6 in any text form of RFC 4291 2.2 (full, one "::" for one or more
 * zero groups, leading zeros up to four digits, a dotted-quad tail; no
 * zone, no prefix length) into out.  1 if s is one, else 0. */
int ip6_parse(const char *s, unsigned char out[16]);

#endif
