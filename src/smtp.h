/* SPDX-License-Identifier: ISC */
/*
 * The SMTP session: a pure state machine over bytes, in the style of
 * BearSSL's engines.  The connection layer (conn.c) puts client bytes
 * into s->in and takes replies from s->out; everything the session
 * cannot decide alone it asks for with a request (smtp_want) and
 * learns the answer from an event call:
 *
 *   SMTP_WANT_ROOM    is there room in the spool for s->params.size?
 *                     -> smtp_room()
 *   SMTP_WANT_ENGINE  STARTTLS: reserve a TLS engine -> smtp_engine()
 *   SMTP_WANT_TLS     the 220 to STARTTLS is out: start TLS on the
 *                     reserved engine -> smtp_tls_started()
 *   SMTP_WANT_COMMIT  store the finished message (message.h) ->
 *                     smtp_stored(), then after the group commit
 *                     smtp_committed(); or smtp_committed() at once
 *   SMTP_WANT_CLOSE   every reply is out: close the connection
 *
 * Time comes in as arguments and s->active; the session reads no
 * clock, opens no file and knows nothing of sockets, the spool or TLS,
 * so a dialogue can be replayed from bytes alone (tests/unit/sessions).
 */
#ifndef NOMX_SMTP_H
#define NOMX_SMTP_H

#include <stddef.h>
#include <stdint.h>

#include "../config.h"
#include "addr.h"
#include "data.h"
#include "reply.h"
#include "smtp_cmd.h"
#include "stage.h"

enum smtp_state {
	SMTP_S_GREET,	/* connected; greeting not sent yet */
	SMTP_S_CMD,	/* reading commands */
	SMTP_S_DATA,	/* reading DATA content */
	SMTP_S_BDAT,	/* reading a BDAT chunk */
	SMTP_S_ROOM,	/* MAIL parsed; waiting to hear if the spool has room */
	SMTP_S_COMMIT,	/* message complete; waiting for it to be stored */
	SMTP_S_STARTTLS,	/* STARTTLS given; waiting for an engine, then the 220 to go out */
	SMTP_S_AUTH,	/* AUTH: reading the client's base64 responses */
	SMTP_S_CLOSING,	/* flush replies, then close */
};

/* A recipient is ours, so its domain is our hostname (+ a dot) or our
 * literal: this bounds what we must store per recipient. */
#define SMTP_RCPT_LEN (ADDR_LOCAL_MAX + 1 + sizeof(NOMX_HOSTNAME) + 24)
/* Input buffer: a whole command line, or a good read of DATA. */
#define SMTP_IN_MAX (NOMX_LINE_MAX > 4096 ? NOMX_LINE_MAX : 4096)
/* Replies are appended only while this much room is left. */
#define SMTP_REPLY_MAX 512

struct smtp_session {
	enum smtp_state state;
	unsigned id;
	int64_t active;		/* last progress, monotonic ms: conn.c sets it when bytes move */
	int64_t greet_at;	/* when the greeting is due */
	int tls;		/* the session runs over TLS */
	int tls_offer;		/* STARTTLS may be offered */
	int engine;		/* in SMTP_S_STARTTLS: the engine is reserved, 220 queued */
	char tls_info[64];	/* "TLSv1.2 with cipher ...", for Received: */
	int auth;		/* authenticated */
	int auth_step;		/* in SMTP_S_AUTH: what the next line is */
	char auth_user[64];	/* AUTH LOGIN: the name, between two steps */
	char client_ip[48];
	char helo[256];
	int ehlo;		/* EHLO (1) or HELO (0) was given */
	int lf_client;		/* a command line ended in a bare LF: for the connection (data.h) */
	unsigned errors;
	int stress;		/* the server is under stress: short waits, fewer errors */

	/* The transaction. */
	int mail;		/* MAIL given */
	struct smtp_mail_params params;
	char from[ADDR_PATH_MAX + 1];
	size_t nrcpt;
	int rcpt_limit_logged;	/* once per transaction */
	char rcpt[NOMX_MAX_RCPT][SMTP_RCPT_LEN];
	const char *mbox[NOMX_MAX_RCPT];
	int bdat;		/* a BDAT transfer is under way */
	int bdat_last;
	uint64_t bdat_left;	/* bytes of this chunk still to come */
	uint64_t bdat_size;
	struct data_dec dec;
	struct stage body;
	enum reply tx_error;	/* sticky; REPLY_OK = none */
	int stored;		/* in SMTP_S_COMMIT: appended, waiting for the sync */
	uint64_t seq;		/* ... as this sequence number */

