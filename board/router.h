/* SPDX-License-Identifier: ISC */
/*
 * The router boards' overrides (armv7, armel, mipsel; OpenWrt first of
 * all).  The collector side (`nomx fetch`) is left out: mail is fetched
 * from a PC running the host build, and the device keeps `nomx spool
 * export` and `ack` (about 17 KiB of flash saved).  The spool lives on
 * the flash filesystem itself, not in OpenWrt's /var (tmpfs).
 *
 * Each setting is guarded: a LOCAL_CONFIG, read before this file, may
 * set any of them its own way.
 */
#ifndef NOMX_FETCH
#define NOMX_FETCH 0
#endif
#ifndef NOMX_SPOOL_DIR
#define NOMX_SPOOL_DIR "/overlay/nomx"
#endif
/* P-256 only for the key exchange: X25519 would take 3,412 bytes more
 * on mipsel and 1,624 on armv7 (release builds, LTO) for a cheaper
 * handshake, which a router serving a few devices rarely needs.  Define
 * it as 1 in your LOCAL_CONFIG to have it. */
#ifndef NOMX_TLS_X25519
#define NOMX_TLS_X25519 0
#endif
/* No AES-256-GCM suites (and so no SHA-384): ChaCha20-Poly1305 and
 * AES-128-GCM remain, which every client that offers AES-256-GCM offers
 * too.  Define it as 1 in your LOCAL_CONFIG to have them. */
#ifndef NOMX_TLS_SHA384
#define NOMX_TLS_SHA384 0
#endif
/* A longer group-commit window than config.h's 10 ms: on UBIFS every
 * fdatasync programs two pages whatever it carries (the data head's
 * and the inode's), so the more messages share one the less the chip
 * wears.  Eight devices sending 1 KiB messages to the emulated router
 * (make vm-wear CELL="ubifs 1KiB c8" RUNS=10; tests/README.md): 2,635-
 * 3,136 B programmed per message at 10 ms, 1,888-2,475 at 30, with the
 * same throughput.  Only sessions in the middle of a transaction hold a
 * sync, and for at most this long: a lone device never waits. */
#ifndef NOMX_COMMIT_WINDOW_MS
#define NOMX_COMMIT_WINDOW_MS 30
#endif
