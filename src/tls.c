/* SPDX-License-Identifier: ISC */
/*
 * The BearSSL server profile, configured piece by piece so that only
 * what it names is linked: TLS 1.2 (1.0 with NOMX_TLS_LEGACY), ECDHE on
 * X25519 (NOMX_TLS_X25519) and P-256, ECDSA P-256 certificates (RSA
 * with NOMX_TLS_RSA), ChaCha20-Poly1305 and AES-GCM (AES-256 only with
 * NOMX_TLS_SHA384); AES-CBC only with NOMX_TLS_LEGACY; session resumption by ID (NOMX_TLS_SESSION_CACHE).
 * BearSSL has no RC4/3DES here, no compression, and renegotiation is
 * refused.
 *
 * ChaCha20 comes first in our preference: router CPUs have no AES
 * instructions, and BearSSL's constant-time AES is several times slower
 * than its ChaCha20 there.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "../config.h"
#include "fmt.h"
#include "log.h"
#include "tls.h"

#if NOMX_TLS

#include <bearssl.h>

#include "rand.h"
#include "tls_cred.h"

/* Our records carry at most 4 KiB: replies are small, and the output
 * buffer is the one BearSSL lets us shrink (input must hold a full
 * 16 KiB record, since the client chooses its record size). */
#define TLS_OBUF (4096 + 85)

struct tls {
	br_ssl_server_context sc;
	unsigned char ibuf[BR_SSL_BUFSIZE_INPUT];
	unsigned char obuf[TLS_OBUF];
	struct tls_cred *cred;	/* the key set this handshake uses */
	int taken;
	int established;
};

static struct tls tls_pool[NOMX_TLS_SESSIONS];
static int tls_ok;

#if NOMX_TLS_SESSION_CACHE
/* Finished sessions, for every engine: resumed by the client's session
 * ID. */
static unsigned char tls_cache_store[NOMX_TLS_SESSION_CACHE];
static br_ssl_session_cache_lru tls_cache;
#endif

static const uint16_t tls_suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
#if NOMX_TLS_SHA384
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
#endif
#if NOMX_TLS_RSA
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
#if NOMX_TLS_SHA384
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
#endif
#endif
#if NOMX_TLS_LEGACY
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
#if NOMX_TLS_RSA
	BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
#endif
#endif
};

#if NOMX_TLS_X25519
/* ECDHE over X25519 when the client offers it (BearSSL's server then
 * prefers it), P-256 otherwise: one br_ec_impl that hands each curve
 * to its own implementation. */
static const br_ec_impl *
tls_ec_for(int curve)
{
	return curve == BR_EC_curve25519 ? &br_ec_c25519_m31 : &br_ec_p256_m31;
}

static const unsigned char *
tls_ec_generator(int curve, size_t *len)
{
	return tls_ec_for(curve)->generator(curve, len);
}

static const unsigned char *
tls_ec_order(int curve, size_t *len)
{
	return tls_ec_for(curve)->order(curve, len);
}

static size_t
tls_ec_xoff(int curve, size_t *len)
{
	return tls_ec_for(curve)->xoff(curve, len);
}

static uint32_t
tls_ec_mul(unsigned char *g, size_t glen, const unsigned char *x, size_t xlen, int curve)
{
	return tls_ec_for(curve)->mul(g, glen, x, xlen, curve);
}

static size_t
tls_ec_mulgen(unsigned char *r, const unsigned char *x, size_t xlen, int curve)
{
	return tls_ec_for(curve)->mulgen(r, x, xlen, curve);
}

static uint32_t
tls_ec_muladd(unsigned char *a, const unsigned char *b, size_t len, const unsigned char *x,
    size_t xlen, const unsigned char *y, size_t ylen, int curve)
{
	return tls_ec_for(curve)->muladd(a, b, len, x, xlen, y, ylen, curve);
}

static const br_ec_impl tls_ec = {
	(uint32_t)1 << BR_EC_secp256r1 | (uint32_t)1 << BR_EC_curve25519,
	tls_ec_generator, tls_ec_order, tls_ec_xoff, tls_ec_mul, tls_ec_mulgen, tls_ec_muladd,
};
#define TLS_ECDHE (&tls_ec)
#else
#define TLS_ECDHE (&br_ec_p256_m31)
#endif

