/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the RFC 5321 path parser and the accept tables.
 * Invariant: whatever is accepted as a recipient is one of ours (our
 * hostname or literal, or postmaster), never a relay.
 */
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "[a.b.c.d]" with decimal parts (leading zeros allowed, RFC 5321 Snum)
 * equal to our literal 127.0.0.1? */
static int
our_literal(const char *p)
{
	static const unsigned want[4] = { 127, 0, 0, 1 };
	unsigned v;

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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr_path path;
	size_t used = 0;

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
