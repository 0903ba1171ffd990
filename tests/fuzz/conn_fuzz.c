/* SPDX-License-Identifier: ISC */
/*
 * libFuzzer target: the connection layer and the TLS pump, as the poll
 * loop drives them.  A BearSSL client connects over loopback TCP to the
 * SMTPS listener of the real conn.c and sends one whole transaction
 * whose message bytes come from the input, in TLS records of an
 * input-chosen size (1 byte to 16 KiB), while the loop runs its passes
 * (poll, conn_handle_all, group commit, deadlines) exactly as loop.c
 * does.  Invariant: the message gets its answer (250, or a refusal of
 * what it holds) and QUIT its 221, never nomx's idle timeout.  A record bigger than the session's input
 * once stalled DATA until the idle timeout; here it would trap.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bearssl.h>

#include "conn.h"
#include "log.h"
#include "spool.h"
#include "tls_peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FAIL(why) (fprintf(stderr, "conn_fuzz: %s\n", (why)), __builtin_trap())

static int lfd = -1;
static struct spool spool;
static struct sockaddr_in laddr;

static void
setup(void)
{
	static char dir[] = "/tmp/nomx-fuzz-conn-XXXXXX";
	socklen_t len = sizeof(laddr);

	log_open(1);	/* no log noise on the fuzzer's stderr */
	signal(SIGPIPE, SIG_IGN);	/* as the daemon does */
	tls_peer_server_setup(dir);
	spool_open(&spool, dir, 0);
	conn_init(&spool);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	laddr.sin_family = AF_INET;
	laddr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&laddr, sizeof(laddr)) < 0 ||
	    listen(lfd, 8) < 0 || getsockname(lfd, (struct sockaddr *)&laddr, &len) < 0) {
		abort();
	}
}

/* One pass of the daemon's loop, with a zero timeout. */
static void
server_pass(int64_t now)
{
	struct pollfd pfd[2 + 2 * NOMX_MAX_CONN];
	size_t n;
	int64_t due;

	pfd[0] = (struct pollfd){ lfd, POLLIN, 0 };
	n = 1 + conn_poll_set(pfd + 1, sizeof(pfd) / sizeof(pfd[0]) - 1);
	if (poll(pfd, n, 0) < 0) {
		abort();
	}
	if (pfd[0].revents & POLLIN) {
		conn_accept(lfd, 1, now);
	}
	conn_handle_all(pfd + 1, n - 1, now);
	due = conn_commit_due(now);
	if (due >= 0 && due <= now) {
		spool_sync(&spool);
		conn_after_commit(now);
	}
	conn_deadlines(now);
}

/* Did the message get its answer (250, or a refusal for what it was),
 * rather than nomx's idle timeout? */
static int
answered(const char *replies, size_t got)
{
	const char *p = memmem(replies, got, "\r\n354 ", 6), *end = replies + got, *eol;

	if (p == NULL || (eol = memmem(p + 2, (size_t)(end - p - 2), "\r\n", 2)) == NULL) {
		return 0;
	}
	p = eol + 2;	/* the reply after the 354 */
	return end - p >= 4 && (p[0] == '2' || p[0] == '4' || p[0] == '5') &&
	    memcmp(p, "421 4.4.2", (size_t)(end - p) < 9 ? (size_t)(end - p) : 9) != 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tls_peer peer;
	static char script[70000], replies[8192];
	static const char head[] = "EHLO fuzz.example\r\nMAIL FROM:<f@fuzz.example>\r\n"
	    "RCPT TO:<alice@mail.example.com>\r\nDATA\r\n", tail[] = "\r\n.\r\nQUIT\r\n";
	br_ssl_engine_context *e;
	size_t len = 0, sent = 0, got = 0, record;
	int fd, at_bol = 1, one = 1;
	int64_t now = 1000;

	if (lfd < 0) {
		setup();
	}
	if (size < 2) {
		return 0;
	}
	record = 16 + (((size_t)data[0] << 8 | data[1]) % (16384 - 15));
	/* The transaction; the body is the input, dot-stuffed, CRLF-ended. */
	memcpy(script + len, head, sizeof(head) - 1);
	len += sizeof(head) - 1;
	for (size_t i = 2; i < size && len < sizeof(script) - 32; i++) {
		if (at_bol && data[i] == '.') {
			script[len++] = '.';
		}
		script[len++] = (char)data[i];
		at_bol = data[i] == '\n';
	}
	memcpy(script + len, tail, sizeof(tail) - 1);
	len += sizeof(tail) - 1;

	/* Records leave at once, as the daemon's own do: Nagle would hold a
	 * small handshake record for the peer's delayed ACK. */
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ||
	    (connect(fd, (struct sockaddr *)&laddr, sizeof(laddr)) < 0 && errno != EINPROGRESS)) {
		abort();
	}
	e = tls_peer_start(&peer, 2);
	/* A simulated millisecond a pass: deadlines come in passes, so a
	 * stalled session meets nomx's own idle timeout (a 421, not the
	 * 250) however fast or slow this machine is. */
	for (int pass = 0; pass < 30000 + 8 * (int)(len / record) &&
	    !(br_ssl_engine_current_state(e) & BR_SSL_CLOSED); pass++) {
		unsigned st = br_ssl_engine_current_state(e);
		unsigned char *p;
		size_t n;
		ssize_t r;

		now = 1000 + pass;
		if (st & BR_SSL_SENDREC) {
			p = br_ssl_engine_sendrec_buf(e, &n);
			if ((r = write(fd, p, n)) > 0) {
				br_ssl_engine_sendrec_ack(e, (size_t)r);
			}
		}
		if (st & BR_SSL_RECVREC) {
			p = br_ssl_engine_recvrec_buf(e, &n);
			if ((r = read(fd, p, n)) > 0) {
				br_ssl_engine_recvrec_ack(e, (size_t)r);
			} else if (r == 0) {
				break;
			}
		}
		/* After the greeting: nomx refuses a client that talks first. */
		if ((st & BR_SSL_SENDAPP) && sent < len && memmem(replies, got, "220 ", 4) != NULL) {
			p = br_ssl_engine_sendapp_buf(e, &n);
			n = n < record ? n : record;
			n = n < len - sent ? n : len - sent;
			memcpy(p, script + sent, n);
			br_ssl_engine_sendapp_ack(e, n);
			br_ssl_engine_flush(e, 0);
			sent += n;
		}
		if (st & BR_SSL_RECVAPP) {
			p = br_ssl_engine_recvapp_buf(e, &n);
			n = n < sizeof(replies) - got ? n : sizeof(replies) - got;
			memcpy(replies + got, p, n);
			br_ssl_engine_recvapp_ack(e, n);
			got += n;
		}
		server_pass(now);
		if (memmem(replies, got, "\r\n221 ", 6) != NULL) {
			break;
		}
	}
	close(fd);
	for (int pass = 0; pass < 50; pass++) {
		server_pass(now);	/* the server notices the close */
	}
	if (!answered(replies, got)) {
		fprintf(stderr, "conn_fuzz: %zu of %zu bytes sent in %zu-byte records; replies:\n%.*s\n",
		    sent, len, record, (int)got, replies);
		FUZZ_FAIL("the message was never answered");
	}
	if (memmem(replies, got, "\r\n221 ", 6) == NULL) {
		fprintf(stderr, "conn_fuzz: %zu of %zu bytes sent in %zu-byte records; replies:\n%.*s\n",
		    sent, len, record, (int)got, replies);
		FUZZ_FAIL("QUIT was never answered");
	}
	if (conn_active() != 0) {
		FUZZ_FAIL("the session outlived its connection");
	}
	return 0;
}
