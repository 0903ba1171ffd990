/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the SMTP session fed arbitrary client bytes, in
 * chunks of fuzzer-chosen sizes, plain or as after STARTTLS (first
 * byte's low bit).  Messages it accepts go to a real spool in a
 * temporary folder, made durable by the same group commit as in the
 * daemon.  Invariants: replies always fit the output buffer, and
 * never more input is held than the buffer has room for.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "smtp.h"
#include "spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_session s;
	static int ready;
	size_t off = 1, chunk;

	if (!ready) {
		char dir[] = "/tmp/nomx-fuzz-XXXXXX";
		log_open(1);	/* no log noise on the fuzzer's stderr */
		if (mkdtemp(dir) == NULL) {
			abort();
		}
		spool_open(dir, 0);
		ready = 1;
	}
	if (size < 2) {
		return 0;
	}
	smtp_open(&s, 1, "192.0.2.7");
	s.tls = data[0] & 1;
	chunk = 1 + (data[0] >> 1);
	smtp_greet(&s, 0);
	while (off < size && s.state != SMTP_S_CLOSING && s.state != SMTP_S_STARTTLS) {
		size_t n = size - off < chunk ? size - off : chunk;
		if (n > sizeof(s.in) - s.in_len) {
			n = sizeof(s.in) - s.in_len;
		}
		memcpy(s.in + s.in_len, data + off, n);
		s.in_len += n;
		off += n;
		smtp_process(&s);
		if (s.state == SMTP_S_COMMIT) {
			spool_sync();
			smtp_committed(&s);
			smtp_process(&s);
		}
		if (s.out_len > sizeof(s.out) || s.in_len > sizeof(s.in)) {
			__builtin_trap();
		}
		s.out_len = 0;	/* the client read everything */
		if (n == 0 && !smtp_has_work(&s)) {
			break;	/* input full and nothing can progress */
		}
	}
	smtp_close(&s);
	return 0;
}
