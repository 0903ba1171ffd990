/* SPDX-License-Identifier: ISC */
/*
 * AUTH PLAIN and LOGIN (RFC 4954, 4616) against the compiled-in
 * credentials table.  Authentication is only ever a gate some devices
 * insist on: it never changes which recipients are accepted.
 */
#ifndef NOMX_AUTH_H
#define NOMX_AUTH_H

#include <stddef.h>

/* Is AUTH offered to a session (with or without TLS)? */
int auth_offered(int tls);

/* 1 if user/password are in the table (or NOMX_AUTH_ANY), else 0.
 * Compares every entry in full, so timing does not tell which part
 * was wrong. */
int auth_check(const char *user, size_t ulen, const char *pass, size_t plen);

/* A decoded SASL PLAIN message, "authzid NUL authcid NUL passwd":
 * 1 accepted, 0 refused, -1 malformed.  The user name is copied to
 * user (NUL-ended, for the log). */
int auth_plain(const unsigned char *msg, size_t len, char *user, size_t ucap);

#endif
