/* SPDX-License-Identifier: ISC */
/*
 * The credentials behind AUTH: the table from config.h, every entry
 * compared in full, and the parsing of a SASL PLAIN message.  The
 * exchange itself (prompts, steps, replies) lives in the session.
 */
#include <string.h>

#include "../config.h"
#include "auth.h"

struct auth_entry {
	const char *user;
	const char *pass;
};

#define AUTH_ENTRY(u, p) { u, p },
static const struct auth_entry auth_table[] = { NOMX_AUTH_USERS(AUTH_ENTRY) };
#undef AUTH_ENTRY

int
auth_offered(int tls)
{
	return NOMX_AUTH && (tls || NOMX_AUTH_PLAINTEXT);
}

/* Equal strings, in time that depends only on the lengths. */
static int
auth_same(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);
	unsigned diff = alen != blen;

	for (size_t i = 0; i < alen; i++) {
		diff |= (unsigned char)a[i] ^ (unsigned char)b[i < blen ? i : 0];
	}
	return diff == 0;
}

int
auth_check(const char *user, size_t ulen, const char *pass, size_t plen)
{
	int ok = 0;

	if (!NOMX_AUTH) {
		return 0;
	}
	if (NOMX_AUTH_ANY) {
		return 1;
	}
	for (size_t i = 0; i < sizeof(auth_table) / sizeof(auth_table[0]); i++) {
		ok |= auth_same(user, ulen, auth_table[i].user) &
		    auth_same(pass, plen, auth_table[i].pass);
	}
	return ok;
}

int
auth_plain(const unsigned char *msg, size_t len, char *user, size_t ucap)
{
	const unsigned char *nul1 = memchr(msg, '\0', len), *nul2;
	size_t ulen, plen;

	user[0] = '\0';
	if (nul1 == NULL) {
		return -1;
	}
	nul2 = memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - msg));
	if (nul2 == NULL) {
		return -1;
	}
	ulen = (size_t)(nul2 - nul1 - 1);
	plen = len - (size_t)(nul2 + 1 - msg);
	if (ulen == 0 || ulen >= ucap) {
		return -1;
	}
	memcpy(user, nul1 + 1, ulen);
	user[ulen] = '\0';
	/* An authorisation identity other than the user is not supported. */
	if (nul1 != msg && ((size_t)(nul1 - msg) != ulen || memcmp(msg, user, ulen) != 0)) {
		return 0;
	}
	return auth_check(user, ulen, (const char *)nul2 + 1, plen);
}
