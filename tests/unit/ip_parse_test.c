/* SPDX-License-Identifier: ISC */
/*
 * ip4_parse and ip6_parse: the forms by case, and against the C
 * library's inet_pton over random strings of the characters addresses
 * are made of (musl's in the plain run, glibc's under the sanitizers
 * and valgrind).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ip_parse.h"

struct ip_case {
	const char *text;
	int ok;
	unsigned char want[16];
};

static const struct ip_case v6_cases[] = {
	{ "::", 1, { 0 } },
	{ "::1", 1, { [15] = 1 } },
	{ "1::", 1, { 0, 1 } },
	{ "0:0:0:0:0:0:0:1", 1, { [15] = 1 } },
	{ "2001:DB8::a:b", 1, { 0x20, 0x01, 0x0d, 0xb8, [13] = 0x0a, [15] = 0x0b } },
	{ "1:2:3:4:5:6:7::", 1, { 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0 } },
	{ "::2:3:4:5:6:7:8", 1, { 0, 0, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8 } },
	{ "::ffff:192.0.2.1", 1, { [10] = 0xff, 0xff, 192, 0, 2, 1 } },
	{ "1:2:3:4:5:6:1.2.3.4", 1, { 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 1, 2, 3, 4 } },
	{ "0001:0002::0003", 1, { 0, 1, 0, 2, [15] = 3 } },
	{ "", 0, { 0 } },
	{ ":", 0, { 0 } },
	{ ":::", 0, { 0 } },
	{ ":1::", 0, { 0 } },
	{ "1::2::3", 0, { 0 } },
	{ "1:::2", 0, { 0 } },
	{ "1:", 0, { 0 } },
	{ "::1:", 0, { 0 } },
	{ "1:2:3:4:5:6:7", 0, { 0 } },
	{ "1:2:3:4:5:6:7:8:9", 0, { 0 } },
	{ "1:2:3:4:5:6:7:8::", 0, { 0 } },
	{ "::1:2:3:4:5:6:7:8", 0, { 0 } },
	{ "12345::", 0, { 0 } },
	{ "g::", 0, { 0 } },
	{ "::1.2.3.4:5", 0, { 0 } },
	{ "::1.2.3.04", 0, { 0 } },
	{ "1:2:3:4:5:6:7:1.2.3.4", 0, { 0 } },
	{ "1.2.3.4", 0, { 0 } },
	{ "::1%eth0", 0, { 0 } },
	{ "::/64", 0, { 0 } },
};

static void
ip6_by_case(void)
{
	for (size_t i = 0; i < sizeof(v6_cases) / sizeof(v6_cases[0]); i++) {
		const struct ip_case *c = &v6_cases[i];
		unsigned char got[16];
		int ok = ip6_parse(c->text, got);
		CHECK(ok == c->ok, "\"%s\": %d", c->text, ok);
		CHECK(!ok || memcmp(got, c->want, 16) == 0, "\"%s\": other bytes", c->text);
	}
}

static void
ip4_by_case(void)
{
	static const char *const bad[] = { "", "1.2.3", "1.2.3.4.", "1..2.3", "256.0.0.1",
	    "01.2.3.4", "1.2.3.1234", " 1.2.3.4", "1.2.3.4 ", "-1.2.3.4", "0x1.2.3.4" };
	unsigned char got[4];

	CHECK_INT(ip4_parse("192.0.2.255", got), 1);
	CHECK(got[0] == 192 && got[1] == 0 && got[2] == 2 && got[3] == 255, "bytes");
	CHECK_INT(ip4_parse("0.0.0.0", got), 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(!ip4_parse(bad[i], got), "\"%s\" taken", bad[i]);
	}
}

/* Random strings near the shape of an address: every other one of
 * IPv6's characters, the rest of IPv4's. */
static void
same_as_inet_pton(void)
{
	static const char v6[] = "0123456789abcdefABCDEF::::...g", v4[] = "0123456789....";
	char text[48];
	unsigned char mine[16], libc[16];
	int taken6 = 0, taken4 = 0;

	srand(4291);
	for (int i = 0; i < 400000; i++) {
		const char *alphabet = i % 2 ? v6 : v4;
		int na = i % 2 ? (int)sizeof(v6) - 1 : (int)sizeof(v4) - 1;
		size_t n = (size_t)rand() % (i % 2 ? 24 : 12);
		for (size_t k = 0; k < n; k++) {
			text[k] = alphabet[rand() % na];
		}
		text[n] = '\0';
		int ok = ip6_parse(text, mine);
		int want = inet_pton(AF_INET6, text, libc) == 1;
		CHECK(ok == want, "\"%s\": %d, inet_pton %d", text, ok, want);
		CHECK(!ok || memcmp(mine, libc, 16) == 0, "\"%s\": other bytes", text);
		taken6 += ok;
		ok = ip4_parse(text, mine);
		want = inet_pton(AF_INET, text, libc) == 1;
		CHECK(ok == want, "\"%s\" as IPv4: %d, inet_pton %d", text, ok, want);
		CHECK(!ok || memcmp(mine, libc, 4) == 0, "\"%s\": other bytes", text);
		taken4 += ok;
	}
	CHECK(taken6 > 100 && taken4 > 100, "addresses among them: %d IPv6, %d IPv4", taken6, taken4);
}

CHECK_MAIN(CASE(ip6_by_case), CASE(ip4_by_case), CASE(same_as_inet_pton))