static void
tls_configure(struct tls *t)
{
	br_ssl_engine_context *e = &t->sc.eng;

	br_ssl_server_zero(&t->sc);
	br_ssl_engine_set_versions(e, NOMX_TLS_LEGACY ? BR_TLS10 : BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(e, tls_suites, sizeof(tls_suites) / sizeof(tls_suites[0]));
	br_ssl_engine_set_hash(e, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_prf_sha256(e, &br_tls12_sha256_prf);
#if NOMX_TLS_SHA384
	br_ssl_engine_set_hash(e, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_prf_sha384(e, &br_tls12_sha384_prf);
#endif
	br_ssl_engine_set_default_chapol(e);
	br_ssl_engine_set_default_aes_gcm(e);
#if NOMX_TLS_LEGACY
	br_ssl_engine_set_hash(e, br_md5_ID, &br_md5_vtable);
	br_ssl_engine_set_hash(e, br_sha1_ID, &br_sha1_vtable);
	br_ssl_engine_set_prf10(e, &br_tls10_prf);
	br_ssl_engine_set_default_aes_cbc(e);
#endif
	br_ssl_engine_set_ec(e, TLS_ECDHE);
	br_ssl_engine_add_flags(e, BR_OPT_ENFORCE_SERVER_PREFERENCES | BR_OPT_NO_RENEGOTIATION);
#if NOMX_TLS_SESSION_CACHE
	br_ssl_server_set_cache(&t->sc, &tls_cache.vtable);
#endif
}

/* Empty the session cache (and pick a new index key): sessions made
 * under another key are not resumed. */
static void
tls_cache_reset(void)
{
#if NOMX_TLS_SESSION_CACHE
	br_ssl_session_cache_lru_init(&tls_cache, tls_cache_store, sizeof(tls_cache_store));
#endif
}

size_t
tls_engine_bytes(void)
{
	return sizeof(struct tls);
}

int
tls_init(void)
{
	unsigned char probe[16];

	if (rand_bytes(probe, sizeof(probe)) < 0) {
		log_die(NOMX_EXIT_SYSTEM, "tls: no randomness from the kernel");
	}
	tls_cache_reset();
	for (size_t i = 0; i < NOMX_TLS_SESSIONS; i++) {
		tls_configure(&tls_pool[i]);
	}
	tls_ok = tls_cred_load() == 0;
	if (!tls_ok) {
		if (NOMX_TLS_REQUIRED) {
			log_die(NOMX_EXIT_USAGE, "tls: no usable key and certificate "
			    "(run `nomx keygen`, or set NOMX_TLS_REQUIRED 0 to serve without TLS)");
		}
		log_warnx("tls: serving without TLS: no STARTTLS, no SMTPS port "
		    "(run `nomx keygen` to make a key)");
	}
	return tls_ok;
}

void
tls_reload(void)
{
	if (tls_cred_load() == 0) {
		tls_ok = 1;
		tls_cache_reset();
	}
}

int
tls_available(void)
{
	return tls_ok;
}

struct tls *
tls_take(void)
{
	for (size_t i = 0; tls_ok && i < NOMX_TLS_SESSIONS; i++) {
		if (!tls_pool[i].taken) {
			tls_pool[i].taken = 1;
			return &tls_pool[i];
		}
	}
	return NULL;
}

int
tls_begin(struct tls *t)
{
	struct tls_cred *c = tls_cred_current();
	unsigned char seed[32];

	if (c == NULL || rand_bytes(seed, sizeof(seed)) < 0) {
		return -1;
	}
	t->cred = c;
	tls_cred_hold(c);
	t->established = 0;
#if NOMX_TLS_RSA
	if (c->rsa) {
		br_ssl_server_set_single_rsa(&t->sc, c->chain, c->chain_len, &c->rsa_key,
		    BR_KEYTYPE_SIGN, br_rsa_i31_private, br_rsa_i31_pkcs1_sign);
	} else
#endif
	{
		br_ssl_server_set_single_ec(&t->sc, c->chain, c->chain_len, &c->ec,
		    BR_KEYTYPE_SIGN, BR_KEYTYPE_EC, &br_ec_p256_m31, br_ecdsa_i31_sign_asn1);
	}
	br_ssl_engine_inject_entropy(&t->sc.eng, seed, sizeof(seed));
	memset(seed, 0, sizeof(seed));
	/* Setting the buffers again is what clears what the last client
	 * negotiated into the engine itself: BearSSL 0.6's reset keeps the
	 * maximum fragment length, so one client's max_fragment_length
	 * would be echoed to every later client, which rejects it as an
	 * unsolicited extension. */
	br_ssl_engine_set_buffers_bidi(&t->sc.eng, t->ibuf, sizeof(t->ibuf), t->obuf,
	    sizeof(t->obuf));
	return br_ssl_server_reset(&t->sc) ? 0 : -1;
}

void
tls_release(struct tls *t, int wfd)
{
	br_ssl_engine_context *e = &t->sc.eng;

	if (t->cred != NULL) {
		br_ssl_engine_close(e);
		if (br_ssl_engine_current_state(e) & BR_SSL_SENDREC) {
			size_t len;
			unsigned char *p = br_ssl_engine_sendrec_buf(e, &len);
			if (write(wfd, p, len) < 0) {
				/* the peer is gone; nothing to tell it */
			}
		}
		tls_cred_drop(t->cred);
		t->cred = NULL;
	}
	t->taken = 0;
}

/* One step of each kind; returns 1 if something moved, -1 if over. */
static int
tls_step(struct tls *t, int rfd, int wfd, const struct tls_buf *b, int *rblocked, int *wblocked)
{
	br_ssl_engine_context *e = &t->sc.eng;
	unsigned st = br_ssl_engine_current_state(e);
	unsigned char *p;
	size_t len;
	int moved = 0;

	if (st & BR_SSL_CLOSED) {
		return -1;
	}
	if (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP)) {
		t->established = 1;
	}
	if ((st & BR_SSL_SENDREC) && !*wblocked) {
		ssize_t w;
		p = br_ssl_engine_sendrec_buf(e, &len);
		w = write(wfd, p, len);
		if (w > 0) {
			br_ssl_engine_sendrec_ack(e, (size_t)w);
			moved = 1;
		} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
			return -1;
		} else {
			*wblocked = 1;
		}
	}
	if ((st & BR_SSL_RECVAPP) && *b->in_len < b->in_cap) {
		p = br_ssl_engine_recvapp_buf(e, &len);
		if (len > b->in_cap - *b->in_len) {
			len = b->in_cap - *b->in_len;
		}
		memcpy(b->in + *b->in_len, p, len);
		*b->in_len += len;
		br_ssl_engine_recvapp_ack(e, len);
		moved = 1;
	}
	if ((st & BR_SSL_SENDAPP) && *b->out_len > 0) {
		p = br_ssl_engine_sendapp_buf(e, &len);
		if (len > *b->out_len) {
			len = *b->out_len;
		}
		memcpy(p, b->out, len);
		memmove(b->out, b->out + len, *b->out_len - len);
		*b->out_len -= len;
		br_ssl_engine_sendapp_ack(e, len);
		if (*b->out_len == 0) {
			br_ssl_engine_flush(e, 0);
		}
		moved = 1;
	}
	if ((st & BR_SSL_RECVREC) && !*rblocked) {
		ssize_t r;
		p = br_ssl_engine_recvrec_buf(e, &len);
		r = read(rfd, p, len);
		if (r > 0) {
			br_ssl_engine_recvrec_ack(e, (size_t)r);
			moved = 1;
		} else if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			return -1;
		} else {
			*rblocked = 1;
		}
	}
	return moved;
}

