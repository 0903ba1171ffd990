/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the collector's reassembly of the export stream.
 * A real spool with six messages (empty, short, dotted, 8-bit, one
 * over several lines, one over many) is exported once by the real
 * `nomx spool export`; each input is a list of damages to that stream
 * (a line dropped, repeated, swapped with the next, a bit flipped, a
 * line cut short, a noise line inserted), and the damaged stream goes
 * through fetch_stream.c, the collector's reassembly, with a delivery
 * function that records what it delivers.  Invariants: every message delivered is exactly the one
 * stored under that sequence number (envelope and bytes), in rising
 * order with none skipped, and the undamaged stream delivers all six
 * and ends clean.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "export.h"
#include "fetch_stream.h"
#include "log.h"
#include "spool.h"
#include "stage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FAIL(why) (fprintf(stderr, "fetch_fuzz: %s\n", (why)), __builtin_trap())
#define NMSG 6
#define MAX_LINES 4096

static struct {
	unsigned char env[256];
	size_t env_len;
	unsigned char body[8192];
	size_t body_len;
} orig[NMSG + 1];
static char *stream_lines[MAX_LINES];
static size_t stream_len[MAX_LINES], nlines;
static uint64_t last_delivered;
static unsigned delivered;

/* The delivery: checked against what was stored, and recorded. */
static int
deliver(void *ctx, const char *dev, const struct fetch_msg *m)
{
	static unsigned char buf[8192];

	(void)ctx, (void)dev;
	if (m->seq < 1 || m->seq > NMSG || m->seq <= last_delivered) {
		FUZZ_FAIL("a sequence number out of order or never stored");
	}
	if (m->seq != last_delivered + 1) {
		FUZZ_FAIL("a message skipped: the ack would cover it unseen");
	}
	if (m->env_len != orig[m->seq].env_len || memcmp(m->env, orig[m->seq].env, m->env_len) != 0) {
		FUZZ_FAIL("an envelope that is not the one stored");
	}
	if (m->body_len != orig[m->seq].body_len ||
	    pread(m->body_fd, buf, sizeof(buf), 0) != (ssize_t)m->body_len ||
	    memcmp(buf, orig[m->seq].body, m->body_len) != 0) {
		FUZZ_FAIL("a message that is not the one stored");
	}
	last_delivered = m->seq;
	delivered++;
	return 0;
}

