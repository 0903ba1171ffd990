/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: an engine of the TLS pool is fed arbitrary bytes as
 * a client's first flight (ClientHellos with any extension, garbage,
 * truncation), the way tls_pump reads them from a socket; then the same
 * slot serves a normal handshake from a BearSSL client, which must
 * complete and carry application data both ways.  Whatever one client
 * sent, the next one must find the engine clean (max_fragment_length
 * once leaked from one handshake into every later one).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bearssl.h>

#include "log.h"
#include "tls.h"
#include "tls_peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


struct plain {
	char in[4096], out[512];
	size_t in_len, out_len;
};

static struct tls_buf
plain_buf(struct plain *p)
{
	return (struct tls_buf){ p->in, &p->in_len, sizeof(p->in), p->out, &p->out_len };
}

static void
setup(void)
{
	static char dir[] = "/tmp/nomx-fuzz-tls-XXXXXX";

	log_open(1);	/* no log noise on the fuzzer's stderr */
	tls_peer_server_setup(dir);
}

/* The odd client: its bytes, then end of stream. */
static void
odd_client(struct tls *t, const uint8_t *data, size_t size)
{
	struct plain p = { 0 };
	struct tls_buf b = plain_buf(&p);
	char sink[65536];
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0) {
		abort();
	}
	if (size > 0 && write(sv[1], data, size) < 0) {
		abort();
	}
	shutdown(sv[1], SHUT_WR);
	for (int i = 0; i < 64 && tls_pump(t, sv[0], sv[0], &b) > 0; i++) {
		while (read(sv[1], sink, sizeof(sink)) > 0) {
		}
		p.in_len = 0;	/* a session would consume what arrived */
	}
	tls_release(t, sv[0]);
	close(sv[0]);
	close(sv[1]);
}

/* Move a BearSSL client's records over fd, as far as they go now. */
static void
client_step(br_ssl_engine_context *e, int fd)
{
	unsigned st = br_ssl_engine_current_state(e);
	unsigned char *p;
	size_t len;
	ssize_t n;

	if ((st & BR_SSL_SENDREC) != 0) {
		p = br_ssl_engine_sendrec_buf(e, &len);
		if ((n = write(fd, p, len)) > 0) {
			br_ssl_engine_sendrec_ack(e, (size_t)n);
		}
	}
	if ((st & BR_SSL_RECVREC) != 0) {
		p = br_ssl_engine_recvrec_buf(e, &len);
		if ((n = read(fd, p, len)) > 0) {
			br_ssl_engine_recvrec_ack(e, (size_t)n);
		}
	}
}

/* An ordinary client through the same slot: the handshake completes and
 * bytes go both ways. */
static void
normal_client(struct tls *t)
{
	static struct tls_peer peer;
	static const char hello[] = "EHLO fuzz.example\r\n", reply[] = "250 ok\r\n";
	struct plain p = { 0 };
	struct tls_buf b = plain_buf(&p);
	br_ssl_engine_context *e;
	unsigned char *app;
	size_t len, got = 0;
	int sv[2], sent = 0, answered = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0 || tls_begin(t) < 0) {
		abort();
	}
	e = tls_peer_start(&peer, 1);
	for (int i = 0; i < 200 && got < sizeof(reply) - 1; i++) {
		unsigned st = br_ssl_engine_current_state(e);

		client_step(e, sv[1]);
		if (tls_pump(t, sv[0], sv[0], &b) < 0 || (st & BR_SSL_CLOSED)) {
			break;
		}
		if (!sent && (st & BR_SSL_SENDAPP)) {
			app = br_ssl_engine_sendapp_buf(e, &len);
			memcpy(app, hello, sizeof(hello) - 1);
			br_ssl_engine_sendapp_ack(e, sizeof(hello) - 1);
			br_ssl_engine_flush(e, 0);
			sent = 1;
		}
		if (!answered && p.in_len == sizeof(hello) - 1) {
			if (memcmp(p.in, hello, p.in_len) != 0) {
				abort();
			}
			memcpy(p.out, reply, sizeof(reply) - 1);
			p.out_len = sizeof(reply) - 1;
			answered = 1;
		}
		if (st & BR_SSL_RECVAPP) {
			app = br_ssl_engine_recvapp_buf(e, &len);
			if (got + len > sizeof(reply) - 1 || memcmp(app, reply + got, len) != 0) {
				abort();
			}
			got += len;
			br_ssl_engine_recvapp_ack(e, len);
		}
	}
	if (got != sizeof(reply) - 1) {
		/* The engine the odd client left behind could not serve an
		 * ordinary one. */
		__builtin_trap();
	}
	tls_release(t, sv[0]);
	close(sv[0]);
	close(sv[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct tls *t;

	if (!ready) {
		setup();
		ready = 1;
	}
	t = tls_take();
	if (t == NULL || tls_begin(t) < 0) {
		abort();
	}
	odd_client(t, data, size);
	/* The pool hands out its first free engine: the same slot again. */
	if (tls_take() != t) {
		abort();
	}
	normal_client(t);
	return 0;
}
