/* SPDX-License-Identifier: ISC */
/*
 * LMTP client (fetch_lmtp.h).  One connection for the run, made at the
 * first message and made again once if the store closed it while idle
 * (as Dovecot does after a few minutes).  Commands go one at a time:
 * a collector's rate needs no pipelining, and each reply is read before
 * the next command is decided.  Any reply or connection that does not
 * say 2xx is a temporary failure unless the store said 5xx.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../config.h"
#include "fetch_lmtp.h"
#include "fmt.h"

#if NOMX_FETCH	/* the collector's side: not on a router (board/router.h) */

#define LMTP_REPLY_WAIT_MS 120000	/* a store delivering a big message */

static struct {
	const char *where;
	int fd;
	int utf8, mime8;		/* the store offered SMTPUTF8, 8BITMIME */
	size_t nin, nout;
} lm = { .fd = -1 };

/* Apart from lm, so that they are zeroed memory (bss), not 20 KiB of
 * initialised data in the binary and in every process's RSS. */
static struct {
	char in[4096];			/* replies read, not yet taken */
	char out[16384];		/* the body, dot-stuffed */
} lmbuf;

static int
lmtp_connect(void)
{
	char host[256];
	const char *colon;
	int fd = -1;

	if (lm.where[0] == '/' || lm.where[0] == '.') {
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		if (strlen(lm.where) >= sizeof(sa.sun_path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(sa.sun_path, lm.where, strlen(lm.where));
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
			close(fd);
			fd = -1;
		}
		return fd;
	}
	colon = strrchr(lm.where, ':');
	if (colon != NULL && (size_t)(colon - lm.where) < sizeof(host)) {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai, *a;
		const char *h = lm.where;
		size_t n = (size_t)(colon - lm.where);
		if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
			h++, n -= 2;	/* [IPv6]:port */
		}
		memcpy(host, h, n);
		host[n] = '\0';
		if (getaddrinfo(host, colon + 1, &hints, &ai) != 0) {
			errno = EHOSTUNREACH;
			return -1;
		}
		for (a = ai; a != NULL && fd < 0; a = a->ai_next) {
			fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
			if (fd >= 0 && connect(fd, a->ai_addr, a->ai_addrlen) < 0) {
				close(fd);
				fd = -1;
			}
		}
		freeaddrinfo(ai);
	}
	return fd;
}