int
tls_pump(struct tls *t, int rfd, int wfd, const struct tls_buf *b)
{
	int rblocked = 0, wblocked = 0, any = 0, r;

	while ((r = tls_step(t, rfd, wfd, b, &rblocked, &wblocked)) > 0) {
		any = 1;
	}
	return r < 0 ? -1 : any;
}

short
tls_events(const struct tls *t, int want_input)
{
	unsigned st = br_ssl_engine_current_state(&t->sc.eng);
	short ev = 0;

	if (st & BR_SSL_SENDREC) {
		ev |= POLLOUT;
	}
	/* Records are read only while the session can take the plaintext,
	 * which bounds what a client can push at us. */
	if ((st & BR_SSL_RECVREC) && (!t->established || want_input)) {
		ev |= POLLIN;
	}
	return ev;
}

int
tls_established(const struct tls *t)
{
	return t->established;
}

int
tls_sending(const struct tls *t)
{
	return (br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_SENDREC) != 0;
}

int
tls_holds_input(const struct tls *t)
{
	return (br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_RECVAPP) != 0;
}

static const char *
tls_suite_name(uint16_t s)
{
	switch (s) {
	case BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256:
		return "ECDHE-ECDSA-CHACHA20-POLY1305";
	case BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:
		return "ECDHE-ECDSA-AES128-GCM-SHA256";
	case BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:
		return "ECDHE-ECDSA-AES256-GCM-SHA384";
	case BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:
		return "ECDHE-RSA-CHACHA20-POLY1305";
	case BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:
		return "ECDHE-RSA-AES128-GCM-SHA256";
	case BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		return "ECDHE-RSA-AES256-GCM-SHA384";
	case BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA:
		return "ECDHE-ECDSA-AES128-SHA";
	case BR_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA:
		return "ECDHE-ECDSA-AES256-SHA";
	case BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA:
		return "ECDHE-RSA-AES128-SHA";
	case BR_TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA:
		return "ECDHE-RSA-AES256-SHA";
	default:
		return "unknown";
	}
}

