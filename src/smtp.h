/* SPDX-License-Identifier: ISC */
/*
 * The SMTP session: a state machine over bytes.  No sockets here: the
 * connection layer (conn.c) fills s->in and drains s->out; this module
 * consumes input, appends replies, and hands finished messages to the
 * spool.  That keeps it testable and fuzzable on its own.
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

struct tls;

enum smtp_state {
	SMTP_S_GREET,	/* connected; greeting not sent yet */
	SMTP_S_CMD,	/* reading commands */
	SMTP_S_DATA,	/* reading DATA content */
	SMTP_S_BDAT,	/* reading a BDAT chunk */
	SMTP_S_COMMIT,	/* message appended, waiting for the group commit */
	SMTP_S_STARTTLS,	/* 220 to STARTTLS queued; TLS begins once it is out */
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
	int tls;		/* the session runs over TLS */
	struct tls *tls_engine;	/* taken for STARTTLS, handed to conn.c */
	char tls_info[64];	/* "TLSv1.2 with cipher ...", for Received: */
	int auth;		/* authenticated */
	int auth_step;		/* in SMTP_S_AUTH: what the next line is */
	char auth_user[64];	/* AUTH LOGIN: the name, between two steps */
	char client_ip[48];
	char helo[256];
	int ehlo;		/* EHLO (1) or HELO (0) was given */
	unsigned errors;

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
	uint64_t seq;		/* in SMTP_S_COMMIT */

	/* Buffers: conn.c reads into in[in_len..], writes out[0..out_len). */
	char in[SMTP_IN_MAX];
	size_t in_len;
	int discard_line;	/* dropping the rest of an over-long line */
	char out[NOMX_OUT_MAX];
	size_t out_len;
};

/* Start a session for a client at ip (a string). */
void smtp_open(struct smtp_session *s, unsigned id, const char *ip);

/* Send the greeting; or, if the client already talked, refuse it. */
void smtp_greet(struct smtp_session *s, int early_talker);

/* Consume as much of s->in as the state allows. */
void smtp_process(struct smtp_session *s);

/* The 220 to STARTTLS is out: forget the plaintext session (input not
 * yet read, EHLO, transaction) and continue over TLS. */
void smtp_tls_started(struct smtp_session *s);

/* After spool_sync(): answer a session in SMTP_S_COMMIT. */
void smtp_committed(struct smtp_session *s);

/* Does the session want more input now (state and buffer room)? */
int smtp_wants_input(const struct smtp_session *s);

/* Could smtp_process make progress without new input? */
int smtp_has_work(const struct smtp_session *s);

/* Closing events: a timeout, or shutdown of the server. */
void smtp_timeout(struct smtp_session *s);
void smtp_shutdown(struct smtp_session *s);

/* Release what the session holds (staging blocks, a reserved engine). */
void smtp_close(struct smtp_session *s);

/* Queue a one-line reply (connection-level refusals before a session). */
void smtp_reply(struct smtp_session *s, enum reply r, ...);

#endif
