/* SPDX-License-Identifier: ISC */
/*
 * RFC 5321 path parsing (4.1.2) and the accept tables.
 *
 * The parser is strict where strictness keeps us from relaying and
 * tolerant only where real devices need it: a trailing dot on our
 * hostname.  A recipient is ours only if its domain is NOMX_HOSTNAME,
 * the literal [NOMX_STATIC_IP] or [IPv6:NOMX_STATIC_IP6] (the same
 * address, however spelt) and it carries no routing
 * trick: '%', '!' or a quoted '@' in the local part, or a source route
 * through anything but our own names (RFC 5321 appendix C lets a server
 * ignore a route that ends at itself; a route through elsewhere is a
 * relay request and refused).
 */
#include <string.h>

#include "../config.h"
#include "addr.h"
#include "ip_parse.h"
#include "text.h"

#define ADDR_MAX_ROUTE 8

struct addr_span {
	const char *p;
	size_t len;
};

struct addr_parsed {
	struct addr_span route[ADDR_MAX_ROUTE];
	size_t nroute;
	char local[ADDR_LOCAL_MAX + 1];	/* unquoted */
	size_t local_len;
	int local_trick;		/* '%', '!' or '@' in the local part */
	struct addr_span mailbox;	/* local@domain as written */
	struct addr_span domain;	/* empty for <postmaster> */
	int literal;			/* domain is [...] */
};

struct addr_row {
	const char *mailbox;
	const char *aliases;
};

#define ADDR_ROW(mailbox, aliases) { mailbox, aliases },
static const struct addr_row addr_table[] = {
	NOMX_MAILBOXES(ADDR_ROW)
};

static int
addr_eq_nocase(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && ascii_same(a, b, alen);
}

static int
addr_is_atext(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
		return 1;
	}
	return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static int
addr_is_ldh(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_';
}

/*
 * A domain or address literal at s[*i..len).  Labels are letters,
 * digits, '-' and '_' (devices name themselves "ups_01"), or UTF-8 when
 * allowed; a single trailing dot is tolerated.
 */
static enum addr_result
addr_parse_domain(const char *s, size_t len, size_t *i, int utf8, struct addr_parsed *a)
{
	size_t start = *i, label = 0;

	if (*i < len && s[*i] == '[') {
		while (*i < len && s[*i] != ']') {
			unsigned char c = (unsigned char)s[*i];
			if (c < 33 || c > 126 || (*i > start && (c == '[' || c == '\\'))) {
				return c >= 0x80 && !utf8 ? ADDR_8BIT : ADDR_SYNTAX;
			}
			(*i)++;
		}
		if (*i >= len || *i - start < 2) {
			return ADDR_SYNTAX;
		}
		(*i)++;
		a->domain.p = s + start;
		a->domain.len = *i - start;
		a->literal = 1;
		return ADDR_OK;
	}
	while (*i < len) {
		unsigned char c = (unsigned char)s[*i];
		if (addr_is_ldh(c)) {
			label++;
		} else if (c >= 0x80) {
			if (!utf8) {
				return ADDR_8BIT;
			}
			label++;
		} else if (c == '.' && label > 0) {
			label = 0;
		} else {
			break;
		}
		(*i)++;
	}
	if (*i == start || (label == 0 && *i - start == 1)) {
		return ADDR_SYNTAX;
	}
	a->domain.p = s + start;
	a->domain.len = *i - start;
	a->literal = 0;
	return a->domain.len > ADDR_DOMAIN_MAX ? ADDR_TOO_LONG : ADDR_OK;
}

