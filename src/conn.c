/* SPDX-License-Identifier: ISC */
/*
 * The slot pool.  Every slot is static; a session costs no allocation.
 * The poll set is rebuilt each pass from slot state (dropbear's
 * common-session.c): read interest only while the session wants input
 * and has room, write interest only while replies are pending.  Writes
 * are tried at once after processing, so a pipelined batch or a commit
 * usually costs no extra poll round.
 *
 * A TLS connection (SMTPS, or after STARTTLS) has an engine from the
 * TLS pool between the socket and the session's buffers; the session
 * itself never knows the difference.
 *
 * The session (smtp.c) is pure: this file answers its requests.  It
 * checks the spool's room, reserves and starts TLS engines, and stores
 * finished messages; the loop's group commit then tells each waiting
 * session whether its message is durable.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../config.h"
#include "clock.h"
#include "conn.h"
#include "fault.h"
#include "log.h"
#include "message.h"
#include "number.h"
#include "peer.h"
#include "smtp.h"
#include "spool.h"
#include "tls.h"

/* Rounds of process-and-flush for one slot in one pass of the loop. */
#define CONN_ROUNDS 8

struct conn {
	int rfd;		/* -1: free slot */
	int wfd;		/* = rfd, except in inetd mode */
	int family;		/* the client's, and its key for the per-address cap */
	uint64_t key;		/* (peer.h) */
	int polled;		/* index in the poll set, -1 if none */
	struct tls *tls;	/* NULL: plain */
	struct tls *engine;	/* reserved for STARTTLS, until the 220 is out */
	int64_t tls_since;	/* when the handshake began */
	uint64_t stored;	/* seq of the message waiting for the group commit, or 0 */
	struct smtp_session s;
};

static struct conn conns[NOMX_MAX_CONN];
static unsigned conn_next_id;
static int conn_ready;
static struct spool *conn_spool;	/* main.c's; the sessions' messages go here */
static int64_t conn_waiting_since = -1;	/* when the first message began to wait for the commit */

/* Stress (config.h NOMX_STRESS_*): since when, the most sessions in use
 * and how many were closed for new clients during it, and since when
 * use has been below half the level (-1: it is not). */
static int conn_stressed;
static int64_t conn_stress_since, conn_calm_since = -1;
static size_t conn_stress_peak;
static unsigned conn_evicted;

void
conn_init(struct spool *sp)
{
	for (size_t i = 0; i < NOMX_MAX_CONN; i++) {
		conns[i].rfd = -1;
	}
	conn_spool = sp;
	conn_ready = 1;
}

size_t
conn_slot_bytes(void)
{
	return sizeof(struct conn);
}

size_t
conn_active(void)
{
	size_t n = 0;

	for (size_t i = 0; conn_ready && i < NOMX_MAX_CONN; i++) {
		n += conns[i].rfd >= 0;
	}
	return n;
}

static void
conn_close(struct conn *c)
{
	log_info("session=%u client=%s disconnect", c->s.id, c->s.client_ip);
	smtp_close(&c->s);
	if (c->tls != NULL) {
		tls_release(c->tls, c->wfd);
		c->tls = NULL;
	}
	if (c->engine != NULL) {
		tls_release(c->engine, -1);
		c->engine = NULL;
	}
	close(c->rfd);
	if (c->wfd != c->rfd) {
		close(c->wfd);
	}
	c->rfd = c->wfd = -1;
}

static struct conn *
conn_slot(int rfd, int wfd, const struct peer *p, int tls, int64_t now)
{
	for (size_t i = 0; conn_ready && i < NOMX_MAX_CONN; i++) {
		struct conn *c = &conns[i];
		if (c->rfd < 0) {
			c->rfd = rfd;
			c->wfd = wfd;
			c->family = p->family;
			c->key = p->key;
			c->polled = -1;
			c->tls = NULL;
			c->engine = NULL;
			c->stored = 0;
			smtp_open(&c->s, ++conn_next_id, p->ip,
			    (tls ? SMTP_OPEN_TLS : 0) | (tls_available() ? SMTP_OPEN_STARTTLS : 0), now);
			smtp_stress(&c->s, conn_stressed);
			log_info("session=%u client=%s connect", c->s.id, p->ip);
			return c;
		}
	}
	return NULL;
}

