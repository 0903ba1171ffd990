/* SPDX-License-Identifier: ISC */
/* A client's address: its text and its key for the cap (peer.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "fmt.h"
#include "peer.h"

/* RFC 5952 text of an IPv6 address: lowercase, no leading zeros, the
 * longest run of two or more zero groups (the first of equal ones) as
 * "::".  The C library's inet_ntop would bring its printf along. */
void
peer_ip6_text(const unsigned char b[16], char *out, size_t cap)
{
	int run = -1, run_len = 1, n = 0;

	for (int i = 0, len = 0; i < 8; i++) {
		len = b[2 * i] == 0 && b[2 * i + 1] == 0 ? len + 1 : 0;
		if (len > run_len) {
			run = i - len + 1;
			run_len = len;
		}
	}
	out[0] = '\0';
	for (int i = 0; i < 8 && (size_t)n < cap; i++) {
		if (i == run) {
			n += fmt_buf(out + n, cap - (size_t)n, "::");
			i += run_len - 1;
			continue;
		}
		n += fmt_buf(out + n, cap - (size_t)n, "%s%x", n > 0 && out[n - 1] != ':' ? ":" : "",
		    (unsigned)(b[2 * i] << 8 | b[2 * i + 1]));
	}
}

void
peer_from(const struct sockaddr *sa, socklen_t len, struct peer *p)
{
	memset(p, 0, sizeof(*p));
	fmt_buf(p->ip, sizeof(p->ip), "unknown");
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		p->family = AF_INET;
		p->key = ntohl(s4->sin_addr.s_addr);
		fmt_buf(p->ip, sizeof(p->ip), "%u.%u.%u.%u", (unsigned)(p->key >> 24),
		    (unsigned)(p->key >> 16 & 255), (unsigned)(p->key >> 8 & 255), (unsigned)(p->key & 255));
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
		peer_ip6_text(b, p->ip, sizeof(p->ip));
	}
}