static void
setup(void)
{
	static char dir[] = "/tmp/nomx-fuzz-fetch-XXXXXX";
	static struct spool spool;
	static char text[NMSG + 1][8192];
	static const char received[] = "Received: from fuzz\r\n";
	char out[64];
	FILE *f;
	int saved;

	log_open(1);
	if (mkdtemp(dir) == NULL) {
		abort();
	}
	spool_open(&spool, dir, 0);
	for (uint64_t seq = 1; seq <= NMSG; seq++) {
		struct stage body = { 0 };
		size_t n = 0, env_len = 0;
		char rcpt[32];
		uint64_t got;

		switch (seq) {
		case 1: n = 0; break;
		case 2: n = (size_t)snprintf(text[seq], 100, "Subject: short\r\n\r\nhi\r\n"); break;
		case 3: n = (size_t)snprintf(text[seq], 100, "\r\n.\r\n..\r\n. \r\n.\r\n"); break;
		case 4:
			for (n = 0; n < 300; n++) {
				text[seq][n] = (char)(n * 7 + 128);	/* 8-bit, NULs, CRs */
			}
			break;
		case 5: n = 700; memset(text[seq], 'y', n); break;
		default: n = 6000; memset(text[seq], '.', n); break;
		}
		snprintf(rcpt, sizeof(rcpt), "alice%llu@x", (unsigned long long)seq);
		spool_env_put(orig[seq].env, sizeof(orig[seq].env), &env_len, SPOOL_ENV_FROM, "a@b", 3);
		spool_env_put(orig[seq].env, sizeof(orig[seq].env), &env_len, SPOOL_ENV_RCPT, rcpt,
		    strlen(rcpt));
		orig[seq].env_len = env_len;
		memcpy(orig[seq].body, received, sizeof(received) - 1);
		memcpy(orig[seq].body + sizeof(received) - 1, text[seq], n);
		orig[seq].body_len = sizeof(received) - 1 + n;
		stage_append(&body, text[seq], n);
		struct spool_msg m = { .env = orig[seq].env, .env_len = env_len, .received = received,
		    .received_len = sizeof(received) - 1, .body = &body };
		if (spool_append(&spool, &m, &got) != SPOOL_OK || got != seq) {
			abort();
		}
		stage_reset(&body);
	}
	spool_sync(&spool);
	/* The real export, its stdout into a file, then into lines. */
	snprintf(out, sizeof(out), "%s/stream", dir);
	fflush(stdout);
	saved = dup(1);
	if (freopen(out, "w", stdout) == NULL || export_main(dir, 0, NULL) != 0) {
		abort();
	}
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	if ((f = fopen(out, "r")) == NULL) {
		abort();
	}
	for (char line[512]; nlines < MAX_LINES && fgets(line, sizeof(line), f) != NULL; nlines++) {
		stream_len[nlines] = strcspn(line, "\n");
		stream_lines[nlines] = strndup(line, stream_len[nlines]);
	}
	fclose(f);
	if (nlines < 10) {
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fetch_session fs;
	static char lines[2 * MAX_LINES][512];
	static size_t len[2 * MAX_LINES];
	static int body_fd = -1;
	size_t n = 0;
	int done = 0;

	if (body_fd < 0) {
		setup();
		if ((body_fd = memfd_create("fetch-fuzz", 0)) < 0) {
			abort();
		}
	}
	for (size_t i = 0; i < nlines; i++, n++) {
		memcpy(lines[n], stream_lines[i], stream_len[i]);
		len[n] = stream_len[i];
	}
	/* Three bytes a damage: what, which line, and a byte to use. */
	for (size_t k = 0; k + 3 <= size && n > 0 && n + 1 < 2 * MAX_LINES; k += 3) {
		size_t at = data[k + 1] % n;
		unsigned char b = data[k + 2];
		switch (data[k] % 6) {
		case 0:		/* dropped */
			memmove(lines[at], lines[at + 1], (n - at - 1) * sizeof(lines[0]));
			memmove(&len[at], &len[at + 1], (n - at - 1) * sizeof(len[0]));
			n--;
			break;
		case 1:		/* repeated */
			memmove(lines[at + 1], lines[at], (n - at) * sizeof(lines[0]));
			memmove(&len[at + 1], &len[at], (n - at) * sizeof(len[0]));
			n++;
			break;
		case 2:		/* swapped with the next */
			if (at + 1 < n) {
				char t[512];
				size_t tl = len[at];
				memcpy(t, lines[at], sizeof(t));
				memcpy(lines[at], lines[at + 1], sizeof(t));
				memcpy(lines[at + 1], t, sizeof(t));
				len[at] = len[at + 1];
				len[at + 1] = tl;
			}
			break;
		case 3:		/* a bit flipped */
			if (len[at] > 0) {
				lines[at][b % len[at]] ^= (char)(1 << (b & 7));
			}
			break;
		case 4:		/* cut short */
			len[at] = b % (len[at] + 1);
			break;
		default:	/* noise from the console */
			memmove(lines[at + 1], lines[at], (n - at) * sizeof(lines[0]));
			memmove(&len[at + 1], &len[at], (n - at) * sizeof(len[0]));
			len[at] = (size_t)snprintf(lines[at], sizeof(lines[0]), "[ %u.%u] usb 1-1: @@NMX %c",
			    b, b * 3, b);
			n++;
			break;
		}
	}
	fs.body_fd = body_fd;
	fs.deliver = deliver;
	fetch_stream_reset(&fs);
	last_delivered = 0;
	delivered = 0;
	for (size_t i = 0; i < n && !done; i++) {
		done = fetch_stream_line(&fs, lines[i], len[i]);
	}
	if (size < 3 && (!done || !fs.ended || fs.damaged || delivered != NMSG)) {
		FUZZ_FAIL("the undamaged stream did not deliver every message");
	}
	if (fs.delivered != last_delivered) {
		FUZZ_FAIL("the session's delivered mark is not the last delivery");
	}
	return 0;
}