/* The plain side of a TLS connection. */
static struct tls_buf
conn_tls_buf(struct conn *c)
{
	struct smtp_session *s = &c->s;

	return (struct tls_buf){ s->in, &s->in_len, sizeof(s->in), s->out, &s->out_len };
}

/* Drive the TLS engine; -1 if the connection is over. */
static int
conn_tls_pump(struct conn *c, int64_t now)
{
	struct tls_buf b = conn_tls_buf(c);
	char why[96];
	int r = tls_pump(c->tls, c->rfd, c->wfd, &b);

	if (r < 0) {
		if (tls_error(c->tls, why, sizeof(why)) != NULL) {
			log_warnx("session=%u client=%s tls-failed %s: %s", c->s.id, c->s.client_ip,
			    tls_established(c->tls) ? "after the handshake" : "in the handshake", why);
		}
		return -1;
	}
	if (r > 0) {
		c->s.active = now;
	}
	if (c->s.tls_info[0] == '\0' && tls_established(c->tls)) {
		char info[sizeof(c->s.tls_info)];
		int one = 1;
		/* Acknowledge the client's last flight now.  In a resumed
		 * handshake the client's Finished comes last, and a client
		 * with Nagle on holds its next command until it is
		 * acknowledged: 40 ms of delayed ACK on every resumption. */
		setsockopt(c->rfd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		tls_describe(c->tls, info, sizeof(info));
		smtp_tls_established(&c->s, info);
		log_info("session=%u client=%s tls %s", c->s.id, c->s.client_ip, c->s.tls_info);
	}
	return 0;
}

/* Write what is pending; -1 if the peer is gone. */
static int
conn_write(struct conn *c, int64_t now)
{
	struct smtp_session *s = &c->s;

	if (c->tls != NULL) {
		return conn_tls_pump(c, now);
	}
	while (s->out_len > 0) {
		ssize_t w = write(c->wfd, s->out, s->out_len);
		if (w < 0) {
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		}
		memmove(s->out, s->out + w, s->out_len - (size_t)w);
		s->out_len -= (size_t)w;
		s->active = now;
	}
	return 0;
}

/* Start TLS on a connection: its engine is already taken. */
static int
conn_start_tls(struct conn *c, struct tls *t, int64_t now)
{
	c->tls = t;
	c->tls_since = now;
	if (tls_begin(t) < 0) {
		log_warnx("session=%u client=%s tls-failed: engine reset", c->s.id, c->s.client_ip);
		return -1;
	}
	return 0;
}

/* Refuse a connection we have no slot for, without blocking. */
static void
conn_refuse(int fd, enum reply r)
{
	char line[128];
	size_t n = 0;

	reply_put(line, &n, sizeof(line), r, NOMX_HOSTNAME);
	if (write(fd, line, n) < 0) {
		/* nothing more to do for it */
	}
	close(fd);
}

/* Making room.  The session to close for a new client: the one that
 * holds least (nothing, then an open transaction), idle longest; with
 * engine, only sessions that hold a TLS engine.  A handshake that
 * stalled holds nothing but its engine.  NULL: every one is working. */
static struct conn *
conn_victim(int engine, int64_t now)
{
	struct conn *best = NULL;
	int best_rank = 0;

	for (size_t i = 0; conn_ready && i < NOMX_MAX_CONN; i++) {
		struct conn *c = &conns[i];
		int rank;

		if (c->rfd < 0 || (engine && c->tls == NULL && c->engine == NULL)) {
			continue;
		}
		if (c->tls != NULL && !tls_established(c->tls)) {
			rank = now - c->s.active >= NOMX_WORKING_MS ? 2 : 0;
		} else {
			rank = smtp_evictable(&c->s, now);
		}
		if (rank > best_rank || (rank > 0 && rank == best_rank && c->s.active < best->s.active)) {
			best = c;
			best_rank = rank;
		}
	}
	return best;
}

/* Close c for a new client, telling it why where it still can be told
 * (not in the middle of a TLS handshake): one write, then it is gone. */
static void
conn_evict(struct conn *c, int64_t now)
{
	if (c->tls != NULL && !tls_established(c->tls)) {
		log_warnx("session=%u client=%s tls-failed: handshake stalled, the engine is needed",
		    c->s.id, c->s.client_ip);
	} else {
		smtp_evict(&c->s);
		(void)conn_write(c, now);
	}
	conn_evicted++;
	conn_close(c);
}

/* A TLS engine, taken from an idle or stalled session if none is free. */
static struct tls *
conn_take_engine(int64_t now)
{
	struct tls *t = tls_take();
	struct conn *v;

	if (t == NULL && (v = conn_victim(1, now)) != NULL) {
		conn_evict(v, now);
		t = tls_take();
	}
	return t;
}

/* Stress begins when NOMX_STRESS_CONN slots are in use and ends once
 * fewer than half as many have been for NOMX_STRESS_TIMEOUT seconds;
 * one log line each.  Returns when it must be looked at again, or -1. */
static int64_t
conn_stress_update(int64_t now)
{
	size_t used = conn_active();

	if (!conn_stressed && used < NOMX_STRESS_CONN) {
		return -1;
	}
	if (!conn_stressed) {
		log_warnx("stress begins: %zu of %d slots in use; waits cut to %d s, errors to %d",
		    used, NOMX_MAX_CONN, NOMX_STRESS_TIMEOUT, NOMX_STRESS_ERRORS);
		conn_stressed = 1;
		conn_stress_since = now;
		conn_calm_since = -1;
		conn_stress_peak = 0;
		conn_evicted = 0;
	} else if (used * 2 >= NOMX_STRESS_CONN) {
		conn_calm_since = -1;
	} else if (conn_calm_since < 0) {
		conn_calm_since = now;
	} else if (now - conn_calm_since >= NOMX_STRESS_TIMEOUT * 1000LL) {
		uint64_t s = (uint64_t)(now - conn_stress_since);
		number_div(&s, 1000);
		log_info("stress ends after %llu s: at most %zu of %d slots in use, %u sessions "
		    "closed for new clients", (unsigned long long)s, conn_stress_peak, NOMX_MAX_CONN,
		    conn_evicted);
		conn_stressed = 0;
	}
	if (used > conn_stress_peak) {
		conn_stress_peak = used;
	}
	for (size_t i = 0; conn_ready && i < NOMX_MAX_CONN; i++) {
		if (conns[i].rfd >= 0 && conns[i].s.stress != conn_stressed) {
			smtp_stress(&conns[i].s, conn_stressed);
		}
	}
	return conn_stressed && conn_calm_since >= 0 ? conn_calm_since + NOMX_STRESS_TIMEOUT * 1000LL : -1;
}

void
conn_accept(int lfd, int implicit_tls, int64_t now)
{
	for (;;) {
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);
		struct peer p;
		const char *ip = p.ip;
		size_t same = 0;
		int one = 1;
		int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
				log_warn("accept");
			}
			(void)conn_stress_update(now);
			return;
		}
		fault_forbidden_call();	/* test builds: NOMX_FORBID */
		/* Replies and TLS records are written whole, when ready: Nagle
		 * would only hold the second write of a handshake flight back
		 * for the client's delayed ACK (40 ms). */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		peer_from((struct sockaddr *)&sa, sl, &p);
		for (size_t i = 0; conn_ready && i < NOMX_MAX_CONN; i++) {
			same += conns[i].rfd >= 0 && conns[i].family == p.family && conns[i].key == p.key;
		}
		if (same >= NOMX_MAX_CONN_PER_IP) {
			log_warnx("client=%s refused: %zu connections from it", ip, same);
			conn_refuse(fd, REPLY_BUSY_IP);
			continue;
		}
		struct tls *t = NULL;
		if (implicit_tls && (t = conn_take_engine(now)) == NULL) {
			/* No plaintext refusal on a TLS port: just close. */
			log_warnx("client=%s refused: all %d TLS sessions busy", ip, NOMX_TLS_SESSIONS);
			close(fd);
			continue;
		}
		struct conn *c = conn_slot(fd, fd, &p, t != NULL, now);
		struct conn *v;
		if (c == NULL && (v = conn_victim(0, now)) != NULL) {
			conn_evict(v, now);
			c = conn_slot(fd, fd, &p, t != NULL, now);
		}
		if (c == NULL) {
			log_warnx("client=%s refused: all %d slots busy", ip, NOMX_MAX_CONN);
			if (t != NULL) {
				tls_release(t, -1);
				close(fd);
			} else {
				conn_refuse(fd, REPLY_BUSY);
			}
		} else if (t != NULL) {
			if (conn_start_tls(c, t, now) < 0) {
				conn_close(c);
			}
		}
	}
}

