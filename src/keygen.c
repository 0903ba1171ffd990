/* SPDX-License-Identifier: ISC */
/*
 * `nomx keygen`: an EC P-256 key and a self-signed X.509 certificate
 * for NOMX_HOSTNAME, made on the device (BearSSL has no certificate
 * writer, so the DER is built here; it is small and fixed in shape).
 *
 * The certificate: version 3, a random 128-bit serial, subject = issuer
 * = CN=<hostname>, valid from now for NOMX_CERT_DAYS (or, with 0, until
 * 9999-12-31: RFC 5280 4.1.2.5's "no well-defined expiry"), the
 * hostname and the IP literal in subjectAltName, not a CA, for TLS
 * servers, signed with ECDSA-SHA256.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bearssl.h>

#include "../config.h"
#include "clock.h"
#include "fmt.h"
#include "ip_parse.h"
#include "keygen.h"
#include "log.h"
#include "passwd.h"
#include "rand.h"
#include "tls_cred.h"
#include "utc.h"

/* A DER writer into a fixed buffer: constructed elements are opened,
 * filled, then closed, which shifts the content to fit the length. */
struct der {
	unsigned char buf[1024];
	size_t len;
	int overflow;
};

static void
der_put(struct der *d, const void *p, size_t n)
{
	if (d->overflow || n > sizeof(d->buf) - d->len) {
		d->overflow = 1;
		return;
	}
	memcpy(d->buf + d->len, p, n);
	d->len += n;
}

static size_t
der_open(struct der *d, unsigned char tag)
{
	der_put(d, &tag, 1);
	return d->len;
}

static void
der_close(struct der *d, size_t mark)
{
	size_t n = d->len - mark, extra = n < 0x80 ? 1 : n < 0x100 ? 2 : 3;
	unsigned char *p = d->buf + mark;

	if (d->overflow || extra > sizeof(d->buf) - d->len) {
		d->overflow = 1;
		return;
	}
	memmove(p + extra, p, n);
	if (extra == 1) {
		p[0] = (unsigned char)n;
	} else if (extra == 2) {
		p[0] = 0x81, p[1] = (unsigned char)n;
	} else {
		p[0] = 0x82, p[1] = (unsigned char)(n >> 8), p[2] = (unsigned char)n;
	}
	d->len += extra;
}

static void
der_prim(struct der *d, unsigned char tag, const void *p, size_t n)
{
	size_t m = der_open(d, tag);

	der_put(d, p, n);
	der_close(d, m);
}

