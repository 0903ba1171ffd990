/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the RFC 5321 path parser and the accept tables.
 * Invariant: whatever is accepted as a recipient is one of ours (our
 * hostname or literal, or postmaster), never a relay.  And the IP
 * literal parsers agree with the C library's inet_pton on every input.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "addr.h"
#include "ip_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "[IPv6:...]" (the tag in any case) naming our ::1, by the C library's
 * inet_pton: an oracle apart from nomx's own parser. */
static int
our_literal6(const char *p)
{
	static const unsigned char want[16] = { [15] = 1 };
	unsigned char got[16];
	char text[64];
	size_t n = strlen(p);

	if (n < 8 || n - 7 >= sizeof(text) || strncasecmp(p, "[IPv6:", 6) != 0 || p[n - 1] != ']') {
		return 0;
	}
	memcpy(text, p + 6, n - 7);
	text[n - 7] = '\0';
	return inet_pton(AF_INET6, text, got) == 1 && memcmp(got, want, 16) == 0;
}

/* "[a.b.c.d]" with decimal parts (leading zeros allowed, RFC 5321 Snum)
 * equal to our literal 127.0.0.1, or our IPv6 literal ::1? */
static int
our_literal(const char *p)
{
	static const unsigned want[4] = { 127, 0, 0, 1 };
	unsigned v;

	if (our_literal6(p)) {
		return 1;
	}
	if (*p++ != '[') {
		return 0;
	}
	for (int i = 0; i < 4; i++) {
		int digits = 0;
		for (v = 0; *p >= '0' && *p <= '9' && digits < 4; p++, digits++) {
			v = v * 10 + (unsigned)(*p - '0');
		}
		if (digits == 0 || v != want[i] || *p++ != (i < 3 ? '.' : ']')) {
			return 0;
		}
	}
	return *p == '\0';
}

/* ip4_parse and ip6_parse against inet_pton: the same verdict, the same
 * bytes. */
static void
same_as_inet_pton(const uint8_t *data, size_t size)
{
	char text[64];
	unsigned char mine[16], libc[16];

	if (size >= sizeof(text)) {
		return;
	}
	memcpy(text, data, size);
	text[size] = '\0';
	int ok = ip6_parse(text, mine);
	if (ok != (inet_pton(AF_INET6, text, libc) == 1) || (ok && memcmp(mine, libc, 16) != 0)) {
		__builtin_trap();
	}
	ok = ip4_parse(text, mine);
	if (ok != (inet_pton(AF_INET, text, libc) == 1) || (ok && memcmp(mine, libc, 4) != 0)) {
		__builtin_trap();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr_path path;
	size_t used = 0;

	same_as_inet_pton(data, size);

	for (int utf8 = 0; utf8 < 2; utf8++) {
		addr_parse((const char *)data, size, utf8, &used, &path);
		if (addr_rcpt((const char *)data, size, utf8, &used, &path) == ADDR_OK) {
			const char *at = strrchr(path.addr, '@');
			/* Our hostname (any case, a trailing dot tolerated) or literal. */
			if (used > size || (at != NULL && strcasecmp(at + 1, "mail.example.com") != 0 &&
			    strcasecmp(at + 1, "mail.example.com.") != 0 &&
			    !our_literal(at + 1))) {
				__builtin_trap();	/* accepted something not ours */
			}
		}
	}
	return 0;
}