void
conn_add_inetd(int rfd, int wfd, const struct peer *p, int64_t now)
{
	fcntl(rfd, F_SETFL, fcntl(rfd, F_GETFL) | O_NONBLOCK);
	fcntl(wfd, F_SETFL, fcntl(wfd, F_GETFL) | O_NONBLOCK);
	conn_slot(rfd, wfd, p, 0, now);
}

size_t
conn_poll_set(struct pollfd *pfd, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; conn_ready && i < NOMX_MAX_CONN; i++) {
		struct conn *c = &conns[i];
		short rev = 0, wev = 0;

		c->polled = -1;
		if (c->rfd < 0) {
			continue;
		}
		if (c->tls != NULL) {
			short ev = tls_events(c->tls, smtp_wants_input(&c->s));
			rev = ev & POLLIN;
			wev = ev & POLLOUT;
		} else {
			rev = smtp_wants_input(&c->s) ? POLLIN : 0;
			wev = c->s.out_len > 0 ? POLLOUT : 0;
		}
		if ((rev | wev) == 0 || n + 2 > max) {
			continue;
		}
		c->polled = (int)n;
		if (c->rfd == c->wfd) {
			pfd[n++] = (struct pollfd){ c->rfd, (short)(rev | wev), 0 };
		} else {
			pfd[n++] = (struct pollfd){ c->rfd, rev, 0 };
			pfd[n++] = (struct pollfd){ c->wfd, wev, 0 };
		}
	}
	return n;
}