/* Object identifiers, content bytes only. */
static const unsigned char oid_ecdsa_sha256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const unsigned char oid_ec_public_key[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const unsigned char oid_p256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const unsigned char oid_common_name[] = { 0x55, 0x04, 0x03 };
static const unsigned char oid_subject_alt_name[] = { 0x55, 0x1d, 0x11 };
static const unsigned char oid_basic_constraints[] = { 0x55, 0x1d, 0x13 };
static const unsigned char oid_ext_key_usage[] = { 0x55, 0x1d, 0x25 };
static const unsigned char oid_server_auth[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01 };

static void
der_alg_ecdsa_sha256(struct der *d)
{
	size_t m = der_open(d, 0x30);

	der_prim(d, 0x06, oid_ecdsa_sha256, sizeof(oid_ecdsa_sha256));
	der_close(d, m);
}

static void
der_name(struct der *d)
{
	size_t name = der_open(d, 0x30), rdn = der_open(d, 0x31), atv = der_open(d, 0x30);

	der_prim(d, 0x06, oid_common_name, sizeof(oid_common_name));
	der_prim(d, 0x0c, NOMX_HOSTNAME, sizeof(NOMX_HOSTNAME) - 1);	/* UTF8String */
	der_close(d, atv);
	der_close(d, rdn);
	der_close(d, name);
}

/* 2026-01-01: a clock before this was never set. */
#define KEYGEN_CLOCK_SET 1767225600LL

static void
der_time(struct der *d, time_t t)
{
	char s[20];

	/* RFC 5280 4.1.2.5: UTCTime for 1950 to 2049, else GeneralizedTime */
	if (t >= -631152000LL && t < 2524608000LL) {
		der_prim(d, 0x17, s, utc_format(s, sizeof(s), "%y%m%d%H%M%SZ", t));
	} else {
		der_prim(d, 0x18, s, utc_format(s, sizeof(s), "%Y%m%d%H%M%SZ", t));
	}
}

/* One extension: OID, optional critical flag, value in an OCTET STRING.
 * The value is left open for the caller to fill; close with ext_end. */
static size_t
der_ext_begin(struct der *d, const unsigned char *oid, size_t n, int critical, size_t *octets)
{
	static const unsigned char yes[] = { 0xff };
	size_t m = der_open(d, 0x30);

	der_prim(d, 0x06, oid, n);
	if (critical) {
		der_prim(d, 0x01, yes, 1);
	}
	*octets = der_open(d, 0x04);
	return m;
}

static void
der_ext_end(struct der *d, size_t m, size_t octets)
{
	der_close(d, octets);
	der_close(d, m);
}

static void
der_extensions(struct der *d)
{
	unsigned char ip[4], ip6[16];
	size_t ctx = der_open(d, 0xa3), seq = der_open(d, 0x30), ext, oct, in;

	ext = der_ext_begin(d, oid_subject_alt_name, sizeof(oid_subject_alt_name), 0, &oct);
	in = der_open(d, 0x30);
	der_prim(d, 0x82, NOMX_HOSTNAME, sizeof(NOMX_HOSTNAME) - 1);	/* dNSName */
	if (ip4_parse(NOMX_STATIC_IP, ip)) {
		der_prim(d, 0x87, ip, 4);				/* iPAddress */
	}
	if (ip6_parse(NOMX_STATIC_IP6, ip6)) {
		der_prim(d, 0x87, ip6, 16);				/* iPAddress */
	}
	der_close(d, in);
	der_ext_end(d, ext, oct);

	ext = der_ext_begin(d, oid_basic_constraints, sizeof(oid_basic_constraints), 1, &oct);
	der_close(d, der_open(d, 0x30));	/* cA defaults to FALSE */
	der_ext_end(d, ext, oct);

	ext = der_ext_begin(d, oid_ext_key_usage, sizeof(oid_ext_key_usage), 0, &oct);
	in = der_open(d, 0x30);
	der_prim(d, 0x06, oid_server_auth, sizeof(oid_server_auth));
	der_close(d, in);
	der_ext_end(d, ext, oct);

	der_close(d, seq);
	der_close(d, ctx);
}

static void
der_tbs(struct der *d, const br_ec_public_key *pk, const unsigned char *serial, size_t slen,
    time_t now)
{
	static const unsigned char v3[] = { 0x02 };
	size_t tbs = der_open(d, 0x30), m, m2;

	m = der_open(d, 0xa0);
	der_prim(d, 0x02, v3, 1);
	der_close(d, m);
	der_prim(d, 0x02, serial, slen);
	der_alg_ecdsa_sha256(d);
	der_name(d);
	m = der_open(d, 0x30);
	der_time(d, now);
	if (NOMX_CERT_DAYS > 0) {
		der_time(d, now + NOMX_CERT_DAYS * 86400LL);
	} else {
		der_prim(d, 0x18, "99991231235959Z", 15);
	}
	der_close(d, m);
	der_name(d);
	m = der_open(d, 0x30);		/* SubjectPublicKeyInfo */
	m2 = der_open(d, 0x30);
	der_prim(d, 0x06, oid_ec_public_key, sizeof(oid_ec_public_key));
	der_prim(d, 0x06, oid_p256, sizeof(oid_p256));
	der_close(d, m2);
	m2 = der_open(d, 0x03);
	der_put(d, "", 1);		/* no unused bits */
	der_put(d, pk->q, pk->qlen);
	der_close(d, m2);
	der_close(d, m);
	der_extensions(d);
	der_close(d, tbs);
}

/* The certificate into cert; its length, or 0. */
static size_t
keygen_cert(const br_ec_private_key *sk, const br_ec_public_key *pk,
    const unsigned char *serial, size_t slen, time_t now, unsigned char *cert, size_t cap)
{
	static struct der tbs, out;
	unsigned char hash[32], sig[80];
	br_sha256_context h;
	size_t siglen, m, bits;

	memset(&tbs, 0, sizeof(tbs));
	memset(&out, 0, sizeof(out));
	der_tbs(&tbs, pk, serial, slen, now);
	br_sha256_init(&h);
	br_sha256_update(&h, tbs.buf, tbs.len);
	br_sha256_out(&h, hash);
	siglen = br_ecdsa_i31_sign_asn1(&br_ec_p256_m31, &br_sha256_vtable, hash, sk, sig);
	if (tbs.overflow || siglen == 0) {
		return 0;
	}
	m = der_open(&out, 0x30);
	der_put(&out, tbs.buf, tbs.len);
	der_alg_ecdsa_sha256(&out);
	bits = der_open(&out, 0x03);
	der_put(&out, "", 1);
	der_put(&out, sig, siglen);
	der_close(&out, bits);
	der_close(&out, m);
	if (out.overflow || out.len > cap) {
		return 0;
	}
	memcpy(cert, out.buf, out.len);
	return out.len;
}

/* Write a file whole and durably: temporary name, fsync, rename. */
static int
keygen_write(const char *path, const char *data, size_t len, mode_t mode,
    const struct passwd_ids *pw)
{
	char tmp[600];
	int fd;

	fmt_buf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		return -1;
	}
	if (fchmod(fd, mode) < 0 || (pw != NULL && fchown(fd, pw->uid, pw->gid) < 0) ||
	    write(fd, data, len) != (ssize_t)len || fsync(fd) < 0) {
		int e = errno;
		close(fd);
		unlink(tmp);
		errno = e;
		return -1;
	}
	close(fd);
	return rename(tmp, path);
}

/* The folder a file goes in, made if missing (first boot: no /etc/nomx
 * and no spool yet). */
