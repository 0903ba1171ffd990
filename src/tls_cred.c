/* SPDX-License-Identifier: ISC */
/*
 * PEM in, BearSSL structures out.  Files are streamed through
 * BearSSL's push decoders in small reads, so no file buffer is needed:
 * only the DER of the chain and the private key's numbers are kept.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"
#include "tls_cred.h"

#if NOMX_TLS

static struct tls_cred cred_sets[2];
static struct tls_cred *cred_cur;
static const char *cred_dir = ".";

/* What one PEM file is being read for. */
struct cred_read {
	struct tls_cred *c;
	int want_key;			/* key file (1) or chain file (0) */
	int in_obj;			/* inside an object we keep */
	size_t der_len;			/* chain: bytes of der[] used */
	int overflow;
	int keys;			/* key objects seen */
	int trailing;			/* bytes after the end of the key */
	br_skey_decoder_context skey;
};

void
tls_cred_base(const char *dir)
{
	cred_dir = dir;
}

void
tls_cred_path(const char *name, char *buf, size_t cap)
{
	if (name[0] == '/') {
		fmt_buf(buf, cap, "%s", name);
	} else {
		fmt_buf(buf, cap, "%s/%s", cred_dir, name);
	}
}

static void
cred_append_der(void *ctx, const void *data, size_t len)
{
	struct cred_read *r = ctx;

	if (r->overflow || r->der_len + len > sizeof(r->c->der)) {
		r->overflow = 1;
		return;
	}
	memcpy(r->c->der + r->der_len, data, len);
	r->der_len += len;
}

static void
cred_append_key(void *ctx, const void *data, size_t len)
{
	struct cred_read *r = ctx;

	/* BearSSL's decoder must not be fed once it has finished (key
	 * decoded, or an error): its engine has stopped, and running it
	 * again reads through a null pointer (found by pem_fuzz).  Bytes
	 * after the key are an error anyway. */
	if (r->skey.err != 0 || r->skey.key_type != 0) {
		r->trailing = 1;
		return;
	}
	br_skey_decoder_push(&r->skey, data, len);
}

static int
cred_is_key(const char *name)
{
	return strcmp(name, "EC PRIVATE KEY") == 0 || strcmp(name, "PRIVATE KEY") == 0 ||
	    strcmp(name, "RSA PRIVATE KEY") == 0;
}

/* A PEM object begins: decide where its bytes go. */
static int
cred_begin(br_pem_decoder_context *pc, struct cred_read *r)
{
	const char *name = br_pem_decoder_name(pc);

	r->in_obj = 0;
	if (r->want_key && cred_is_key(name)) {
		if (r->keys++ > 0) {
			return -1;	/* two keys: which one is meant? */
		}
		br_skey_decoder_init(&r->skey);
		br_pem_decoder_setdest(pc, cred_append_key, r);
		r->in_obj = 1;
	} else if (!r->want_key && strcmp(name, "CERTIFICATE") == 0) {
		if (r->c->chain_len == TLS_CRED_MAX_CERTS) {
			return -1;
		}
		r->c->chain[r->c->chain_len].data = r->c->der + r->der_len;
		br_pem_decoder_setdest(pc, cred_append_der, r);
		r->in_obj = 1;
	} else {
		br_pem_decoder_setdest(pc, NULL, NULL);	/* parameters, other objects */
	}
	return 0;
}

static void
cred_end(struct cred_read *r)
{
	if (r->in_obj && !r->want_key) {
		br_x509_certificate *x = &r->c->chain[r->c->chain_len++];
		x->data_len = (size_t)(r->c->der + r->der_len - x->data);
	}
	r->in_obj = 0;
}

/* Stream a PEM file through the decoder.  Returns 0 or -1 (why in *why). */
static int
cred_read_pem(const char *path, struct cred_read *r, const char **why)
{
	br_pem_decoder_context pc;
	unsigned char buf[512];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0) {
		*why = strerror(errno);
		return -1;
	}
	br_pem_decoder_init(&pc);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		const unsigned char *p = buf;
		size_t left = (size_t)n;
		while (left > 0) {
			size_t used = br_pem_decoder_push(&pc, p, left);
			p += used;
			left -= used;
			switch (br_pem_decoder_event(&pc)) {
			case BR_PEM_BEGIN_OBJ:
				if (cred_begin(&pc, r) < 0) {
					*why = r->want_key ? "more than one private key" :
					    "more than 8 certificates";
					close(fd);
					return -1;
				}
				break;
			case BR_PEM_END_OBJ:
				cred_end(r);
				break;
			case BR_PEM_ERROR:
				*why = "not valid PEM";
				close(fd);
				return -1;
			default:
				break;
			}
		}
	}
	close(fd);
	if (n < 0) {
		*why = strerror(errno);
		return -1;
	}
	if (r->overflow) {
		*why = "certificate chain larger than NOMX_TLS_CHAIN_MAX";
		return -1;
	}
	return 0;
}

