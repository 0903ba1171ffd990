/* SPDX-License-Identifier: ISC */
/*
 * Random bytes from BearSSL's HMAC-DRBG, seeded by the kernel
 * (getrandom or /dev/urandom, through br_prng_seeder_system).  Used for
 * the spool's device id now and for TLS and export tokens later.
 */
#ifndef NOMX_RAND_H
#define NOMX_RAND_H

#include <stddef.h>

/* Fill buf; 0, or -1 if the kernel gave no seed (fatal at start). */
int rand_bytes(void *buf, size_t len);

#endif
