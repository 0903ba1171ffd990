/* SPDX-License-Identifier: ISC */
/* A client's address: its text and its key for the cap (peer.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "peer.h"

void
peer_from(const struct sockaddr *sa, socklen_t len, struct peer *p)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->ip, sizeof(p->ip), "unknown");
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		p->family = AF_INET;
		p->key = ntohl(s4->sin_addr.s_addr);
		inet_ntop(AF_INET, &s4->sin_addr, p->ip, sizeof(p->ip));
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		const unsigned char *b = s6->sin6_addr.s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			struct sockaddr_in s4 = { .sin_family = AF_INET };
			memcpy(&s4.sin_addr, b + 12, 4);
			peer_from((const struct sockaddr *)&s4, sizeof(s4), p);
			return;
		}
		p->family = AF_INET6;
		for (int i = 0; i < 8; i++) {
			p->key = p->key << 8 | b[i];
		}
		inet_ntop(AF_INET6, &s6->sin6_addr, p->ip, sizeof(p->ip));
	}
}