/* Keep the private key's numbers in the set. */
static const char *
cred_take_key(struct cred_read *r)
{
	struct tls_cred *c = r->c;
	int type;

	if (r->keys == 0) {
		return "no private key in the file";
	}
	if (br_skey_decoder_last_error(&r->skey) != 0 || r->trailing) {
		return "private key not understood";
	}
	type = br_skey_decoder_key_type(&r->skey);
	if (type == BR_KEYTYPE_EC) {
		const br_ec_private_key *k = br_skey_decoder_get_ec(&r->skey);
		if (k->curve != BR_EC_secp256r1 || k->xlen > sizeof(c->keybuf)) {
			return "EC key is not on P-256";
		}
		memcpy(c->keybuf, k->x, k->xlen);
		c->ec = (br_ec_private_key){ k->curve, c->keybuf, k->xlen };
		c->rsa = 0;
		return NULL;
	}
#if NOMX_TLS_RSA
	if (type == BR_KEYTYPE_RSA) {
		const br_rsa_private_key *k = br_skey_decoder_get_rsa(&r->skey);
		unsigned char *p = c->keybuf;
		size_t total = k->plen + k->qlen + k->dplen + k->dqlen + k->iqlen;
		if (k->n_bitlen < 2048 || total > sizeof(c->keybuf)) {
			return "RSA key must have 2048 to 4096 bits";
		}
		c->rsa_key = *k;
		memcpy(p, k->p, k->plen), c->rsa_key.p = p, p += k->plen;
		memcpy(p, k->q, k->qlen), c->rsa_key.q = p, p += k->qlen;
		memcpy(p, k->dp, k->dplen), c->rsa_key.dp = p, p += k->dplen;
		memcpy(p, k->dq, k->dqlen), c->rsa_key.dq = p, p += k->dqlen;
		memcpy(p, k->iq, k->iqlen), c->rsa_key.iq = p;
		c->rsa = 1;
		return NULL;
	}
	return "key is neither EC P-256 nor RSA";
#else
	return "key is not EC P-256 (RSA keys need NOMX_TLS_RSA)";
#endif
}

/* The start of a P-256 public key's SubjectPublicKeyInfo in DER (RFC
 * 5480): SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING
 * of 66 bytes (no unused bits, then the 65-byte point) }. */
static const unsigned char cred_p256_spki[] = {
	0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
	0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
};

/* The leaf certificate must carry the public half of our key.  An EC
 * key's whole SubjectPublicKeyInfo is looked for in the certificate's
 * bytes rather than the certificate decoded: the same mistakes are
 * caught (another key's certificate, a file that is no certificate),
 * and BearSSL's X.509 decoder, 3 KB of a mipsel binary, stays out. */
static const char *
cred_check_match(struct tls_cred *c)
{
	if (!c->rsa) {
		unsigned char spki[sizeof(cred_p256_spki) + BR_EC_KBUF_PUB_MAX_SIZE];
		br_ec_public_key mine;
		const unsigned char *der = c->chain[0].data;
		size_t len = c->chain[0].data_len;
		size_t n = br_ec_compute_pub(&br_ec_p256_m31, &mine, spki + sizeof(cred_p256_spki),
		    &c->ec);

		if (n == 65) {
			memcpy(spki, cred_p256_spki, sizeof(cred_p256_spki));
			n += sizeof(cred_p256_spki);
			for (size_t i = 0; i + n <= len; i++) {
				if (memcmp(der + i, spki, n) == 0) {
					return NULL;
				}
			}
		}
		return "key does not match the first certificate";
	}
#if NOMX_TLS_RSA
	{
		static unsigned char mod[512];
		br_x509_decoder_context xd;
		const br_x509_pkey *pk;
		size_t n = br_rsa_i31_compute_modulus(mod, &c->rsa_key);
		const unsigned char *m;
		size_t mlen;

		br_x509_decoder_init(&xd, NULL, NULL);
		br_x509_decoder_push(&xd, c->chain[0].data, c->chain[0].data_len);
		pk = br_x509_decoder_get_pkey(&xd);
		if (pk == NULL || br_x509_decoder_last_error(&xd) != 0) {
			return "first certificate not understood";
		}
		m = pk->key.rsa.n;
		mlen = pk->key.rsa.nlen;
		while (mlen > 0 && *m == 0) {
			m++, mlen--;
		}
		if (pk->key_type != BR_KEYTYPE_RSA || n != mlen || memcmp(mod, m, n) != 0) {
			return "key does not match the first certificate";
		}
	}
#endif
	return NULL;
}

int
tls_cred_load(void)
{
	struct tls_cred *c = cred_cur == &cred_sets[0] ? &cred_sets[1] : &cred_sets[0];
	static struct cred_read r;	/* the key decoder is 2 KiB: not on the stack */
	char keypath[512], certpath[512];
	const char *why = NULL;

	if (c->users > 0) {
		log_warnx("tls: handshakes still use the previous key; try the reload again");
		return -1;
	}
	tls_cred_path(NOMX_TLS_KEY, keypath, sizeof(keypath));
	tls_cred_path(NOMX_TLS_CERT, certpath, sizeof(certpath));
	memset(c, 0, sizeof(*c));
	memset(&r, 0, sizeof(r));
	r.c = c;
	r.want_key = 1;
	if (cred_read_pem(keypath, &r, &why) < 0 || (why = cred_take_key(&r)) != NULL) {
		log_warnx("tls: cannot use key %s: %s", keypath, why);
		goto fail;
	}
	r.want_key = 0;
	if (cred_read_pem(certpath, &r, &why) < 0 ||
	    (c->chain_len == 0 && (why = "no certificate in the file")) ||
	    (why = cred_check_match(c)) != NULL) {
		log_warnx("tls: cannot use certificate %s: %s", certpath, why);
		goto fail;
	}
	cred_cur = c;
	log_info("tls: %s key, %zu certificate%s from %s", c->rsa ? "RSA" : "EC P-256",
	    c->chain_len, c->chain_len == 1 ? "" : "s", certpath);
	memset(&r, 0, sizeof(r));
	return 0;
fail:
	memset(&r, 0, sizeof(r));	/* no key bytes left behind */
	memset(c, 0, sizeof(*c));
	return -1;
}

struct tls_cred *
tls_cred_current(void)
{
	return cred_cur;
}

void
tls_cred_hold(struct tls_cred *c)
{
	c->users++;
}

void
tls_cred_drop(struct tls_cred *c)
{
	c->users--;
}

#endif
