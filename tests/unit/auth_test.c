/* SPDX-License-Identifier: ISC */
/* Base64 and the AUTH PLAIN/LOGIN checks, against the dev config's
 * credentials (device/secret, scanner/hunter2). */
#include "check.h"

#include "auth.h"
#include "base64.h"

static long
dec(const char *s, unsigned char *out, size_t cap)
{
	return base64_decode(s, strlen(s), out, cap);
}

static void
base64_round_trip(void)
{
	unsigned char in[64], out[64];
	char enc[BASE64_LEN(64) + 1];

	for (size_t n = 0; n <= sizeof(in); n++) {
		for (size_t i = 0; i < n; i++) {
			in[i] = (unsigned char)(i * 37 + n);
		}
		base64_encode(in, n, enc);
		CHECK_INT(strlen(enc), BASE64_LEN(n));
		CHECK_INT(dec(enc, out, sizeof(out)), n);
		CHECK(memcmp(in, out, n) == 0, "round trip of %zu bytes", n);
	}
	base64_encode("Password:", 9, enc);
	CHECK_STR(enc, "UGFzc3dvcmQ6");
}

static void
base64_strict(void)
{
	unsigned char out[16];

	CHECK_INT(dec("", out, sizeof(out)), 0);
	CHECK_INT(dec("YQ==", out, sizeof(out)), 1);
	CHECK_INT(dec("YWI=", out, sizeof(out)), 2);
	CHECK_INT(dec("YQ", out, sizeof(out)), -1);		/* padding required */
	CHECK_INT(dec("Y===", out, sizeof(out)), -1);
	CHECK_INT(dec("YQ=a", out, sizeof(out)), -1);
	CHECK_INT(dec("YQ==YWI=", out, sizeof(out)), -1);	/* padding only at the end */
	CHECK_INT(dec("YW I=", out, sizeof(out)), -1);
	CHECK_INT(dec("YWJj\n", out, sizeof(out)), -1);
	CHECK_INT(dec("YWJjZGVm", out, 5), -1);			/* over the cap */
}

static int
plain(const char *msg, size_t len)
{
	char user[64];

	return auth_plain((const unsigned char *)msg, len, user, sizeof(user));
}

static void
auth_plain_cases(void)
{
	CHECK_INT(plain("\0device\0secret", 14), 1);
	CHECK_INT(plain("device\0device\0secret", 20), 1);	/* authzid = authcid */
	CHECK_INT(plain("other\0device\0secret", 19), 0);	/* acting for another */
	CHECK_INT(plain("\0device\0secreT", 14), 0);
	CHECK_INT(plain("\0device\0secret2", 15), 0);
	CHECK_INT(plain("\0device\0hunter2", 15), 0);		/* another user's password */
	CHECK_INT(plain("\0scanner\0hunter2", 16), 1);
	CHECK_INT(plain("\0\0secret", 8), -1);
	CHECK_INT(plain("device secret", 13), -1);
	CHECK_INT(plain("\0device", 7), -1);
	CHECK_INT(auth_check("device", 6, "secret", 6), 1);
	CHECK_INT(auth_check("device", 6, "", 0), 0);
	CHECK_INT(auth_check("", 0, "", 0), 0);
	CHECK_INT(auth_offered(1), 1);
	CHECK_INT(auth_offered(0), 0);
}

CHECK_MAIN(CASE(base64_round_trip), CASE(base64_strict), CASE(auth_plain_cases))
