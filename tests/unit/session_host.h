/* SPDX-License-Identifier: ISC */
/*
 * A host for the pure session core, for the tests that drive it with
 * no sockets, spool or TLS: it answers the session's requests as
 * conn.c does, from fixed answers, and models the group commit as
 * immediate.  Shared by the golden dialogues and the session fuzzer.
 */
#ifndef NOMX_SESSION_HOST_H
#define NOMX_SESSION_HOST_H

#include "smtp.h"

struct session_host {
	int room;		/* answer to SMTP_WANT_ROOM */
	int engine;		/* answer to SMTP_WANT_ENGINE */
	enum reply commit;	/* REPLY_QUEUED, or why the message was not stored */
	uint64_t seq;		/* the last sequence number given */
	/* Told of each request before it is answered; may be NULL. */
	void (*note)(const struct smtp_session *s, unsigned want, void *ctx);
	void *ctx;
	int hold;		/* store, but leave the message waiting for the commit */
};

/* Process and answer requests until the session needs input, or asks
 * for what only the test can do (SMTP_WANT_TLS, SMTP_WANT_CLOSE). */
static void
session_host_run(struct smtp_session *s, struct session_host *h)
{
	for (;;) {
		unsigned want;

		smtp_process(s);
		want = smtp_want(s) & (SMTP_WANT_ROOM | SMTP_WANT_ENGINE | SMTP_WANT_COMMIT);
		if (want != 0 && h->note != NULL) {
			h->note(s, want, h->ctx);
		}
		if (want & SMTP_WANT_ROOM) {
			smtp_room(s, h->room);
		} else if (want & SMTP_WANT_ENGINE) {
			smtp_engine(s, h->engine);
		} else if (want & SMTP_WANT_COMMIT) {
			if (h->commit == REPLY_QUEUED) {
				smtp_stored(s, ++h->seq);
			}
			if (h->hold) {
				return;
			}
			smtp_committed(s, h->commit);
		} else {
			return;
		}
	}
}

#endif
