/* SPDX-License-Identifier: ISC */
/*
 * Message assembly: what a session's transaction becomes in the spool.
 * The envelope carries the sender, each recipient with the mailbox it
 * maps to, and the client; the Received: header records where the
 * message came from, over what, and which sequence number it has.
 */
#include <string.h>

#include "fmt.h"
#include "message.h"
#include "utc.h"

/* The "with" keyword of RFC 3848: ESMTP, then S for TLS, A for AUTH. */
static void
message_proto(const struct smtp_session *s, char *buf, size_t cap)
{
	fmt_buf(buf, cap, "%s%s%s", s->params.smtputf8 ? "UTF8SMTP" : s->ehlo ? "ESMTP" : "SMTP",
	    s->tls ? "S" : "", s->auth ? "A" : "");
}

static size_t
message_received(const struct smtp_session *s, uint64_t seq, time_t now, char *buf,
    size_t cap)
{
	char date[40], fo[SMTP_RCPT_LEN + 16] = "", proto[16], tls[sizeof(s->tls_info) + 16] = "";
	int n;

	utc_format(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", now);
	if (s->nrcpt == 1) {
		fmt_buf(fo, sizeof(fo), "\r\n\tfor <%s>", s->rcpt[0]);
	}
	if (s->tls && s->tls_info[0] != '\0') {
		fmt_buf(tls, sizeof(tls), "\r\n\t(using %s)", s->tls_info);
	}
	message_proto(s, proto, sizeof(proto));
	/* TCP-info is an address literal (RFC 5321 4.4): IPv6 is tagged */
	n = fmt_buf(buf, cap, "Received: from %s ([%s%s])%s\r\n\tby %s (nomx) with %s id %llu%s;"
	    "\r\n\t%s\r\n", s->helo, strchr(s->client_ip, ':') != NULL ? "IPv6:" : "",
	    s->client_ip, tls, NOMX_HOSTNAME, proto,
	    (unsigned long long)seq, fo, date);
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

static size_t
message_envelope(const struct smtp_session *s, unsigned char *env, size_t cap)
{
	size_t off = 0;
	int bad = 0;

	bad |= spool_env_put(env, cap, &off, SPOOL_ENV_FROM, s->from, strlen(s->from));
	for (size_t i = 0; i < s->nrcpt; i++) {
		bad |= spool_env_put(env, cap, &off, SPOOL_ENV_RCPT, s->rcpt[i], strlen(s->rcpt[i]));
		bad |= spool_env_put(env, cap, &off, SPOOL_ENV_MBOX, s->mbox[i], strlen(s->mbox[i]));
	}
	bad |= spool_env_put(env, cap, &off, SPOOL_ENV_CLIENT, s->client_ip, strlen(s->client_ip));
	bad |= spool_env_put(env, cap, &off, SPOOL_ENV_HELO, s->helo, strlen(s->helo));
	return bad ? 0 : off;
}

void
message_build(struct message *msg, const struct smtp_session *s, uint64_t seq, time_t now)
{
	msg->rec = (struct spool_msg){
		.flags = (s->params.body_8bit ? SPOOL_F_8BITMIME : 0) |
		    (s->params.smtputf8 ? SPOOL_F_SMTPUTF8 : 0) | (s->tls ? SPOOL_F_TLS : 0),
		.env = msg->env,
		.env_len = message_envelope(s, msg->env, sizeof(msg->env)),
		.received = msg->received,
		.received_len = message_received(s, seq, now, msg->received, sizeof(msg->received)),
		.body = &s->body,
	};
}