	/* Buffers: conn.c reads into in[in_len..], writes out[0..out_len). */
	char in[SMTP_IN_MAX];
	size_t in_len;
	int discard_line;	/* dropping the rest of an over-long line */
	char out[NOMX_OUT_MAX];
	size_t out_len;
};

/* Start a session for a client at ip (a string), connected at now
 * (monotonic ms), with the SMTP_OPEN_* bits in flags. */
#define SMTP_OPEN_TLS 1		/* SMTPS: TLS from the first byte */
#define SMTP_OPEN_STARTTLS 2	/* TLS is configured: offer STARTTLS */
void smtp_open(struct smtp_session *s, unsigned id, const char *ip, unsigned flags,
    int64_t now);

/* Consume as much of s->in as the state allows (input before the
 * greeting is an early talker, refused). */
void smtp_process(struct smtp_session *s);

/* What the session asks of its host now: SMTP_WANT_* bits. */
#define SMTP_WANT_ROOM 1
#define SMTP_WANT_ENGINE 2
#define SMTP_WANT_TLS 4
#define SMTP_WANT_COMMIT 8
#define SMTP_WANT_CLOSE 16
unsigned smtp_want(const struct smtp_session *s);

/* The answers. */
void smtp_room(struct smtp_session *s, int ok);
void smtp_engine(struct smtp_session *s, int ok);
/* TLS is running: forget the plaintext session (input not yet read,
 * EHLO, transaction) and continue over TLS. */
void smtp_tls_started(struct smtp_session *s);
/* The handshake is done; info names protocol and cipher. */
void smtp_tls_established(struct smtp_session *s, const char *info);
/* The message is appended as seq, not yet durable. */
void smtp_stored(struct smtp_session *s, uint64_t seq);
/* The final answer for the message: REPLY_QUEUED (durable as the seq
 * smtp_stored gave), or why it was not stored. */
void smtp_committed(struct smtp_session *s, enum reply r);

/* When the session next needs attention (monotonic ms), or -1 for
 * never (waiting for the group commit).  The TLS handshake has a
 * deadline of its own, kept by conn.c. */
int64_t smtp_deadline(const struct smtp_session *s);

/* The deadline has passed at now: greet (refusing an early talker if
 * early_input), or time the session out.  Returns -1 if the connection
 * is to be dropped at once: it did not take its last replies in time. */
int smtp_expire(struct smtp_session *s, int early_input, int64_t now);

/* The server is stopping.  Sessions between commands are told so and
 * closed; sessions in the middle of a message may finish it unless
 * force.  Returns 1 if the session was told (run it), 0 if it is left
 * to finish, -1 if the connection is to be dropped at once. */
int smtp_shutdown(struct smtp_session *s, int force);

/* The server's stress began (on) or ended: waits for the client shrink
 * to NOMX_STRESS_TIMEOUT and its error limit to NOMX_STRESS_ERRORS. */
void smtp_stress(struct smtp_session *s, int on);

/* May the session be closed to give its slot to a new client at now?
 * 0: no, it is doing work (bytes moved within NOMX_WORKING_MS, or its
 * message waits for the commit); 1: yes, though a transaction is open;
 * 2: yes, it holds nothing (or is closing and does not read).  The host
 * closes the highest, longest idle. */
int smtp_evictable(const struct smtp_session *s, int64_t now);

/* Tell the session it is closed for a new client (421 4.4.2, unless
 * it was told it is closing already). */
void smtp_evict(struct smtp_session *s);

/* Does the session want more input now (state and buffer room)? */
int smtp_wants_input(const struct smtp_session *s);

/* Could smtp_process make progress without new input? */
int smtp_has_work(const struct smtp_session *s);

/* Give back what the session holds (its staging blocks). */
void smtp_close(struct smtp_session *s);

#endif