static enum addr_result
addr_parse_local(const char *s, size_t len, size_t *i, int utf8, struct addr_parsed *a)
{
	size_t start = *i;

	a->local_len = 0;
	a->local_trick = 0;
	if (*i < len && s[*i] == '"') {
		for ((*i)++; *i < len && s[*i] != '"'; (*i)++) {
			unsigned char c = (unsigned char)s[*i];
			if (c == '\\') {
				if (++(*i) >= len) {
					return ADDR_SYNTAX;
				}
				c = (unsigned char)s[*i];
			}
			if (c >= 0x80 && !utf8) {
				return ADDR_8BIT;
			}
			if (c < 32 || c == 127) {
				return ADDR_SYNTAX;
			}
			if (a->local_len >= ADDR_LOCAL_MAX) {
				return ADDR_TOO_LONG;
			}
			a->local_trick |= c == '%' || c == '!' || c == '@';
			a->local[a->local_len++] = (char)c;
		}
		if (*i >= len) {
			return ADDR_SYNTAX;
		}
		(*i)++;
	} else {
		int atom = 0;
		for (; *i < len; (*i)++) {
			unsigned char c = (unsigned char)s[*i];
			if (c >= 0x80 && !utf8) {
				return ADDR_8BIT;
			}
			if (addr_is_atext(c) || c >= 0x80) {
				atom++;
			} else if (c == '.' && atom > 0) {
				atom = 0;
			} else {
				break;
			}
			if (a->local_len >= ADDR_LOCAL_MAX) {
				return ADDR_TOO_LONG;
			}
			a->local_trick |= c == '%' || c == '!';
			a->local[a->local_len++] = (char)c;
		}
		if (atom == 0) {
			return ADDR_SYNTAX;
		}
	}
	if (*i - start > ADDR_LOCAL_MAX) {
		return ADDR_TOO_LONG;
	}
	a->local[a->local_len] = '\0';
	return ADDR_OK;
}

/* The grammar of 4.1.2, Path = "<" [ A-d-l ":" ] Mailbox ">". */
static enum addr_result
addr_parse_path(const char *s, size_t len, int utf8, size_t *used, struct addr_parsed *a)
{
	size_t i = 1;
	enum addr_result r;

	memset(a, 0, sizeof(*a));
	if (len < 2 || s[0] != '<') {
		return ADDR_SYNTAX;
	}
	if (s[1] == '>') {
		*used = 2;
		return ADDR_NULL;
	}
	if (s[i] == '@') {
		for (;;) {
			struct addr_parsed hop;
			i++;
			if ((r = addr_parse_domain(s, len, &i, utf8, &hop)) != ADDR_OK) {
				return r;
			}
			if (a->nroute == ADDR_MAX_ROUTE) {
				return ADDR_TOO_LONG;
			}
			a->route[a->nroute++] = hop.domain;
			if (i + 1 < len && s[i] == ',' && s[i + 1] == '@') {
				i++;
				continue;
			}
			if (i >= len || s[i] != ':') {
				return ADDR_SYNTAX;
			}
			i++;
			break;
		}
	}
	a->mailbox.p = s + i;
	if ((r = addr_parse_local(s, len, &i, utf8, a)) != ADDR_OK) {
		return r;
	}
	if (i < len && s[i] == '@') {
		i++;
		if ((r = addr_parse_domain(s, len, &i, utf8, a)) != ADDR_OK) {
			return r;
		}
	}
	if (i >= len || s[i] != '>') {
		return i > ADDR_PATH_MAX ? ADDR_TOO_LONG : ADDR_SYNTAX;
	}
	a->mailbox.len = (size_t)(s + i - a->mailbox.p);
	*used = i + 1;
	if (*used > ADDR_PATH_MAX) {
		return ADDR_TOO_LONG;
	}
	return ADDR_OK;
}

static void
addr_copy_out(const struct addr_parsed *a, struct addr_path *out)
{
	memcpy(out->addr, a->mailbox.p, a->mailbox.len);
	out->addr[a->mailbox.len] = '\0';
	out->mailbox = NULL;
}

enum addr_result
addr_parse(const char *s, size_t len, int utf8, size_t *used, struct addr_path *out)
{
	struct addr_parsed a;
	enum addr_result r = addr_parse_path(s, len, utf8, used, &a);

	out->addr[0] = '\0';
	out->mailbox = NULL;
	if (r == ADDR_OK && a.domain.len == 0) {
		return ADDR_SYNTAX;	/* a mailbox needs a domain */
	}
	if (r == ADDR_OK) {
		addr_copy_out(&a, out);
	}
	return r;
}

