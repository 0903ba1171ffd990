/* SPDX-License-Identifier: ISC */
/*
 * The accept tables, case by case (dev config: mail.example.com,
 * [127.0.0.1] and [IPv6:::1]; mailboxes alice (alice.smith, a.smith),
 * bob, postmaster).
 */
#include "addr.h"
#include "check.h"

struct rcpt_case {
	const char *path;
	enum addr_result want;
	const char *mailbox;	/* for ADDR_OK */
};

static const struct rcpt_case rcpt_cases[] = {
	/* ours */
	{ "<alice@mail.example.com>", ADDR_OK, "alice" },
	{ "<ALICE@Mail.Example.COM>", ADDR_OK, "alice" },
	{ "<alice@mail.example.com.>", ADDR_OK, "alice" },
	{ "<alice.smith@mail.example.com>", ADDR_OK, "alice" },
	{ "<A.Smith@mail.example.com>", ADDR_OK, "alice" },
	{ "<bob@[127.0.0.1]>", ADDR_OK, "bob" },
	{ "<bob@[127.000.0.001]>", ADDR_OK, "bob" },
	{ "<postmaster>", ADDR_OK, "postmaster" },
	{ "<PostMaster>", ADDR_OK, "postmaster" },
	{ "<postmaster@mail.example.com>", ADDR_OK, "postmaster" },
	{ "<postmaster@[127.0.0.1]>", ADDR_OK, "postmaster" },
	/* ::1 in every spelling of RFC 4291 2.2 (RFC 5321 4.1.3), any tag case */
	{ "<bob@[IPv6:::1]>", ADDR_OK, "bob" },
	{ "<bob@[ipv6:::1]>", ADDR_OK, "bob" },
	{ "<bob@[IPV6:0:0:0:0:0:0:0:1]>", ADDR_OK, "bob" },
	{ "<bob@[IPv6:0000:0000:0000:0000:0000:0000:0000:0001]>", ADDR_OK, "bob" },
	{ "<bob@[IPv6:0::1]>", ADDR_OK, "bob" },
	{ "<bob@[IPv6:0:0:0::0:1]>", ADDR_OK, "bob" },
	{ "<bob@[IPv6:0:0:0:0:0:0::1]>", ADDR_OK, "bob" },
	{ "<bob@[IPv6:::0.0.0.1]>", ADDR_OK, "bob" },
	{ "<bob@[IPv6:0:0:0:0:0:0:0.0.0.1]>", ADDR_OK, "bob" },
	{ "<postmaster@[IPv6:0::0001]>", ADDR_OK, "postmaster" },
	{ "<@[IPv6:::1]:bob@mail.example.com>", ADDR_OK, "bob" },
	{ "<carol@[IPv6:::1]>", ADDR_UNKNOWN, NULL },
	{ "<\"alice\"@mail.example.com>", ADDR_OK, "alice" },
	{ "<\"al\\ice\"@mail.example.com>", ADDR_OK, "alice" },
	/* a source route that ends at us, through our own names */
	{ "<@mail.example.com:bob@mail.example.com>", ADDR_OK, "bob" },
	{ "<@[127.0.0.1],@mail.example.com:bob@mail.example.com>", ADDR_OK, "bob" },
	/* our names, unknown local part */
	{ "<carol@mail.example.com>", ADDR_UNKNOWN, NULL },
	{ "<alice.smithx@[127.0.0.1]>", ADDR_UNKNOWN, NULL },
	/* relay attempts */
	{ "<alice@example.com>", ADDR_RELAY, NULL },
	{ "<alice@mail.example.com.evil.org>", ADDR_RELAY, NULL },
	{ "<alice@xmail.example.com>", ADDR_RELAY, NULL },
	{ "<alice@localhost>", ADDR_RELAY, NULL },
	{ "<alice@[10.0.0.1]>", ADDR_RELAY, NULL },
	{ "<alice@[127.0.0.2]>", ADDR_RELAY, NULL },
	/* near misses of ::1: other addresses, our IPv4 address mapped or
	 * compatible, malformed or untagged, zones, prefixes */
	{ "<alice@[IPv6:::2]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6:::1:0]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6:1::]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6:::]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6:::1:1]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6:1:0:0:0:0:0:0:1]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6:::ffff:127.0.0.1]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6:::127.0.0.1]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6:00001::1]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6:::00001]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6:0:0:0:0:0:0:0:0:1]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6:0:0:0:0:0:0:1]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6:::1::]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6:::1%lo]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6:::1/128]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6::::1]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6:::0.0.0.256]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6:::1.]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6:]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6::1]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv7:::1]>", ADDR_RELAY, NULL },
	{ "<alice@[::1]>", ADDR_RELAY, NULL },
	{ "<alice@[IPv6:127.0.0.1]>", ADDR_RELAY, NULL },
	{ "<alice@[tag:127.0.0.1]>", ADDR_RELAY, NULL },
	{ "<alice@[127.0.0.1.5]>", ADDR_RELAY, NULL },
	{ "<alice@[1270.0.0.1]>", ADDR_RELAY, NULL },
	{ "<@other.example:alice@mail.example.com>", ADDR_RELAY, NULL },
	{ "<@mail.example.com,@other.example:alice@mail.example.com>", ADDR_RELAY, NULL },
	{ "<@mail.example.com:alice@other.example>", ADDR_RELAY, NULL },
	{ "<alice%other.example@mail.example.com>", ADDR_RELAY, NULL },
	{ "<other.example!alice@mail.example.com>", ADDR_RELAY, NULL },
	{ "<\"alice@other.example\"@mail.example.com>", ADDR_RELAY, NULL },
	{ "<\"alice%other\"@[127.0.0.1]>", ADDR_RELAY, NULL },
	/* malformed */
	{ "<>", ADDR_SYNTAX, NULL },
	{ "alice@mail.example.com", ADDR_SYNTAX, NULL },
	{ "<alice@mail.example.com", ADDR_SYNTAX, NULL },
	{ "<alice @mail.example.com>", ADDR_SYNTAX, NULL },
	{ "<alice@ mail.example.com>", ADDR_SYNTAX, NULL },
	{ "<alice>", ADDR_SYNTAX, NULL },
	{ "<alice@>", ADDR_SYNTAX, NULL },
	{ "<@mail.example.com>", ADDR_SYNTAX, NULL },
	{ "<.alice@mail.example.com>", ADDR_SYNTAX, NULL },
	{ "<alice..x@mail.example.com>", ADDR_SYNTAX, NULL },
	{ "<alice@mail..example.com>", ADDR_SYNTAX, NULL },
	{ "<alice@.mail.example.com>", ADDR_SYNTAX, NULL },
	{ "<\"alice@mail.example.com>", ADDR_SYNTAX, NULL },
	{ "<alice@[127.0.0.1>", ADDR_SYNTAX, NULL },
	{ "<alice@mail.example.com>>", ADDR_OK, "alice" },	/* used stops at the first '>' */
	{ "<a\x01@mail.example.com>", ADDR_SYNTAX, NULL },
	{ "<al\xc3\xa9@mail.example.com>", ADDR_8BIT, NULL },
	{ "<aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@mail.example.com>",
	    ADDR_TOO_LONG, NULL },
};

