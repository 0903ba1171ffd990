/* SPDX-License-Identifier: ISC */
/*
 * Paths and the accept tables: parses RFC 5321 reverse- and forward-
 * paths and decides, with no DNS at all, whether a recipient is ours.
 * This is the part that keeps nomx from ever being a relay.
 */
#ifndef NOMX_ADDR_H
#define NOMX_ADDR_H

#include <stddef.h>

/* RFC 5321 4.5.3.1: local part 64, domain 255, path 256 octets. */
#define ADDR_LOCAL_MAX 64
#define ADDR_DOMAIN_MAX 255
#define ADDR_PATH_MAX 256

enum addr_result {
	ADDR_OK,	/* parsed; for a recipient: ours, mailbox set */
	ADDR_NULL,	/* the null path "<>" */
	ADDR_SYNTAX,	/* malformed path: 501 5.1.3 */
	ADDR_TOO_LONG,	/* over an RFC 5321 length limit: 501 5.1.3 */
	ADDR_8BIT,	/* non-ASCII without SMTPUTF8: 553 5.6.7 */
	ADDR_RELAY,	/* not one of our names, or a routing trick: 550 5.7.1 */
	ADDR_UNKNOWN,	/* our name, unknown local part: 550 5.1.1 */
};

struct addr_path {
	/* "local@domain" as the client gave it, source route dropped,
	 * NUL-terminated; "" for the null path. */
	char addr[ADDR_PATH_MAX + 1];
	/* The mailbox a recipient resolves to (a static string). */
	const char *mailbox;
};

/*
 * Parse the path at s[0..len) (it must start with '<').  *used gets
 * the bytes consumed, through the closing '>'.  utf8: the transaction
 * declared SMTPUTF8, so non-ASCII is allowed in the mailbox.
 */
enum addr_result addr_parse(const char *s, size_t len, int utf8, size_t *used,
    struct addr_path *out);

/*
 * The recipient check: parse as addr_parse, then accept exactly
 * <postmaster>, local@NOMX_HOSTNAME (a trailing dot tolerated) and
 * local@[NOMX_STATIC_IP], with local in the mailbox table.  Never
 * ADDR_NULL: "<>" as a recipient is ADDR_SYNTAX.
 */
enum addr_result addr_rcpt(const char *s, size_t len, int utf8, size_t *used,
    struct addr_path *out);

/* The mailbox a local part (len bytes, unquoted) delivers to, or NULL.
 * Case-insensitive; secondary addresses resolve to their mailbox. */
const char *addr_mailbox(const char *local, size_t len);

/* Calls fn once per mailbox row, for nomx -V. */
void addr_each_mailbox(void (*fn)(const char *mailbox, const char *aliases));

#endif