static int
keygen_mkdir(const char *path)
{
	char dir[512];
	char *slash;

	fmt_buf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir) {
		return 0;
	}
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fmt_err("nomx keygen: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

int
keygen_main(const char *spooldir, int argc, char **argv)
{
	static unsigned char kbuf[BR_EC_KBUF_PRIV_MAX_SIZE], pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	static unsigned char der[1024], cert[1024];
	static char pem[4096];
	unsigned char seed[48], serial[16], fp[32];
	char keypath[512], certpath[512];
	br_hmac_drbg_context rng;
	br_ec_private_key sk;
	br_ec_public_key pk;
	struct passwd_ids ids, *pw = NULL;
	size_t dlen, clen, plen;
	int force = argc == 1 && strcmp(argv[0], "-f") == 0;
	time_t now = clock_wall_s();
	struct stat st;

	if (argc > 1 || (argc == 1 && !force)) {
		fmt_err("usage: nomx [-s spooldir] keygen [-f]\n");
		return NOMX_EXIT_USAGE;
	}
	tls_cred_base(spooldir);
	tls_cred_path(NOMX_TLS_KEY, keypath, sizeof(keypath));
	tls_cred_path(NOMX_TLS_CERT, certpath, sizeof(certpath));
	if (keygen_mkdir(keypath) < 0 || keygen_mkdir(certpath) < 0) {
		return NOMX_EXIT_SYSTEM;
	}
	if (!force && (stat(keypath, &st) == 0 || stat(certpath, &st) == 0)) {
		fmt_err("nomx keygen: %s or %s exists; -f replaces them\n", keypath, certpath);
		return 1;
	}
	/* A router without a battery-backed clock boots in 1970 (or at its
	 * build date) until NTP answers: a certificate dated then would be
	 * out of date for every client that checks. */
	if (NOMX_CERT_DAYS > 0 && now < KEYGEN_CLOCK_SET) {
		fmt_err("nomx keygen: the clock is not set (it says %lld): set the time first "
		    "(NTP), or build with NOMX_CERT_DAYS 0 for a certificate without expiry\n",
		    (long long)now);
		return NOMX_EXIT_SYSTEM;
	}
	if (rand_bytes(seed, sizeof(seed)) < 0 || rand_bytes(serial, sizeof(serial)) < 0) {
		fmt_err("nomx keygen: no randomness from the kernel\n");
		return NOMX_EXIT_SYSTEM;
	}
	serial[0] = (unsigned char)((serial[0] & 0x7f) | 0x40);	/* positive, minimal */
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof(seed));
	memset(seed, 0, sizeof(seed));
	if (br_ec_keygen(&rng.vtable, &br_ec_p256_m31, &sk, kbuf, BR_EC_secp256r1) == 0 ||
	    br_ec_compute_pub(&br_ec_p256_m31, &pk, pbuf, &sk) == 0 ||
	    (dlen = br_encode_ec_raw_der(der, &sk, &pk)) == 0 ||
	    (clen = keygen_cert(&sk, &pk, serial, sizeof(serial), now, cert, sizeof(cert))) == 0) {
		fmt_err("nomx keygen: key or certificate generation failed\n");
		return NOMX_EXIT_SYSTEM;
	}
	/* As root, the files go to the user nomx runs as, so that it can
	 * reload them on SIGHUP; it holds the key in memory anyway. */
	if (geteuid() == 0 && NOMX_USER[0] != '\0') {
		pw = passwd_lookup("/etc/passwd", NOMX_USER, &ids) == 0 ? &ids : NULL;
	}
	plen = br_pem_encode(pem, der, dlen, "EC PRIVATE KEY", BR_PEM_LINE64);
	if (keygen_write(keypath, pem, plen, 0600, pw) < 0) {
		fmt_err("nomx keygen: %s: %s\n", keypath, strerror(errno));
		return NOMX_EXIT_SYSTEM;
	}
	memset(pem, 0, sizeof(pem));
	memset(kbuf, 0, sizeof(kbuf));
	plen = br_pem_encode(pem, cert, clen, "CERTIFICATE", BR_PEM_LINE64);
	if (keygen_write(certpath, pem, plen, 0644, pw) < 0) {
		fmt_err("nomx keygen: %s: %s\n", certpath, strerror(errno));
		return NOMX_EXIT_SYSTEM;
	}
	{
		br_sha256_context h;
		br_sha256_init(&h);
		br_sha256_update(&h, cert, clen);
		br_sha256_out(&h, fp);
	}
	fmt_out("nomx keygen: EC P-256 key %s, certificate %s\n"
	    "  for %s, [%s]%s%s%s, self-signed, SHA-256 fingerprint ", keypath, certpath,
	    NOMX_HOSTNAME, NOMX_STATIC_IP, NOMX_STATIC_IP6[0] ? " and [" : "", NOMX_STATIC_IP6,
	    NOMX_STATIC_IP6[0] ? "]" : "");
	for (size_t i = 0; i < sizeof(fp); i++) {
		fmt_out("%02X%s", fp[i], i + 1 < sizeof(fp) ? ":" : "\n");
	}
	return NOMX_EXIT_OK;
}
