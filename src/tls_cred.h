/* SPDX-License-Identifier: ISC */
/*
 * The server's key and certificate chain, read from PEM files.  Two
 * static sets: a reload fills the spare one and switches only if the
 * whole of it loaded, so a bad file on SIGHUP never takes TLS away, and
 * handshakes already under way keep the set they started with.
 */
#ifndef NOMX_TLS_CRED_H
#define NOMX_TLS_CRED_H

#include <bearssl.h>
#include <stddef.h>

#include "../config.h"

#define TLS_CRED_MAX_CERTS 8

struct tls_cred {
	int rsa;			/* key type: RSA (1) or EC (0) */
	br_ec_private_key ec;
#if NOMX_TLS_RSA
	br_rsa_private_key rsa_key;
	unsigned char keybuf[BR_RSA_KBUF_PRIV_SIZE(4096)];
#else
	unsigned char keybuf[BR_EC_KBUF_PRIV_MAX_SIZE];
#endif
	br_x509_certificate chain[TLS_CRED_MAX_CERTS];
	size_t chain_len;
	unsigned char der[NOMX_TLS_CHAIN_MAX];
	unsigned users;			/* engines that were given this set */
};

/* Where relative key and certificate paths are looked up: the spool
 * folder before the chroot, "/" inside it. */
void tls_cred_base(const char *dir);

/* A key or certificate path as configured: absolute, or relative to
 * the base folder. */
void tls_cred_path(const char *name, char *buf, size_t cap);

/* Load NOMX_TLS_KEY and NOMX_TLS_CERT into the spare set and make it
 * current.  0, or -1 with the reason logged (the current set stays). */
int tls_cred_load(void);

/* The current set, or NULL if none ever loaded.  tls_cred_hold marks
 * it in use by one more engine; tls_cred_drop undoes that. */
struct tls_cred *tls_cred_current(void);
void tls_cred_hold(struct tls_cred *c);
void tls_cred_drop(struct tls_cred *c);

#endif