/* Read what is there; -1 on EOF or error. */
static int
conn_read(struct conn *c, int64_t now)
{
	struct smtp_session *s = &c->s;
	ssize_t r;

	if (c->tls != NULL) {
		return conn_tls_pump(c, now);
	}
	r = read(c->rfd, s->in + s->in_len, sizeof(s->in) - s->in_len);
	if (r < 0) {
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	}
	if (r == 0) {
		return -1;
	}
	s->in_len += (size_t)r;
	s->active = now;
	return 0;
}

/* Can the session move without new bytes from the socket: input
 * already read, or plaintext its TLS engine decrypted and holds? */
static int
conn_has_input(const struct conn *c)
{
	return smtp_has_work(&c->s) ||
	    (c->tls != NULL && tls_holds_input(c->tls) && smtp_wants_input(&c->s));
}

/* Store the session's finished message; the group commit answers it
 * (conn_after_commit), unless the spool refuses it now. */
static void
conn_store(struct conn *c)
{
	static struct message msg;
	uint64_t seq;
	enum spool_err e;

	message_build(&msg, &c->s, spool_next_seq(conn_spool), clock_wall_s());
	e = spool_append(conn_spool, &msg.rec, &seq);
	if (e == SPOOL_OK) {
		c->stored = seq;
		smtp_stored(&c->s, seq);
		if (conn_waiting_since < 0) {
			conn_waiting_since = c->s.active;
		}
	} else {
		smtp_committed(&c->s, e == SPOOL_EIO ? REPLY_STORE_FAILED : REPLY_NO_ROOM);
	}
}

