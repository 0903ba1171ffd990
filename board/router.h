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
