/* SPDX-License-Identifier: ISC */
/*
 * The formatter (fmt.c) against the C library's snprintf: every
 * conversion, flag, width and size nomx uses, at their edges, cut
 * short by every small buffer; its standard output buffer through a
 * pipe and into a full device; the IPv6 text (peer.c) against
 * inet_ntop; and its reverse, the strict number parser (number.c),
 * against strtoull; and number_div's 32-bit way, here as on the 32-bit
 * boards, against the compiler's division.
 */
#define NUMBER_DIV_32 1
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "fmt.h"
#include "number.h"
#include "peer.h"

/* Cutting the output short is what the small caps below are for. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* fmt_buf and snprintf on the same arguments, with room for all and
 * with every cap from 0 to 8. */
#define SAME(...) do { \
	static const size_t caps_[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 300 }; \
	char g_[300], w_[300]; \
	for (size_t i_ = 0; i_ < sizeof(caps_) / sizeof(caps_[0]); i_++) { \
		size_t cap_ = caps_[i_]; \
		int gn_, wn_; \
		memset(g_, 'x', sizeof(g_)); \
		memset(w_, 'x', sizeof(w_)); \
		gn_ = fmt_buf(g_, cap_, __VA_ARGS__); \
		wn_ = snprintf(w_, cap_, __VA_ARGS__); \
		CHECK(gn_ == wn_ && memcmp(g_, w_, sizeof(g_)) == 0, \
		    "%s (cap %zu): returned %d, \"%.*s\"; snprintf %d, \"%.*s\"", #__VA_ARGS__, \
		    cap_, gn_, (int)(cap_ < 60 ? cap_ : 60), g_, wn_, (int)(cap_ < 60 ? cap_ : 60), w_); \
	} \
} while (0)

static void
conversions(void)
{
	SAME("plain text, no conversion");
	SAME("%s", "");
	SAME("%s|%s|%s", "a", "", "a longer string");
	SAME("%.*s|%.3s|%.0s|%.9s", 2, "abcdef", "abcdef", "abc", "abc");
	SAME("%d %d %d %d", 0, -1, INT_MAX, INT_MIN);
	SAME("%i %u %u", -42, 0u, UINT_MAX);
	SAME("%ld %ld %lu", LONG_MAX, LONG_MIN, ULONG_MAX);
	SAME("%lld %lld %llu", LLONG_MAX, LLONG_MIN, ULLONG_MAX);
	SAME("%zu %zd %zd", SIZE_MAX, (ssize_t)-7, (ssize_t)SSIZE_MAX);
	SAME("%x %X %o %x", 0u, 0xdeadBEEFu, 0755u, UINT_MAX);
	SAME("%08x %016llx %02X %04o", 0x1c2d3e4fu, 0x1234abcdULL, 10u, 0644u);
	SAME("%5d|%-5d|%05d|%5s|%-5s|", 42, 42, -42, "ab", "ab");
	SAME("%*d|%-*d|%*s|%.*s|", 6, 7, 6, 7, -6, "neg", -1, "all of it");
	SAME("%1d|%1s|%3d|%3s", 12345, "longer", -1234, "four");
	SAME("%c%c%c", 'a', ' ', 'z');
	SAME("100%% sure, %d%%", 7);
	SAME("%s", "a string of 100 characters long enough to be cut short by the smaller caps "
	    "that are tried");
}

