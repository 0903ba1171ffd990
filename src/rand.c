/* SPDX-License-Identifier: ISC */
/*
 * One DRBG per process, seeded on first use.  Embedded boards often
 * boot with little entropy; getrandom() blocks until the kernel pool
 * is initialised, which is the right trade for long-lived ids.
 */
#include <bearssl.h>

#include "rand.h"

static br_hmac_drbg_context rand_drbg;
static int rand_seeded;

int
rand_bytes(void *buf, size_t len)
{
	if (!rand_seeded) {
		br_prng_seeder seeder = br_prng_seeder_system(NULL);
		br_hmac_drbg_init(&rand_drbg, &br_sha256_vtable, NULL, 0);
		if (seeder == 0 || !seeder(&rand_drbg.vtable)) {
			return -1;
		}
		rand_seeded = 1;
	}
	br_hmac_drbg_generate(&rand_drbg, buf, len);
	return 0;
}