static void
rcpt_table(void)
{
	for (size_t i = 0; i < sizeof(rcpt_cases) / sizeof(rcpt_cases[0]); i++) {
		const struct rcpt_case *c = &rcpt_cases[i];
		struct addr_path p;
		size_t used = 0;
		enum addr_result r = addr_rcpt(c->path, strlen(c->path), 0, &used, &p);
		CHECK(r == c->want, "%s: expected %d, got %d", c->path, c->want, r);
		if (r == ADDR_OK && c->want == ADDR_OK) {
			CHECK(p.mailbox != NULL && strcmp(p.mailbox, c->mailbox) == 0,
			    "%s: mailbox expected %s, got %s", c->path, c->mailbox,
			    p.mailbox ? p.mailbox : "(null)");
		}
	}
}

static void
rcpt_utf8_with_smtputf8(void)
{
	const char *p = "<al\xc3\xa9@mail.example.com>";
	struct addr_path out;
	size_t used;

	/* Allowed, parsed, and unknown (the table is ASCII). */
	CHECK_INT(addr_rcpt(p, strlen(p), 1, &used, &out), ADDR_UNKNOWN);
}

static void
rcpt_used_and_addr(void)
{
	const char *p = "<@mail.example.com:Bob@MAIL.example.com> NOTIFY=NEVER";
	struct addr_path out;
	size_t used = 0;

	CHECK_INT(addr_rcpt(p, strlen(p), 0, &used, &out), ADDR_OK);
	CHECK_INT(used, strlen("<@mail.example.com:Bob@MAIL.example.com>"));
	/* The route is dropped, the mailbox kept as written. */
	CHECK_STR(out.addr, "Bob@MAIL.example.com");
}

static void
path_too_long(void)
{
	char p[400];
	struct addr_path out;
	size_t used;

	/* 60-char local part, a 250-char domain: each within limits, the
	 * path over 256. */
	memset(p, 'a', sizeof(p));
	p[0] = '<';
	p[61] = '@';
	for (int i = 62; i < 312; i += 10) {
		p[i] = i == 62 ? 'a' : '.';
	}
	p[312] = '>';
	CHECK_INT(addr_parse(p, 313, 0, &used, &out), ADDR_TOO_LONG);
}

static void
sender_paths(void)
{
	struct addr_path out;
	size_t used;

	CHECK_INT(addr_parse("<>", 2, 0, &used, &out), ADDR_NULL);
	CHECK_INT(used, 2);
	CHECK_INT(addr_parse("<ups@ups_01.local>", 18, 0, &used, &out), ADDR_OK);
	CHECK_STR(out.addr, "ups@ups_01.local");
	CHECK_INT(addr_parse("<@relay.example:x@y.example>", 28, 0, &used, &out), ADDR_OK);
	CHECK_STR(out.addr, "x@y.example");
	CHECK_INT(addr_parse("<x@[10.1.2.3]>", 14, 0, &used, &out), ADDR_OK);
	CHECK_INT(addr_parse("<postmaster>", 12, 0, &used, &out), ADDR_SYNTAX);
	CHECK_INT(addr_parse("<x@y", 4, 0, &used, &out), ADDR_SYNTAX);
}

static void
mailbox_lookup(void)
{
	CHECK_STR(addr_mailbox("BOB", 3), "bob");
	CHECK_STR(addr_mailbox("a.smith", 7), "alice");
	CHECK(addr_mailbox("a.smit", 6) == NULL, "prefix must not match");
	CHECK(addr_mailbox("smith", 5) == NULL, "suffix must not match");
	CHECK_STR(addr_mailbox("postmaster", 10), "postmaster");
}

CHECK_MAIN(CASE(rcpt_table), CASE(rcpt_utf8_with_smtputf8), CASE(rcpt_used_and_addr),
    CASE(path_too_long), CASE(sender_paths), CASE(mailbox_lookup))