/* Answer what the session asks for that can be answered at once;
 * returns 1 if something was (the session may go on), else 0. */
static int
conn_answer(struct conn *c, int64_t now)
{
	struct smtp_session *s = &c->s;
	unsigned want = smtp_want(s);

	if (want & SMTP_WANT_ROOM) {
		smtp_room(s, spool_room(conn_spool, s->params.size) == SPOOL_OK);
	} else if (want & SMTP_WANT_ENGINE) {
		c->engine = conn_take_engine(now);
		smtp_engine(s, c->engine != NULL);
	} else if (want & SMTP_WANT_COMMIT) {
		conn_store(c);
	} else {
		return 0;
	}
	return 1;
}

/* The 220 to STARTTLS is out: TLS begins on the reserved engine.
 * Whatever the client sent after STARTTLS and before the handshake is
 * dropped unread (RFC 3207 5; the command-injection attacks), and the
 * session starts over.  -1 if the connection is over. */
static int
conn_starttls(struct conn *c, int64_t now)
{
	struct tls *t = c->engine;

	c->engine = NULL;
	smtp_tls_started(&c->s);
	return conn_start_tls(c, t, now) < 0 || conn_tls_pump(c, now) < 0 ? -1 : 0;
}

/* Process input, answer requests, flush output, close when done.
 * Returns 0 if the slot is still open.  Over TLS, flushing replies
 * also hands the session more of what the engine decrypted (a 16 KiB
 * record does not fit the input buffer at once), so process again
 * while there is input, for a bounded number of rounds: one fast
 * client cannot hold the loop, and conn_has_work brings the rest back
 * on the next pass. */
static int
conn_run(struct conn *c, int64_t now)
{
	int rounds = CONN_ROUNDS;

	do {
		do {
			smtp_process(&c->s);
		} while (conn_answer(c, now));
		if (conn_write(c, now) < 0) {
			conn_close(c);
			return -1;
		}
	} while (--rounds > 0 && conn_has_input(c));
	if ((smtp_want(&c->s) & SMTP_WANT_TLS) && conn_starttls(c, now) < 0) {
		conn_close(c);
		return -1;
	}
	if ((smtp_want(&c->s) & SMTP_WANT_CLOSE) && (c->tls == NULL || !tls_sending(c->tls))) {
		conn_close(c);
		return -1;
	}
	return 0;
}

void
conn_handle_all(const struct pollfd *pfd, size_t n, int64_t now)
{
	for (size_t i = 0; conn_ready && i < NOMX_MAX_CONN; i++) {
		struct conn *c = &conns[i];
		short rev = 0, wev = 0;

		if (c->rfd < 0) {
			continue;
		}
		if (c->polled >= 0 && (size_t)c->polled < n) {
			rev = pfd[c->polled].revents;
			wev = c->rfd == c->wfd ? rev : pfd[c->polled + 1].revents;
		}
		if ((wev & (POLLOUT | POLLERR | POLLHUP)) && conn_write(c, now) < 0) {
			conn_close(c);
			continue;
		}
		if (rev & (POLLIN | POLLERR | POLLHUP)) {
			if (conn_read(c, now) < 0) {
				/* The peer is gone; whatever it was sending is dropped
				 * (nothing of it was acknowledged). */
				conn_close(c);
				continue;
			}
		}
		/* A slot poll had nothing for may still have input in hand
		 * (a previous pass stopped after CONN_ROUNDS). */
		if ((rev | wev) != 0 || conn_has_input(c)) {
			conn_run(c, now);
		}
	}
}

/* A session that may finish a message soon: its transaction is open
 * (MAIL taken, message not yet stored) and its bytes moved just now. */
static int
conn_joining(const struct conn *c, int64_t now)
{
	return c->rfd >= 0 && c->s.mail && c->s.state != SMTP_S_COMMIT &&
	    now - c->s.active < NOMX_COMMIT_WINDOW_MS;
}

