/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the pure session core fed arbitrary client bytes,
 * in chunks of fuzzer-chosen sizes (first byte), plain or over TLS,
 * with the host's answers chosen by the second byte: room in the
 * spool, a free TLS engine, and how storing a message ends.  It links
 * the core alone: no spool, no sockets, no BearSSL (session_host.h
 * answers as conn.c does).  Invariants:
 * - replies fit the output buffer, and no more input is held than the
 *   buffer has room for;
 * - every reply line is "ddd-" or "ddd " and ends in CRLF, with a code
 *   from 2xx to 5xx; every final reply but the greeting, EHLO/HELO's,
 *   354 and AUTH's 334 carries an enhanced code (RFC 3463) of the same
 *   class;
 * - after RSET, the transaction is a fresh session's;
 * - the slot then serves a second, ordinary session, whose replies are
 *   exactly those of the same session in a fresh slot: nothing leaks
 *   from one session into the next.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/session_host.h"
#include "log.h"
#include "smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: say which, then stop as a crash. */
#define FUZZ_FAIL(why) (fprintf(stderr, "smtp_fuzz: %s\n", (why)), __builtin_trap())

/* The ordinary session run after the fuzzed one. */
static const char ordinary[] =
    "EHLO again.example\r\nMAIL FROM:<ups@example.com>\r\n"
    "RCPT TO:<alice@mail.example.com>\r\nRCPT TO:<nobody@example.org>\r\n"
    "RSET\r\nNOOP\r\nVRFY bob\r\nQUIT\r\n";

/* Check the replies in out[0..len); traps on a broken one. */
static void
check_replies(const char *out, size_t len)
{
	const char *p = out, *end = out + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n;

		if (eol == NULL || eol == p || eol[-1] != '\r') {
			FUZZ_FAIL("a reply line without CRLF");
		}
		n = (size_t)(eol - p) + 1;
		if (n < 6 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '9' || p[2] < '0' ||
		    p[2] > '9' || (p[3] != ' ' && p[3] != '-')) {
			FUZZ_FAIL("a reply line that is not ddd- or ddd ");
		}
		if (p[3] == ' ' && memcmp(p, "354", 3) != 0 && memcmp(p, "334", 3) != 0 &&
		    memcmp(p, "220 mail.example.com ESMTP", 26) != 0 &&
		    !(memcmp(p, "250 ", 4) == 0 && p[4] != '2')) {
			/* "x.y.z " with x the reply's class */
			const char *q = p + 4;
			if (q[0] != p[0] || q[1] != '.' || q[2] < '0' || q[2] > '9') {
				fprintf(stderr, "smtp_fuzz: %.*s\n", (int)n, p);
				FUZZ_FAIL("a final reply without its enhanced code");
			}
		}
		p = eol + 1;
	}
}

/* Run a whole script through a session, plain or as after STARTTLS
 * (where EHLO offers AUTH only to a session not yet authenticated);
 * its replies into out. */
static size_t
run_script(struct smtp_session *s, int tls, const char *script, char *out, size_t cap)
{
	struct session_host h = { 1, 1, REPLY_QUEUED, 0, NULL, NULL, 0 };
	size_t len = strlen(script), got;

	smtp_open(s, 2, "192.0.2.8", (tls ? SMTP_OPEN_TLS : 0) | SMTP_OPEN_STARTTLS, 0);
	smtp_expire(s, 0, 0);
	memcpy(s->in, script, len);
	s->in_len = len;
	session_host_run(s, &h);
	got = s->out_len < cap ? s->out_len : cap;
	memcpy(out, s->out, got);
	smtp_close(s);
	return got;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smtp_session s, fresh;
	static char want[2048], got[2048];
	static const enum reply commits[] = { REPLY_QUEUED, REPLY_STORE_FAILED, REPLY_NO_ROOM };
	struct session_host h = { 1, 1, REPLY_QUEUED, 0, NULL, NULL, 0 };
	size_t want_len;
	static int ready;
	size_t off = 2, chunk, got_len;

	if (!ready) {
		log_open(1);	/* no log noise on the fuzzer's stderr */
		ready = 1;
	}
	if (size < 3) {
		return 0;
	}
	chunk = 1 + (data[0] >> 1);
	h.room = !(data[1] & 1);
	h.engine = !(data[1] & 2);
	h.commit = commits[(data[1] >> 2) % 3];
	smtp_open(&s, 1, "192.0.2.7", (data[0] & 1 ? SMTP_OPEN_TLS : 0) |
	    (data[1] & 0x40 ? 0 : SMTP_OPEN_STARTTLS), 0);
	smtp_stress(&s, (data[1] & 0x80) != 0);	/* must not reach the slot's next session */
	smtp_expire(&s, 0, 0);
	while (off < size && !(smtp_want(&s) & SMTP_WANT_CLOSE) && s.state != SMTP_S_CLOSING) {
		size_t n = size - off < chunk ? size - off : chunk;
		if (n > sizeof(s.in) - s.in_len) {
			n = sizeof(s.in) - s.in_len;
		}
		memcpy(s.in + s.in_len, data + off, n);
		s.in_len += n;
		off += n;
		session_host_run(&s, &h);
		if (s.out_len > sizeof(s.out) || s.in_len > sizeof(s.in)) {
			FUZZ_FAIL("a buffer overran");
		}
		check_replies(s.out, s.out_len);
		s.out_len = 0;	/* the client read everything */
		if (smtp_want(&s) & SMTP_WANT_TLS) {
			smtp_tls_started(&s);	/* the handshake went well */
			smtp_tls_established(&s, "TLSv1.3 with cipher FUZZ");
		}
		if (n == 0 && !smtp_has_work(&s)) {
			break;	/* input full and nothing can progress */
		}
	}
	if ((data[0] & 0x80) && smtp_evictable(&s, INT64_MAX / 2) > 0) {
		/* Closed for a new client, wherever it stood. */
		smtp_evict(&s);
		check_replies(s.out, s.out_len);
		if (s.state != SMTP_S_CLOSING || s.mail || s.body.len != 0) {
			FUZZ_FAIL("an evicted session kept its transaction or stayed open");
		}
		s.out_len = 0;
	} else if (s.state == SMTP_S_CMD && s.in_len == 0) {
		memcpy(s.in, "RSET\r\n", 6);
		s.in_len = 6;
		smtp_process(&s);
		if (s.mail || s.nrcpt != 0 || s.bdat || s.tx_error != REPLY_OK || s.body.len != 0) {
			FUZZ_FAIL("RSET left some of the transaction");
		}
	}
	smtp_close(&s);
	/* The same slot, an ordinary client: as in a fresh slot. */
	for (int tls = 0; tls < 2; tls++) {
		memset(&fresh, 0, sizeof(fresh));
		want_len = run_script(&fresh, tls, ordinary, want, sizeof(want));
		got_len = run_script(&s, tls, ordinary, got, sizeof(got));
		check_replies(got, got_len);
		if (got_len != want_len || memcmp(got, want, got_len) != 0) {
			fprintf(stderr, "smtp_fuzz: got\n%.*s\nwanted\n%.*s\n", (int)got_len, got,
			    (int)want_len, want);
			FUZZ_FAIL("the next session in the slot differs from one in a fresh slot");
		}
	}
	return 0;
}
