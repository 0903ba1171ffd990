/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: loading the TLS key and certificate chain (PEM, then
 * BearSSL's key and X.509 decoders) from arbitrary files: the input is
 * split at its first NUL into key.pem and cert.pem.  No crash, and a set
 * that loads has a chain within bounds.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "tls_cred.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[] = "/tmp/nomx-fuzz-pem-XXXXXX";

static void
put(const char *name, const uint8_t *p, size_t n)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n) {
		abort();
	}
	close(fd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	const uint8_t *nul = memchr(data, 0, size);
	size_t klen = nul ? (size_t)(nul - data) : size;

	if (!ready) {
		log_open(1);
		if (mkdtemp(dir) == NULL) {
			abort();
		}
		tls_cred_base(dir);
		ready = 1;
	}
	put("key.pem", data, klen);
	put("cert.pem", nul ? nul + 1 : data, nul ? size - klen - 1 : 0);
	if (tls_cred_load() == 0) {
		struct tls_cred *c = tls_cred_current();
		size_t total = 0;
		for (size_t i = 0; i < c->chain_len; i++) {
			total += c->chain[i].data_len;
		}
		if (c->chain_len == 0 || c->chain_len > TLS_CRED_MAX_CERTS ||
		    total > NOMX_TLS_CHAIN_MAX) {
			__builtin_trap();
		}
	}
	return 0;
}