int64_t
conn_commit_due(int64_t now)
{
	if (conn_waiting_since < 0) {
		return -1;
	}
	for (size_t i = 0; conn_ready && i < NOMX_MAX_CONN; i++) {
		if (conn_joining(&conns[i], now)) {
			return conn_waiting_since + NOMX_COMMIT_WINDOW_MS;
		}
	}
	return now;
}

void
conn_after_commit(int64_t now)
{
	uint64_t durable = spool_durable_seq(conn_spool);
	size_t shared = 0;

	conn_waiting_since = -1;
	for (size_t i = 0; conn_ready && i < NOMX_MAX_CONN; i++) {
		shared += conns[i].rfd >= 0 && conns[i].stored != 0 && conns[i].stored <= durable;
	}
	if (shared > 1) {
		/* Only when it did something: a lone sender logs no more. */
		log_info("group-commit messages=%zu seq=%llu", shared, (unsigned long long)durable);
	}
	for (size_t i = 0; conn_ready && i < NOMX_MAX_CONN; i++) {
		struct conn *c = &conns[i];
		if (c->rfd >= 0 && c->stored != 0) {
			smtp_committed(&c->s, c->stored <= durable ? REPLY_QUEUED : REPLY_STORE_FAILED);
			c->stored = 0;
			conn_run(c, now);
		}
	}
}

static int64_t
conn_deadline(const struct conn *c)
{
	if (c->tls != NULL && !tls_established(c->tls)) {
		int t = conn_stressed && NOMX_STRESS_TIMEOUT < NOMX_TIMEOUT_TLS ? NOMX_STRESS_TIMEOUT :
		    NOMX_TIMEOUT_TLS;
		return c->tls_since + t * 1000LL;
	}
	return smtp_deadline(&c->s);
}

/* Input already waiting when we are about to greet: an early talker. */
static int
conn_early_input(const struct conn *c)
{
	struct pollfd p = { c->rfd, POLLIN, 0 };

	if (c->tls != NULL) {
		return c->s.in_len > 0;	/* records may be handshake, not talk */
	}
	return c->s.in_len > 0 || (poll(&p, 1, 0) == 1 && (p.revents & POLLIN));
}

int64_t
conn_deadlines(int64_t now)
{
	int64_t next = conn_stress_update(now);

	for (size_t i = 0; conn_ready && i < NOMX_MAX_CONN; i++) {
		struct conn *c = &conns[i];
		int64_t d;

		if (c->rfd < 0) {
			continue;
		}
		d = conn_deadline(c);
		if (d >= 0 && d <= now && c->tls != NULL && !tls_established(c->tls)) {
			log_warnx("session=%u client=%s tls-failed: handshake timeout", c->s.id,
			    c->s.client_ip);
			conn_close(c);
			continue;
		}
		if (d >= 0 && d <= now) {
			if (smtp_expire(&c->s, conn_early_input(c), now) < 0) {
				conn_close(c);
				continue;
			}
			if (conn_run(c, now) < 0) {
				continue;
			}
			d = conn_deadline(c);
		}
		if (d >= 0 && (next < 0 || d < next)) {
			next = d;
		}
	}
	return next;
}

int
conn_has_work(void)
{
	for (size_t i = 0; conn_ready && i < NOMX_MAX_CONN; i++) {
		if (conns[i].rfd >= 0 && conn_has_input(&conns[i])) {
			return 1;
		}
	}
	return 0;
}

void
conn_shutdown(int force, int64_t now)
{
	for (size_t i = 0; conn_ready && i < NOMX_MAX_CONN; i++) {
		struct conn *c = &conns[i];
		int r;

		if (c->rfd < 0) {
			continue;
		}
		r = smtp_shutdown(&c->s, force);
		if (r < 0) {
			conn_close(c);
		} else if (r > 0) {
			c->s.active = now;
			conn_run(c, now);
		}
	}
}
