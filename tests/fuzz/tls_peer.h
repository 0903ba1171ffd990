/* SPDX-License-Identifier: ISC */
/*
 * For the TLS fuzz targets: nomx's TLS set up with a key `nomx keygen`
 * makes in a temporary folder, and an in-process BearSSL client that
 * trusts exactly that key.  Static functions: each target is one file.
 */
#ifndef NOMX_FUZZ_TLS_PEER_H
#define NOMX_FUZZ_TLS_PEER_H

#include <stdlib.h>

#include <bearssl.h>

#include "keygen.h"
#include "tls.h"
#include "tls_cred.h"

static br_ec_public_key tls_peer_server_pub;
static unsigned char tls_peer_server_pub_buf[BR_EC_KBUF_PUB_MAX_SIZE];

/* keygen into dir (a mkdtemp template), load it as the daemon does. */
static void
tls_peer_server_setup(char *dir)
{
	char *argv[] = { "-f", NULL };

	if (mkdtemp(dir) == NULL || keygen_main(dir, 1, argv) != 0 || tls_init() != 1 ||
	    br_ec_compute_pub(&br_ec_p256_m31, &tls_peer_server_pub, tls_peer_server_pub_buf,
	    &tls_cred_current()->ec) == 0) {
		abort();
	}
}

struct tls_peer {
	br_ssl_client_context cc;
	br_x509_minimal_context xm;
	br_x509_knownkey_context xk;
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

/* Start a client handshake for mail.example.com; its engine. */
static br_ssl_engine_context *
tls_peer_start(struct tls_peer *p, unsigned char seed_byte)
{
	unsigned char seed[32] = { seed_byte };

	br_ssl_client_init_full(&p->cc, &p->xm, NULL, 0);
	br_x509_knownkey_init_ec(&p->xk, &tls_peer_server_pub, BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN);
	br_ssl_engine_set_x509(&p->cc.eng, &p->xk.vtable);
	br_ssl_engine_set_buffer(&p->cc.eng, p->iobuf, sizeof(p->iobuf), 1);
	br_ssl_engine_inject_entropy(&p->cc.eng, seed, sizeof(seed));
	if (!br_ssl_client_reset(&p->cc, "mail.example.com", 0)) {
		abort();
	}
	return &p->cc.eng;
}

#endif