static void
random_against_snprintf(void)
{
	static const char *const convs[] = { "d", "i", "u", "x", "X", "o", "ld", "lu", "lld", "llu",
	    "llx", "zu", "s", "c" };
	static const char *const flags[] = { "", "-", "0" };
	static const char *const strs[] = { "", "a", "nomx", "a somewhat longer text" };

	srand(1870);
	for (int i = 0; i < 200000; i++) {
		char f[32], g[128], w[128];
		const char *c = convs[rand() % (sizeof(convs) / sizeof(convs[0]))];
		int width = rand() % 4 == 0 ? rand() % 30 : 0, gn, wn;
		long long v = (long long)((unsigned long long)rand() << 33 ^ (unsigned long long)rand() << 11 ^
		    (unsigned long long)rand());
		size_t cap = (size_t)rand() % sizeof(g);

		v >>= rand() % 64;
		/* "%[flag][*]conv": '0' is undefined for s and c, not drawn */
		snprintf(f, sizeof(f), "%%%s%s%s", flags[rand() % (c[0] == 's' || c[0] == 'c' ? 2 : 3)],
		    width ? "*" : "", c);
#define BOTH(...) do { \
	gn = fmt_buf(g, cap, f, __VA_ARGS__); \
	wn = snprintf(w, cap, f, __VA_ARGS__); \
} while (0)
		if (c[0] == 's') {
			const char *s = strs[rand() % 4];
			if (width) BOTH(width, s); else BOTH(s);
		} else if (c[0] == 'c') {
			if (width) BOTH(width, 'q'); else BOTH('q');
		} else if (strstr(c, "ll") != NULL) {
			if (width) BOTH(width, v); else BOTH(v);
		} else if (c[0] == 'l') {
			if (width) BOTH(width, (long)v); else BOTH((long)v);
		} else if (c[0] == 'z') {
			if (width) BOTH(width, (size_t)v); else BOTH((size_t)v);
		} else {
			if (width) BOTH(width, (int)v); else BOTH((int)v);
		}
#undef BOTH
		CHECK(gn == wn && (cap == 0 || strcmp(g, w) == 0), "\"%s\" width %d cap %zu: \"%s\" "
		    "(%d), snprintf \"%s\" (%d)", f, width, cap, g, gn, w, wn);
		if (check_failed_case) {
			return;
		}
	}
}

/* What fmt_out/fmt_put send to standard output, read back from a
 * pipe put in its place. */
static size_t
through_stdout(void (*write_it)(void), char *got, size_t cap)
{
	int p[2], saved = dup(1);
	ssize_t n;
	size_t have = 0;

	fflush(stdout);
	CHECK(pipe(p) == 0 && dup2(p[1], 1) == 1, "pipe");
	write_it();
	CHECK(fmt_flush() == 0, "fmt_flush failed");
	dup2(saved, 1);
	close(saved);
	close(p[1]);
	while ((n = read(p[0], got + have, cap - have)) > 0) {
		have += (size_t)n;
	}
	close(p[0]);
	return have;
}

static void
lines(void)
{
	for (int i = 0; i < 3000; i++) {
		fmt_out("line %d of %s\n", i, "many");
	}
	fmt_put("end\n", 4);
}

static void
standard_output(void)
{
	static char got[64 * 1024], want[64 * 1024];
	size_t n = through_stdout(lines, got, sizeof(got)), w = 0;

	for (int i = 0; i < 3000; i++) {
		w += (size_t)snprintf(want + w, sizeof(want) - w, "line %d of %s\n", i, "many");
	}
	w += (size_t)snprintf(want + w, sizeof(want) - w, "end\n");
	CHECK(n == w && memcmp(got, want, w) == 0, "%zu bytes, not the %zu written", n, w);
}

static void
write_error_is_kept(void)
{
	int full = open("/dev/full", O_WRONLY), saved = dup(1);

	if (full < 0) {
		printf("# no /dev/full: skipped\n");
		return;
	}
	fflush(stdout);
	dup2(full, 1);
	fmt_out("%s\n", "lost");
	CHECK_INT(fmt_flush(), -1);
	CHECK_INT(fmt_flush(), -1);	/* it stays failed, as ferror does */
	dup2(saved, 1);
	close(saved);
	close(full);
}

static void
ipv6_text(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "::", "::" }, { "::1", "::1" }, { "1::", "1::" },
		{ "2001:db8::7", "2001:db8::7" },
		{ "2001:0db8:0000:0000:0001:0000:0000:0001", "2001:db8::1:0:0:1" },
		{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },
		{ "1:0:0:2:0:0:0:3", "1:0:0:2::3" },
		{ "fe80::abcd:ef01:2345:6789", "fe80::abcd:ef01:2345:6789" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
	};
	unsigned char b[16];
	char got[64], want[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(inet_pton(AF_INET6, cases[i].in, b) == 1, "%s", cases[i].in);
		peer_ip6_text(b, got, sizeof(got));
		CHECK_STR(got, cases[i].out);
	}
	/* Random addresses with zero groups here and there, beside the C
	 * library's text (both follow RFC 5952; the C libraries differ only
	 * for an IPv4 tail, which starts with 80 zero bits: not drawn). */
	srand(5952);
	for (int i = 0; i < 100000; i++) {
		for (int k = 0; k < 16; k += 2) {
			int zero = rand() % 2;
			b[k] = zero ? 0 : (unsigned char)(rand() % 3 == 0 ? 0 : rand());
			b[k + 1] = zero ? 0 : (unsigned char)rand();
		}
		b[0] |= 0x20;
		peer_ip6_text(b, got, sizeof(got));
		inet_ntop(AF_INET6, b, want, sizeof(want));
		CHECK(strcmp(got, want) == 0, "\"%s\", inet_ntop \"%s\"", got, want);
		if (check_failed_case) {
			return;
		}
	}
}