/* [a.b.c.d] as four numbers, each 0-255 in at most 3 digits. */
static int
addr_ipv4_literal(const char *p, size_t len, unsigned char ip[4])
{
	size_t i = 1;

	if (len < 9 || p[0] != '[' || p[len - 1] != ']') {
		return 0;
	}
	for (int k = 0; k < 4; k++) {
		unsigned v = 0, digits = 0;
		while (i < len - 1 && p[i] >= '0' && p[i] <= '9' && digits < 4) {
			v = v * 10 + (unsigned)(p[i++] - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255) {
			return 0;
		}
		ip[k] = (unsigned char)v;
		if (k < 3 && (i >= len - 1 || p[i++] != '.')) {
			return 0;
		}
	}
	return i == len - 1;
}

/* [IPv6:...] (the tag in any case) as 16 bytes.  ip6_parse takes each
 * text form of RFC 4291 2.2, which RFC 5321 4.1.3 spells: full,
 * "::"-compressed, leading zeros, an IPv4 tail; nothing else (no zone,
 * no prefix length, no group over 4 digits). */
static int
addr_ipv6_literal(const char *p, size_t len, unsigned char ip[16])
{
	char text[48];

	if (len < 8 || p[0] != '[' || p[len - 1] != ']' || !addr_eq_nocase(p + 1, 5, "IPv6:", 5) ||
	    len - 7 >= sizeof(text)) {
		return 0;
	}
	memcpy(text, p + 6, len - 7);
	text[len - 7] = '\0';
	return ip6_parse(text, ip);
}

static int
addr_is_our_domain(const char *p, size_t len, int literal)
{
	static const char host[] = NOMX_HOSTNAME;
	static const char lit[] = "[" NOMX_STATIC_IP "]";
	static const char lit6[] = "[IPv6:" NOMX_STATIC_IP6 "]";
	unsigned char ours[16], theirs[16];

	if (literal && addr_ipv6_literal(p, len, theirs)) {
		/* the same 128 bits, however spelt */
		return sizeof(NOMX_STATIC_IP6) > 1 && addr_ipv6_literal(lit6, sizeof(lit6) - 1, ours) &&
		    memcmp(ours, theirs, 16) == 0;
	}
	if (literal) {
		return addr_ipv4_literal(lit, sizeof(lit) - 1, ours) &&
		    addr_ipv4_literal(p, len, theirs) && memcmp(ours, theirs, 4) == 0;
	}
	if (len > 0 && p[len - 1] == '.') {
		len--;
	}
	return addr_eq_nocase(p, len, host, sizeof(host) - 1);
}

const char *
addr_mailbox(const char *local, size_t len)
{
	for (size_t r = 0; r < sizeof(addr_table) / sizeof(addr_table[0]); r++) {
		const char *m = addr_table[r].mailbox, *al = addr_table[r].aliases;
		if (addr_eq_nocase(local, len, m, strlen(m))) {
			return m;
		}
		while (*al != '\0') {
			size_t n = strcspn(al, " ");
			if (n > 0 && addr_eq_nocase(local, len, al, n)) {
				return m;
			}
			al += n;
			al += strspn(al, " ");
		}
	}
	if (addr_eq_nocase(local, len, "postmaster", 10)) {
		return "postmaster";
	}
	if (sizeof(NOMX_CATCHALL) > 1) {
		return NOMX_CATCHALL;
	}
	return NULL;
}

enum addr_result
addr_rcpt(const char *s, size_t len, int utf8, size_t *used, struct addr_path *out)
{
	struct addr_parsed a;
	enum addr_result r = addr_parse_path(s, len, utf8, used, &a);

	out->addr[0] = '\0';
	out->mailbox = NULL;
	if (r == ADDR_NULL) {
		return ADDR_SYNTAX;
	}
	if (r != ADDR_OK) {
		return r;
	}
	for (size_t k = 0; k < a.nroute; k++) {
		if (!addr_is_our_domain(a.route[k].p, a.route[k].len, 0) &&
		    !addr_is_our_domain(a.route[k].p, a.route[k].len, 1)) {
			return ADDR_RELAY;
		}
	}
	addr_copy_out(&a, out);
	if (a.domain.len == 0) {
		/* RFC 5321 4.1.1.3: <postmaster> with no domain. */
		if (a.nroute == 0 && addr_eq_nocase(a.local, a.local_len, "postmaster", 10)) {
			out->mailbox = "postmaster";
			return ADDR_OK;
		}
		return ADDR_SYNTAX;
	}
	if (!addr_is_our_domain(a.domain.p, a.domain.len, a.literal) || a.local_trick) {
		return ADDR_RELAY;
	}
	out->mailbox = addr_mailbox(a.local, a.local_len);
	return out->mailbox != NULL ? ADDR_OK : ADDR_UNKNOWN;
}

void
addr_each_mailbox(void (*fn)(const char *mailbox, const char *aliases))
{
	int have_postmaster = 0;

	for (size_t r = 0; r < sizeof(addr_table) / sizeof(addr_table[0]); r++) {
		fn(addr_table[r].mailbox, addr_table[r].aliases);
		have_postmaster |= strcmp(addr_table[r].mailbox, "postmaster") == 0;
	}
	if (!have_postmaster) {
		fn("postmaster", "");
	}
}