void
tls_describe(const struct tls *t, char *buf, size_t cap)
{
	const br_ssl_session_parameters *sp = &t->sc.eng.session;
	unsigned v = sp->version;

	fmt_buf(buf, cap, "TLSv1.%u with cipher %s", v >= BR_TLS10 ? v - BR_TLS10 : 0,
	    tls_suite_name(sp->cipher_suite));
}

const char *
tls_error(const struct tls *t, char *buf, size_t cap)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{ BR_ERR_UNSUPPORTED_VERSION, "unsupported protocol version" },
		{ BR_ERR_BAD_VERSION, "bad protocol version" },
		{ BR_ERR_BAD_CIPHER_SUITE, "no shared cipher suite" },
		{ BR_ERR_BAD_HANDSHAKE, "bad handshake message" },
		{ BR_ERR_BAD_MAC, "bad record MAC" },
		{ BR_ERR_BAD_LENGTH, "bad record length" },
		{ BR_ERR_UNKNOWN_TYPE, "not a TLS record" },
		{ BR_ERR_UNEXPECTED, "unexpected message" },
		{ BR_ERR_BAD_FRAGLEN, "bad max_fragment_length" },
		{ BR_ERR_INVALID_ALGORITHM, "no shared signature algorithm or curve" },
		{ BR_ERR_BAD_SECRENEG, "renegotiation refused" },
		{ BR_ERR_IO, "I/O error" },
	};
	int err = br_ssl_engine_last_error(&t->sc.eng);
	const char *name = NULL;

	if (err == BR_ERR_OK) {
		return NULL;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].err == err) {
			name = names[i].name;
		}
	}
	if (name != NULL) {
		fmt_buf(buf, cap, "%s (BearSSL error %d)", name, err);
	} else if (err >= BR_ERR_SEND_FATAL_ALERT) {
		fmt_buf(buf, cap, "sent alert %d (BearSSL error %d)", err - BR_ERR_SEND_FATAL_ALERT, err);
	} else if (err >= BR_ERR_RECV_FATAL_ALERT) {
		fmt_buf(buf, cap, "client sent alert %d (BearSSL error %d)",
		    err - BR_ERR_RECV_FATAL_ALERT, err);
	} else {
		fmt_buf(buf, cap, "BearSSL error %d", err);
	}
	return buf;
}

#else /* !NOMX_TLS: nothing is served, nothing of BearSSL's TLS linked */

int tls_init(void) { return 0; }
void tls_reload(void) { }
int tls_available(void) { return 0; }
struct tls *tls_take(void) { return NULL; }
int tls_begin(struct tls *t) { (void)t; return -1; }
void tls_release(struct tls *t, int wfd) { (void)t; (void)wfd; }
int tls_pump(struct tls *t, int rfd, int wfd, const struct tls_buf *b)
{ (void)t; (void)rfd; (void)wfd; (void)b; return -1; }
short tls_events(const struct tls *t, int want_input) { (void)t; (void)want_input; return 0; }
int tls_established(const struct tls *t) { (void)t; return 0; }
int tls_sending(const struct tls *t) { (void)t; return 0; }
int tls_holds_input(const struct tls *t) { (void)t; return 0; }
void tls_describe(const struct tls *t, char *buf, size_t cap) { (void)t; fmt_buf(buf, cap, "-"); }
const char *tls_error(const struct tls *t, char *buf, size_t cap)
{ (void)t; (void)buf; (void)cap; return NULL; }

#endif