static void
numbers(void)
{
	static const struct {
		const char *in;
		unsigned base;
		int rc;
		uint64_t v;
		size_t used;
	} cases[] = {
		{ "0", 10, 0, 0, 1 }, { "42-7", 10, 0, 42, 2 }, { "18446744073709551615", 10, 0,
		UINT64_MAX, 20 }, { "18446744073709551616", 10, -1, 0, 0 },
		{ "99999999999999999999", 10, -1, 0, 0 }, { "", 10, -1, 0, 0 }, { "-1", 10, -1, 0, 0 },
		{ "+1", 10, -1, 0, 0 }, { " 1", 10, -1, 0, 0 }, { "0x10", 16, 0, 0, 1 },
		{ "00000000000000FF.nmx", 16, 0, 255, 16 }, { "ffffffffffffffff", 16, 0, UINT64_MAX, 16 },
		{ "10000000000000000", 16, -1, 0, 0 }, { "aB", 16, 0, 0xab, 2 }, { "aB", 10, -1, 0, 0 },
		{ "7g", 16, 0, 7, 1 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 12345;
		const char *end = NULL;
		int rc = number_parse(cases[i].in, cases[i].base, &v, &end);
		CHECK(rc == cases[i].rc && (rc < 0 || (v == cases[i].v &&
		    end == cases[i].in + cases[i].used)), "\"%s\" base %u: %d, %llu, %zu used", cases[i].in,
		    cases[i].base, rc, (unsigned long long)v, end ? (size_t)(end - cases[i].in) : 0);
	}
	/* Digits alone: as strtoull reads them. */
	srand(10);
	for (int i = 0; i < 100000; i++) {
		char s[24];
		unsigned base = rand() % 2 ? 10 : 16;
		unsigned long long want = (unsigned long long)rand() << 40 ^ (unsigned long long)rand()
		    << 20 ^ (unsigned long long)rand();
		uint64_t v;
		const char *end;
		char *wend;
		want >>= rand() % 64;
		snprintf(s, sizeof(s), base == 10 ? "%llu;" : rand() % 2 ? "%llx;" : "%llX;", want);
		CHECK(number_parse(s, base, &v, &end) == 0 && v == want && *end == ';' &&
		    strtoull(s, &wend, (int)base) == v && wend == end, "\"%s\"", s);
		if (check_failed_case) {
			return;
		}
	}
}

static void
division_in_32_bits(void)
{
	static const uint32_t divisors[] = { 1, 2, 7, 8, 10, 16, 1000, 86400, 65536, 65537,
	    (1u << 24) - 1 };
	static const uint64_t edges[] = { 0, 1, 9, 10, 999, 1000, UINT32_MAX, 1ULL << 32,
	    UINT64_MAX, UINT64_MAX - 1, 86400ULL * 4000000 };

	srand(24);
	for (int i = 0; i < 200000; i++) {
		uint32_t d = divisors[i % (sizeof(divisors) / sizeof(divisors[0]))];
		uint64_t n = i < 11 * 11 ? edges[i / 11] : ((uint64_t)rand() << 42 ^
		    (uint64_t)rand() << 21 ^ (uint64_t)rand()) >> rand() % 64;
		uint64_t q = n;
		uint32_t r = number_div(&q, d);
		CHECK(q == n / d && r == n % d, "%llu / %u: %llu rest %u", (unsigned long long)n, d,
		    (unsigned long long)q, r);
		if (check_failed_case) {
			return;
		}
	}
}

int
main(int argc, char **argv)
{
	static const struct check_case cases[] = {
		{ "conversions", conversions },
		{ "random_against_snprintf", random_against_snprintf },
		{ "standard_output", standard_output },
		{ "write_error_is_kept", write_error_is_kept },
		{ "ipv6_text", ipv6_text },
		{ "numbers", numbers },
		{ "division_in_32_bits", division_in_32_bits },
	};
	return check_run(cases, sizeof(cases) / sizeof(cases[0]), argc, argv);
}
