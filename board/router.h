/* SPDX-License-Identifier: ISC */
/*
 * The router boards' overrides (armv7, armel, mipsel; OpenWrt first of
 * all).  The collector side (`nomx fetch`) is left out: mail is fetched
 * from a PC running the host build, and the device keeps `nomx spool
 * export` and `ack` (about 17 KiB of flash saved).  The spool lives on
 * the flash filesystem itself, not in OpenWrt's /var (tmpfs).
 */
#define NOMX_FETCH 0
#define NOMX_SPOOL_DIR "/overlay/nomx"
/* P-256 only for the key exchange: X25519 would take 3,760 bytes more
 * on mipsel and 2,008 on armv7 (release builds, LTO) for a cheaper
 * handshake, which a router serving a few devices rarely needs.  Define
 * it as 1 here to have it. */
#define NOMX_TLS_X25519 0
