/* SPDX-License-Identifier: ISC */
/*
 * A client's address as nomx uses it: the text for the log, the
 * envelope and Received:, and the key the per-address connection cap
 * counts by.  An IPv4 client counts by its address; an IPv6 client by
 * the /64 its address is in: one LAN's prefix, inside which a host can
 * take any address it likes (privacy addresses, RFC 8981), so counting
 * by address would not cap it at all.
 */
#ifndef NOMX_PEER_H
#define NOMX_PEER_H

#include <stdint.h>
#include <sys/socket.h>

#define PEER_IP_MAX 46	/* INET6_ADDRSTRLEN */

struct peer {
	int family;	/* AF_INET, AF_INET6, or 0: not known */
	uint64_t key;	/* the IPv4 address, or the IPv6 /64 */
	char ip[PEER_IP_MAX];	/* "192.0.2.7", "2001:db8::7" or "unknown" */
};

/* Describe the address sa (len bytes).  An IPv4-mapped IPv6 address
 * (an inetd socket that takes both) is described as the IPv4 client. */
void peer_from(const struct sockaddr *sa, socklen_t len, struct peer *p);

/* The RFC 5952 text of an IPv6 address into out (cap bytes, 46 hold
 * any). */
void peer_ip6_text(const unsigned char b[16], char *out, size_t cap);

#endif