static int
lmtp_write(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(lm.fd, p, n);
		if (w < 0 && errno == EINTR) {
			continue;
		}
		if (w <= 0) {
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One reply (its lines "NNN-..." then "NNN ..."): the code, and the
 * last line's text in text; -1 if the connection failed.  With lhlo,
 * the extensions the lines name are noted. */
static int
lmtp_reply(char *text, size_t cap, int lhlo)
{
	for (;;) {
		char *nl = memchr(lmbuf.in, '\n', lm.nin);
		struct pollfd p = { lm.fd, POLLIN, 0 };
		ssize_t r;

		if (nl != NULL) {
			size_t len = (size_t)(nl - lmbuf.in);
			int more = len > 3 && lmbuf.in[3] == '-';
			int code = len >= 3 ? atoi(lmbuf.in) : 0;
			if (lhlo && len >= 12) {
				lm.utf8 |= strncmp(lmbuf.in + 4, "SMTPUTF8", 8) == 0;
				lm.mime8 |= strncmp(lmbuf.in + 4, "8BITMIME", 8) == 0;
			}
			size_t shown = len > 0 && lmbuf.in[len - 1] == '\r' ? len - 1 : len;
			fmt_buf(text, cap, "%.*s", (int)shown, lmbuf.in);
			memmove(lmbuf.in, nl + 1, lm.nin - len - 1);
			lm.nin -= len + 1;
			if (code < 200 || code > 599) {
				return -1;
			}
			if (!more) {
				return code;
			}
			continue;
		}
		if (lm.nin == sizeof(lmbuf.in) || poll(&p, 1, LMTP_REPLY_WAIT_MS) != 1 ||
		    (r = read(lm.fd, lmbuf.in + lm.nin, sizeof(lmbuf.in) - lm.nin)) <= 0) {
			return -1;
		}
		lm.nin += (size_t)r;
	}
}

/* One command line (with its CRLF) and its reply code; -1 if the
 * connection failed. */
static int
lmtp_say(const char *line, char *text, size_t cap)
{
	return lmtp_write(line, strlen(line)) < 0 ? -1 : lmtp_reply(text, cap, 0);
}

static void
lmtp_drop(void)
{
	if (lm.fd >= 0) {
		close(lm.fd);
	}
	lm.fd = -1;
	lm.nin = 0;
}

/* Connect, read the greeting, LHLO: 0, or -1 with the reason printed. */
static int
lmtp_open(void)
{
	char text[512] = "", me[256] = "localhost", line[300];
	int code;

	if ((lm.fd = lmtp_connect()) < 0) {
		fmt_err("nomx fetch: --lmtp %s: %s\n", lm.where, strerror(errno));
		return -1;
	}
	lm.utf8 = lm.mime8 = 0;
	gethostname(me, sizeof(me) - 1);
	fmt_buf(line, sizeof(line), "LHLO %s\r\n", me);
	if ((code = lmtp_reply(text, sizeof(text), 0)) == 220 &&
	    lmtp_write(line, strlen(line)) == 0 && (code = lmtp_reply(text, sizeof(text), 1)) == 250) {
		return 0;
	}
	fmt_err("nomx fetch: --lmtp %s: %s\n", lm.where, code < 0 ? "connection lost" : text);
	lmtp_drop();
	return -1;
}

int
fetch_lmtp_init(const char *where)
{
	lm.where = where;
	return where[0] == '/' || where[0] == '.' || strrchr(where, ':') != NULL ? 0 : -1;
}

static int
lmtp_flush_out(void)
{
	int r = lmtp_write(lmbuf.out, lm.nout);

	lm.nout = 0;
	return r;
}

/* The body, dot-stuffed, then the final dot. */
static int
lmtp_body(int fd, uint64_t len)
{
	char in[8192];
	uint64_t off = 0;
	int bol = 1;
	char last = '\n';

	lm.nout = 0;
	while (off < len) {
		size_t k = len - off < sizeof(in) ? (size_t)(len - off) : sizeof(in);
		ssize_t r = pread(fd, in, k, (off_t)off);
		if (r <= 0) {
			return -1;
		}
		for (ssize_t i = 0; i < r; i++) {
			if (lm.nout + 2 > sizeof(lmbuf.out) && lmtp_flush_out() < 0) {
				return -1;
			}
			if (bol && in[i] == '.') {
				lmbuf.out[lm.nout++] = '.';
			}
			lmbuf.out[lm.nout++] = in[i];
			bol = in[i] == '\n';
		}
		last = in[r - 1];
		off += (uint64_t)r;
	}
	if (lmtp_flush_out() < 0) {
		return -1;
	}
	/* A message that does not end a line gets one: the dot must start
	 * its own. */
	return lmtp_write(last == '\n' ? ".\r\n" : "\r\n.\r\n", last == '\n' ? 3 : 5);
}

static int
lmtp_8bit(int fd, uint64_t len)
{
	unsigned char in[8192];

	for (uint64_t off = 0; off < len;) {
		ssize_t r = pread(fd, in, sizeof(in), (off_t)off);
		if (r <= 0) {
			return 0;
		}
		for (ssize_t i = 0; i < r; i++) {
			if (in[i] & 0x80) {
				return 1;
			}
		}
		off += (uint64_t)r;
	}
	return 0;
}

static enum lmtp_result
lmtp_verdict(int code)
{
	return code >= 200 && code < 300 ? LMTP_OK : code >= 500 ? LMTP_PERM : LMTP_TEMP;
}

/* One try over the open connection.  *lost says the connection failed
 * before the store could have taken the message (a retry is safe). */
static enum lmtp_result
lmtp_try(uint64_t seq, const char *from, const char *const *rcpt, size_t nrcpt, int body_fd,
    uint64_t body_len, int *lost)
{
	char text[512], params[64] = "", line[600];
	int code, utf8 = 0;

	for (const char *p = from; *p; p++) {
		utf8 |= (*p & 0x80) != 0;
	}
	for (size_t i = 0; i < nrcpt; i++) {
		for (const char *p = rcpt[i]; *p; p++) {
			utf8 |= (*p & 0x80) != 0;
		}
	}
	if (lm.mime8 && lmtp_8bit(body_fd, body_len)) {
		strcat(params, " BODY=8BITMIME");
	}
	if (utf8 && lm.utf8) {
		strcat(params, " SMTPUTF8");
	}
	*lost = 1;
	fmt_buf(line, sizeof(line), "MAIL FROM:<%s>%s\r\n", from, params);
	if ((code = lmtp_say(line, text, sizeof(text))) < 0) {
		return LMTP_TEMP;
	}
	*lost = 0;
	if (code != 250) {
		fmt_err("nomx fetch: seq %llu: the store refused the sender <%s>: %s\n",
		    (unsigned long long)seq, from, text);
		lmtp_say("RSET\r\n", text, sizeof(text));
		return lmtp_verdict(code);
	}
	for (size_t i = 0; i < nrcpt; i++) {
		fmt_buf(line, sizeof(line), "RCPT TO:<%s>\r\n", rcpt[i]);
		if ((code = lmtp_say(line, text, sizeof(text))) < 0) {
			*lost = 1;
			return LMTP_TEMP;
		}
		if (code < 200 || code > 299) {
			fmt_err("nomx fetch: seq %llu: the store refused <%s>: %s\n",
			    (unsigned long long)seq, rcpt[i], text);
			lmtp_say("RSET\r\n", text, sizeof(text));
			return lmtp_verdict(code);
		}
	}
	if ((code = lmtp_say("DATA\r\n", text, sizeof(text))) != 354) {
		*lost = code < 0;
		if (code >= 0) {
			fmt_err("nomx fetch: seq %llu: the store refused DATA: %s\n",
			    (unsigned long long)seq, text);
		}
		return code < 0 ? LMTP_TEMP : lmtp_verdict(code);
	}
	if (lmtp_body(body_fd, body_len) < 0) {
		*lost = 1;	/* no final dot: the store delivered nothing */
		return LMTP_TEMP;
	}
	/* RFC 2033 4.2: one reply per recipient, in order. */
	enum lmtp_result worst = LMTP_OK;
	for (size_t i = 0; i < nrcpt; i++) {
		enum lmtp_result v;
		if ((code = lmtp_reply(text, sizeof(text), 0)) < 0) {
			fmt_err("nomx fetch: seq %llu: the store's answer was lost\n",
			    (unsigned long long)seq);
			return LMTP_TEMP;
		}
		v = lmtp_verdict(code);
		if (v != LMTP_OK) {
			fmt_err("nomx fetch: seq %llu: the store did not take it for <%s>: %s\n",
			    (unsigned long long)seq, rcpt[i], text);
			worst = v < worst ? v : worst;
		}
	}
	return worst;
}

enum lmtp_result
fetch_lmtp_deliver(uint64_t seq, const char *from, const char *const *rcpt, size_t nrcpt,
    int body_fd, uint64_t body_len)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		enum lmtp_result r;
		int lost;

		if (lm.fd < 0 && lmtp_open() < 0) {
			return LMTP_TEMP;
		}
		r = lmtp_try(seq, from, rcpt, nrcpt, body_fd, body_len, &lost);
		if (r == LMTP_OK || !lost) {
			return r;
		}
		/* Closed while idle: once more on a new connection. */
		lmtp_drop();
	}
	fmt_err("nomx fetch: --lmtp %s: the connection failed\n", lm.where);
	return LMTP_TEMP;
}

void
fetch_lmtp_close(void)
{
	char text[512];

	if (lm.fd >= 0) {
		lmtp_say("QUIT\r\n", text, sizeof(text));
		lmtp_drop();
	}
}

#endif
